"""
Store outages through the real operators and hook over HTTP: nothing lost, nothing twice, never green
with rows missing.

The sandbox stages what real incidents look like (SOURCE.md of the specs): writes answering a bare
503 for seconds to minutes while reads keep working, reads down, and writes that commit but answer
500. Each test records the outage, its length, what was created or failed, duplicates, the task's
state and the requests the store answered during the outage (figures at the end of the run).

The outages pass in virtual time: the hook the operators build and the sandbox share one
:class:`~airflow_bigcommerce.clock.VirtualClock` (``virtual_time()``), so a minute's outage, its
backoffs, probes and retry budget take moments. One outage runs on the real clock, a ``slow`` canary.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_support import FIELD_MAP, key, make_plan, read_jsonl, record

from airflow_bigcommerce.clock import VirtualClock
from airflow_bigcommerce.exceptions import BigCommerceTransientError
from airflow_bigcommerce.operators.customers import CreateCustomerOperator, SyncCustomersOperator
from airflow_bigcommerce.testing import SandboxHandle, run_sandbox, virtual_time

pytestmark = pytest.mark.reliability

N_CONTACTS = 1_000
#: Service time per request: with two in flight, a 1,000-contact run lasts long enough for an outage
#: in its middle.
LATENCY_MS = 25


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    """One virtual clock for the test's sandbox and for the hooks its operators build."""
    with virtual_time() as shared:
        yield shared


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, clock: VirtualClock) -> Iterator[SandboxHandle]:
    """A sandbox without quota or random faults on the virtual clock, ``bigcommerce_default`` at it."""
    with run_sandbox(quota=0, window_ms=1_000) as sandbox:
        assert sandbox.store.clock is clock
        for name, value in sandbox.env().items():
            monkeypatch.setenv(name, value)
        yield sandbox


def start_outage_after(sandbox: SandboxHandle, customers: int, **outage: Any) -> threading.Thread:
    """Start an outage once the store holds ``customers`` customers (the run is under way)."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while sandbox.store.stats()["customers"] < customers and time.monotonic() < deadline:
            time.sleep(0.002)
        sandbox.store.configure(**outage)

    watcher = threading.Thread(target=watch, name="outage-starter", daemon=True)
    watcher.start()
    return watcher


def sync(
    rows: list[dict[str, Any]], report: Path, **kwargs: Any
) -> tuple[str, dict[str, Any] | None, list[dict[str, Any]], str]:
    """Run the sync task; return its state, its XCom summary (None if it failed), report and error."""
    op = SyncCustomersOperator(
        task_id="sync", contacts=rows, field_map=FIELD_MAP, report_path=str(report), **kwargs
    )
    try:
        summary = op.execute(context={})  # type: ignore[arg-type]
    except BigCommerceTransientError as exc:
        return "failed", None, read_jsonl(report), str(exc)
    return "success", summary, read_jsonl(report), ""


def duplicates(sandbox: SandboxHandle) -> int:
    counts = Counter(key(c["email"]) for c in sandbox.store.all_customers())
    return sum(n - 1 for n in counts.values() if n > 1)


def outcomes(lines: list[dict[str, Any]]) -> dict[str, int]:
    return dict(Counter(line["outcome"] for line in lines))


@pytest.mark.parametrize("headers", [False, True], ids=["bare-503", "503-with-rate-limit-headers"])
def test_writes_down_20_s_at_the_start_are_ridden_out(
    store: SandboxHandle, clock: VirtualClock, tmp_path: Path, headers: bool
) -> None:
    plan = make_plan(N_CONTACTS, invalid_every=0, duplicate_every=0, tag="o-start")
    store.store.configure(outage_s=20, outage_kind="writes", outage_headers=headers)
    started = clock.monotonic()
    state, summary, lines, _ = sync(plan.rows, tmp_path / "report.jsonl")
    stats = store.store.stats()
    record(
        "writes down 20 s at the start",
        outage="writes 503 " + ("with rate-limit headers" if headers else "(bare)"),
        outage_s=20,
        created=summary["created"] if summary else 0,
        failed=summary["failed"] if summary else N_CONTACTS,
        duplicates=duplicates(store),
        task=state,
        requests_during_outage=stats["outage_answers"],
        duration_s=round(clock.monotonic() - started, 1),
        clock="virtual",
    )
    assert state == "success"
    assert summary is not None and (summary["created"], summary["failed"], summary["rejected"]) == (
        N_CONTACTS,
        0,
        0,
    )
    assert stats["customers"] == N_CONTACTS and duplicates(store) == 0
    assert outcomes(lines) == {"created": N_CONTACTS}
    assert 0 < stats["outage_answers"] <= 20  # backoff and probes, not a stampede


@pytest.mark.slow
def test_writes_down_20_s_in_the_middle_are_ridden_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The real-time canary: the same outage on the system clock (the run's duration shows it)."""
    plan = make_plan(N_CONTACTS, invalid_every=0, duplicate_every=0, tag="o-mid")
    with run_sandbox(quota=0, latency_ms=LATENCY_MS) as sandbox:
        for name, value in sandbox.env().items():
            monkeypatch.setenv(name, value)
        sandbox.store.configure(outage_s=20, outage_start_s=0.5, outage_kind="writes")
        # two requests in flight: the run lasts well past the outage's start (~1.5 s without it)
        state, summary, lines, _ = sync(plan.rows, tmp_path / "report.jsonl", max_concurrency=2)
        stats = sandbox.store.stats()
        record(
            "writes down 20 s in the middle",
            outage="writes 503 (bare)",
            outage_s=20,
            created=summary["created"] if summary else 0,
            failed=summary["failed"] if summary else N_CONTACTS,
            duplicates=duplicates(sandbox),
            task=state,
            requests_during_outage=stats["outage_answers"],
            duration_s=summary["duration_s"] if summary else None,
        )
        assert state == "success"
        assert summary is not None and (summary["created"], summary["failed"]) == (N_CONTACTS, 0)
        assert summary["duration_s"] >= 20  # the outage did happen during the run
        assert stats["customers"] == N_CONTACTS and duplicates(sandbox) == 0
        assert 0 < stats["outage_answers"] <= 20
        assert outcomes(lines) == {"created": N_CONTACTS}


def test_writes_down_longer_than_the_budget_fail_the_task_and_the_retry_finishes(
    monkeypatch: pytest.MonkeyPatch, clock: VirtualClock, tmp_path: Path
) -> None:
    n = 600
    plan = make_plan(n, invalid_every=0, duplicate_every=0, tag="o-long")
    with run_sandbox(quota=0, latency_ms=LATENCY_MS) as sandbox:
        for name, value in sandbox.env().items():
            monkeypatch.setenv(name, value)
        # the outage starts once the run is under way (service time is real, the outage virtual)
        watcher = start_outage_after(sandbox, 100, outage_s=3600, outage_kind="writes")
        state, summary, lines, message = sync(
            plan.rows, tmp_path / "first.jsonl", retry_budget_s=5, max_concurrency=2
        )
        watcher.join(timeout=10)
        first = outcomes(lines)
        in_store_before = sandbox.store.stats()["customers"]
        outage_answers = sandbox.store.stats()["outage_answers"]
        assert state == "failed"
        assert len(lines) == n  # every row attempted, the report flushed
        assert first.get("failed", 0) > 0 and "rejected" not in first
        assert first.get("created", 0) == in_store_before
        assert f"{first['failed']} of {n} rows failed for a transient reason" in message
        assert "retry budget of 5 s" in message
        assert "Retrying the task is safe" in message
        failed_rows = {line["row"] for line in lines if line["outcome"] == "failed"}

        sandbox.store.configure(outage_s=0)  # the store heals; Airflow retries the task
        state2, summary2, lines2, _ = sync(plan.rows, tmp_path / "retry.jsonl", retry_budget_s=5)
        assert state2 == "success" and summary2 is not None
        assert {line["row"] for line in lines2 if line["outcome"] == "created"} == failed_rows
        assert (summary2["created"], summary2["skipped"]) == (first["failed"], first["created"])
        assert sandbox.store.stats()["customers"] == n and duplicates(sandbox) == 0
        record(
            "writes down longer than the budget (5 s), then the task's retry",
            outage="writes 503 (bare), 1 h",
            budget_s=5,
            created=first.get("created", 0),
            failed=first["failed"],
            duplicates=duplicates(sandbox),
            task=state,
            requests_during_outage=outage_answers,
            retry_created=summary2["created"],
            retry_task=state2,
        )


def test_reads_down_fail_the_rows_and_nothing_is_created_blindly(
    store: SandboxHandle, tmp_path: Path
) -> None:
    plan = make_plan(300, invalid_every=0, duplicate_every=0, tag="o-reads")
    store.store.configure(outage_s=3600, outage_kind="reads")
    state, _, lines, message = sync(plan.rows, tmp_path / "report.jsonl", retry_budget_s=3)
    stats = store.store.stats()
    writes = sum(n for endpoint, n in stats["requests"].items() if not endpoint.startswith("GET"))
    record(
        "reads down longer than the budget (3 s)",
        outage="reads 503 (bare), 1 h",
        budget_s=3,
        created=stats["customers"],
        failed=outcomes(lines).get("failed", 0),
        duplicates=duplicates(store),
        task=state,
        requests_during_outage=stats["outage_answers"],
        writes_sent=writes,
    )
    assert state == "failed"
    assert outcomes(lines) == {"failed": 300}
    assert all(line["reason"].startswith("look-up failed") for line in lines)
    assert writes == 0 and stats["customers"] == 0  # no look-up, no write
    assert stats["outage_answers"] <= 10
    assert "300 of 300 rows failed" in message


def test_every_write_answered_500_but_committed_is_created_once(
    monkeypatch: pytest.MonkeyPatch, clock: VirtualClock, tmp_path: Path
) -> None:
    plan = make_plan(N_CONTACTS, invalid_every=0, duplicate_every=0, tag="o-500")
    with run_sandbox(quota=0, faults={"commit_then_500": 1.0}, fault_methods="writes") as sandbox:
        for name, value in sandbox.env().items():
            monkeypatch.setenv(name, value)
        state, summary, lines, _ = sync(plan.rows, tmp_path / "report.jsonl")
        stats = sandbox.store.stats()
        record(
            "every write answered 500 after committing",
            outage="commit then 500, every write",
            created=summary["created"] if summary else 0,
            failed=summary["failed"] if summary else None,
            duplicates=duplicates(sandbox),
            task=state,
            faults=stats["faults"].get("commit_then_500", 0),
            duration_s=summary["duration_s"] if summary else None,
        )
        assert state == "success" and summary is not None
        assert (summary["created"], summary["failed"], summary["rejected"]) == (N_CONTACTS, 0, 0)
        assert stats["customers"] == N_CONTACTS and duplicates(sandbox) == 0
        assert all(line["reason"] == "confirmed by look-up after an unknown outcome" for line in lines)
        assert stats["faults"]["commit_then_500"] == N_CONTACTS // 10  # one write per batch, none resent


def test_a_60_s_outage_costs_a_handful_of_probes(store: SandboxHandle, tmp_path: Path) -> None:
    plan = make_plan(500, invalid_every=0, duplicate_every=0, tag="o-60")
    store.store.configure(outage_s=60, outage_kind="all")
    state, summary, _, _ = sync(plan.rows, tmp_path / "report.jsonl", max_concurrency=8)
    stats = store.store.stats()
    record(
        "reads and writes down 60 s, 8 senders",
        outage="all 503 (bare)",
        outage_s=60,
        created=summary["created"] if summary else 0,
        failed=summary["failed"] if summary else None,
        duplicates=duplicates(store),
        task=state,
        requests_during_outage=stats["outage_answers"],
    )
    assert state == "success" and summary is not None and summary["created"] == 500
    assert duplicates(store) == 0
    assert stats["outage_answers"] <= 25, stats["outage_answers_by_method"]


def test_create_customer_operator_rides_out_a_20_s_outage(store: SandboxHandle, clock: VirtualClock) -> None:
    store.store.configure(outage_s=20, outage_kind="writes")
    started = clock.monotonic()
    customer = CreateCustomerOperator(
        task_id="create", email="Outage.Survivor@Example.com", first_name="Out", last_name="Age"
    ).execute(context={})  # type: ignore[arg-type]
    stats = store.store.stats()
    record(
        "CreateCustomerOperator across a 20 s write outage",
        outage="writes 503 (bare)",
        outage_s=20,
        created=stats["customers"],
        duplicates=duplicates(store),
        task="success",
        requests_during_outage=stats["outage_answers"],
        duration_s=round(clock.monotonic() - started, 1),
        clock="virtual",
    )
    assert customer["email"] == "Outage.Survivor@Example.com"
    assert stats["customers"] == 1
    assert 0 < stats["outage_answers"] <= 12


def test_create_customer_operator_beyond_the_budget_fails_and_creates_nothing(store: SandboxHandle) -> None:
    store.store.configure(outage_s=3600, outage_kind="writes")
    op = CreateCustomerOperator(
        task_id="create", email="never@example.com", first_name="N", last_name="E", retry_budget_s=2
    )
    with pytest.raises(BigCommerceTransientError, match="was not created.*Retrying the task is safe"):
        op.execute(context={})  # type: ignore[arg-type]
    assert store.store.stats()["customers"] == 0
