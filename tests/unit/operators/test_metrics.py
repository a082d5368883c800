"""The sync's metrics: one thin layer over the summary, sent through Airflow's Stats."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import airflow_bigcommerce.compat as compat
import airflow_bigcommerce.hooks.bigcommerce as hook_module
from airflow_bigcommerce.operators import metrics
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.testing.in_process import InProcessStore


class RecordingStats:
    """Airflow's Stats interface (incr, timing), recording what it was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any, dict[str, str]]] = []

    def incr(self, stat: str, count: int = 1, rate: float = 1, *, tags: dict[str, str]) -> None:
        self.sent.append(("incr", stat, count, tags))

    def timing(self, stat: str, dt: timedelta, *, tags: dict[str, str]) -> None:
        self.sent.append(("timing", stat, dt, tags))

    def by_name(self) -> dict[str, Any]:
        return {stat: value for _, stat, value, _ in self.sent}


class TI:
    dag_id = "crm_contacts"
    task_id = "sync_customers"
    map_index = -1

    def xcom_push(self, key: str, value: Any) -> None:
        pass


SUMMARY = {
    "status": "completed with rejections",
    "created": 7,
    "updated": 1,
    "skipped": 0,
    "rejected": 2,
    "failed": 0,
    "dry_run": False,
    "requests": {"lookup": 2, "create": 1, "update": 0},
    "client_stats": {"requests": 3, "429s": 4, "retries": 4, "quota_wait_s": 1.5},
    "duration_s": 2.25,
}


def test_each_figure_of_the_summary_becomes_one_metric_with_the_store_dag_and_task_as_tags() -> None:
    stats = RecordingStats()
    tags = metrics.metric_tags("abc123", {"ti": TI()})
    metrics.emit_sync_metrics(stats, SUMMARY, tags)
    assert stats.by_name() == {
        "bigcommerce.sync.runs.completed_with_rejections": 1,
        "bigcommerce.sync.rows.created": 7,
        "bigcommerce.sync.rows.updated": 1,
        "bigcommerce.sync.rows.skipped": 0,
        "bigcommerce.sync.rows.rejected": 2,
        "bigcommerce.sync.rows.failed": 0,
        "bigcommerce.sync.requests.lookup": 2,
        "bigcommerce.sync.requests.create": 1,  # a kind never used is not sent
        "bigcommerce.sync.throttled": 4,
        "bigcommerce.sync.quota_wait": timedelta(seconds=1.5),
        "bigcommerce.sync.duration": timedelta(seconds=2.25),
    }
    assert {tuple(sorted(t.items())) for *_, t in stats.sent} == {
        (("dag_id", "crm_contacts"), ("store_hash", "abc123"), ("task_id", "sync_customers"))
    }


def test_a_dry_run_sends_no_row_counts_it_wrote_nothing() -> None:
    stats = RecordingStats()
    metrics.emit_sync_metrics(stats, {**SUMMARY, "status": "dry run", "dry_run": True}, {})
    names = set(stats.by_name())
    assert "bigcommerce.sync.runs.dry_run" in names
    assert not {n for n in names if n.startswith(metrics.ROWS)}
    assert metrics.DURATION in names


def test_every_name_is_a_valid_stats_name_and_each_status_has_one() -> None:
    import re

    valid = re.compile(r"^[a-zA-Z0-9_.-]+$")
    names = [metrics.THROTTLED, metrics.QUOTA_WAIT, metrics.DURATION]
    names += [f"{metrics.ROWS}.{o}" for o in metrics.OUTCOMES]
    names += [f"{metrics.RUNS}.{s}" for s in metrics.STATUS_NAMES.values()]
    assert all(valid.match(n) and len(n) < 250 for n in names)
    from airflow_bigcommerce.sync import result

    assert set(metrics.STATUS_NAMES) == {
        result.COMPLETED,
        result.COMPLETED_WITH_REJECTIONS,
        result.FAILED,
        result.DRY_RUN,
    }


def test_the_operator_sends_them_after_a_run_and_a_broken_backend_does_not_fail_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class FakeSyncHook(InProcessStore):
        def __init__(self, bigcommerce_conn_id: str = "bigcommerce_default", **kwargs: Any) -> None:
            super().__init__()
            self.settings = object()
            self.store_hash = "store9"

    monkeypatch.setattr(hook_module, "BigCommerceHook", FakeSyncHook)
    stats = RecordingStats()
    monkeypatch.setattr(compat, "stats", lambda: stats)
    contacts = [
        {"id": i, "email": f"p{i}@example.com", "first_name": "P", "last_name": "Q"} for i in range(3)
    ]
    SyncCustomersOperator(task_id="sync_customers", contacts=contacts).execute(
        context={"ti": TI()}  # type: ignore[arg-type]
    )
    sent = stats.by_name()
    assert sent["bigcommerce.sync.rows.created"] == 3
    assert sent["bigcommerce.sync.runs.completed"] == 1
    assert sent["bigcommerce.sync.requests.create"] >= 1
    assert stats.sent[0][3] == {"store_hash": "store9", "dag_id": "crm_contacts", "task_id": "sync_customers"}

    class Broken:
        def incr(self, *args: Any, **kwargs: Any) -> None:
            raise OSError("no route to the metrics host")

    monkeypatch.setattr(compat, "stats", lambda: Broken())
    summary = SyncCustomersOperator(task_id="sync_customers", contacts=contacts).execute(
        context={"ti": TI()}  # type: ignore[arg-type]
    )
    assert summary["status"] == "completed"


def test_airflows_stats_is_found_on_this_airflow() -> None:
    found = compat.stats()
    assert callable(getattr(found, "incr", None))
    assert callable(getattr(found, "timing", None))
