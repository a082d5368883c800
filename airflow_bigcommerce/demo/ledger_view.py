"""
What ``make demo`` shows of the sync's ledger: a few contacts joined to their ledger rows in the CRM file.

The join is the ledger guide's writeback query (``docs/examples/ledger_writeback.sql``: each
contact's customer id, last outcome and reason), run on the demo's SQLite CRM, where the example DAG
keeps its ledger by default.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from airflow_bigcommerce.ledger.records import DEFAULT_TABLE

#: The ledger guide's writeback join, for given contact ids (the demo's store has no channel: channel_id 0).
JOIN = f"""
SELECT c.id, c.email, l.customer_id, l.email, l.outcome, l.reason, l.attempts, l.run_id
FROM contacts AS c
LEFT JOIN {DEFAULT_TABLE} AS l
  ON l.crm_key = CAST(c.id AS VARCHAR(255)) AND l.store_hash = ? AND l.channel_id = 0
WHERE c.id IN ({{marks}})
ORDER BY c.id
"""


@dataclass(frozen=True)
class LedgerLine:
    """A contact and its ledger row (``None`` fields: the ledger has no row for it)."""

    contact_id: int
    crm_email: str | None
    customer_id: int | None
    ledger_email: str | None
    outcome: str | None
    reason: str | None
    attempts: int | None
    run_id: str | None


def read_ledger(crm_db: Path, store_hash: str, contact_ids: Iterable[int]) -> list[LedgerLine]:
    """Return the contacts ``contact_ids`` with their ledger rows, by the ledger guide's writeback join."""
    ids = list(dict.fromkeys(contact_ids))
    if not ids:
        return []
    conn = sqlite3.connect(crm_db)
    try:
        rows = conn.execute(JOIN.format(marks=", ".join("?" * len(ids))), (store_hash, *ids)).fetchall()
    finally:
        conn.close()
    return [LedgerLine(*row) for row in rows]


def ledger_keys(crm_db: Path, store_hash: str, outcome: str, reason: str = "%") -> list[int]:
    """Return the contact ids whose ledger row has ``outcome`` and a reason ``LIKE`` ``reason``, in order."""
    conn = sqlite3.connect(crm_db)
    try:
        rows = conn.execute(
            f"SELECT crm_key FROM {DEFAULT_TABLE}"
            " WHERE store_hash = ? AND outcome = ? AND COALESCE(reason, '') LIKE ?",
            (store_hash, outcome, reason),
        ).fetchall()
    finally:
        conn.close()
    return sorted(int(key) for (key,) in rows if str(key).isdigit())


def format_ledger(lines: Sequence[LedgerLine], *, width: int = 60) -> str:
    """Lay ledger lines out as a small table (reasons clipped to ``width``)."""
    head = f"    {'contact':>7}  {'customer':>8}  {'outcome':9} {'attempts':>8}  e-mail as delivered / reason"
    out = [head]
    for line in lines:
        said = line.ledger_email or ""
        if line.reason:
            said = f"{said}  ({line.reason})" if said else line.reason
        if len(said) > width:
            said = said[: width - 3] + "..."
        out.append(
            f"    {line.contact_id:>7}  {line.customer_id if line.customer_id is not None else '-':>8}"
            f"  {line.outcome or '(none)':9} {line.attempts if line.attempts is not None else '-':>8}  {said}"
        )
    return "\n".join(out)
