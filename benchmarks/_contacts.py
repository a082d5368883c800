"""Synthetic CRM contacts for the benchmarks: deterministic, unique e-mails, CRM-style column names."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: CRM column -> customer field, as a user would pass ``field_map=`` to ``SyncCustomersOperator``.
FIELD_MAP = {
    "email_address": "email",
    "given_name": "first_name",
    "family_name": "last_name",
    "company_name": "company",
    "phone_number": "phone",
}
KEY_FIELD = "contact_id"
COLUMNS = (KEY_FIELD, *FIELD_MAP)
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Lee")


def contact_values(i: int, prefix: str = "c") -> tuple[Any, ...]:
    """Return row ``i`` as a tuple in :data:`COLUMNS` order (messy like real CRM data: spaces, case)."""
    first, last = _FIRST[i % 10], _LAST[(i // 10) % 10]
    return (
        i,
        f" {first}.{last}.{prefix}{i}@Example.com ",
        f"{first} ",
        last,
        f"Acme {i % 97} Ltd" if i % 3 else None,
        f"+1 (555) {i % 1000:03d}-{i % 10000:04d}" if i % 2 else None,
    )


def contacts(n: int, prefix: str = "c") -> Iterator[dict[str, Any]]:
    """Yield ``n`` contacts as dicts (column -> value)."""
    for i in range(1, n + 1):
        yield dict(zip(COLUMNS, contact_values(i, prefix), strict=True))


def v2_payload(row: dict[str, Any]) -> dict[str, Any]:
    """Return what a hand-written loop posts to ``/v2/customers`` for a contact."""
    return {
        "email": row["email_address"].strip(),
        "first_name": row["given_name"].strip(),
        "last_name": row["family_name"].strip(),
    }


def write_sqlite(path: Path, n: int, prefix: str = "c") -> None:
    """Create ``path`` with a ``contacts`` table of ``n`` rows (streamed in, never held in memory)."""
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE contacts (contact_id INTEGER PRIMARY KEY, email_address TEXT, given_name TEXT,"
            " family_name TEXT, company_name TEXT, phone_number TEXT)"
        )
        conn.executemany(
            "INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)",
            (contact_values(i, prefix) for i in range(1, n + 1)),
        )
    conn.close()
