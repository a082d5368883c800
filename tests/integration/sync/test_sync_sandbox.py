"""The batched sync (engine, hook, operator) against the sandbox over real HTTP on loopback."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration


def contacts(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "email": f"Contact{i}@Example.com",
            "first_name": "Con",
            "last_name": f"Tact{i}",
            "company": "Acme",
        }
        for i in range(start, start + n)
    ]


def emails_in_store(sandbox: SandboxHandle) -> list[str]:
    return sorted(c["email"].lower() for c in sandbox.store.all_customers())


def test_thousand_contacts_through_a_tiny_quota_then_nothing_twice(
    bigcommerce_sandbox: SandboxHandle,
) -> None:
    # windows of 1 s, not shorter: with two test workers on two cores a starved thread must not
    # turn a scheduling delay into a missed window
    bigcommerce_sandbox.store.configure(quota=20, window_ms=1000)
    rows = contacts(1000)
    hook = BigCommerceHook()
    result = sync_customers(rows, hook, max_concurrency=2)
    assert (result.created, result.skipped, result.rejected) == (1000, 0, 0)
    assert result.requests["create"] == 100
    assert emails_in_store(bigcommerce_sandbox) == sorted(r["email"].lower() for r in rows)
    assert hook.pacer.waited_s > 0  # the quota was hit several times: ~5 windows
    assert bigcommerce_sandbox.store.stats()["rate_limited"] == 0

    again = sync_customers(rows, BigCommerceHook(), max_concurrency=2)
    assert (again.created, again.skipped) == (0, 1000)
    assert again.requests["create"] == 0
    assert len(bigcommerce_sandbox.store.all_customers()) == 1000


def test_sync_while_another_client_eats_the_quota(bigcommerce_sandbox: SandboxHandle) -> None:
    bigcommerce_sandbox.store.configure(quota=25, window_ms=200)
    stop = threading.Event()

    def greedy() -> None:
        other = BigCommerceHook()
        while not stop.is_set():
            other.get_time()

    thief = threading.Thread(target=greedy, daemon=True)
    thief.start()
    try:
        result = sync_customers(contacts(300), BigCommerceHook(), max_concurrency=2)
    finally:
        stop.set()
        thief.join(timeout=10)
    assert (result.created, result.rejected) == (300, 0)
    assert len(bigcommerce_sandbox.store.all_customers()) == 300
    assert bigcommerce_sandbox.store.stats()["emails_with_duplicates"] in ({}, [], 0)


def test_upsert_changes_only_changed_customers(bigcommerce_sandbox: SandboxHandle) -> None:
    bigcommerce_sandbox.store.configure(quota=0)
    rows = contacts(30)
    sync_customers(rows, BigCommerceHook())
    before = {c["email"].lower(): c for c in bigcommerce_sandbox.store.all_customers()}
    rows[3] = rows[3] | {"company": "Globex"}
    rows[7] = rows[7] | {"last_name": "Renamed"}
    result = sync_customers(rows, BigCommerceHook(), mode="upsert")
    assert (result.created, result.updated, result.skipped) == (0, 2, 28)
    assert result.requests["update"] == 1
    after = {c["email"].lower(): c for c in bigcommerce_sandbox.store.all_customers()}
    assert after["contact3@example.com"]["company"] == "Globex"
    assert after["contact7@example.com"]["last_name"] == "Renamed"
    unchanged = [e for e in after if e not in {"contact3@example.com", "contact7@example.com"}]
    assert all(after[e]["date_modified"] == before[e]["date_modified"] for e in unchanged)


def test_operator_streams_a_sql_source(
    bigcommerce_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bigcommerce_sandbox.store.configure(quota=0)
    db = tmp_path / "crm.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE contacts (contact_id INTEGER, mail TEXT, given TEXT, family TEXT, stage TEXT)"
        )
        conn.executemany(
            "INSERT INTO contacts VALUES (?, ?, ?, ?, ?)",
            [
                (i, f" User{i}@Example.COM ", "Use", f"R{i}", "lead" if i % 2 else "customer")
                for i in range(250)
            ]
            + [(999, "not-an-email", "Bad", "Row", "lead")],
        )
    monkeypatch.setenv("AIRFLOW_CONN_CRM_TEST", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    report = tmp_path / "reports" / "run.jsonl"
    op = SyncCustomersOperator(
        task_id="sync",
        sql_conn_id="crm_test",
        sql="SELECT contact_id, mail, given, family FROM contacts WHERE stage IN (?, ?) ORDER BY contact_id",
        parameters=["lead", "customer"],
        field_map={"mail": "email", "given": "first_name", "family": "last_name"},
        key_field="contact_id",
        fetch_size=40,
        report_path=str(report),
    )
    summary = op.execute(context={})  # type: ignore[arg-type]
    assert (summary["created"], summary["rejected"], summary["total"]) == (250, 1, 251)
    assert summary["rejections"][0]["row"] == "999"
    assert "email" in summary["rejections"][0]["reason"]
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert len(lines) == 251
    assert {line["outcome"] for line in lines} == {"created", "rejected"}
    stored = {c["email"] for c in bigcommerce_sandbox.store.all_customers()}
    assert "User7@Example.COM" in stored  # trimmed, case kept
    json.dumps(summary)  # XCom-safe


def test_operator_dry_run_writes_nothing(bigcommerce_sandbox: SandboxHandle) -> None:
    bigcommerce_sandbox.store.configure(quota=0)
    op = SyncCustomersOperator(task_id="sync", contacts=contacts(15), dry_run=True)
    summary = op.execute(context={})  # type: ignore[arg-type]
    assert summary["created"] == 15
    assert summary["dry_run"] is True
    assert bigcommerce_sandbox.store.all_customers() == []


def test_operator_max_rejected_fails_after_sending_the_valid_rows(bigcommerce_sandbox: SandboxHandle) -> None:
    from airflow_bigcommerce.exceptions import BigCommerceError

    bigcommerce_sandbox.store.configure(quota=0)
    rows = [
        *contacts(12),
        {"id": 100, "email": "bad", "first_name": "x", "last_name": "y"},
        {"id": 101, "email": "ok@example.com", "first_name": "", "last_name": "y"},
    ]
    op = SyncCustomersOperator(task_id="sync", contacts=rows, max_rejected=1)
    with pytest.raises(BigCommerceError, match="2 rows were rejected"):
        op.execute(context={})  # type: ignore[arg-type]
    assert len(bigcommerce_sandbox.store.all_customers()) == 12


def test_each_engine_look_up_is_one_get_with_a_url_under_8_kb(bigcommerce_sandbox: SandboxHandle) -> None:
    bigcommerce_sandbox.store.configure(quota=0)
    rows = contacts(1000)
    sync_customers(rows[:300], BigCommerceHook())
    gets_before = bigcommerce_sandbox.store.stats()["requests"].get("GET /v3/customers", 0)
    result = sync_customers(rows, BigCommerceHook(), mode="upsert", index_limit=0)
    gets = bigcommerce_sandbox.store.stats()["requests"]["GET /v3/customers"] - gets_before
    assert (result.created, result.skipped) == (700, 300)
    # Mixed-case e-mails go as given and lower-cased: ~130 fill the URL, 4 per 500-row chunk (was 20).
    assert result.requests["lookup"] == gets == 8


def test_an_insert_into_an_empty_store_sends_ceil_n_over_10_posts(bigcommerce_sandbox: SandboxHandle) -> None:
    bigcommerce_sandbox.store.configure(quota=0)
    rows: list[dict[str, Any]] = []
    for row in contacts(2005):
        rows.append(row)
        if row["id"] % 37 == 0:  # a bad row now and then: no 500-row chunk holds a multiple of 10
            rows.append({**row, "id": f"bad{row['id']}", "email": "not-an-email"})
    result = sync_customers(rows, BigCommerceHook(), max_concurrency=None)
    assert (result.created, result.rejected) == (2005, 55)
    requests_seen = bigcommerce_sandbox.store.stats()["requests"]
    assert requests_seen["POST /v3/customers"] == result.requests["create"] == 201
    assert requests_seen["GET /v3/customers"] == 1  # the run's one fixed read: the store is empty
    assert result.requests_per_row == round(202 / len(rows), 3)


def test_two_syncs_racing_over_the_same_contacts_claim_each_customer_once(
    bigcommerce_sandbox: SandboxHandle,
) -> None:
    # A manual run started while the scheduled one runs, over the same contacts in another order:
    # refusals ("already in use") are the other run's customers, never counted as created here.
    bigcommerce_sandbox.store.configure(quota=100_000, window_ms=1_000, latency_ms=2)
    rows = contacts(1000)
    other = list(reversed(rows))
    results: list[Any] = []
    start = threading.Barrier(2)

    def run(batch: list[dict[str, Any]], batch_size: int) -> None:
        start.wait()
        results.append(sync_customers(batch, BigCommerceHook(), batch_size=batch_size, max_concurrency=2))

    threads = [threading.Thread(target=run, args=(rows, 10)), threading.Thread(target=run, args=(other, 7))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert emails_in_store(bigcommerce_sandbox) == sorted(r["email"].lower() for r in rows)  # none twice
    assert sum(r.created for r in results) == len(rows)  # created once per customer in all
    assert all(r.created + r.skipped == len(rows) and not r.failed for r in results)
