"""
The ledger as a SQL table on any common.sql connection (SQLite, PostgreSQL, MySQL, Snowflake...).

:meth:`SqlLedger.open` finds the connection's hook as a SQL source does
(``BaseHook.get_connection(conn_id).get_hook()``), creates the table when missing and keeps one
database connection for the run, used by the calling thread only. Reads go one statement per chunk of
keys; writes are idempotent batched upserts, one transaction per call, rows in key order (two writers
lock rows in the same order). SQLite is switched to WAL (a CRM query reading the same file does not
block the ledger's writes). Several tasks may write one ledger at once: SQLite waits for the
database lock (a busy timeout) and every dialect retries a write the database refused for a lock or a
deadlock, a few times, with a pause from the injected ``sleep``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import timezone
from types import TracebackType
from typing import Any

import airflow_bigcommerce.ledger.statements as stmt
from airflow_bigcommerce.ledger.records import (
    LedgerRow,
    Scope,
    as_utc,
    decode_values,
    encode_values,
)

log = logging.getLogger("airflow_bigcommerce.ledger")

#: Seconds SQLite waits for another writer's lock before it answers "database is locked".
BUSY_TIMEOUT_S = 30
#: Tries of a write the database refused for a lock or a deadlock.
WRITE_TRIES = 5
#: Pause before the second try; doubled for each later one.
FIRST_PAUSE_S = 0.2
#: What a database says when a write lost a race for a lock, and a later try may win.
_CONTENDED = re.compile(r"locked|busy|deadlock|lock wait|could not serialize|serialization failure", re.I)


class LedgerError(RuntimeError):
    """The ledger's connection or table cannot be used; the message names the connection and the fix."""


class SqlLedger:
    """The ledger table of one scope on one database connection; see the module's docstring."""

    def __init__(
        self,
        conn: Any,
        table: str,
        scope: Scope,
        *,
        dialect: stmt.Dialect,
        mark: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.conn = conn
        self.table = stmt.check_table(table)
        self.scope = scope
        self.dialect = dialect
        self.mark = mark
        self.sleep = sleep
        self.reads = 0
        self.writes = 0

    @classmethod
    def open(
        cls,
        conn_id: str,
        table: str,
        scope: Scope,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> SqlLedger:
        """Connect to ``conn_id``, create ``table`` when missing, and return the ledger of ``scope``."""
        from airflow_bigcommerce.compat import BaseHook

        stmt.check_table(table)
        try:
            hook = BaseHook.get_connection(conn_id).get_hook()  # type: ignore[no-untyped-call]
            conn = hook.get_conn()
        except Exception as exc:
            raise LedgerError(
                f"ledger_conn_id={conn_id!r}: cannot open a database connection with it "
                f"({type(exc).__name__}: {exc}); check that it exists and is a common.sql database"
            ) from None
        dialect = stmt.dialect_of(getattr(hook, "dialect_name", None) or getattr(hook, "conn_type", None))
        mark = stmt.placeholder(dialect, getattr(hook, "placeholder", None))
        ledger = cls(conn, table, scope, dialect=dialect, mark=mark, sleep=sleep)
        try:
            if dialect == "sqlite":
                ledger._run(lambda cursor: cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}"))
                ledger._write_ahead()
            ledger._create_table()
        except Exception as exc:
            ledger.close()
            raise LedgerError(
                f"ledger_conn_id={conn_id!r}: cannot create or read table {table!r}: {exc}"
            ) from None
        return ledger

    def __enter__(self) -> SqlLedger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection (once)."""
        if self.conn is not None:
            conn, self.conn = self.conn, None
            conn.close()

    # ------------------------------------------------------------------ reads

    def read(self, keys: Iterable[str]) -> dict[str, LedgerRow]:
        """Return the rows of these keys the ledger holds: one statement per ``READ_CHUNK`` keys."""
        unique = list(dict.fromkeys(keys))
        found: dict[str, LedgerRow] = {}
        self.reads += 1
        for i in range(0, len(unique), stmt.READ_CHUNK):
            chunk = unique[i : i + stmt.READ_CHUNK]
            sql = stmt.select_keys(self.table, len(chunk), self.mark)
            for record in self._query(sql, [self.scope.store_hash, self.scope.channel_id, *chunk]):
                row = _row(record)
                found[row.crm_key] = row
        return found

    def candidates(self, max_attempts: int, after: str | None, limit: int) -> list[LedgerRow]:
        """Return up to ``limit`` failed or rejected rows under ``max_attempts``, after key ``after``."""
        self.reads += 1
        sql = stmt.select_candidates(self.table, self.mark, after=after is not None, limit=limit)
        parameters: list[Any] = [self.scope.store_hash, self.scope.channel_id, max_attempts]
        if after is not None:
            parameters.append(after)
        return [_row(record) for record in self._query(sql, parameters)]

    def rows(self) -> list[LedgerRow]:
        """Return every row of this scope, in key order (for tests, the demo and a look at the table)."""
        self.reads += 1
        sql = stmt.select_scope(self.table, self.mark)
        return [_row(record) for record in self._query(sql, [self.scope.store_hash, self.scope.channel_id])]

    def _query(self, sql: str, parameters: Sequence[Any]) -> list[Sequence[Any]]:
        def fetch(cursor: Any) -> list[Sequence[Any]]:
            cursor.execute(sql, parameters)
            return list(cursor.fetchall())

        rows: list[Sequence[Any]] = self._run(fetch)
        return rows

    # ------------------------------------------------------------------ writes

    def write(self, rows: Sequence[LedgerRow]) -> None:
        """Insert or replace these rows in one transaction (a key's last row wins); retried when contended."""
        if not rows:
            return
        latest = {row.crm_key: row for row in rows}
        ordered = [latest[key] for key in sorted(latest)]
        per = stmt.rows_per_statement()
        self.writes += 1

        def upsert(cursor: Any) -> None:
            for i in range(0, len(ordered), per):
                batch = ordered[i : i + per]
                texts = stmt.upsert(self.table, self.dialect, len(batch), self.mark)
                rows = [self._values(row) for row in batch]
                if len(texts) == 2:  # generic: delete the keys, then insert
                    cursor.execute(texts[0], [v for values in rows for v in values[:3]])
                cursor.execute(texts[-1], [v for values in rows for v in values])

        self._run(upsert)

    def _values(self, row: LedgerRow) -> list[Any]:
        stamp = row.updated_at.astimezone(timezone.utc).replace(tzinfo=None)
        return [
            self.scope.store_hash,
            self.scope.channel_id,
            row.crm_key,
            row.customer_id,
            row.email,
            row.outcome,
            row.reason,  # clipped when settled (retries.settle)
            row.reason_kind,
            row.attempts,
            stamp.isoformat(sep=" ", timespec="microseconds"),
            row.run_id,
            row.address_id,
            encode_values(row.values),
        ]

    # ------------------------------------------------------------------ plumbing

    def _write_ahead(self) -> None:
        """
        Switch a SQLite database to WAL, so readers and the ledger's writer never block each other.

        A CRM query streaming rows from the same file holds a read lock for the whole run: in SQLite's
        default journal mode the ledger's writes would wait for it until the busy timeout. WAL is a
        setting of the file (it stays); a database that cannot switch (in memory, read-only
        directory) keeps its mode, and the ledger still works where nothing else reads it meanwhile.
        """
        try:
            mode = self._run(lambda cursor: cursor.execute("PRAGMA journal_mode = WAL").fetchone(), tries=1)
        except Exception as exc:
            log.warning("Ledger %s: SQLite stays in its journal mode (%s)", self.table, exc)
            return
        log.debug("Ledger %s: SQLite journal mode %s", self.table, mode)

    def _create_table(self) -> None:
        try:
            self._run(lambda cursor: cursor.execute(stmt.create_table(self.table)), tries=1)
        except Exception:
            # Another task may have created it at the same moment (PostgreSQL then refuses ours): fine
            # if the table is there now.
            self._query(f"SELECT crm_key FROM {self.table} WHERE 1 = 0", [])

    def _run(self, work: Callable[[Any], Any], *, tries: int = WRITE_TRIES) -> Any:
        """Run ``work`` on a cursor in one transaction; roll back and try again when contended."""
        if self.conn is None:
            raise LedgerError("the ledger is closed")
        pause = FIRST_PAUSE_S
        for attempt in range(1, tries + 1):
            cursor = self.conn.cursor()
            try:
                result = work(cursor)
                self.conn.commit()
                return result
            except Exception as exc:
                self.conn.rollback()
                if attempt == tries or not _CONTENDED.search(str(exc)):
                    raise
                log.info("Ledger %s busy (%s): trying again in %.1fs", self.table, exc, pause)
            finally:
                cursor.close()
            self.sleep(pause)
            pause *= 2
        raise AssertionError("unreachable")  # pragma: no cover


def _row(record: Sequence[Any]) -> LedgerRow:
    by_name = dict(zip(stmt.COLUMNS, record, strict=True))
    return LedgerRow(
        crm_key=str(by_name["crm_key"]),
        outcome=str(by_name["outcome"]),
        customer_id=_int(by_name["customer_id"]),
        email=by_name["email"],
        reason=by_name["reason"],
        reason_kind=by_name["reason_kind"],
        attempts=int(by_name["attempts"]),
        updated_at=as_utc(by_name["updated_at"]),
        run_id=by_name["run_id"],
        address_id=_int(by_name["address_id"]),
        values=decode_values(by_name["mapped_values"]),
    )


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]
