"""
The sync's metrics, sent through Airflow's ``Stats``: a thin layer over the run's summary.

Whatever the deployment configured (StatsD, Datadog, OpenTelemetry) receives them; with metrics
off, ``Stats`` drops them. The outcome, request kind and status are part of the *name* (a few known
values each, and plain StatsD drops tags); the store, DAG and task are *tags* (``store_hash``,
``dag_id``, ``task_id``), which StatsD with InfluxDB tags, Datadog and OpenTelemetry keep. Timers are
in milliseconds, as StatsD's are. The docs' "Metrics" table (docs/guides/sync-view.md) lists every name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from airflow_bigcommerce.sync.result import COMPLETED, COMPLETED_WITH_REJECTIONS, DRY_RUN, FAILED

PREFIX = "bigcommerce.sync"
#: Counter per run, by status: ``bigcommerce.sync.runs.completed_with_rejections``.
RUNS = f"{PREFIX}.runs"
#: Counter of rows by outcome: ``bigcommerce.sync.rows.created`` (not sent for a dry run: nothing written).
ROWS = f"{PREFIX}.rows"
#: Counter of requests made, by kind: ``bigcommerce.sync.requests.lookup``.
REQUESTS = f"{PREFIX}.requests"
#: Counter of the store's 429 answers (rate limit reached).
THROTTLED = f"{PREFIX}.throttled"
#: Timer: how long the run waited for the store's rate-limit window, in ms.
QUOTA_WAIT = f"{PREFIX}.quota_wait"
#: Timer: how long the run took, in ms.
DURATION = f"{PREFIX}.duration"

#: Row outcomes, each a counter under :data:`ROWS` (sent even when 0, so a dashboard sees the series).
OUTCOMES = ("created", "updated", "skipped", "rejected", "failed")
#: Run statuses as metric names (no spaces).
STATUS_NAMES: dict[str, str] = {
    COMPLETED: "completed",
    COMPLETED_WITH_REJECTIONS: "completed_with_rejections",
    FAILED: "failed",
    DRY_RUN: "dry_run",
}


def metric_tags(store_hash: str | None, context: Mapping[str, Any]) -> dict[str, str]:
    """Return the tags of a task's metrics: the store, the DAG and the task."""
    ti = context.get("ti")
    return {
        "store_hash": store_hash or "-",
        "dag_id": str(getattr(ti, "dag_id", None) or "-"),
        "task_id": str(getattr(ti, "task_id", None) or "-"),
    }


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def emit_sync_metrics(stats: Any, summary: Mapping[str, Any], tags: Mapping[str, str]) -> None:
    """Send one run's metrics through ``stats`` (Airflow's ``Stats``), from its summary alone."""
    tags = dict(tags)
    status = STATUS_NAMES.get(str(summary.get("status")))
    if status is not None:
        stats.incr(f"{RUNS}.{status}", tags=tags)
    if not summary.get("dry_run"):
        for outcome in OUTCOMES:
            stats.incr(f"{ROWS}.{outcome}", count=int(_number(summary.get(outcome))), tags=tags)
    for kind, n in (summary.get("requests") or {}).items():
        if n:
            stats.incr(f"{REQUESTS}.{kind}", count=int(n), tags=tags)
    client = summary.get("client_stats") or {}
    stats.incr(THROTTLED, count=int(_number(client.get("429s"))), tags=tags)
    stats.timing(QUOTA_WAIT, timedelta(seconds=_number(client.get("quota_wait_s"))), tags=tags)
    stats.timing(DURATION, timedelta(seconds=_number(summary.get("duration_s"))), tags=tags)


def send_sync_metrics(
    summary: Mapping[str, Any], store_hash: str | None, context: Mapping[str, Any], log: Any
) -> None:
    """Send the run's metrics through Airflow's ``Stats``; a metrics backend's error is logged, not raised."""
    from airflow_bigcommerce.compat import stats

    try:
        emit_sync_metrics(stats(), summary, metric_tags(store_hash, context))
    except Exception:
        log.warning("Could not send the sync's metrics", exc_info=True)
