"""
The testing guide's examples: your own DAG's tasks against a sandbox store, over HTTP or in process.

``tests/integration/test_docs_examples.py`` calls each function; the docs include them between the
``[START ...]`` / ``[END ...]`` markers.
"""

from __future__ import annotations

from typing import Any

from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.testing import SandboxHandle

CONTACTS = [
    {"id": 1, "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
    {"id": 2, "email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper"},
    {"id": 3, "email": "alan@example.com", "first_name": "Alan", "last_name": "Turing"},
]


# [START howto_run_sandbox]
def check_my_sync_with_run_sandbox() -> None:
    import os

    from airflow_bigcommerce.testing import run_sandbox

    with run_sandbox(quota=0) as store:  # port 0 on 127.0.0.1, in a thread; quota=0: no rate limit
        os.environ["AIRFLOW_CONN_BIGCOMMERCE_DEFAULT"] = store.conn_json()
        SyncCustomersOperator(task_id="sync", contacts=CONTACTS).execute(context={})
        assert store.store.count() == 3


# [END howto_run_sandbox]


# [START howto_sandbox_fixture]
def test_my_sync(bigcommerce_sandbox: SandboxHandle) -> None:
    # the pytest fixture: one server per session, a clean store per test,
    # AIRFLOW_CONN_BIGCOMMERCE_DEFAULT already set
    summary = SyncCustomersOperator(task_id="sync", contacts=CONTACTS).execute(context={})
    assert summary["created"] == 3
    assert bigcommerce_sandbox.store.count() == 3


# [END howto_sandbox_fixture]


def check_in_process_store() -> Any:
    """Return the result of the in-process example (a sync over a lost answer)."""
    rows = CONTACTS
    # [START howto_in_process_store]
    from airflow_bigcommerce.sync.engine import sync_customers
    from airflow_bigcommerce.testing import InProcessStore

    store = InProcessStore([{"email": "ada@example.com", "first_name": "Ada", "last_name": "L"}])
    store.fail_next("create", "commit_then_unknown")  # the batch lands, its answer is lost
    result = sync_customers(rows, store)  # looks the rows up before any resend: each created once
    # [END howto_in_process_store]
    assert len(store.customers) == 3
    return result
