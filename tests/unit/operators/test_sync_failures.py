"""SyncCustomersOperator's outcome contract: failed rows fail the task after every row was attempted."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest

import airflow_bigcommerce.hooks.bigcommerce as hook_module
from airflow_bigcommerce.exceptions import BigCommerceTransientError
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.testing.in_process import InProcessStore


class FakeSyncHook(InProcessStore):
    """The in-memory store behind the operator, built the way the operator builds its hook."""

    last: FakeSyncHook | None = None
    script: tuple[tuple[str, str, int], ...] = ()

    def __init__(self, bigcommerce_conn_id: str = "bigcommerce_default", **kwargs: Any) -> None:
        super().__init__()
        self.bigcommerce_conn_id = bigcommerce_conn_id
        self.kwargs = kwargs
        self.settings = object()
        self.store_hash = "fake"
        for kind, fault, times in FakeSyncHook.script:
            self.fail_next(kind, fault, times)  # type: ignore[arg-type]
        FakeSyncHook.last = self


@pytest.fixture
def fake_hook(monkeypatch: pytest.MonkeyPatch) -> type[FakeSyncHook]:
    FakeSyncHook.last = None
    FakeSyncHook.script = ()
    monkeypatch.setattr(hook_module, "BigCommerceHook", FakeSyncHook)
    return FakeSyncHook


def contacts(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "email": f"p{i}@example.com", "first_name": "P", "last_name": str(i)} for i in range(n)]


def test_failed_rows_fail_the_task_after_every_row_and_the_report(
    fake_hook: type[FakeSyncHook], tmp_path: Path
) -> None:
    fake_hook.script = (("create", "unavailable", 2),)
    report = tmp_path / "new" / "reports" / "run.jsonl"
    op = SyncCustomersOperator(
        task_id="sync", contacts=contacts(45), report_path=str(report), max_concurrency=1, retry_budget_s=60
    )
    with pytest.raises(BigCommerceTransientError) as info:
        op.execute(context={})  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith("20 of 45 rows failed for a transient reason")
    assert "row 0: create failed: injected: create unavailable" in message
    assert "and 17 more" in message
    assert "25 created, 0 updated, 0 skipped, 0 rejected" in message
    assert "Retrying the task is safe" in message
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert [line["outcome"] for line in lines].count("failed") == 20
    assert len(lines) == 45  # every row attempted and reported
    assert fake_hook.last is not None and fake_hook.last.kwargs["retry_budget_s"] == 60


def test_report_is_private(fake_hook: type[FakeSyncHook], tmp_path: Path) -> None:
    report = tmp_path / "a" / "b" / "run.jsonl"
    SyncCustomersOperator(task_id="sync", contacts=contacts(3), report_path=str(report)).execute(
        context={}  # type: ignore[arg-type]
    )
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert stat.S_IMODE(report.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    report.chmod(0o644)  # an existing, wider report is narrowed when it is written again
    SyncCustomersOperator(task_id="sync", contacts=contacts(3), report_path=str(report)).execute(
        context={}  # type: ignore[arg-type]
    )
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


def test_rejected_only_run_succeeds_and_reports_failed_zero(fake_hook: type[FakeSyncHook]) -> None:
    rows = [*contacts(3), {"id": 9, "email": "not-an-email", "first_name": "X", "last_name": "Y"}]
    summary = SyncCustomersOperator(task_id="sync", contacts=rows).execute(context={})  # type: ignore[arg-type]
    assert (summary["created"], summary["rejected"], summary["failed"]) == (3, 1, 0)
    assert summary["failures"] == []


def test_negative_retry_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="retry_budget_s"):
        SyncCustomersOperator(task_id="sync", contacts=[], retry_budget_s=-5)


@pytest.fixture
def task_log(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The operator's task log, captured (Airflow's own logger does not reach pytest's handler)."""
    logger = logging.getLogger("tests.sync_operator")
    monkeypatch.setattr(SyncCustomersOperator, "log", property(lambda self: logger))
    return caplog


def test_the_summary_names_the_report_and_the_log_says_how_many_more_rows_it_holds(
    fake_hook: type[FakeSyncHook], tmp_path: Path, task_log: pytest.LogCaptureFixture
) -> None:
    caplog = task_log
    rows = [{**row, "email": "not-an-email"} for row in contacts(25)]
    report = tmp_path / "run.jsonl"
    # every row rejected fails the task unless max_rejected says otherwise
    op = SyncCustomersOperator(task_id="sync", contacts=rows, report_path=str(report), max_rejected=25)
    with caplog.at_level("WARNING"):
        summary = op.execute(context={})  # type: ignore[arg-type]
    assert summary["report_path"] == str(report)
    listed = [r for r in caplog.messages if r.startswith("Rejected row ")]
    assert len(listed) == 20
    assert f"... and 5 more rejected rows, in the report at {report}" in caplog.messages


def test_without_a_report_the_summary_says_so_and_the_log_says_where_the_rest_are_not(
    fake_hook: type[FakeSyncHook], task_log: pytest.LogCaptureFixture
) -> None:
    caplog = task_log
    rows = [{**row, "email": "not-an-email"} for row in contacts(21)]
    with caplog.at_level("WARNING"):
        op = SyncCustomersOperator(task_id="sync", contacts=rows, max_rejected=21)
        summary = op.execute(context={})  # type: ignore[arg-type]
    assert summary["report_path"] is None
    assert "... and 1 more rejected rows, not listed (set report_path)" in caplog.messages


def test_a_run_that_fails_its_task_leaves_its_summary_for_the_sync_view(
    fake_hook: type[FakeSyncHook], tmp_path: Path
) -> None:
    from airflow_bigcommerce.operators.sync_customers import FAILED_RUN_SUMMARY_KEY

    class TI:
        pushed: dict[str, Any] = {}

        def xcom_push(self, key: str, value: Any) -> None:
            self.pushed[key] = value

    fake_hook.script = (("create", "unavailable", 2),)
    ti = TI()
    op = SyncCustomersOperator(task_id="sync", contacts=contacts(15), max_concurrency=1, retry_budget_s=60)
    with pytest.raises(BigCommerceTransientError):
        op.execute(context={"ti": ti})  # type: ignore[arg-type]
    summary = ti.pushed[FAILED_RUN_SUMMARY_KEY]
    assert summary["status"] == "failed"
    assert summary["failed"] + summary["created"] == 15
    ok = TI()
    ok.pushed = {}
    fake_hook.script = ()
    assert SyncCustomersOperator(task_id="sync", contacts=contacts(2)).execute(context={"ti": ok})[
        "status"
    ] == (  # type: ignore[arg-type]
        "completed"
    )
    assert ok.pushed == {}  # a run that succeeds returns its summary, and pushes nothing more
