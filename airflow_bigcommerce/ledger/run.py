"""
A run's use of the ledger: one read per chunk of rows, one write per chunk of settled rows, then the retries.

:class:`RunLedger` is what the engine's chunk loop holds: :meth:`~RunLedger.read_chunk` before a chunk
is looked up (the chunk's ledger rows, kept until its rows settle), :meth:`~RunLedger.record` for
each settled row (its report line, and what the ledger keeps of it), :meth:`~RunLedger.flush` after
the chunk (one idempotent write: a killed task leaves what it settled), and
:meth:`~RunLedger.due` at the end (the rows to try again, those of this run's input excluded). Pure
apart from the injected ledger and clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from airflow_bigcommerce.ledger.records import MAX_KEY_LENGTH, Ledger, LedgerRow, retained_values
from airflow_bigcommerce.ledger.retries import MAX_ATTEMPTS, due_rows, reason_kind, settle
from airflow_bigcommerce.sync.outcome import Reason, data
from airflow_bigcommerce.sync.rows import Line


def key_problem(row: Mapping[str, Any], key_field: str) -> Reason | None:
    """Return why a row cannot be kept in a ledger (no key, or one too long), or ``None``."""
    value = row.get(key_field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return data(f"no {key_field!r}: a sync with a ledger needs each row's key", key_field)
    if len(str(value)) > MAX_KEY_LENGTH:
        return data(
            f"{key_field!r} longer than {MAX_KEY_LENGTH} characters: the ledger cannot key it", key_field
        )
    return None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class RunLedger:
    """
    The ledger as one run uses it; owned by the engine's calling thread.

    :param field_map: the sync's field map: the ledger keeps the mapped columns of each row.
    :param key_field: the column holding the CRM key.
    :param owner: retry only the rows whose ``run_id`` starts with it (the task's own: partition tasks
        sharing a ledger never retry each other's rows); ``None`` retries every due row of the scope.
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        run_id: str | None,
        field_map: Mapping[str, str],
        key_field: str,
        max_attempts: int = MAX_ATTEMPTS,
        now: Callable[[], datetime] = _utc_now,
        owner: str | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts={max_attempts}: at least 1")
        self.ledger = ledger
        self.run_id = run_id
        self.field_map = dict(field_map)
        self.key_field = key_field
        self.max_attempts = max_attempts
        self.now = now
        self.owner = owner
        self.known: dict[str, LedgerRow] = {}  # ledger rows of the chunks not yet settled
        self.pending: list[LedgerRow] = []  # settled, not yet written
        self.seen: set[str] = set()  # keys of the run's input: never taken from the ledger
        self.from_ledger: set[str] = set()  # keys this run took from the ledger

    def read_chunk(self, rows: Iterable[Mapping[str, Any]]) -> dict[str, LedgerRow]:
        """Read the ledger rows of a chunk of input rows (one ledger read) and remember their keys."""
        keys = [str(row[self.key_field]) for row in rows if key_problem(row, self.key_field) is None]
        self.seen.update(keys)
        unknown = [key for key in keys if key not in self.known]  # retried rows: read already
        if unknown:
            self.known.update(self.ledger.read(unknown))
        return {key: self.known[key] for key in keys if key in self.known}

    def retry_rows(self) -> Iterator[dict[str, Any]]:
        """Yield the rows to try again from the ledger (its kept values), remembering their ledger rows."""
        for row in due_rows(self.ledger, seen=self.seen, run_id=self.run_id, max_attempts=self.max_attempts):
            if self.owner is not None and not (row.run_id or "").startswith(self.owner):
                continue  # another task's row (a partition of the same sync): that task retries it
            self.known[row.crm_key] = row
            self.from_ledger.add(row.crm_key)
            yield {self.key_field: row.crm_key, **row.values}

    def record(
        self,
        line: Line,
        row: Mapping[str, Any] | None,
        *,
        address_id: int | None = None,
        email: str | None = None,
    ) -> LedgerRow:
        """
        Settle a row in the ledger (written at the next :meth:`flush`).

        :param row: the CRM row (its mapped columns are kept), ``None`` for a row taken from the ledger.
        :param email: the e-mail the customer kept, when it is not the row's (``insert`` left it alone).
        """
        key = line.key
        previous = self.known.pop(key, None)
        from_ledger = key in self.from_ledger
        values = None if row is None or from_ledger else retained_values(row, self.field_map, self.key_field)
        settled = settle(
            previous,
            crm_key=key,
            outcome=line.outcome.value,
            email=email or line.email,
            customer_id=line.customer_id,
            reason=line.reason.text if line.reason is not None else None,
            reason_kind=reason_kind(line.reason),
            address_id=address_id,
            values=values,
            from_ledger=from_ledger,
            now=self.now,
            run_id=self.run_id,
            max_attempts=self.max_attempts,
        )
        self.pending.append(settled)
        return settled

    def flush(self) -> int:
        """Write the rows settled since the last flush (one ledger write); return how many."""
        rows, self.pending = self.pending, []
        if rows:
            self.ledger.write(rows)
        return len(rows)
