from __future__ import annotations

import datetime as dt
import threading

import pytest

from airflow_bigcommerce.ledger import LedgerRow, MemoryLedger, Scope, statements
from airflow_bigcommerce.ledger.records import (
    MAX_KEY_LENGTH,
    as_utc,
    decode_values,
    encode_values,
    retained_values,
)

UTC = dt.timezone.utc


def test_the_ledger_keeps_the_key_and_mapped_columns_never_a_password() -> None:
    row = {"id": 7, "mail": "a@example.com", "pw": "hunter2", "last": "Lovelace", "unmapped": "x"}
    field_map = {"mail": "email", "pw": "password", "last": "last_name"}
    kept = retained_values(row, field_map, "id")
    assert kept == {"id": 7, "mail": "a@example.com", "last": "Lovelace"}
    assert "hunter2" not in encode_values(kept)


def test_values_decode_to_a_dict_or_nothing() -> None:
    assert decode_values(encode_values({"b": 1, "a": dt.date(2024, 1, 2)})) == {"a": "2024-01-02", "b": 1}
    assert decode_values(None) == {}
    assert decode_values("not json") == {}
    assert decode_values("[1, 2]") == {}


def test_stored_timestamps_come_back_as_aware_utc() -> None:
    assert as_utc("2026-12-07 15:00:00.000001") == dt.datetime(2026, 12, 7, 15, 0, 0, 1, tzinfo=UTC)
    plus_two = dt.datetime(2026, 12, 7, 17, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert as_utc(plus_two) == dt.datetime(2026, 12, 7, 15, tzinfo=UTC)
    with pytest.raises(TypeError):
        as_utc(12)


def test_a_row_has_a_known_outcome_and_a_key_that_fits_the_column() -> None:
    with pytest.raises(ValueError, match="outcome"):
        LedgerRow("k", "delivered")
    with pytest.raises(ValueError, match=str(MAX_KEY_LENGTH)):
        LedgerRow("k" * (MAX_KEY_LENGTH + 1), "created")


def test_the_memory_ledger_upserts_reads_by_key_and_keeps_scopes_apart() -> None:
    ledger = MemoryLedger(Scope("s1"))
    ledger.write([LedgerRow("a", "created", customer_id=1), LedgerRow("b", "failed", attempts=1)])
    ledger.write([LedgerRow("a", "updated", customer_id=1)])
    assert ledger.read(["a", "zz"]) == {
        "a": LedgerRow("a", "updated", customer_id=1, updated_at=ledger.rows()[0].updated_at)
    }
    other = ledger.for_scope(Scope("s1", 3))
    assert other.read(["a"]) == {}
    other.write([LedgerRow("a", "created", customer_id=2)])
    assert [r.customer_id for r in ledger.rows()] == [1, None]
    assert len(ledger.table) == 3
    assert (ledger.reads, ledger.writes) == (1, 2)


def test_the_memory_ledger_lists_retry_candidates_like_the_sql_one() -> None:
    ledger = MemoryLedger(Scope("s1"))
    ledger.write(
        [
            LedgerRow("a", "failed", attempts=1),
            LedgerRow("b", "rejected", reason_kind="store", attempts=4),
            LedgerRow("c", "failed", attempts=5),
            LedgerRow("d", "created"),
            LedgerRow("e", "rejected", reason_kind="data", attempts=1),
        ]
    )
    assert [r.crm_key for r in ledger.candidates(5, None, 2)] == ["a", "b"]
    assert [r.crm_key for r in ledger.candidates(5, "b", 10)] == ["e"]


def test_the_memory_ledger_takes_writers_from_several_threads() -> None:
    ledger = MemoryLedger(Scope("s1"))

    def write(part: int) -> None:
        for i in range(200):
            ledger.write([LedgerRow(f"{part}-{i}", "created")])

    threads = [threading.Thread(target=write, args=(p,)) for p in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ledger.rows()) == 800


def test_the_ddl_uses_portable_types_and_the_three_column_key() -> None:
    ddl = statements.create_table("bigcommerce_sync_ledger")
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS bigcommerce_sync_ledger (")
    assert "PRIMARY KEY (store_hash, channel_id, crm_key)" in ddl
    for kind in ("VARCHAR(", "BIGINT", "INTEGER", "TIMESTAMP", "TEXT"):
        assert kind in ddl
    for name in (
        "customer_id",
        "email",
        "outcome",
        "reason",
        "attempts",
        "updated_at",
        "run_id",
        "address_id",
    ):
        assert f"\n  {name} " in ddl


def test_sqlite_and_postgresql_upsert_on_conflict_of_the_key() -> None:
    (sql,) = statements.upsert("t", "postgresql", 1, "%s")
    assert (
        "ON CONFLICT (store_hash, channel_id, crm_key) DO UPDATE SET customer_id = excluded.customer_id"
        in sql
    )
    assert "store_hash = excluded" not in sql
    delete, insert = statements.upsert("t", "generic", 2, "?")
    assert delete.count("(store_hash = ? AND channel_id = ? AND crm_key = ?)") == 2
    assert insert.startswith("INSERT INTO t (")
    assert statements.rows_per_statement() * len(statements.COLUMNS) <= statements.MAX_PARAMETERS


@pytest.mark.parametrize("name", ["ledger", "crm.sync_ledger", "_L1"])
def test_plain_table_names_are_accepted(name: str) -> None:
    assert statements.check_table(name) == name


@pytest.mark.parametrize("name", ["", "1ledger", "a.b.c", "ledger x", 'ledger"', "t;drop"])
def test_other_table_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="ledger_table"):
        statements.check_table(name)
