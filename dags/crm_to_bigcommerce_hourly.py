"""
The README's DAG: every hour, the contacts changed in the CRM become or update store customers.

The shortest useful sync (the README shows the marked region): ``crm_contacts_to_bigcommerce.py`` is
the full example. ``tests/integration/test_docs_examples.py`` runs its task against the sandbox and
the demo's SQLite CRM; ``tests/unit/test_docs.py`` checks that the code block of README.md is this
region. It imports only ``airflow.sdk`` and the light operator module at parse time.
"""

from __future__ import annotations

# [START readme_dag]
from airflow.sdk import dag

from airflow_bigcommerce.operators.customers import SyncCustomersOperator


@dag(schedule="@hourly", catchup=False)
def crm_to_bigcommerce():
    SyncCustomersOperator(
        task_id="sync_contacts",
        sql_conn_id="crm_default",  # any common.sql connection: Postgres, Snowflake, SQLite, ...
        sql="SELECT * FROM contacts WHERE updated_at >= :start AND updated_at < :end",
        parameters={
            "start": "{{ data_interval_start.strftime('%Y-%m-%d %H:%M:%S') }}",
            "end": "{{ data_interval_end.strftime('%Y-%m-%d %H:%M:%S') }}",
        },
        field_map={
            "email": "email",
            "first_name": "first_name",
            "last_name": "last_name",
            "phone": "phone",
            "lifecycle_stage": "customer_group",
        },
        mode="upsert",  # create new customers, update changed ones
        retries=3,  # safe: a retry re-sends only what is missing, never creates twice
    )


crm_to_bigcommerce()
# [END readme_dag]
