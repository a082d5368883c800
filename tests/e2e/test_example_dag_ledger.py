"""
The example DAG with a ledger in its SQLite CRM file, by ``airflow dags test`` against the sandbox.

A contact's e-mail changes in the CRM between two runs: the second run updates its customer (no second
one), and the ledger guide's writeback join gives each contact's customer id, outcome and reason from the
CRM file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from dag_runner import AirflowHome, Report

from airflow_bigcommerce.demo.store import seed_store
from airflow_bigcommerce.testing import SandboxHandle, run_sandbox

pytestmark = pytest.mark.e2e

DAG_ID = "crm_contacts_to_bigcommerce"
CONTACTS = {1: "first.job@example.com", 2: "stays.put@example.com", 3: "not-an-email"}
#: The ledger guide's writeback join, on the CRM file (SQLite spells VARCHAR(255) as it likes).
JOIN = """
SELECT c.id, c.email, l.customer_id, l.outcome, l.reason, l.attempts, l.updated_at
FROM contacts AS c
LEFT JOIN bigcommerce_sync_ledger AS l
  ON l.crm_key = CAST(c.id AS VARCHAR(255))
 AND l.store_hash = ?
 AND l.channel_id = 0
ORDER BY c.id
"""


def _crm(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT,"
            " phone TEXT, company TEXT, lifecycle_stage TEXT, created_at TEXT, updated_at TEXT,"
            " street TEXT, city TEXT, state TEXT, postal_code TEXT, country TEXT, crm_id TEXT,"
            " newsletter_opt_in INTEGER)"
        )
        conn.executemany(
            "INSERT INTO contacts VALUES (?, ?, 'Pat', ?, NULL, NULL, 'Retail', '2026-03-04 08:00:00',"
            " '2026-03-04 08:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
            [(cid, email, f"Person{cid}") for cid, email in CONTACTS.items()],
        )
    return path


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with run_sandbox(quota=0) as handle:
        seed_store(handle.url)
        yield handle


def test_the_example_dag_keeps_a_contact_through_an_email_change_with_a_ledger_in_the_crm(
    tmp_path: Path, sandbox: SandboxHandle
) -> None:
    home = AirflowHome.create(tmp_path)
    crm = _crm(tmp_path / "crm.db")
    env = {
        "AIRFLOW_CONN_CRM_DEFAULT": json.dumps({"conn_type": "sqlite", "host": str(crm)}),
        "AIRFLOW_CONN_BIGCOMMERCE_DEFAULT": json.dumps(
            {
                "conn_type": "bigcommerce",
                "host": sandbox.url,
                "password": sandbox.token,
                "extra": {"store_hash": sandbox.store_hash},
            }
        ),
        "BIGCOMMERCE_EXAMPLE_SYNC_RETRIES": "0",
    }
    conf = {"window": "all", "ledger_conn_id": "crm_default"}

    home.dags_test(DAG_ID, "2026-03-04T09:00:00+00:00", conf=conf, env=env)
    first = Report.read(home.report_for(DAG_ID))
    assert first.counts == {"created": 2, "rejected": 1}
    with sqlite3.connect(crm) as conn:
        conn.execute("UPDATE contacts SET email = 'new.job@example.com' WHERE id = 1")

    home.dags_test(DAG_ID, "2026-03-04T10:00:00+00:00", conf=conf, env=env)
    second = Report.read(home.report_for(DAG_ID))
    assert second.path != first.path
    assert second.rows["1"]["outcome"] == "updated" and second.rows["2"]["outcome"] == "skipped"
    customers = {c["id"]: str(c["email"]).lower() for c in sandbox.store.all_customers()}
    assert sorted(customers.values()) == ["new.job@example.com", "stays.put@example.com"]
    assert second.rows["1"]["customer_id"] == first.rows["1"]["customer_id"]

    with sqlite3.connect(crm) as conn:
        joined = conn.execute(JOIN, [sandbox.store_hash]).fetchall()
    by_id = {row[0]: row for row in joined}
    assert by_id[1][2] == first.rows["1"]["customer_id"] and by_id[1][3] == "updated"
    assert customers[by_id[1][2]] == "new.job@example.com"
    assert by_id[2][2] in customers and by_id[2][3] == "skipped"
    assert by_id[3][2] is None and by_id[3][3] == "rejected" and "email" in by_id[3][4]
