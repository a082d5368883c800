"""
The ledger carries undelivered rows to later runs: an outage beyond the budget, then an empty window after
the store heals, delivers every failed row exactly once; a task killed halfway leaves what it settled.

Through the real operator and hook over HTTP, with a SQLite ledger. The outage passes in virtual time
(as in ``test_outages``); the kill test SIGKILLs a worker process, as ``test_kill_and_retry`` does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_support import FIELD_MAP, key, make_plan, record, run_fault_sandbox

from airflow_bigcommerce.clock import VirtualClock
from airflow_bigcommerce.exceptions import BigCommerceTransientError
from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
from airflow_bigcommerce.ledger import LedgerRow, Scope, SqlLedger
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.testing import run_sandbox, virtual_time

pytestmark = pytest.mark.reliability

WORKER = Path(__file__).with_name("sync_worker.py")


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    with virtual_time() as shared:
        yield shared


@pytest.fixture
def ledger_conn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    db = tmp_path / "ledger.db"
    monkeypatch.setenv(
        "AIRFLOW_CONN_RELIABILITY_LEDGER", json.dumps({"conn_type": "sqlite", "host": str(db)})
    )
    return "reliability_ledger"


def ledger_rows(conn_id: str) -> dict[str, LedgerRow]:
    with SqlLedger.open(conn_id, "bigcommerce_sync_ledger", Scope(BigCommerceHook().store_hash)) as ledger:
        return {row.crm_key: row for row in ledger.rows()}


def run_task(
    rows: list[dict[str, Any]], conn_id: str, run: str, **kwargs: Any
) -> tuple[str, dict[str, Any] | None]:
    op = SyncCustomersOperator(
        task_id="sync", contacts=rows, field_map=FIELD_MAP, ledger_conn_id=conn_id, mode="upsert", **kwargs
    )
    try:
        return "success", op.execute(context={"run_id": run})  # type: ignore[arg-type]
    except BigCommerceTransientError:
        return "failed", None


def test_writes_down_beyond_the_budget_then_an_empty_window_delivers_every_failed_row_once(
    clock: VirtualClock, ledger_conn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = make_plan(300, invalid_every=0, duplicate_every=0, tag="ledger-outage")
    with run_sandbox(quota=0, window_ms=1_000) as sandbox:
        for name, value in sandbox.env().items():
            monkeypatch.setenv(name, value)
        sandbox.store.configure(outage_s=3_600, outage_kind="writes")
        state, _ = run_task(plan.rows, ledger_conn, "hour-1", retry_budget_s=5)
        assert state == "failed"
        failed = ledger_rows(ledger_conn)
        assert len(failed) == 300 and {r.outcome for r in failed.values()} == {"failed"}
        assert sandbox.store.stats()["customers"] == 0

        sandbox.store.configure(outage_s=0)  # the store heals; the next hourly window has no rows
        state, summary = run_task([], ledger_conn, "hour-2")
        assert state == "success" and summary is not None
        assert (summary["total"], summary["retried"], summary["created"], summary["failed"]) == (
            300,
            300,
            300,
            0,
        )

        state, after = run_task([], ledger_conn, "hour-3")
        assert after is not None and (after["total"], after["retried"]) == (0, 0)
        customers = sandbox.store.all_customers()
        counts = Counter(key(c["email"]) for c in customers)
        ledger = ledger_rows(ledger_conn)
    record(
        "ledger: writes down beyond the budget, then an empty window",
        contacts=300,
        failed_first=300,
        retried=summary["retried"],
        created=summary["created"],
        duplicates=sum(n - 1 for n in counts.values()),
        ledger_rows=len(ledger),
    )
    assert len(customers) == 300 and max(counts.values()) == 1
    assert {r.outcome for r in ledger.values()} == {"created"}
    by_id = {c["id"]: key(c["email"]) for c in customers}
    assert {by_id[r.customer_id] for r in ledger.values() if r.customer_id} == set(counts)
    assert all(r.attempts == 0 for r in ledger.values())


def test_a_task_killed_halfway_leaves_what_it_settled_and_its_retry_sends_nothing_twice(
    tmp_path: Path, ledger_conn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = make_plan(2_000, tag="ledger-kill")
    contacts_path = tmp_path / "contacts.json"
    contacts_path.write_text(json.dumps(plan.rows), encoding="utf-8")
    to_create = plan.expected_counts()["created"]
    with run_fault_sandbox(seed=2020) as sandbox:
        env = {
            **os.environ,
            "AIRFLOW_CONN_BIGCOMMERCE_DEFAULT": sandbox.conn_json(),
            "SYNC_LEDGER_CONN_ID": ledger_conn,
        }
        monkeypatch.setenv("AIRFLOW_CONN_BIGCOMMERCE_DEFAULT", sandbox.conn_json())

        def worker(attempt: int) -> subprocess.Popen[bytes]:
            args = [
                str(contacts_path),
                str(tmp_path / f"r{attempt}.jsonl"),
                str(tmp_path / f"s{attempt}.json"),
            ]
            log = (tmp_path / f"worker{attempt}.log").open("wb")
            return subprocess.Popen(
                [sys.executable, str(WORKER), *args],
                env={**env, "SYNC_RUN_ID": f"try-{attempt}"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        first = worker(1)
        deadline = time.monotonic() + 120
        while sandbox.store.count() < to_create // 2:
            assert first.poll() is None, (tmp_path / "worker1.log").read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the worker did not get halfway in time"
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        time.sleep(1.0)  # requests the dead worker left in flight are served
        at_kill = ledger_rows(ledger_conn)
        store_at_kill = {c["id"]: key(c["email"]) for c in sandbox.store.all_customers()}
        # what it settled is there, and it agrees with the store
        delivered = [r for r in at_kill.values() if r.outcome in ("created", "updated", "skipped")]
        assert delivered, "the killed task flushed nothing"
        assert all(store_at_kill.get(r.customer_id) == key(r.email or "") for r in delivered if r.customer_id)

        second = worker(2)
        assert second.wait(timeout=300) == 0, (tmp_path / "worker2.log").read_text(errors="replace")[-3000:]
        customers = sandbox.store.all_customers()
        ledger = ledger_rows(ledger_conn)
    counts = Counter(key(c["email"]) for c in customers)
    record(
        "ledger: SIGKILL halfway + retry",
        contacts=len(plan.rows),
        ledger_rows_at_kill=len(at_kill),
        in_store_at_kill=len(store_at_kill),
        in_store=len(customers),
        duplicates=sum(n - 1 for n in counts.values()),
    )
    assert max(counts.values()) == 1 and len(customers) == to_create
    by_id = {c["id"]: key(c["email"]) for c in customers}
    created = [
        r for r in ledger.values() if r.outcome == "created" or (r.outcome == "skipped" and r.customer_id)
    ]
    assert all(by_id.get(r.customer_id) == key(r.email or "") for r in created)
    assert {r.customer_id for r in created} == set(by_id)
    assert len(ledger) == len(plan.rows)
