"""`make demo` and `make ui` (``python -m airflow_bigcommerce.demo``) and the embedded CRM they sync from."""

from __future__ import annotations
