"""
An embedded CRM for the demo and the end-to-end tests: a SQLite ``contacts`` table like a CRM export.

The table is created at run time (never committed) and seeded deterministically from a seed number
with the contacts of :mod:`.contacts` (the mess real exports carry; the names it exports are
re-exported here). Timestamps are ISO-8601 UTC text ``YYYY-MM-DD HH:MM:SS``, so comparing strings
compares instants and a data-interval query needs no date functions.

Only the standard library is used: the Airflow connection ``crm_default`` (type ``sqlite``, host =
the file path) reads it through the SQLite provider.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow_bigcommerce.demo.contacts import (
    PLACES,
    SPREAD_DAYS,
    STORE_ATTRIBUTES,
    STORE_GROUPS,
    TIMESTAMP_FORMAT,
    UNKNOWN_STAGE,
    Place,
    SeedStats,
    as_utc,
    format_ts,
    generate_contacts,
)

#: The CRM columns, in table order.
COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "company",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
    "lifecycle_stage",
    "crm_id",
    "newsletter_opt_in",
    "created_at",
    "updated_at",
)

_SCHEMA = """
CREATE TABLE contacts (
    id              INTEGER PRIMARY KEY,
    email           TEXT,
    first_name      TEXT,
    last_name       TEXT,
    phone           TEXT,
    company         TEXT,
    street          TEXT,
    city            TEXT,
    state           TEXT,
    postal_code     TEXT,
    country         TEXT,
    lifecycle_stage TEXT,
    crm_id          TEXT,
    newsletter_opt_in TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX contacts_updated_at ON contacts (updated_at);
"""


def seed_crm(path: str | Path, *, n: int = 2000, seed: int = 42, now: datetime | None = None) -> SeedStats:
    """
    Create (or replace) the CRM database at ``path`` with ``n`` contacts from ``seed``.

    :param path: the SQLite file to write; its parent directory is created.
    :param n: how many contacts.
    :param seed: the random seed: the same seed, ``n`` and ``now`` give the same rows.
    :param now: the moment the 30 days of history end (default: the current time); aware or UTC.
    :return: the counts and the expectations for a sync (see :class:`SeedStats`).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    rows, stats = generate_contacts(n, seed=seed, now=as_utc(now))
    conn = sqlite3.connect(target)
    try:
        conn.executescript(_SCHEMA)
        conn.executemany(
            f"INSERT INTO contacts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            [tuple(row[c] for c in COLUMNS) for row in rows],
        )
        conn.commit()
    finally:
        conn.close()
    return replace(stats, path=str(target))


def touch_contacts(
    path: str | Path, ids: Iterable[int], *, when: datetime, changes: Mapping[str, Any] | None = None
) -> int:
    """
    Simulate CRM edits: set ``updated_at`` of the contacts ``ids`` to ``when`` and apply ``changes``.

    :param changes: column -> new value for every touched contact; a ``str`` value may contain
        ``{id}`` and ``{old}`` (the column's current value), e.g. ``{"company": "{old} (renamed)"}``.
    :return: how many contacts were touched.
    """
    allowed = set(COLUMNS) - {"id", "created_at", "updated_at"}
    unknown = set(changes or {}) - allowed
    if unknown:
        raise ValueError(f"unknown contact column(s): {', '.join(sorted(unknown))}")
    stamp = format_ts(as_utc(when))
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    touched = 0
    try:
        for contact_id in ids:
            row = conn.execute("SELECT * FROM contacts WHERE id = ?", (contact_id,)).fetchone()
            if row is None:
                continue
            values: dict[str, Any] = {"updated_at": stamp}
            for column, new in (changes or {}).items():
                values[column] = (
                    new.format(id=contact_id, old=row[column] or "") if isinstance(new, str) else new
                )
            assignments = ", ".join(f"{column} = ?" for column in values)
            conn.execute(f"UPDATE contacts SET {assignments} WHERE id = ?", (*values.values(), contact_id))
            touched += 1
        conn.commit()
    finally:
        conn.close()
    return touched


def read_contacts(
    path: str | Path, *, start: str | None = None, end: str | None = None
) -> list[dict[str, Any]]:
    """Return the contacts with ``start <= updated_at < end`` (either bound optional), in sync order."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(
            "SELECT * FROM contacts WHERE (? IS NULL OR updated_at >= ?) AND (? IS NULL OR updated_at < ?)"
            " ORDER BY updated_at, id",
            (start, start, end, end),
        ).fetchall()
    finally:
        conn.close()
    return [dict(row) for row in rows]


__all__ = [
    "COLUMNS",
    "PLACES",
    "SPREAD_DAYS",
    "STORE_ATTRIBUTES",
    "STORE_GROUPS",
    "TIMESTAMP_FORMAT",
    "UNKNOWN_STAGE",
    "Place",
    "SeedStats",
    "format_ts",
    "generate_contacts",
    "read_contacts",
    "seed_crm",
    "touch_contacts",
]
