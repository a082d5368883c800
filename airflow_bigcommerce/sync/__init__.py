"""The batched sync engine: pure Python, no Airflow and no HTTP library imported here."""
