"""
Rows of a query on any common.sql connection, streamed ``fetch_size`` rows at a time.

:func:`open_sql` runs the query at once, so a missing connection or a wrong table is reported before
the store is touched, and its columns are known from the cursor's description. The cursor and the
connection are closed on every path: at the end, on an error, and when the consumer stops early.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from airflow_bigcommerce.sources.base import Source, SourceError


def open_sql(
    sql_conn_id: str,
    sql: str,
    *,
    parameters: Mapping[str, Any] | Sequence[Any] | None = None,
    sql_hook_params: Mapping[str, Any] | None = None,
    fetch_size: int = 1000,
) -> Source:
    """
    Run ``sql`` on ``sql_conn_id`` and return its rows as a source (dicts, column -> value).

    :param sql_conn_id: the connection to read from (its type picks the hook, as ``SqlToS3Operator`` does).
    :param parameters: query parameters, passed to ``cursor.execute``.
    :param sql_hook_params: extra arguments for the SQL hook.
    :raises SourceError: the connection does not exist or has no SQL hook, or the query failed.
    """
    from airflow_bigcommerce.compat import BaseHook

    name = f"sql on connection {sql_conn_id!r}"
    try:
        connection = BaseHook.get_connection(sql_conn_id)
    except Exception as exc:
        raise SourceError(
            f"sql_conn_id={sql_conn_id!r}: no such connection ({type(exc).__name__}); create it in Admin >"
            f" Connections or as the environment variable AIRFLOW_CONN_{sql_conn_id.upper()}"
        ) from None
    try:
        sql_hook = connection.get_hook(hook_params=dict(sql_hook_params or {}))  # type: ignore[no-untyped-call]
        conn = sql_hook.get_conn()
    except Exception as exc:
        raise SourceError(
            f"sql_conn_id={sql_conn_id!r}: cannot open a database connection with it ({type(exc).__name__}:"
            f" {exc}); check its type (a common.sql database, its provider installed) and its settings"
        ) from None
    try:
        cursor = conn.cursor()
    except BaseException:
        conn.close()
        raise
    try:
        cursor.execute(sql, parameters or ())
    except Exception as exc:
        _close(cursor, conn)
        raise SourceError(
            f"{name}: the query failed ({type(exc).__name__}: {exc}); fix sql= (table and column names, "
            "parameters) and try it in the database first"
        ) from None
    except BaseException:
        _close(cursor, conn)
        raise
    columns = tuple(str(col[0]) for col in cursor.description or ())
    rows = _Rows(cursor, conn, columns, fetch_size)
    return Source(name, rows, columns=columns, close=rows.close)


def stream_sql(
    sql_conn_id: str,
    sql: str,
    *,
    parameters: Mapping[str, Any] | Sequence[Any] | None = None,
    sql_hook_params: Mapping[str, Any] | None = None,
    fetch_size: int = 1000,
) -> Iterator[dict[str, Any]]:
    """Yield the rows of ``sql`` as dicts; the query runs on the first ``next()`` (:func:`open_sql`)."""
    source = open_sql(
        sql_conn_id, sql, parameters=parameters, sql_hook_params=sql_hook_params, fetch_size=fetch_size
    )
    try:
        yield from source.rows  # type: ignore[misc]
    finally:
        source.close()


class _Rows(Iterator[dict[str, Any]]):
    """The query's rows, fetched in chunks; :meth:`close` (also at the end or on an error) closes once."""

    def __init__(self, cursor: Any, conn: Any, columns: tuple[str, ...], fetch_size: int) -> None:
        self._cursor: Any = cursor
        self._conn: Any = conn
        self._columns = columns
        self._fetch_size = fetch_size
        self._batch: Iterator[Any] = iter(())

    def __next__(self) -> dict[str, Any]:
        while True:
            values = next(self._batch, None)
            if values is not None:
                return dict(zip(self._columns, values, strict=False))
            if self._cursor is None:
                raise StopIteration
            try:
                batch = self._cursor.fetchmany(self._fetch_size)
            except BaseException:
                self.close()
                raise
            if not batch:
                self.close()
                raise StopIteration
            self._batch = iter(batch)

    def close(self) -> None:
        """Close the cursor and the connection (once)."""
        if self._cursor is not None:
            cursor, conn, self._cursor, self._conn = self._cursor, self._conn, None, None
            _close(cursor, conn)


def _close(cursor: Any, conn: Any) -> None:
    try:
        cursor.close()
    finally:
        conn.close()
