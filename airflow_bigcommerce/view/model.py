"""
What the sync view shows, computed from a run's summary (XCom) and its report lines; pure, no I/O.

The summary is the dictionary ``SyncCustomersOperator`` returns (``SyncResult.to_dict()`` plus
``report_path`` and ``ledger``). The rows listed are the rejected and failed ones: from the run's
ledger rows or its report when they could be read (every such row), else from the summary's capped
``rejections``/``failures`` lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_bigcommerce.sync.result import (
    COMPLETED,
    COMPLETED_WITH_REJECTIONS,
    DRY_RUN,
    FAILED,
    SyncResult,
)

__all__ = ["COMPLETED", "COMPLETED_WITH_REJECTIONS", "DRY_RUN", "FAILED", "NO_SUMMARY", "build_view"]

#: The outcomes of a row, in the order the counts are shown.
OUTCOMES = ("created", "updated", "skipped", "rejected", "failed")
#: The outcomes whose rows the view lists.
LISTED_OUTCOMES = ("rejected", "failed")
#: Task states in which a run is over and failed (no summary is returned then).
FAILED_STATES = frozenset({"failed", "upstream_failed"})
#: A reason naming the field it is about starts with the field: ``email: missing``.
_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]-]{0,63}): ")

NO_SUMMARY = "no summary"


@dataclass(frozen=True)
class Row:
    """One listed row: its key, e-mail, outcome, the field the reason is about and the reason."""

    key: str
    email: str
    outcome: str
    field: str
    reason: str


@dataclass(frozen=True)
class RunView:
    """Everything the page shows about one task instance's sync run."""

    status: str
    counts: dict[str, int]
    total: int
    dry_run: bool
    mode: str
    parts: dict[str, dict[str, int]]
    requests: dict[str, int]
    requests_per_row: float
    throttled: int | None
    quota_wait_s: float | None
    duration_s: float | None
    rows_per_s: float | None
    rows: tuple[Row, ...]
    rows_source: str
    rows_complete: bool
    customers_url: str | None = None
    common_rejection: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def field_of(reason: str) -> str:
    """Return the field a reason is about (``email`` for ``email: missing``), or ``""``."""
    match = _FIELD_PREFIX.match(reason)
    return match.group(1) if match else ""


def _row(line: Mapping[str, Any], outcome: str) -> Row:
    reason = str(line.get("reason") or "")
    explicit = line.get("field")
    return Row(
        key=str(line.get("row") or ""),
        email=str(line.get("email") or ""),
        outcome=outcome,
        field=str(explicit) if explicit else field_of(reason),
        reason=reason,
    )


def rows_from_report(lines: Iterable[Mapping[str, Any]]) -> tuple[Row, ...]:
    """Return the rejected and failed rows of report lines (``{"row", "email", "outcome", "reason"}``)."""
    return tuple(_row(line, str(line["outcome"])) for line in lines if line.get("outcome") in LISTED_OUTCOMES)


def rows_from_summary(summary: Mapping[str, Any]) -> tuple[Row, ...]:
    """Return the rows the summary lists itself (the first ones only: the lists are capped)."""
    rejected = [_row(r, "rejected") for r in summary.get("rejections") or () if isinstance(r, Mapping)]
    failed = [_row(r, "failed") for r in summary.get("failures") or () if isinstance(r, Mapping)]
    return (*rejected, *failed)


def as_sync_summary(value: object) -> tuple[Mapping[str, Any] | None, str | None]:
    """
    Return a task's XCom value as a sync summary, and a note when it is something else.

    ``SyncCustomersOperator`` returns a summary (counts by outcome); ``CreateCustomerOperator``
    returns the customer it created (or found, with ``if_exists="skip"``): one row, settled.
    """
    if not isinstance(value, Mapping):
        return None, None
    if "total" in value and "created" in value:
        return value, None
    if "id" in value and "email" in value:
        summary = {"created": 1, "total": 1}
        return summary, f"Customer {value['id']} ({value['email']}): created, or found with if_exists='skip'."
    return None, "The task's return value is not a BigCommerce sync summary."


def run_status(summary: Mapping[str, Any] | None, task_state: str | None) -> str:
    """Return the run's status: ``failed`` for a failed task, else the summary's own ``status``.

    A summary written before the summary had a ``status`` gets one derived as ``SyncResult.status`` does.
    """
    if task_state in FAILED_STATES:
        return FAILED
    if summary is None:
        return NO_SUMMARY
    given = summary.get("status")
    if isinstance(given, str) and given:
        return given
    counts = SyncResult(
        failed=_int(summary.get("failed")),
        rejected=_int(summary.get("rejected")),
        dry_run=bool(summary.get("dry_run")),
    )
    return counts.status


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def build_view(
    summary: Mapping[str, Any] | None,
    *,
    task_state: str | None,
    report_lines: Iterable[Mapping[str, Any]] | None,
    report_note: str | None = None,
    report_complete: bool = True,
    customers_url: str | None = None,
    lines_source: str = "report",
) -> RunView:
    """
    Combine a run's summary and report into what the page shows.

    :param summary: the task's XCom summary, or ``None`` when the task returned none (failed, running).
    :param task_state: the task instance's state (``success``, ``failed``, ...).
    :param report_lines: the report's parsed lines, or ``None`` when there is no report to read.
    :param report_note: why the report could not be read, or that it lists more rows than shown.
    :param report_complete: ``report_lines`` hold every rejected and failed row of the report.
    :param customers_url: the store's customer list (the task's extra link), if known.
    :param lines_source: where ``report_lines`` come from: ``"report"``, or ``"ledger"`` (the run's
        rows in the sync's ledger, in the report's shape).
    """
    summary = summary or {}
    counts = {outcome: _int(summary.get(outcome)) for outcome in OUTCOMES}
    total = _int(summary.get("total")) or sum(counts.values())
    given_stats = summary.get("client_stats")
    stats: Mapping[str, Any] = given_stats if isinstance(given_stats, Mapping) else {}
    duration = _number(summary.get("duration_s"))
    notes: list[str] = []
    if report_lines is not None:
        rows = rows_from_report(report_lines)
        source, complete = lines_source, report_complete
        if report_note:
            notes.append(report_note)
    else:
        rows = rows_from_summary(summary)
        truncated = bool(summary.get("rejections_truncated") or summary.get("failures_truncated"))
        source, complete = "summary", not truncated
        if report_note:
            notes.append(report_note)
        if rows or truncated:
            notes.append(
                "No ledger or report for this run: the rows below are the summary's own list"
                + (", which holds only the first ones." if truncated else ".")
            )
    if not summary:
        notes.append("The task returned no summary (it failed before finishing, or has not run yet).")
    return RunView(
        status=run_status(summary or None, task_state),
        counts=counts,
        total=total,
        dry_run=bool(summary.get("dry_run")),
        mode=str(summary.get("mode") or ""),
        parts={str(k): dict(v) for k, v in (summary.get("parts") or {}).items() if isinstance(v, Mapping)},
        requests={str(k): _int(v) for k, v in (summary.get("requests") or {}).items()},
        requests_per_row=_number(summary.get("requests_per_row")) or 0.0,
        throttled=_int(stats["429s"]) if "429s" in stats else None,
        quota_wait_s=_number(stats.get("quota_wait_s")),
        duration_s=duration,
        rows_per_s=round(total / duration, 1) if duration and total else None,
        rows=rows,
        rows_source=source,
        rows_complete=complete,
        customers_url=customers_url or None,
        common_rejection=summary.get("common_rejection") or None,
        notes=tuple(notes),
    )
