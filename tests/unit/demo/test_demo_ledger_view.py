"""The demo's view of the ledger: the ledger guide's writeback join on the CRM file, and its table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from airflow_bigcommerce.demo.ledger_view import format_ledger, ledger_keys, read_ledger
from airflow_bigcommerce.ledger.statements import create_table


def test_the_join_pairs_each_contact_with_its_ledger_row_and_the_table_shows_it(tmp_path: Path) -> None:
    crm = tmp_path / "crm.db"
    with sqlite3.connect(crm) as conn:
        conn.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT)")
        conn.executemany("INSERT INTO contacts VALUES (?, ?)", [(1, "a@x.io"), (2, "b@x.io"), (3, "c@x.io")])
        conn.execute(create_table("bigcommerce_sync_ledger"))
        conn.executemany(
            "INSERT INTO bigcommerce_sync_ledger (store_hash, channel_id, crm_key, customer_id, email,"
            " outcome, reason, attempts, updated_at, run_id)"
            " VALUES ('s', 0, ?, ?, ?, ?, ?, ?, '2026-01-01', 'r')",
            [
                ("1", 7, "a@x.io", "updated", "changed: email", 0),
                ("2", None, "b@x.io", "rejected", "customer_group: the store has no group of that name", 1),
            ],
        )
    lines = read_ledger(crm, "s", [2, 1, 3, 1])
    assert [(line.contact_id, line.customer_id, line.outcome) for line in lines] == [
        (1, 7, "updated"),
        (2, None, "rejected"),
        (3, None, None),
    ]
    assert ledger_keys(crm, "s", "rejected", "%no group%") == [2] and ledger_keys(crm, "t", "rejected") == []
    table = format_ledger(lines, width=30).splitlines()
    assert table[0].split()[:3] == ["contact", "customer", "outcome"]
    assert table[1].split()[:5] == ["1", "7", "updated", "0", "a@x.io"]
    assert table[2].endswith("...") and len(table[2].split("  ")[-1]) <= 30  # the reason clipped
    assert table[3].split() == ["3", "-", "(none)", "-"]
