"""A run's ledger: one read and one write per chunk, retries from the kept values, never a password."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from airflow_bigcommerce.ledger import LedgerRow, MemoryLedger, Scope
from airflow_bigcommerce.ledger.run import RunLedger, key_problem
from airflow_bigcommerce.sync.outcome import Status, data, store, transient
from airflow_bigcommerce.sync.rows import Line

UTC = dt.timezone.utc
FIELD_MAP = {"mail": "email", "last": "last_name", "pw": "password"}
NOW = dt.datetime(2026, 12, 7, 15, tzinfo=UTC)


def _run(ledger: MemoryLedger, run_id: str, **kw: Any) -> RunLedger:
    return RunLedger(ledger, run_id=run_id, field_map=FIELD_MAP, key_field="id", now=lambda: NOW, **kw)


def _crm(key: str, email: str | None = None) -> dict[str, Any]:
    return {"id": key, "mail": email or f"{key}@example.com", "last": "Lovelace", "pw": "s3cret!"}


def _line(pos: int, key: str, status: Status, reason: Any = None, cid: int | None = None) -> Line:
    return Line(pos, key, f"{key}@example.com", status, reason, cid)


def test_a_chunk_costs_one_ledger_read_and_one_write() -> None:
    ledger = MemoryLedger(Scope("s"))
    run = _run(ledger, "run-1")
    chunk = [_crm("a"), _crm("b"), _crm("c")]
    assert run.read_chunk(chunk) == {}
    run.record(_line(1, "a", Status.CREATED, None, 1), chunk[0])
    run.record(_line(2, "b", Status.FAILED, transient("HTTP 503")), chunk[1])
    run.record(_line(3, "c", Status.REJECTED, data("bad e-mail", "email")), chunk[2])
    assert run.flush() == 3
    assert run.flush() == 0  # nothing new: no write
    assert (ledger.reads, ledger.writes) == (1, 1)
    rows = {row.crm_key: row for row in ledger.rows()}
    assert rows["a"] == LedgerRow(
        "a",
        "created",
        customer_id=1,
        email="a@example.com",
        attempts=0,
        updated_at=NOW,
        run_id="run-1",
        values={"id": "a", "mail": "a@example.com", "last": "Lovelace"},
    )
    assert (rows["b"].outcome, rows["b"].reason_kind, rows["b"].attempts) == ("failed", "transient", 1)
    assert (rows["c"].reason, rows["c"].reason_kind) == ("bad e-mail", "data")
    assert all("s3cret!" not in str(row) for row in ledger.rows())


def test_the_next_run_retries_what_did_not_make_it_from_the_ledger_and_its_input_wins() -> None:
    ledger = MemoryLedger(Scope("s"))
    first = _run(ledger, "run-1")
    chunk = [_crm("a"), _crm("b"), _crm("c"), _crm("d")]
    first.read_chunk(chunk)
    first.record(_line(1, "a", Status.FAILED, transient("HTTP 503")), chunk[0])
    first.record(_line(2, "b", Status.REJECTED, store("group 'VIP' not in store")), chunk[1])
    first.record(_line(3, "c", Status.REJECTED, data("bad e-mail", "email")), chunk[2])
    first.record(_line(4, "d", Status.FAILED, transient("HTTP 503")), chunk[3])
    first.flush()

    second = _run(ledger, "run-2")
    newer_d = _crm("d", "d.new@example.com")
    second.read_chunk([newer_d])  # d is in this run's input: its version wins
    retries = list(second.retry_rows())
    assert retries == [
        {"id": "a", "mail": "a@example.com", "last": "Lovelace"},  # sent without its password
        {"id": "b", "mail": "b@example.com", "last": "Lovelace"},
    ]
    reads = ledger.reads
    assert set(second.read_chunk(retries)) == {"a", "b"}  # known already: no second read
    assert ledger.reads == reads
    second.record(_line(1, "d", Status.CREATED, None, 4), newer_d)
    second.record(_line(2, "a", Status.CREATED, None, 1), retries[0])
    second.record(_line(3, "b", Status.REJECTED, store("group 'VIP' not in store")), retries[1])
    second.flush()
    rows = {row.crm_key: row for row in ledger.rows()}
    assert (rows["a"].outcome, rows["a"].attempts, rows["a"].customer_id) == ("created", 0, 1)
    assert (rows["b"].outcome, rows["b"].attempts) == ("rejected", 2)
    assert rows["d"].values["mail"] == "d.new@example.com"
    assert rows["c"].attempts == 1 and rows["c"].run_id == "run-1"  # a data rejection waits for the CRM


def test_a_row_the_store_keeps_refusing_is_given_up_after_max_attempts_once() -> None:
    ledger = MemoryLedger(Scope("s"))
    tries = 0
    for n in range(1, 8):
        run = _run(ledger, f"run-{n}", max_attempts=3)
        rows = [_crm("a")] if n == 1 else list(run.retry_rows())
        if not rows:
            break
        tries += 1
        run.read_chunk(rows)
        run.record(_line(1, "a", Status.REJECTED, store("group 'VIP' not in store")), rows[0])
        run.flush()
    (row,) = ledger.rows()
    assert tries == 3
    assert row.reason == "gave up after 3 attempts: group 'VIP' not in store"


def test_an_insert_that_leaves_a_customer_alone_records_the_email_it_kept() -> None:
    ledger = MemoryLedger(Scope("s"))
    ledger.write([LedgerRow("a", "created", customer_id=5, email="old@example.com")])
    run = _run(ledger, "run-2")
    crm = _crm("a", "new@example.com")
    run.read_chunk([crm])
    line = Line(1, "a", "new@example.com", Status.SKIPPED, store("insert mode changes no stored customer"), 5)
    run.record(line, crm, email="old@example.com")
    run.flush()
    (row,) = ledger.rows()
    assert (row.customer_id, row.email, row.outcome) == (5, "old@example.com", "skipped")


@pytest.mark.parametrize(
    ("value", "problem"), [(None, "no 'id'"), ("  ", "no 'id'"), ("k" * 300, "longer than")]
)
def test_a_row_without_a_usable_key_cannot_be_kept(value: Any, problem: str) -> None:
    reason = key_problem({"id": value}, "id")
    assert reason is not None and problem in reason.text and reason.field == "id"
    assert key_problem({"id": 0}, "id") is None


def test_max_attempts_is_at_least_one() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        _run(MemoryLedger(), "run", max_attempts=0)
