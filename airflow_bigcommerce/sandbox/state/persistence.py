"""Write-through SQLite persistence, so a restarted sandbox keeps its data.

Customers (with their addresses and attribute values) have a row each; store-wide collections
(attribute definitions, groups, subscribers, channel settings) one JSON row per collection.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_bigcommerce.sandbox.state.customer import Customer


class SqliteState:
    """One SQLite file: a JSON row per customer and the id counters; autocommit except in ``save``."""

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # A commit reaches the OS before the request is answered, so a killed or restarted sandbox keeps
        # it; skipping the fsync (only an OS crash could lose it) makes a commit ~0.2 ms instead of ~2-10.
        self._conn.execute("PRAGMA synchronous=OFF")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, data TEXT NOT NULL)"
        )
        self._conn.execute("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER)")
        self._conn.execute("CREATE TABLE IF NOT EXISTS extras (name TEXT PRIMARY KEY, data TEXT NOT NULL)")

    def load(self) -> tuple[list[Customer], dict[str, int]]:
        """Return every stored customer (by id) and the counters."""
        rows = self._conn.execute("SELECT data FROM customers ORDER BY id").fetchall()
        counters = dict(self._conn.execute("SELECT name, value FROM counters").fetchall())
        return [Customer.from_record(json.loads(row[0])) for row in rows], counters

    def save(self, customers: Iterable[Customer], counters: Mapping[str, int]) -> None:
        """Upsert ``customers`` and the counters in one transaction, so ids never go back on restart."""
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT OR REPLACE INTO customers (id, data) VALUES (?, ?)",
                [(c.id, json.dumps(c.to_record())) for c in customers],
            )
            self._conn.executemany("INSERT OR REPLACE INTO counters VALUES (?, ?)", list(counters.items()))

    def delete(self, ids: Iterable[int]) -> None:
        """Delete the customers with these ids."""
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.executemany("DELETE FROM customers WHERE id = ?", [(i,) for i in ids])

    def load_extra(self, name: str) -> list[dict[str, Any]]:
        """Return the records of a store-wide collection (attributes, groups, subscribers, channels)."""
        row = self._conn.execute("SELECT data FROM extras WHERE name = ?", (name,)).fetchone()
        return list(json.loads(row[0])) if row else []

    def save_extra(self, name: str, records: list[dict[str, Any]], counters: Mapping[str, int]) -> None:
        """Replace a store-wide collection and the counters in one transaction."""
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.execute("INSERT OR REPLACE INTO extras VALUES (?, ?)", (name, json.dumps(records)))
            self._conn.executemany("INSERT OR REPLACE INTO counters VALUES (?, ?)", list(counters.items()))

    def clear(self) -> None:
        """Delete every customer and counter."""
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.execute("DELETE FROM customers")
            self._conn.execute("DELETE FROM counters")
            self._conn.execute("DELETE FROM extras")

    def close(self) -> None:
        """Close the file."""
        self._conn.close()
