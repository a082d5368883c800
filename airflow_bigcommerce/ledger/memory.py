"""An in-memory ledger with the SQL ledger's interface, for unit tests of the rules and the engine."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from airflow_bigcommerce.ledger.records import NO_CHANNEL, RETRY_OUTCOMES, LedgerRow, Scope


class MemoryLedger:
    """
    A ledger held in a dict, shared by scopes like one table: thread-safe, counts its reads and writes.

    ``reads`` and ``writes`` count calls (a sync promises one of each per chunk of rows).
    """

    def __init__(
        self, scope: Scope | None = None, *, table: dict[tuple[str, int, str], LedgerRow] | None = None
    ):
        self.scope = scope or Scope("store", NO_CHANNEL)
        self.table: dict[tuple[str, int, str], LedgerRow] = {} if table is None else table
        self.reads = 0
        self.writes = 0
        self._lock = threading.Lock()

    def for_scope(self, scope: Scope) -> MemoryLedger:
        """Return a ledger of another scope on the same table."""
        return MemoryLedger(scope, table=self.table)

    def _key(self, crm_key: str) -> tuple[str, int, str]:
        return (self.scope.store_hash, self.scope.channel_id, crm_key)

    def read(self, keys: Iterable[str]) -> dict[str, LedgerRow]:
        """Return the rows of these keys the ledger holds."""
        with self._lock:
            self.reads += 1
            return {key: row for key in dict.fromkeys(keys) if (row := self.table.get(self._key(key)))}

    def write(self, rows: Sequence[LedgerRow]) -> None:
        """Insert or replace these rows."""
        with self._lock:
            self.writes += 1
            for row in rows:
                self.table[self._key(row.crm_key)] = row

    def candidates(self, max_attempts: int, after: str | None, limit: int) -> list[LedgerRow]:
        """Return up to ``limit`` failed or rejected rows under ``max_attempts``, after key ``after``."""
        with self._lock:
            self.reads += 1
            mine = sorted(
                (
                    row
                    for (store_hash, channel_id, key), row in self.table.items()
                    if (store_hash, channel_id) == (self.scope.store_hash, self.scope.channel_id)
                    and row.outcome in RETRY_OUTCOMES
                    and row.attempts < max_attempts
                    and (after is None or key > after)
                ),
                key=lambda row: row.crm_key,
            )
            return mine[:limit]

    def rows(self) -> list[LedgerRow]:
        """Return every row of this scope, in key order (for tests and the demo)."""
        with self._lock:
            return sorted(
                (
                    row
                    for (s, c, _), row in self.table.items()
                    if (s, c) == (self.scope.store_hash, self.scope.channel_id)
                ),
                key=lambda row: row.crm_key,
            )
