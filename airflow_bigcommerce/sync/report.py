"""
The per-row report of a sync run: one JSON line per input row, so every row can be accounted for.

A line is ``{"row", "email", "outcome", "reason", "customer_id"}``, plus ``"parts"`` (part ->
outcome, e.g. ``{"customer": "created", "address": "skipped: no city"}``) when ``field_map`` maps a
contact's parts; payloads and passwords never appear. The operator opens the destination (a local
path or an ``ObjectStoragePath``) and hands a text file object to :class:`JsonlReportWriter`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, runtime_checkable

from airflow_bigcommerce.sync.outcome import rendered

if TYPE_CHECKING:
    from airflow_bigcommerce.sync.rows import Line

#: Line separators outside ASCII that ``json.dumps(ensure_ascii=False)`` leaves unescaped.
_LINE_BREAKS = ("\x85", "\u2028", "\u2029")


@runtime_checkable
class ReportWriter(Protocol):
    """Receives one call of :meth:`write` per input row; :meth:`flush` when the run ends or fails."""

    def write(
        self,
        row: str,
        email: str | None,
        outcome: str,
        reason: str | None,
        customer_id: int | None,
        parts: Mapping[str, str] | None = None,
    ) -> None:
        """Record what happened to one input row (``parts``: each part's outcome, when mapped)."""
        ...

    def flush(self) -> None:
        """Push buffered lines out; called at the end of a run and before an error propagates."""
        ...


def write_line(report: ReportWriter, line: Line) -> None:
    """Write a settled row to ``report``: its typed outcome rendered as the text the report shows."""
    reason = None if line.reason is None else line.reason.text
    outcome = line.outcome.value
    if line.parts:
        report.write(line.key, line.email, outcome, reason, line.customer_id, parts=rendered(line.parts))
    else:
        report.write(line.key, line.email, outcome, reason, line.customer_id)


class JsonlReportWriter:
    """
    Write the report as JSON Lines to a path (opened and closed here) or to an open text file object.

    :param target: a filesystem path, or a text file object the caller opened (and will close).
    """

    def __init__(self, target: str | os.PathLike[str] | IO[str]) -> None:
        if isinstance(target, (str, os.PathLike)):
            self._fh: IO[str] = open(target, "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
            self._owned = True
        else:
            self._fh = target
            self._owned = False
        self.lines = 0

    def write(
        self,
        row: str,
        email: str | None,
        outcome: str,
        reason: str | None,
        customer_id: int | None,
        parts: Mapping[str, str] | None = None,
    ) -> None:
        """Append one line."""
        record: dict[str, Any] = {
            "row": row,
            "email": email,
            "outcome": outcome,
            "reason": reason,
            "customer_id": customer_id,
        }
        if parts:
            record["parts"] = dict(parts)
        text = json.dumps(record, ensure_ascii=False, default=str)
        # Characters that ``str.splitlines()`` and some editors treat as line breaks stay escaped, so
        # one row is always one line.
        for char in _LINE_BREAKS:
            text = text.replace(char, f"\\u{ord(char):04x}")
        self._fh.write(text + "\n")
        self.lines += 1

    def flush(self) -> None:
        """Flush the underlying file object."""
        self._fh.flush()

    def close(self) -> None:
        """Flush, and close the file if this writer opened it."""
        self.flush()
        if self._owned:
            self._fh.close()

    def __enter__(self) -> JsonlReportWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def default_report_dir() -> str:
    """Return where reports go by default: under the Airflow home, never a world-readable /tmp."""
    home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return os.path.join(home, "bigcommerce-reports")


def open_private(path: str | os.PathLike[str]) -> IO[str]:
    """
    Open a local report for writing, readable by its owner only: it holds e-mails and names.

    The file is created (or truncated) with mode 0600; folders the call creates get mode 0700
    (existing ones are left as they are).
    """
    target = Path(path)
    missing = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing report keeps no wider mode than a new one
    return os.fdopen(fd, "w", encoding="utf-8")


def read_report(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield a local report's lines as dicts, in row order: the reading side of :class:`JsonlReportWriter`."""
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)
