"""
SyncCustomersOperator with a ledger, against the sandbox over HTTP, on SQLite and on a real PostgreSQL.

Each scenario runs the operator as a task would (its run id from the task instance), then reads the
ledger table back: the customer id the CRM learns, the outcome and why.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from ledger_tasks import FIELD_MAP, Task

from airflow_bigcommerce.exceptions import BigCommerceError
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration


def contact(i: int, **overrides: Any) -> dict[str, Any]:
    return {
        "id": f"crm-{i}",
        "email": f"person{i}@example.com",
        "first_name": "P",
        "last_name": f"L{i}",
    } | overrides


@pytest.fixture
def task(bigcommerce_sandbox: SandboxHandle, ledger_conn_id: str, table: str) -> Task:
    bigcommerce_sandbox.store.configure(quota=0)
    return Task(bigcommerce_sandbox, ledger_conn_id, table)


def test_an_email_change_updates_the_customer_not_a_second_one(task: Task) -> None:
    first = task([contact(1), contact(2)])
    assert first["created"] == 2
    cid = task.ledger()["crm-1"].customer_id

    moved = task([contact(1, email="moved@example.com"), contact(2)])

    assert (moved["created"], moved["updated"], moved["email_changes"]) == (0, 1, 1)
    assert len(task.customers()) == 2
    assert task.customers()[cid]["email"] == "moved@example.com"  # type: ignore[index]
    row = task.ledger()["crm-1"]
    assert (row.customer_id, row.email, row.outcome, row.run_id) == (
        cid,
        "moved@example.com",
        "updated",
        "crm/sync/-1/manual__2",
    )


def test_a_new_email_held_by_another_customer_is_rejected_naming_it(task: Task) -> None:
    task([contact(1), contact(2)])
    ledger = task.ledger()
    mine, theirs = ledger["crm-1"].customer_id, ledger["crm-2"].customer_id

    with pytest.raises(BigCommerceError, match="rejected"):
        task([contact(1, email="person2@example.com")], max_rejected=0)

    row = task.ledger()["crm-1"]
    assert row.outcome == "rejected" and f"id {theirs}" in (row.reason or "")
    assert row.customer_id == mine and task.customers()[mine]["email"] == "person1@example.com"  # type: ignore[index]


def test_a_customer_deleted_in_the_store_is_created_again(task: Task) -> None:
    task([contact(1)])
    old = task.ledger()["crm-1"].customer_id
    task.sandbox.store.v2_delete_customer(str(old))

    again = task([contact(1)])

    assert again["created"] == 1
    new = task.ledger()["crm-1"].customer_id
    assert new is not None and new != old and list(task.customers()) == [new]


def test_an_empty_ledger_adopts_the_existing_customers(task: Task) -> None:
    task.sandbox.store.seed(
        [{"email": f"person{i}@example.com", "first_name": "P", "last_name": f"L{i}"} for i in (1, 2)]
    )
    ids = {c["email"]: cid for cid, c in task.customers().items()}

    adopted = task([contact(1), contact(2), contact(3)])

    assert (adopted["created"], adopted["skipped"]) == (1, 2)
    ledger = task.ledger()
    assert ledger["crm-1"].customer_id == ids["person1@example.com"]
    assert ledger["crm-2"].customer_id == ids["person2@example.com"]
    assert len(task.customers()) == 3


def test_insert_leaves_a_changed_email_alone_upsert_changes_it(task: Task) -> None:
    task([contact(1)], mode="insert")
    cid = task.ledger()["crm-1"].customer_id

    skipped = task([contact(1, email="moved@example.com")], mode="insert")
    assert (skipped["skipped"], skipped["updated"], skipped["created"]) == (1, 0, 0)
    assert task.customers()[cid]["email"] == "person1@example.com"  # type: ignore[index]
    assert task.ledger()["crm-1"].email == "person1@example.com"

    updated = task([contact(1, email="moved@example.com")], mode="upsert")
    assert (updated["updated"], updated["email_changes"]) == (1, 1)
    assert task.customers()[cid]["email"] == "moved@example.com"  # type: ignore[index]


def test_a_row_refused_for_the_store_state_is_given_up_after_five_runs_once(task: Task) -> None:
    task([contact(1), contact(2)])
    holder = task.ledger()["crm-2"].customer_id
    reasons = []
    with pytest.raises(BigCommerceError):
        task([contact(1, email="person2@example.com")], max_rejected=0)
    for _ in range(4):  # later runs without the row: it comes back from the ledger
        summary = task([])  # rows only from the ledger: their rejection does not fail the task
        assert (summary["retried"], summary["rejected"]) == (1, 1)
        reasons.append(summary["rejections"][0]["reason"])
    row = task.ledger()["crm-1"]
    assert row.attempts == 5 and (row.reason or "").startswith("gave up after 5 attempts")
    assert sum("gave up" in r for r in reasons) == 0  # the summary has the store's reason
    after = task([])
    assert (after["retried"], after["total"]) == (0, 0)
    assert task.customers()[holder]["email"] == "person2@example.com"  # type: ignore[index]


def test_a_row_naming_a_group_the_store_lacks_comes_back_once_the_store_has_it(task: Task) -> None:
    task.sandbox.store.seed_groups([{"name": "Retail"}])
    grouped = {**FIELD_MAP, "stage": "customer_group"}
    first = task([contact(1, stage="Retail"), contact(2, stage="Partner")], field_map=grouped, max_rejected=1)
    assert (first["created"], first["rejected"]) == (1, 1)
    assert task.ledger()["crm-2"].reason_kind == "store"  # the store's state: a later run tries again
    task.sandbox.store.seed_groups([{"name": "Partner"}])  # the owner creates the group
    later = task([], field_map=grouped)  # an empty window: the row comes from the ledger
    assert (later["retried"], later["created"]) == (1, 1)
    row = task.ledger()["crm-2"]
    assert row.outcome == "created" and row.attempts == 0 and row.customer_id is not None


def test_rows_without_a_key_are_rejected_and_the_key_field_is_required() -> None:
    with pytest.raises(ValueError, match="key_field"):
        SyncCustomersOperator(task_id="t", contacts=[], key_field=None, ledger_conn_id="x")


def test_two_partition_tasks_write_one_sqlite_ledger_at_once(
    bigcommerce_sandbox: SandboxHandle, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    bigcommerce_sandbox.store.configure(quota=0)
    db = tmp_path / "shared-ledger.db"
    monkeypatch.setenv("AIRFLOW_CONN_SHARED_LEDGER", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    parts = [
        Task(bigcommerce_sandbox, "shared_ledger", "bigcommerce_sync_ledger", map_index=i) for i in (0, 1)
    ]
    rows = [[contact(i) for i in range(p, 400, 2)] for p in (0, 1)]
    summaries: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def run(part: Task, part_rows: list[dict[str, Any]]) -> None:
        try:
            summaries.append(part(part_rows, batch_size=10, max_concurrency=2))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p, r)) for p, r in zip(parts, rows, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(s["created"] for s in summaries) == [200, 200]
    ledger = parts[0].ledger()
    assert len(ledger) == 400 and {row.outcome for row in ledger.values()} == {"created"}
    assert Counter(row.run_id.split("/")[2] for row in ledger.values() if row.run_id) == {"0": 200, "1": 200}
    stored = {c["id"] for c in bigcommerce_sandbox.store.all_customers()}
    assert {row.customer_id for row in ledger.values()} == stored and len(stored) == 400


def test_a_sqlite_ledger_in_the_crm_file_while_its_query_streams(
    bigcommerce_sandbox: SandboxHandle, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import sqlite3

    bigcommerce_sandbox.store.configure(quota=0)
    crm = tmp_path / "crm.db"
    with sqlite3.connect(crm) as conn:
        conn.execute("CREATE TABLE contacts (id TEXT, email TEXT, first_name TEXT, last_name TEXT)")
        conn.executemany(
            "INSERT INTO contacts VALUES (?, ?, 'P', ?)",
            [(f"crm-{i}", f"person{i}@example.com", f"L{i}") for i in range(1200)],
        )
    monkeypatch.setenv("AIRFLOW_CONN_CRM_FILE", json.dumps({"conn_type": "sqlite", "host": str(crm)}))
    op = SyncCustomersOperator(
        task_id="sync",
        sql_conn_id="crm_file",
        sql="SELECT * FROM contacts ORDER BY id",
        fetch_size=50,  # the cursor stays open while the ledger writes chunk after chunk (of 500)
        field_map=FIELD_MAP,
        ledger_conn_id="crm_file",
    )
    summary = op.execute(context={"run_id": "r1"})  # type: ignore[arg-type]
    assert summary["created"] == 1200
    with sqlite3.connect(crm) as conn:
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
        joined = conn.execute(
            "SELECT COUNT(*) FROM contacts AS c JOIN bigcommerce_sync_ledger AS l ON l.crm_key = c.id"
            " WHERE l.customer_id IS NOT NULL AND l.outcome = 'created'"
        ).fetchone()
    assert mode == "wal" and joined == (1200,)
