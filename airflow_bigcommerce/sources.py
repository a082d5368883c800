"""
Where a sync's CRM rows come from: a list (or XCom value) of dicts, or a query streamed from SQL.

Rows are yielded one at a time and SQL results are fetched ``fetch_size`` rows at a time, so a source
larger than memory is never loaded whole. The cursor and the connection are closed on every path: at
the end, on an error, and when the consumer stops early (the generator is closed).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any


def contact_rows(contacts: Any) -> tuple[Iterator[Mapping[str, Any]], int]:
    """
    Return an iterator over rendered ``contacts`` and how many there are.

    :param contacts: a list of dicts (one dict is taken as a list of one).
    :raises ValueError: ``contacts`` is not a list of dicts.
    """
    if isinstance(contacts, Mapping):
        contacts = [contacts]
    if not isinstance(contacts, Sequence) or isinstance(contacts, str | bytes):
        raise ValueError(f"contacts must be a list of dicts, got {type(contacts).__name__}")
    return iter(contacts), len(contacts)


def stream_sql(
    sql_conn_id: str,
    sql: str,
    *,
    parameters: Mapping[str, Any] | Sequence[Any] | None = None,
    sql_hook_params: Mapping[str, Any] | None = None,
    fetch_size: int = 1000,
) -> Iterator[dict[str, Any]]:
    """
    Yield the rows of ``sql`` on any common.sql connection as dicts, ``fetch_size`` at a time.

    :param sql_conn_id: the connection to read from (its type picks the hook, as ``SqlToS3Operator`` does).
    :param parameters: query parameters, passed to ``cursor.execute``.
    :param sql_hook_params: extra arguments for the SQL hook.
    """
    from airflow_bigcommerce.compat import BaseHook

    connection = BaseHook.get_connection(sql_conn_id)
    sql_hook = connection.get_hook(hook_params=dict(sql_hook_params or {}))  # type: ignore[no-untyped-call]
    conn = sql_hook.get_conn()
    try:
        cursor = conn.cursor()
        try:
            cursor.execute(sql, parameters or ())
            columns = [str(col[0]) for col in cursor.description or ()]
            while batch := cursor.fetchmany(fetch_size):
                for values in batch:
                    yield dict(zip(columns, values, strict=False))
        finally:
            cursor.close()
    finally:
        conn.close()
