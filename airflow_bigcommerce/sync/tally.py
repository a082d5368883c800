"""
A run's counters: rows and parts by status, and the first rejections and failures, for the summary.

Every counter derives from a line's typed status (:mod:`.outcome`), never from its wording. Owned by
the calling thread (``engine._Run``), which adds each settled line once.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from airflow_bigcommerce.sync.outcome import ROW_STATUSES, Reason, Status
from airflow_bigcommerce.sync.result import part_counts
from airflow_bigcommerce.sync.rows import Line

Listed = dict[str, str | None]


class Tally:
    """
    Count settled lines; list the first ``max_listed`` rejected and failed rows (``{row, email, reason}``).

    ``created + updated + skipped + rejected + failed`` is the number of lines added.
    """

    def __init__(self, max_listed: int) -> None:
        self.max_listed = max_listed
        self.rows: Counter[Status] = Counter()
        self.parts: dict[str, Counter[Status]] = {}
        self.rejections: list[Listed] = []
        self.rejections_truncated = False
        self.failures: list[Listed] = []
        self.failures_truncated = False
        self.common: Reason | None = None  # the reason every rejected row has; None once two differ

    def add(self, line: Line) -> None:
        """Count one settled row (and its parts, by their status)."""
        self.rows[line.outcome] += 1
        for name, outcome in (line.parts or {}).items():
            if name != "customer":
                self.parts.setdefault(name, Counter())[outcome.status] += 1
        if line.outcome is Status.REJECTED:
            self.rejections_truncated |= not self._list(self.rejections, line)
            self._agree(line.reason)
        elif line.outcome is Status.FAILED:
            self.failures_truncated |= not self._list(self.failures, line)

    def _agree(self, reason: Reason | None) -> None:
        if self.rows[Status.REJECTED] == 1:
            self.common = reason
        elif reason != self.common:
            self.common = None  # never set again: only the first rejection sets it

    def _list(self, listed: list[Listed], line: Line) -> bool:
        if len(listed) >= self.max_listed:
            return False
        reason = None if line.reason is None else line.reason.text
        listed.append({"row": line.key, "email": line.email, "reason": reason})
        return True

    def progress(self) -> tuple[int, int, int, int, int, int]:
        """Return ``(settled, created, updated, skipped, rejected, failed)`` for the progress reporter."""
        c = self.rows
        settled = sum(c[status] for status in ROW_STATUSES)
        return (
            settled,
            c[Status.CREATED],
            c[Status.UPDATED],
            c[Status.SKIPPED],
            c[Status.REJECTED],
            c[Status.FAILED],
        )

    def summary(self) -> dict[str, Any]:
        """Return the ``SyncResult`` fields these counters give."""
        return {
            "created": self.rows[Status.CREATED],
            "updated": self.rows[Status.UPDATED],
            "skipped": self.rows[Status.SKIPPED],
            "rejected": self.rows[Status.REJECTED],
            "failed": self.rows[Status.FAILED],
            "rejections": tuple(self.rejections),
            "rejections_truncated": self.rejections_truncated,
            "failures": tuple(self.failures),
            "failures_truncated": self.failures_truncated,
            "common_rejection": self.common,
            "parts": part_counts(self.parts),
        }
