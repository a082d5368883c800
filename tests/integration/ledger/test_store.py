"""The SQL ledger on real databases (SQLite, PostgreSQL): created when missing, upserts, batched reads."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from airflow_bigcommerce.compat import BaseHook
from airflow_bigcommerce.ledger import LedgerError, LedgerRow, Scope, SqlLedger, statements

pytestmark = pytest.mark.integration

UTC = dt.timezone.utc
SCOPE = Scope("abc123", 0)


def _row(key: str, **changes: Any) -> LedgerRow:
    fields: dict[str, Any] = {
        "crm_key": key,
        "outcome": "created",
        "customer_id": 7,
        "email": f"{key}@example.com",
        "reason": None,
        "reason_kind": None,
        "attempts": 0,
        "updated_at": dt.datetime(2026, 12, 7, 15, 0, 0, 123456, tzinfo=UTC),
        "run_id": "run-1",
        "address_id": None,
        "values": {"id": key, "email": f"{key}@example.com"},
    }
    fields.update(changes)
    return LedgerRow(**fields)


def _count(conn_id: str, table: str) -> int:
    hook = BaseHook.get_connection(conn_id).get_hook()
    (count,) = hook.get_first(f"SELECT COUNT(*) FROM {table}")
    return int(count)


def test_the_table_is_created_when_missing_and_opened_again_as_it_is(ledger_conn_id: str, table: str) -> None:
    with SqlLedger.open(ledger_conn_id, table, SCOPE) as ledger:
        assert ledger.read(["nobody"]) == {}
        ledger.write([_row("c1")])
    with SqlLedger.open(ledger_conn_id, table, SCOPE) as ledger:  # the table exists: kept, not recreated
        assert set(ledger.read(["c1"])) == {"c1"}
    assert _count(ledger_conn_id, table) == 1


def test_writing_a_row_twice_leaves_one_row_with_the_second_values(ledger_conn_id: str, table: str) -> None:
    with SqlLedger.open(ledger_conn_id, table, SCOPE) as ledger:
        ledger.write(
            [
                _row(
                    "c1",
                    outcome="failed",
                    customer_id=None,
                    reason="HTTP 503",
                    reason_kind="transient",
                    attempts=1,
                )
            ]
        )
        later = dt.datetime(2026, 12, 8, 1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        second = _row(
            "c1", customer_id=42, email="new@example.com", address_id=9, run_id="run-2", updated_at=later
        )
        ledger.write([second])
        ledger.write([second])
        got = ledger.read(["c1"])["c1"]
    assert _count(ledger_conn_id, table) == 1
    assert got == second
    assert got.updated_at == later.astimezone(UTC)  # stored as UTC, read back aware
    assert got.reason is None and got.attempts == 0


def test_values_survive_the_round_trip_as_json_text(ledger_conn_id: str, table: str) -> None:
    values = {"id": "c1", "joined": dt.date(2024, 2, 29), "credit": decimal.Decimal("1.50"), "name": "Zoë"}
    with SqlLedger.open(ledger_conn_id, table, SCOPE) as ledger:
        ledger.write([_row("c1", values=values)])
        got = ledger.read(["c1"])["c1"]
    assert got.values == {"id": "c1", "joined": "2024-02-29", "credit": "1.50", "name": "Zoë"}


def test_reads_go_one_statement_per_chunk_of_keys(
    ledger_conn_id: str, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [f"k{i:05d}" for i in range(1234)]
    with SqlLedger.open(ledger_conn_id, table, SCOPE) as ledger:
        ledger.write([_row(key, customer_id=i) for i, key in enumerate(keys)])
        statements_run: list[str] = []
        real = ledger._query
        monkeypatch.setattr(
            ledger, "_query", lambda sql, params: statements_run.append(sql) or real(sql, params)
        )
        found = ledger.read([*keys, "missing-1", "missing-2", keys[0]])
    assert len(statements_run) == 3  # 1236 distinct keys, 500 a statement
    assert set(found) == set(keys)
    assert found["k01000"].customer_id == 1000
    assert _count(ledger_conn_id, table) == 1234


def test_a_scope_sees_only_its_own_rows(ledger_conn_id: str, table: str) -> None:
    with SqlLedger.open(ledger_conn_id, table, Scope("abc123", 0)) as plain:
        plain.write([_row("c1", customer_id=1)])
    with SqlLedger.open(ledger_conn_id, table, Scope("abc123", 2)) as channel:
        assert channel.read(["c1"]) == {}
        channel.write([_row("c1", customer_id=2)])
        assert channel.read(["c1"])["c1"].customer_id == 2
    with SqlLedger.open(ledger_conn_id, table, Scope("other", 0)) as other:
        assert other.read(["c1"]) == {}
    assert _count(ledger_conn_id, table) == 2


def test_retry_candidates_are_undelivered_rows_under_the_cap_in_key_order(
    ledger_conn_id: str, table: str
) -> None:
    rows = [
        _row("a", outcome="failed", reason_kind="transient", attempts=1),
        _row("b", outcome="rejected", reason_kind="store", attempts=4),
        _row("c", outcome="rejected", reason_kind="data", attempts=1),
        _row("d", outcome="failed", reason_kind="transient", attempts=5),  # at the cap
        _row("e", outcome="created"),
        _row("f", outcome="failed", reason_kind="transient", attempts=2),
    ]
    with SqlLedger.open(ledger_conn_id, table, SCOPE) as ledger:
        ledger.write(rows)
        first = ledger.candidates(5, None, 2)
        rest = ledger.candidates(5, first[-1].crm_key, 2)
        last = ledger.candidates(5, rest[-1].crm_key, 2)
    assert [r.crm_key for r in first] == ["a", "b"]
    assert [r.crm_key for r in rest] == ["c", "f"]
    assert last == []


def test_a_missing_connection_is_a_ledger_error_naming_it() -> None:
    with pytest.raises(LedgerError, match="ledger_conn_id='no_such_ledger'"):
        SqlLedger.open("no_such_ledger", "ledger", SCOPE)


def test_a_table_name_that_is_not_a_plain_name_is_refused(ledger_conn_id: str) -> None:
    with pytest.raises(ValueError, match="ledger_table"):
        SqlLedger.open(ledger_conn_id, "ledger; DROP TABLE x", SCOPE)


def test_the_generic_dialect_deletes_and_inserts_idempotently(ledger_conn_id: str, table: str) -> None:
    with SqlLedger.open(ledger_conn_id, table, SCOPE) as ledger:
        ledger.dialect = "generic"
        ledger.write([_row("c1"), _row("c2")])
        ledger.write([_row("c1", customer_id=99), _row("c2")])
        assert ledger.read(["c1"])["c1"].customer_id == 99
    assert _count(ledger_conn_id, table) == 2


# --- SQLite: several writers at once --------------------------------------------------------------


def _sqlite_conn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "shared.db"
    monkeypatch.setenv("AIRFLOW_CONN_SHARED_LEDGER", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    return db


def test_two_writers_on_one_ledger_at_once_both_land(ledger_conn_id: str, table: str) -> None:
    with SqlLedger.open(ledger_conn_id, table, SCOPE):
        pass  # the table exists before the writers race
    errors: list[BaseException] = []

    def writer(part: int) -> None:
        try:
            with SqlLedger.open(ledger_conn_id, table, SCOPE) as ledger:
                for batch in range(30):
                    ledger.write([_row(f"p{part}-{batch}-{i}", customer_id=i) for i in range(50)])
                    ledger.write([_row(f"shared-{i}", customer_id=part) for i in range(5)])  # the same keys
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(part,)) for part in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _count(ledger_conn_id, table) == 2 * 30 * 50 + 5


def test_a_write_waits_for_another_writers_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _sqlite_conn(tmp_path, monkeypatch)
    with SqlLedger.open("shared_ledger", "ledger", SCOPE) as ledger:
        other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another task's write transaction holds the lock
        other.execute(
            "INSERT INTO ledger (store_hash, channel_id, crm_key, outcome, attempts, updated_at) "
            "VALUES ('abc123', 0, 'theirs', 'created', 0, '2026-12-07 15:00:00')"
        )
        releaser = threading.Timer(0.5, lambda: other.execute("COMMIT"))
        releaser.start()
        started = time.monotonic()
        ledger.write([_row("mine")])
        waited = time.monotonic() - started
        releaser.join()
        other.close()
        assert set(ledger.read(["mine", "theirs"])) == {"mine", "theirs"}
    assert waited >= 0.3


class _LockedTwice:
    """A DB-API connection whose first two writes answer 'database is locked'."""

    def __init__(self) -> None:
        self.failures = 2
        self.executed: list[str] = []
        self.rollbacks = 0
        self.commits = 0

    def cursor(self) -> Any:
        conn = self

        class Cursor:
            def execute(self, sql: str, params: Any = ()) -> None:
                if sql.startswith("INSERT") and conn.failures:
                    conn.failures -= 1
                    raise sqlite3.OperationalError("database is locked")
                conn.executed.append(sql)

            def close(self) -> None:
                pass

        return Cursor()

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        self.rollbacks += 1

    def close(self) -> None:
        pass


def test_a_contended_write_is_tried_again_after_growing_pauses_without_sleeping() -> None:
    conn = _LockedTwice()
    pauses: list[float] = []
    ledger = SqlLedger(conn, "ledger", SCOPE, dialect="sqlite", mark="?", sleep=pauses.append)
    ledger.write([_row("c1")])
    assert pauses == [0.2, 0.4]
    assert conn.rollbacks == 2 and conn.commits == 1
    assert len(conn.executed) == 1


def test_a_write_refused_for_another_reason_is_not_tried_again() -> None:
    class Broken(_LockedTwice):
        def cursor(self) -> Any:
            class Cursor:
                def execute(self, sql: str, params: Any = ()) -> None:
                    raise sqlite3.OperationalError("no such column: reason_kind")

                def close(self) -> None:
                    pass

            return Cursor()

    pauses: list[float] = []
    ledger = SqlLedger(Broken(), "ledger", SCOPE, dialect="sqlite", mark="?", sleep=pauses.append)
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        ledger.write([_row("c1")])
    assert pauses == []


def test_mysql_upserts_on_duplicate_key() -> None:
    (sql,) = statements.upsert("ledger", "mysql", 2, "%s")
    assert sql.count("(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)") == 2
    assert sql.endswith("mapped_values = VALUES(mapped_values)")
    assert "ON DUPLICATE KEY UPDATE customer_id = VALUES(customer_id)" in sql
    assert statements.dialect_of("mariadb") == "mysql"
    assert statements.dialect_of("snowflake") == "generic"
