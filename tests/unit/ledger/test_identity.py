"""Identity by CRM key: the ledger's customer first, then the e-mail; an e-mail change updates."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_bigcommerce.ledger import LedgerRow, MemoryLedger, Scope
from airflow_bigcommerce.ledger.identity import identify, ids_to_check, needs_email_lookup
from airflow_bigcommerce.sync.counting import AMBIGUOUS
from airflow_bigcommerce.sync.outcome import Kind


def _customer(cid: int, email: str) -> dict[str, Any]:
    return {"id": cid, "email": email, "first_name": "Ada"}


def _ledger(*rows: LedgerRow) -> MemoryLedger:
    ledger = MemoryLedger(Scope("store"))
    ledger.write(list(rows))
    return ledger


def test_the_ledgers_customer_ids_are_checked_in_one_batch_without_repeats() -> None:
    rows = _ledger(
        LedgerRow("b", "created", customer_id=2),
        LedgerRow("a", "created", customer_id=1),
        LedgerRow("c", "failed"),
        LedgerRow("d", "updated", customer_id=1),
    ).read(["a", "b", "c", "d"])
    assert ids_to_check(rows.values()) == [1, 2]


def test_a_row_whose_ledger_customer_has_its_email_is_that_customer_without_an_email_lookup() -> None:
    row = LedgerRow("k1", "created", customer_id=5, email="ada@example.com")
    by_id = {5: _customer(5, "Ada@Example.com")}
    assert not needs_email_lookup("ada@example.com", row, by_id)
    got = identify("ada@example.com", row, by_id, {}, "upsert")
    assert (got.action, got.via, got.customer_id, got.email_change) == ("match", "ledger", 5, False)
    assert got.customer == by_id[5]


@pytest.mark.parametrize("mode", ["insert", "upsert"])
def test_the_ledger_wins_over_another_customer_with_the_same_email(mode: Any) -> None:
    row = LedgerRow("k1", "created", customer_id=5)
    got = identify("ada@example.com", row, {5: _customer(5, "ada@example.com")}, {}, mode)
    assert got.customer_id == 5


def test_an_email_changed_in_the_crm_updates_the_customers_email_in_upsert() -> None:
    row = LedgerRow("k1", "created", customer_id=5, email="old@example.com")
    by_id = {5: _customer(5, "old@example.com")}
    assert needs_email_lookup("new@example.com", row, by_id)  # is the new one held by someone else?
    got = identify("new@example.com", row, by_id, {}, "upsert")
    assert (got.action, got.customer_id, got.email_change) == ("match", 5, True)
    assert got.customer == by_id[5]  # classified against its own customer: an update, never a create


def test_an_email_changed_in_the_crm_leaves_the_customer_alone_in_insert() -> None:
    row = LedgerRow("k1", "created", customer_id=5, email="old@example.com")
    got = identify("new@example.com", row, {5: _customer(5, "old@example.com")}, {}, "insert")
    assert (got.action, got.customer_id, got.email_change) == ("skip", 5, False)
    assert got.reason is not None and got.reason.kind is Kind.STORE
    assert "insert mode" in got.reason.text and "id 5" in got.reason.text


def test_a_new_email_held_by_another_customer_is_rejected_naming_it() -> None:
    row = LedgerRow("k1", "created", customer_id=5, email="old@example.com")
    by_email = {"new@example.com": _customer(9, "new@example.com")}
    got = identify("new@example.com", row, {5: _customer(5, "old@example.com")}, by_email, "upsert")
    assert (got.action, got.customer_id) == ("reject", 5)
    assert got.reason is not None and got.reason.kind is Kind.STORE  # retried: the store may free it
    assert "(id 9)" in got.reason.text


def test_a_new_email_held_by_several_customers_on_the_channel_names_them_all() -> None:
    row = LedgerRow("k1", "created", customer_id=5)
    by_email = {"new@example.com": {AMBIGUOUS: [5, 9, 11]}}
    got = identify("new@example.com", row, {5: _customer(5, "old@example.com")}, by_email, "upsert")
    assert got.action == "reject"
    assert got.reason is not None and "id 9, 11" in got.reason.text


def test_a_new_email_the_store_finds_on_the_same_customer_is_an_update() -> None:
    row = LedgerRow("k1", "created", customer_id=5)
    by_email = {"new@example.com": _customer(5, "new@example.com")}
    got = identify("new@example.com", row, {5: _customer(5, "old@example.com")}, by_email, "upsert")
    assert (got.action, got.email_change) == ("match", True)


def test_a_customer_deleted_in_the_store_is_matched_again_by_email() -> None:
    row = LedgerRow("k1", "created", customer_id=5, email="ada@example.com")
    assert needs_email_lookup("ada@example.com", row, {})
    by_email = {"ada@example.com": _customer(8, "ada@example.com")}
    got = identify("ada@example.com", row, {}, by_email, "upsert")
    assert (got.action, got.via, got.customer_id, got.replaced) == ("match", "email", 8, 5)


def test_a_customer_deleted_in_the_store_without_another_is_created_again() -> None:
    row = LedgerRow("k1", "created", customer_id=5, email="ada@example.com")
    got = identify("ada@example.com", row, {}, {}, "upsert")
    assert (got.action, got.via, got.customer_id, got.replaced) == ("create", "none", None, 5)


@pytest.mark.parametrize("ledger_row", [None, LedgerRow("k1", "failed", attempts=1)])
def test_a_row_the_ledger_has_no_customer_for_adopts_the_customer_with_its_email(
    ledger_row: LedgerRow | None,
) -> None:
    by_email = {"ada@example.com": _customer(3, "ada@example.com")}
    assert needs_email_lookup("ada@example.com", ledger_row, {})
    got = identify("ada@example.com", ledger_row, {}, by_email, "insert")
    assert (got.action, got.via, got.customer_id, got.replaced) == ("match", "email", 3, None)
    assert identify("new@example.com", ledger_row, {}, by_email, "insert").action == "create"


def test_an_ambiguous_email_without_a_ledger_customer_is_left_to_the_classifier() -> None:
    held = {AMBIGUOUS: [3, 4]}
    got = identify("ada@example.com", None, {}, {"ada@example.com": held}, "upsert")
    assert (got.action, got.customer, got.customer_id) == ("match", held, None)
