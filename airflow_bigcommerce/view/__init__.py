"""
The "BigCommerce sync" view of a task instance in Airflow's UI (served by the API-server plugin).

:mod:`.model` turns a run's summary (its XCom) and report lines into what the page shows (pure);
:mod:`.page` renders it as one HTML page (pure); :mod:`.app` is the FastAPI app that checks the
user's access to the DAG and reads the summary and the report (only in the API server).
"""
