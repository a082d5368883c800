"""Summarise a sync's JSON-lines report (one line per CRM row) as a short table for the terminal."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from airflow_bigcommerce.sync import report as sync_report

OUTCOMES = ("created", "updated", "skipped", "rejected", "failed")


@dataclass(frozen=True)
class ReportSummary:
    """Counts per outcome, and the rejected and failed rows as ``(row, email, reason)`` in report order."""

    path: Path
    counts: dict[str, int]
    rejected: list[tuple[str, str, str]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Return the number of rows in the report."""
        return sum(self.counts.values())


def read_report(path: Path) -> ReportSummary:
    """Read a report written by ``SyncCustomersOperator(report_path=...)``."""
    counts: Counter[str] = Counter({outcome: 0 for outcome in OUTCOMES})
    listed: dict[str, list[tuple[str, str, str]]] = {"rejected": [], "failed": []}
    for record in sync_report.read_report(path):
        counts[record["outcome"]] += 1
        if record["outcome"] in listed:
            entry = (str(record["row"]), str(record.get("email") or "-"), str(record["reason"]))
            listed[record["outcome"]].append(entry)
    return ReportSummary(path=path, counts=dict(counts), rejected=listed["rejected"], failed=listed["failed"])


def format_summary(summary: ReportSummary, *, show_rejected: int = 8) -> str:
    """Lay out the counts, the rejection reasons by field and the first rejected rows."""
    lines = ["  outcome      rows", "  ---------  ------"]
    lines += [f"  {outcome:<9}  {summary.counts.get(outcome, 0):>6}" for outcome in OUTCOMES]
    lines += ["  ---------  ------", f"  {'total':<9}  {summary.total:>6}"]
    if summary.rejected:
        by_field = Counter(reason.split(":", 1)[0] for _row, _email, reason in summary.rejected)
        lines += [
            "",
            "  rejected, by field: " + ", ".join(f"{name} {n}" for name, n in by_field.most_common()),
        ]
        if show_rejected > 0:
            lines += ["", f"  {'row':>6}  {'email':<34}  reason"]
        for row, email, reason in summary.rejected[:show_rejected]:
            shown = email.strip() if len(email.strip()) <= 34 else email.strip()[:33] + "…"
            lines.append(f"  {row:>6}  {shown:<34}  {reason}")
        if len(summary.rejected) > show_rejected:
            more = len(summary.rejected) - show_rejected
            lines.append(f"  ... {'and ' if show_rejected else ''}{more} rejected rows listed in the report")
    if summary.failed:
        lines += ["", f"  failed (transient; a retry of the task delivers them): {len(summary.failed)}"]
        lines += [
            f"  {row:>6}  {email.strip()[:34]:<34}  {reason}" for row, email, reason in summary.failed[:3]
        ]
    return "\n".join("  " + line if line else line for line in lines)


def newest_report(folder: Path, *, newer_than: float = 0.0) -> Path | None:
    """Return the most recently written ``*.jsonl`` under ``folder`` (modified after ``newer_than``)."""
    candidates = [p for p in folder.rglob("*.jsonl") if p.stat().st_mtime >= newer_than]
    return max(candidates, key=lambda p: p.stat().st_mtime, default=None)
