"""
The messages a sync task fails with, once every row was attempted: rows failed, or too many rejected.

Each says what happened, what is in the report, and what to do next.
"""

from __future__ import annotations

from airflow_bigcommerce.sync.result import SyncResult

#: Failed rows named in the message of the task's failure (the log and the report list them all).
FAILURE_REASONS_IN_MESSAGE = 3


def failed_message(result: SyncResult, report_path: str | None) -> str:
    """Say how many rows failed, the first reasons, and that a retry of the task is safe."""
    reasons = "; ".join(
        f"row {f['row']}: {f['reason']}" for f in result.failures[:FAILURE_REASONS_IN_MESSAGE]
    )
    more = result.failed - min(result.failed, FAILURE_REASONS_IN_MESSAGE)
    return (
        f"{result.failed} of {result.total} rows failed for a transient reason (store unavailable or "
        f"overloaded) and were not delivered: {reasons}{f'; and {more} more' if more else ''}. "
        f"{result.created} created, {result.updated} updated, {result.skipped} skipped, "
        f"{result.rejected} rejected"
        + (f"; every row is in the report at {report_path}" if report_path else "")
        + ". Retrying the task is safe: it re-sends only what is missing and creates nothing twice."
    )


def rejected_message(
    result: SyncResult, max_rejected: int | float | None, report_path: str | None
) -> str | None:
    """
    Return why the task fails for its rejected rows, or ``None`` when it does not.

    With ``max_rejected`` set, more rejections than that fail it: an int counts rows, a float is a
    percentage of the run's rows (``arguments.rejected_limit`` reads ``"2%"`` as 2.0). Without, a
    run that read rows and rejected every one fails (a mapping or source mistake, most likely); a
    run without rows does not, nor one whose only rows came from its ledger (rows an earlier run
    could not deliver).
    """
    where = f"; every row is in the report at {report_path}" if report_path else ""
    if isinstance(max_rejected, float):
        share = 100 * result.rejected / result.total if result.total else 0.0
        if share <= max_rejected:
            return None
        return (
            f"{result.rejected} of {result.total} rows were rejected ({share:.1f} %), more than"
            f" max_rejected='{max_rejected:g}%'; every valid row was sent. See the log or the report for"
            f" the reasons{where}."
        )
    if max_rejected is not None:
        if result.rejected <= max_rejected:
            return None
        return (
            f"{result.rejected} rows were rejected, more than max_rejected={max_rejected}; "
            f"every valid row was sent. See the log or the report for the reasons{where}."
        )
    if result.total <= result.retried or result.rejected < result.total:
        return None
    common = result.common_rejection
    if common is None:
        first = result.rejections[0] if result.rejections else None
        cause = "their reasons differ" + (
            f"; the first: row {first['row']}: {first['reason']}" if first else ""
        )
    else:
        cause = f"every row: {common.text}"
        if common.field is not None:
            cause += (
                f"; is the source's column mapped to {common.field!r} (field_map) and filled in? Check the"
                " query or file returns it under that name"
            )
    return (
        f"All {result.total} rows were rejected and nothing was written: {cause}{where}. "
        "Set max_rejected to accept a run that rejects every row."
    )
