"""
Summarise a sync's JSON-lines report (one line per CRM row) as a short table for the terminal.

The demo runs the DAG in another process, so it counts each part's outcomes from the report lines'
``parts`` (the same rule as the run's ``result["parts"]``: the status word before any ``:``) and
keeps the reasons of skipped parts ("no city") to show why.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from airflow_bigcommerce.sync import report as sync_report
from airflow_bigcommerce.sync.outcome import part_status

OUTCOMES = ("created", "updated", "skipped", "rejected", "failed")
#: The parts beyond the customer, in the order a sync writes them.
PARTS = ("address", "group", "attributes", "newsletter")


@dataclass(frozen=True)
class ReportSummary:
    """
    Counts per outcome, and the rejected and failed rows as ``(row, email, reason)`` in report order.

    :param parts: part -> status word (``created``, ``unchanged``, ``skipped``...) -> rows.
    :param part_reasons: part -> why it was skipped (``skipped: no city`` -> ``no city``) -> rows.
    """

    path: Path
    counts: dict[str, int]
    rejected: list[tuple[str, str, str]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    parts: dict[str, Counter[str]] = field(default_factory=dict)
    part_reasons: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Return the number of rows in the report."""
        return sum(self.counts.values())


def read_report(path: Path) -> ReportSummary:
    """Read a report written by ``SyncCustomersOperator(report_path=...)``."""
    counts: Counter[str] = Counter({outcome: 0 for outcome in OUTCOMES})
    listed: dict[str, list[tuple[str, str, str]]] = {"rejected": [], "failed": []}
    parts: dict[str, Counter[str]] = {}
    reasons: dict[str, Counter[str]] = {}
    for record in sync_report.read_report(path):
        counts[record["outcome"]] += 1
        for part, text in (record.get("parts") or {}).items():
            if part == "customer":
                continue
            parts.setdefault(part, Counter())[part_status(text)] += 1
            if part_status(text) == "skipped" and ": " in text:
                reasons.setdefault(part, Counter())[text.split(": ", 1)[1]] += 1
        if record["outcome"] in listed:
            entry = (str(record["row"]), str(record.get("email") or "-"), str(record["reason"]))
            listed[record["outcome"]].append(entry)
    return ReportSummary(
        path=path,
        counts=dict(counts),
        rejected=listed["rejected"],
        failed=listed["failed"],
        parts=parts,
        part_reasons=reasons,
    )


def format_parts(summary: ReportSummary) -> str:
    """Lay out each part's outcomes, one line per part, with the reasons of skipped parts."""
    if not summary.parts:
        return ""
    lines = ["  part        rows by outcome", "  ----------  " + "-" * 56]
    order = [p for p in PARTS if p in summary.parts] + sorted(set(summary.parts) - set(PARTS))
    for part in order:
        counts = summary.parts[part]
        cells = []
        for status, n in counts.most_common():
            cell = f"{status} {n}"
            details = summary.part_reasons.get(part, Counter())
            if status == "skipped" and details:
                cell += " (" + ", ".join(f"{why} {k}" for why, k in details.most_common(3)) + ")"
            cells.append(cell)
        lines.append(f"  {part:<10}  " + ", ".join(cells))
    return "\n".join("  " + line for line in lines)


def sample_rejected(rejected: list[tuple[str, str, str]], n: int) -> list[tuple[str, str, str]]:
    """Return ``n`` rejected rows in report order, first one of each field, so every kind of problem shows."""
    first_of: dict[str, int] = {}
    for index, (_row, _email, reason) in enumerate(rejected):
        first_of.setdefault(reason.split(":", 1)[0], index)
    chosen = sorted(first_of.values())[:n]
    chosen += [i for i in range(len(rejected)) if i not in set(chosen)][: n - len(chosen)]
    return [rejected[i] for i in sorted(chosen)]


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
        for row, email, reason in sample_rejected(summary.rejected, show_rejected):
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
