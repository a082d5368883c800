"""The CRM row sources: lists, and SQL streamed in chunks with the cursor closed on every path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from airflow_bigcommerce.sources import SourceError, contact_rows, open_contacts, open_sql, stream_sql


class _Cursor:
    def __init__(self, log: list[str], rows: list[tuple[Any, ...]], fail_on_execute: bool) -> None:
        self.log = log
        self.rows = rows
        self.fail_on_execute = fail_on_execute
        self.description = [("id",), ("email",)]
        self.fetch_sizes: list[int] = []

    def execute(self, sql: str, parameters: Any) -> None:
        if self.fail_on_execute:
            raise sqlite3.OperationalError("no such table: contactz")

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        self.fetch_sizes.append(size)
        batch, self.rows = self.rows[:size], self.rows[size:]
        return batch

    def close(self) -> None:
        self.log.append("cursor closed")


class _Connection:
    def __init__(self, cursor: _Cursor) -> None:
        self._cursor = cursor

    def cursor(self) -> _Cursor:
        return self._cursor

    def close(self) -> None:
        self._cursor.log.append("connection closed")


def _patch_source(monkeypatch: pytest.MonkeyPatch, cursor: _Cursor) -> None:
    class Hook:
        def get_conn(self) -> _Connection:
            return _Connection(cursor)

    class Conn:
        def get_hook(self, hook_params: dict[str, Any]) -> Hook:
            return Hook()

    from airflow_bigcommerce import compat

    monkeypatch.setattr(compat.BaseHook, "get_connection", staticmethod(lambda conn_id: Conn()))


ROWS = [(i, f"p{i}@example.com") for i in range(5)]


def test_stream_sql_closes_cursor_and_connection_when_exhausted(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []
    cursor = _Cursor(log, list(ROWS), fail_on_execute=False)
    _patch_source(monkeypatch, cursor)
    rows = list(stream_sql("crm", "SELECT id, email FROM contacts", fetch_size=2))
    assert rows[0] == {"id": 0, "email": "p0@example.com"} and len(rows) == 5
    assert cursor.fetch_sizes == [2, 2, 2, 2]  # never the whole result at once
    assert log == ["cursor closed", "connection closed"]


def test_stream_sql_closes_cursor_when_the_query_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []
    _patch_source(monkeypatch, _Cursor(log, list(ROWS), fail_on_execute=True))
    with pytest.raises(SourceError, match="no such table: contactz.*fix sql="):
        list(stream_sql("crm", "SELECT * FROM contactz"))
    assert log == ["cursor closed", "connection closed"]


def test_stream_sql_closes_cursor_when_the_consumer_stops_early(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []
    _patch_source(monkeypatch, _Cursor(log, list(ROWS), fail_on_execute=False))
    rows = stream_sql("crm", "SELECT id, email FROM contacts", fetch_size=2)
    assert next(rows)["id"] == 0
    rows.close()  # the engine stopped reading (e.g. a fatal store error)
    assert log == ["cursor closed", "connection closed"]


def test_stream_sql_reads_a_real_sqlite_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE contacts (id INTEGER, email TEXT)")
        conn.executemany("INSERT INTO contacts VALUES (?, ?)", ROWS)
    monkeypatch.setenv("AIRFLOW_CONN_CRM_TEST", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    rows = list(stream_sql("crm_test", "SELECT id, email FROM contacts WHERE id >= ?", parameters=[3]))
    assert rows == [{"id": 3, "email": "p3@example.com"}, {"id": 4, "email": "p4@example.com"}]


def test_contact_rows_takes_a_list_or_one_dict_and_counts() -> None:
    rows, total = contact_rows([{"email": "a@example.com"}, {"email": "b@example.com"}])
    assert total == 2 and [r["email"] for r in rows] == ["a@example.com", "b@example.com"]
    rows, total = contact_rows({"email": "a@example.com"})
    assert total == 1 and list(rows) == [{"email": "a@example.com"}]
    with pytest.raises(ValueError, match="contacts must be a list of dicts, got str"):
        contact_rows("a@example.com")


def test_open_sql_runs_the_query_at_once_and_knows_its_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []
    _patch_source(monkeypatch, _Cursor(log, list(ROWS), fail_on_execute=False))
    source = open_sql("crm", "SELECT id, email FROM contacts")
    assert source.columns == ("id", "email") and source.name == "sql on connection 'crm'"
    source.close()  # never iterated (a pre-flight check failed): still closed, once
    source.close()
    assert log == ["cursor closed", "connection closed"]


def test_open_sql_names_a_missing_connection_and_its_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_NO_SUCH_CRM", raising=False)
    with pytest.raises(
        SourceError, match="sql_conn_id='no_such_crm': no such connection.*AIRFLOW_CONN_NO_SUCH_CRM"
    ):
        open_sql("no_such_crm", "SELECT 1")


def test_open_contacts_knows_every_key_as_a_column() -> None:
    source = open_contacts([{"id": 1, "email": "a@example.com"}, {"id": 2, "phone": "1"}, "not a row"])
    assert source.columns == ("id", "email", "phone") and source.total == 3
    assert len(list(source.rows)) == 3


def test_open_contacts_without_rows_has_unknown_columns_not_missing_ones() -> None:
    assert open_contacts([]).columns is None  # an empty window: nothing to check, nothing missing
    assert open_contacts([{}]).columns == ()  # a row without keys: every mapped column is missing
