"""on_rejections: called once, with the context and the summary, when a run completes with rejections."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from airflow.sdk import BaseNotifier

import airflow_bigcommerce.hooks.bigcommerce as hook_module
from airflow_bigcommerce.notifications import LogRejectionsNotifier
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.operators.rejection_alerts import (
    SUMMARY_CONTEXT_KEY,
    check_on_rejections,
    notify_rejections,
)
from airflow_bigcommerce.testing.in_process import InProcessStore

LOG = logging.getLogger("tests.rejection_alerts")


class FakeSyncHook(InProcessStore):
    """The in-memory store behind the operator, built the way the operator builds its hook."""

    def __init__(self, bigcommerce_conn_id: str = "bigcommerce_default", **kwargs: Any) -> None:
        super().__init__()
        self.settings = object()
        self.store_hash = "fake"


@pytest.fixture(autouse=True)
def fake_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hook_module, "BigCommerceHook", FakeSyncHook)


class TI:
    dag_id = "crm"
    task_id = "sync"
    map_index = -1

    def xcom_push(self, key: str, value: Any) -> None:
        pass


class Recorder:
    """A callable ``on_rejections``: records what it was called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, context: Any, summary: dict[str, Any]) -> None:
        self.calls.append((context, summary))


class RecordingNotifier(BaseNotifier):
    """A notifier whose template reads the summary from the context, as a Slack message would."""

    template_fields = ("text",)

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.contexts: list[Any] = []

    def notify(self, context: Any) -> None:
        self.contexts.append(context)


def rows(valid: int, invalid: int) -> list[dict[str, Any]]:
    good = [
        {"id": i, "email": f"p{i}@example.com", "first_name": "P", "last_name": "Q"} for i in range(valid)
    ]
    bad = [
        {"id": 100 + i, "email": "not-an-email", "first_name": "X", "last_name": "Y"} for i in range(invalid)
    ]
    return good + bad


def test_a_callable_is_called_once_with_the_context_and_the_summary_when_rows_are_rejected() -> None:
    alert = Recorder()
    context = {"ti": TI(), "run_id": "r1"}
    op = SyncCustomersOperator(task_id="sync", contacts=rows(3, 2), on_rejections=alert)
    summary = op.execute(context=context)  # type: ignore[arg-type]
    assert summary["status"] == "completed with rejections"
    assert len(alert.calls) == 1
    called_context, called_summary = alert.calls[0]
    assert called_context is context
    assert (called_summary["rejected"], called_summary["created"]) == (2, 3)
    assert called_summary == summary


@pytest.mark.parametrize(
    ("contacts", "kwargs", "status"),
    [
        (rows(3, 0), {}, "completed"),
        (rows(3, 1), {"dry_run": True}, "dry run"),
    ],
)
def test_it_is_not_called_for_a_run_without_rejections_or_a_dry_run(
    contacts: list[dict[str, Any]], kwargs: dict[str, Any], status: str
) -> None:
    alert = Recorder()
    op = SyncCustomersOperator(task_id="sync", contacts=contacts, on_rejections=alert, **kwargs)
    assert op.execute(context={"ti": TI()})["status"] == status  # type: ignore[arg-type]
    assert alert.calls == []


def test_it_is_called_before_max_rejected_fails_the_task() -> None:
    from airflow_bigcommerce.exceptions import BigCommerceError

    alert = Recorder()
    op = SyncCustomersOperator(task_id="sync", contacts=rows(2, 2), on_rejections=alert, max_rejected=1)
    with pytest.raises(BigCommerceError, match="more than max_rejected=1"):
        op.execute(context={"ti": TI()})  # type: ignore[arg-type]
    assert [summary["rejected"] for _, summary in alert.calls] == [2]


def test_a_notifier_gets_the_summary_in_its_context_and_its_templates() -> None:
    notifier = RecordingNotifier(
        "{{ bigcommerce_summary.rejected }} of {{ bigcommerce_summary.total }} rejected"
    )
    context = {"ti": TI(), "run_id": "r1", "dag": None}  # a task context has "dag" (3.0 reads it)
    SyncCustomersOperator(task_id="sync", contacts=rows(3, 2), on_rejections=notifier).execute(
        context=context  # type: ignore[arg-type]
    )
    assert notifier.text == "2 of 5 rejected"
    (seen,) = notifier.contexts
    assert seen[SUMMARY_CONTEXT_KEY]["rejected"] == 2
    assert seen["run_id"] == "r1"
    assert SUMMARY_CONTEXT_KEY not in context  # the task's own context is left as it was


def test_an_exception_in_it_is_logged_and_the_task_still_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    def broken(context: Any, summary: dict[str, Any]) -> None:
        raise RuntimeError("webhook down")

    with caplog.at_level("ERROR", logger=LOG.name):
        called = notify_rejections(broken, {}, {"status": "completed with rejections", "rejected": 4}, LOG)
    assert called
    (record,) = [r for r in caplog.records if r.name == LOG.name]
    assert "on_rejections failed (4 rows were rejected)" in record.getMessage()
    assert record.exc_info is not None and "webhook down" in str(record.exc_info[1])

    summary = SyncCustomersOperator(task_id="sync", contacts=rows(1, 1), on_rejections=broken).execute(
        context={"ti": TI()}  # type: ignore[arg-type]
    )
    assert summary["status"] == "completed with rejections"


def test_the_status_alone_decides() -> None:
    alert = Recorder()
    for status in ("completed", "failed", "dry run"):
        assert not notify_rejections(alert, {}, {"status": status, "rejected": 3}, LOG)
    assert not notify_rejections(None, {}, {"status": "completed with rejections"}, LOG)
    assert alert.calls == []


def test_something_that_cannot_be_called_is_refused_at_parse() -> None:
    with pytest.raises(TypeError, match="on_rejections must be a callable"):
        SyncCustomersOperator(task_id="sync", contacts=[], on_rejections="slack")
    check_on_rejections(None)
    check_on_rejections(LogRejectionsNotifier())


def test_the_log_notifier_writes_one_warning_naming_the_counts_and_the_report(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = LogRejectionsNotifier(logger_name=LOG.name)
    summary = {"status": "completed with rejections", "rejected": 2, "total": 5, "report_path": "/r/1.jsonl"}
    with caplog.at_level("WARNING", logger=LOG.name):
        notify_rejections(notifier, {"ti": TI(), "dag": None}, summary, LOG)
    assert [r.getMessage() for r in caplog.records if r.name == LOG.name] == [
        "BigCommerce sync crm.sync completed with rejections: 2 of 5 rows rejected; report at /r/1.jsonl"
    ]
