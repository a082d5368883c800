"""
The docs' ``SyncCustomersOperator`` examples: from SQL, from a file, with a ledger, enriching in update mode.

``tests/integration/test_docs_examples.py`` runs each against the sandbox store and the demo's SQLite
CRM (``crm_default``); the docs include them between the ``[START ...]`` / ``[END ...]`` markers.
"""

from __future__ import annotations

from airflow.sdk import dag

from airflow_bigcommerce.operators.customers import SyncCustomersOperator


@dag(schedule="@daily")
def sync_examples() -> None:
    # [START howto_sync_customers]
    SyncCustomersOperator(
        task_id="sync_contacts",
        sql_conn_id="crm_default",  # any common.sql connection: Postgres, Snowflake, SQLite, ...
        # crm_default is the demo's SQLite CRM: named parameters are written `:since` there (and on Oracle,
        # Snowflake with paramstyle=named); on Postgres or MySQL write `%(since)s`. Its updated_at is UTC
        # text, "YYYY-MM-DD HH:MM:SS", so the bound is rendered in that format.
        sql=(
            "SELECT id, email, first_name, last_name, phone, company FROM contacts WHERE updated_at >= :since"
        ),
        parameters={"since": "{{ data_interval_start.strftime('%Y-%m-%d %H:%M:%S') }}"},
        field_map={
            "email": "email",
            "first_name": "first_name",
            "last_name": "last_name",
            "phone": "phone",
            "company": "company",
        },
        mode="upsert",  # "insert": create new, skip existing; "upsert": also update; "update": no creates
        report_path="/data/reports/{{ run_id }}.jsonl",
        max_rejected=50,
    )
    # [END howto_sync_customers]

    # [START howto_sync_from_file]
    SyncCustomersOperator(
        task_id="sync_export",
        # read with the Airflow connection aws_crm (any ObjectStoragePath URL: s3://, gs://, file://)
        contacts_path="s3://aws_crm@crm-exports/hubspot/{{ ds }}/contacts.csv.gz",
        field_map={"Email": "email", "First Name": "first_name", "Last Name": "last_name"},
        key_field="Record ID",
    )
    # [END howto_sync_from_file]

    # [START howto_sync_with_ledger]
    SyncCustomersOperator(
        task_id="sync_with_ledger",
        sql_conn_id="crm_default",
        sql="SELECT * FROM contacts WHERE updated_at >= :since",
        parameters={"since": "{{ data_interval_start.strftime('%Y-%m-%d %H:%M:%S') }}"},
        key_field="id",  # the CRM id: required with a ledger
        mode="upsert",
        ledger_conn_id="crm_default",  # None (the default): no ledger, the e-mail is the identity
        ledger_table="bigcommerce_sync_ledger",  # the default; created when missing
        max_attempts=5,  # the default
    )
    # [END howto_sync_with_ledger]

    # [START howto_sync_update_form_fields]
    SyncCustomersOperator(
        task_id="enrich_b2b_accounts",
        sql_conn_id="crm_default",
        sql="SELECT id, email, first_name, last_name, company, phone, licence_no, balance FROM accounts",
        field_map={
            "email": "email",
            "first_name": "first_name",
            "last_name": "last_name",
            "company": "company",
            "phone": "phone",
            "licence_no": "form_field.License ID",  # a sign-up form field the store defines
            "balance": "store_credit",  # 12.5 -> 12.50
        },
        mode="update",  # customers who signed up in the store: enrich them, create no one
        empty_values="clear",  # an empty phone in the CRM empties the store's phone
    )
    # [END howto_sync_update_form_fields]


sync_examples()
