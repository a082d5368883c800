"""
The ledger's SQL, per dialect: portable DDL, batched reads by key, idempotent batched upserts.

Types are the ones every common.sql database has (``VARCHAR(n)``, ``TEXT``, ``BIGINT``, ``INTEGER``,
``TIMESTAMP``). Upserts are the dialect's own: SQLite and PostgreSQL ``INSERT ... ON CONFLICT (...) DO
UPDATE``, MySQL and MariaDB ``INSERT ... ON DUPLICATE KEY UPDATE``; any other database (Snowflake, ...)
gets a delete of the batch's keys and an insert in one transaction, idempotent as well. Pure text:
the store (:mod:`.store`) runs it.
"""

from __future__ import annotations

import re
from typing import Literal

from airflow_bigcommerce.ledger.records import MAX_KEY_LENGTH, RETRY_OUTCOMES

Dialect = Literal["sqlite", "postgresql", "mysql", "generic"]

#: Keys per read statement (well under SQLite's 999 parameters).
READ_CHUNK = 500
#: Parameters per write statement (SQLite before 3.32 allows 999).
MAX_PARAMETERS = 900

#: Column -> type, in the table's order; the first three are the primary key.
COLUMNS: dict[str, str] = {
    "store_hash": "VARCHAR(64) NOT NULL",
    "channel_id": "BIGINT NOT NULL",
    "crm_key": f"VARCHAR({MAX_KEY_LENGTH}) NOT NULL",
    "customer_id": "BIGINT",
    "email": "VARCHAR(320)",
    "outcome": "VARCHAR(16) NOT NULL",
    "reason": "TEXT",
    "reason_kind": "VARCHAR(16)",
    "attempts": "INTEGER NOT NULL",
    "updated_at": "TIMESTAMP NOT NULL",
    "run_id": "VARCHAR(250)",
    "address_id": "BIGINT",
    "mapped_values": "TEXT",
}
KEY_COLUMNS = ("store_hash", "channel_id", "crm_key")
_VALUE_COLUMNS = tuple(c for c in COLUMNS if c not in KEY_COLUMNS)
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")

_DIALECTS: dict[str, Dialect] = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
}


def dialect_of(name: str | None) -> Dialect:
    """Return the dialect of a hook's ``dialect_name`` or a connection type (``generic`` when unknown)."""
    return _DIALECTS.get((name or "").lower(), "generic")


def placeholder(dialect: Dialect, hook_placeholder: object) -> str:
    """Return the parameter mark of a connection: ``?`` for SQLite, else the hook's (``%s`` by default)."""
    return "?" if dialect == "sqlite" else str(hook_placeholder or "%s")


def check_table(table: str) -> str:
    """Return ``table`` if it is a plain (optionally schema-qualified) SQL name; it is put in SQL as is."""
    if not _TABLE_NAME.match(table):
        raise ValueError(
            f"ledger_table={table!r}: use letters, digits and underscores (optionally schema.table)"
        )
    return table


def create_table(table: str) -> str:
    """Return the ``CREATE TABLE IF NOT EXISTS`` of the ledger (the same text on every dialect)."""
    columns = ",\n  ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  {columns},\n  PRIMARY KEY ({', '.join(KEY_COLUMNS)})\n)"


def select_keys(table: str, count: int, mark: str) -> str:
    """Return the read of ``count`` keys of one scope (parameters: store_hash, channel_id, the keys)."""
    keys = ", ".join([mark] * count)
    return (
        f"SELECT {', '.join(COLUMNS)} FROM {table} "
        f"WHERE store_hash = {mark} AND channel_id = {mark} AND crm_key IN ({keys})"
    )


def select_scope(table: str, mark: str) -> str:
    """Return the read of every row of one scope, in key order (parameters: store_hash, channel_id)."""
    return (
        f"SELECT {', '.join(COLUMNS)} FROM {table} "
        f"WHERE store_hash = {mark} AND channel_id = {mark} ORDER BY crm_key"
    )


_RETRY_OUTCOMES = ", ".join(f"'{outcome}'" for outcome in sorted(RETRY_OUTCOMES))


def select_run(table: str, mark: str, *, limit: int) -> str:
    """
    Return the read of one run's rejected and failed rows, in key order, ``limit`` at most.

    Parameters: store_hash, channel_id, run_id. What the sync view lists of a run with a ledger.
    """
    return (
        f"SELECT crm_key, email, outcome, reason FROM {table} "
        f"WHERE store_hash = {mark} AND channel_id = {mark} AND run_id = {mark} "
        f"AND outcome IN ({_RETRY_OUTCOMES}) ORDER BY crm_key LIMIT {int(limit)}"
    )


def select_candidates(table: str, mark: str, *, after: bool, limit: int) -> str:
    """
    Return the read of the rows a retry may start from, in key order, ``limit`` at most.

    Parameters: store_hash, channel_id, max_attempts, and the last key read when ``after``.
    """
    later = f" AND crm_key > {mark}" if after else ""
    return (
        f"SELECT {', '.join(COLUMNS)} FROM {table} "
        f"WHERE store_hash = {mark} AND channel_id = {mark} AND outcome IN ({_RETRY_OUTCOMES}) "
        f"AND attempts < {mark}{later} ORDER BY crm_key LIMIT {int(limit)}"
    )


def rows_per_statement() -> int:
    """Return how many rows one write statement carries."""
    return max(1, MAX_PARAMETERS // len(COLUMNS))


def upsert(table: str, dialect: Dialect, count: int, mark: str) -> list[str]:
    """
    Return the statements that insert or replace ``count`` rows (parameters: each row's columns in order).

    One statement, except for ``generic``: a delete of the keys (parameters: each row's key columns),
    then the insert.
    """
    row = "(" + ", ".join([mark] * len(COLUMNS)) + ")"
    insert = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES " + ", ".join([row] * count)
    if dialect in ("sqlite", "postgresql"):
        sets = ", ".join(f"{c} = excluded.{c}" for c in _VALUE_COLUMNS)
        return [f"{insert} ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO UPDATE SET {sets}"]
    if dialect == "mysql":
        sets = ", ".join(f"{c} = VALUES({c})" for c in _VALUE_COLUMNS)
        return [f"{insert} ON DUPLICATE KEY UPDATE {sets}"]
    match = " OR ".join(["(" + " AND ".join(f"{c} = {mark}" for c in KEY_COLUMNS) + ")"] * count)
    return [f"DELETE FROM {table} WHERE {match}", insert]
