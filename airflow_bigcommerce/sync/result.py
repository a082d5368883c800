"""
The summary a sync run returns: small, frozen and JSON-safe, because it travels through XCom.

It holds counts, row keys, e-mails and the store's reasons; never a payload and never a password.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_bigcommerce.sync.outcome import Reason, Status

#: What happened to one input row. A dry run reports ``created``/``updated`` for what it *would* do.
#: ``rejected``: the row must change before it can succeed (its data, or the store's 4xx about it).
#: ``failed``: not delivered for a transient reason (outage, overload); trying again later can succeed.
Outcome = Literal["created", "updated", "skipped", "rejected", "failed"]
#: What a run was, in the words users read (the summary's ``status``, the sync view's banner):
#: ``failed``: some rows were not delivered; ``dry run``: nothing was written; ``completed with
#: rejections``: every row was settled, some refused (fix their data); ``completed``: none refused.
RunStatus = Literal["completed", "completed with rejections", "failed", "dry run"]
COMPLETED: RunStatus = "completed"
COMPLETED_WITH_REJECTIONS: RunStatus = "completed with rejections"
FAILED: RunStatus = "failed"
DRY_RUN: RunStatus = "dry run"


@dataclass(frozen=True)
class SyncResult:
    """
    What a sync run did; ``created + updated + skipped + rejected + failed == total`` always holds.

    :param created: customers created (with ``dry_run``: that would be created).
    :param updated: customers updated (with ``dry_run``: that would be updated).
    :param skipped: rows left alone: already in the store (insert mode), unchanged (upsert mode),
        or a duplicate e-mail of an earlier row of the same run.
    :param rejected: rows refused by validation or by the store (4xx about the row): fix the data.
    :param failed: rows not delivered for a transient reason (5xx, no answer, outcome still unknown,
        429s beyond the budget): a later run can deliver them, so a run with failures fails its task.
    :param total: input rows read.
    :param dry_run: look-ups were made, but nothing was written.
    :param mode: ``"insert"``, ``"upsert"`` or ``"update"``.
    :param requests: client calls made, by kind (``lookup``, ``create``, ``update``, ``list``, and for
        mapped parts ``setup``, ``address_create``, ``address_update``, ``address_lookup``,
        ``attribute_values``, ``subscriber_lookup``, ``subscriber_create``, ``subscriber_update``);
        the client's own retries are not in it (see ``client_stats``).
    :param requests_per_row: ``requests`` in all divided by ``total`` (3 decimals; 0 without rows): what
        a row costs in the store's shared quota, the figure batching and grouped look-ups bring down.
    :param retries_resolved: rows whose write had an unknown outcome that a look-up then settled.
    :param rejections: the first ``max_rejections_listed`` rejections as ``{row, email, reason}``.
    :param rejections_truncated: more rows were rejected than ``rejections`` lists.
    :param failures: the first failed rows as ``{row, email, reason}``, capped like ``rejections``.
    :param failures_truncated: more rows failed than ``failures`` lists.
    :param duration_s: wall-clock seconds the run took.
    :param client_stats: the client's optional ``stats`` counters (e.g. ``429s``, ``retries``), if any.
    :param common_rejection: the reason every rejected row has, when they all have one (a mapping
        or source problem, most likely), else ``None``.
    :param retried: rows the run took from its ledger (not delivered by an earlier run, not in its input).
    :param email_changes: customers whose e-mail an update changed (a CRM key's e-mail changed; ledger only).
    :param parts: per mapped part (``address``, ``attributes``, ``group``, ``newsletter``), how many
        rows ended how (``created``, ``updated``, ``unchanged``, ``skipped``, ``failed``, ...).
    """

    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    failed: int = 0
    total: int = 0
    dry_run: bool = False
    mode: str = "insert"
    requests: dict[str, int] = field(default_factory=dict)
    requests_per_row: float = 0.0
    retries_resolved: int = 0
    rejections: tuple[dict[str, str | None], ...] = ()
    rejections_truncated: bool = False
    failures: tuple[dict[str, str | None], ...] = ()
    failures_truncated: bool = False
    duration_s: float = 0.0
    client_stats: dict[str, int | float] = field(default_factory=dict)
    parts: dict[str, dict[str, int]] = field(default_factory=dict)
    common_rejection: Reason | None = None
    retried: int = 0
    email_changes: int = 0

    @property
    def status(self) -> RunStatus:
        """Return what the run was: failed rows first, then a dry run, then whether rows were refused."""
        if self.failed:
            return FAILED
        if self.dry_run:
            return DRY_RUN
        return COMPLETED_WITH_REJECTIONS if self.rejected else COMPLETED

    def describe(self) -> str:
        """Return the run in one line: rows by outcome, requests, time (no row data)."""
        requests = sum(self.requests.values())
        return (
            f"{self.total} rows, created {self.created}, updated {self.updated}, skipped {self.skipped},"
            f" rejected {self.rejected}, failed {self.failed}, {requests} requests"
            f" ({self.requests_per_row:.3f} per row) in {self.duration_s:.1f}s"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as plain JSON types (what the operator pushes to XCom)."""
        return {
            "status": self.status,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "failed": self.failed,
            "total": self.total,
            "dry_run": self.dry_run,
            "mode": self.mode,
            "requests": dict(self.requests),
            "requests_per_row": self.requests_per_row,
            "retries_resolved": self.retries_resolved,
            "rejections": [dict(r) for r in self.rejections],
            "rejections_truncated": self.rejections_truncated,
            "failures": [dict(r) for r in self.failures],
            "failures_truncated": self.failures_truncated,
            "duration_s": self.duration_s,
            "client_stats": dict(self.client_stats),
            "parts": {name: dict(counts) for name, counts in self.parts.items()},
            "common_rejection": None if self.common_rejection is None else self.common_rejection.text,
            "retried": self.retried,
            "email_changes": self.email_changes,
        }


def part_counts(counts: Mapping[str, Mapping[Status, int]]) -> dict[str, dict[str, int]]:
    """Render per-part counters by status as the summary spells them: part -> status word -> rows."""
    return {
        name: {status.value: n for status, n in sorted(c.items(), key=lambda kv: kv[0].value)}
        for name, c in sorted(counts.items())
    }
