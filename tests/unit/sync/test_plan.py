"""What each part of a contact needs (pure planning), and how part outcomes make a row's outcome."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled

from airflow_bigcommerce.models.address import AddressSkipped, normalize_address
from airflow_bigcommerce.models.contact_parts import ContactParts
from airflow_bigcommerce.sync.outcome import (
    Kind,
    PartOutcome,
    Status,
    combine,
    data,
    part,
    part_status,
    rendered,
    store,
    transient,
)
from airflow_bigcommerce.sync.plan import MAX_INLINE_ATTRIBUTES, find_sync_address, plan_existing, plan_new
from airflow_bigcommerce.sync.rows import Line
from airflow_bigcommerce.sync.store_setup import StoreContext

RECORD = 90
CONTEXT = StoreContext(attribute_ids={"crm_id": 7, "tier": 8}, address_attribute_id=RECORD)


def address(**changes: Any) -> dict[str, str]:
    raw = {
        "address1": "1 Main St",
        "city": "Austin",
        "state_or_province": "TX",
        "postal_code": "78701",
        "country_code": "US",
    }
    made = normalize_address(raw | changes, first_name="Ada", last_name="Byron")
    assert made is not None
    return made


def stored(addr: dict[str, str], address_id: int) -> dict[str, Any]:
    return {**addr, "id": address_id, "customer_id": 5, "country": "United States"}


def customer(addresses: list[dict[str, Any]], values: dict[int, str]) -> dict[str, Any]:
    attributes = [{"attribute_id": k, "attribute_value": v} for k, v in values.items()]
    return {"id": 5, "email": "ada@example.com", "addresses": addresses, "attributes": attributes}


def test_the_recorded_address_wins_over_an_equal_one_and_a_stale_record_falls_back() -> None:
    mine, shoppers = stored(address(), 11), stored(address(city="Dallas"), 12)
    assert find_sync_address([shoppers, mine], 12, address()) == ("recorded", shoppers)
    assert find_sync_address([shoppers, mine], None, address()) == ("match", mine)
    assert find_sync_address([shoppers, mine], 99, address()) == ("match", mine)
    assert find_sync_address([shoppers], None, address()) == ("none", None)


def test_a_new_customer_carries_its_address_and_attributes_inline() -> None:
    parts = ContactParts(address=address(), attributes={"crm_id": "C-1"}, newsletter=True)
    inline, plan = plan_new(parts, CONTEXT)
    assert inline == {"addresses": [address()], "attributes": [{"attribute_id": 7, "attribute_value": "C-1"}]}
    assert plan.inline_address == address() and plan.newsletter is True
    assert plan.attribute_values == {} and plan.pending()


def test_attributes_beyond_the_inline_limit_follow_the_create_and_dry_run_placeholders_stay_out() -> None:
    names = {f"a{i}": i + 1 for i in range(MAX_INLINE_ATTRIBUTES + 2)}
    context = StoreContext(attribute_ids={**names, "new": -1})
    inline, plan = plan_new(ContactParts(attributes={name: "x" for name in [*names, "new"]}), context)
    assert len(inline["attributes"]) == MAX_INLINE_ATTRIBUTES
    assert sorted(plan.attribute_values) == [11, 12]


def test_an_unchanged_contact_needs_no_write() -> None:
    existing = customer([stored(address(), 11)], {7: "C-1", RECORD: "11"})
    plan = plan_existing(
        ContactParts(address=address(), attributes={"crm_id": "C-1"}), existing, CONTEXT, "upsert"
    )
    assert not plan.pending()
    assert rendered(plan.outcomes) == {"address": "unchanged", "attributes": "unchanged"}


def test_one_changed_part_costs_only_that_parts_write() -> None:
    existing = customer(
        [stored(address(), 11), stored(address(address1="9 Beach Rd"), 12)], {7: "C-1", RECORD: "11"}
    )
    moved = plan_existing(
        ContactParts(address=address(city="Houston", postal_code="77001"), attributes={"crm_id": "C-1"}),
        existing,
        CONTEXT,
        "upsert",
    )
    assert moved.address_put == (11, {"city": "Houston", "postal_code": "77001"})
    assert moved.attribute_values == {} and moved.address_post is None
    renamed = plan_existing(
        ContactParts(address=address(), attributes={"crm_id": "C-2"}), existing, CONTEXT, "upsert"
    )
    assert renamed.attribute_values == {7: "C-2"} and renamed.address_put is None


def test_insert_mode_only_adds_what_is_missing() -> None:
    existing = customer([stored(address(), 11)], {7: "C-1", RECORD: "11"})
    plan = plan_existing(
        ContactParts(address=address(city="Houston"), attributes={"crm_id": "C-2", "tier": "gold"}),
        existing,
        CONTEXT,
        "insert",
    )
    assert plan.address_put is None and plan.attribute_values == {8: "gold"}
    assert str(plan.outcomes["address"]).startswith("skipped: insert mode")
    assert plan.outcomes["address"].status is Status.SKIPPED


def test_without_a_sync_address_an_equal_one_is_adopted_else_one_is_added() -> None:
    shoppers = stored(address(address1="9 Beach Rd"), 12)
    equal = stored({**address(), "state_or_province": "texas", "country_code": "us"}, 13)
    adopted = plan_existing(
        ContactParts(address=address()), customer([shoppers, equal], {}), CONTEXT, "upsert"
    )
    assert (adopted.address_record, adopted.address_post, adopted.address_put) == (13, None, None)
    added = plan_existing(ContactParts(address=address()), customer([shoppers], {}), CONTEXT, "upsert")
    assert added.address_post == address() and added.address_put is None


def test_a_skipped_address_is_reported_not_written() -> None:
    plan = plan_existing(
        ContactParts(address_skipped="address skipped: no city"), customer([], {}), CONTEXT, "upsert"
    )
    assert rendered(plan.outcomes) == {"address": "skipped: no city"} and not plan.pending()
    assert plan.outcomes["address"] == part(Status.SKIPPED, data("no city"))


BASE = Line(1, "r1", "ada@example.com", Status.SKIPPED, store("unchanged"), 5)
UNCHANGED = part(Status.UNCHANGED)
REJECTED = part(Status.REJECTED, data("x"))


@pytest.mark.parametrize(
    ("parts", "texts", "outcome"),
    [
        ({"address": UNCHANGED}, {"address": "unchanged"}, "skipped"),
        ({"address": part(Status.UPDATED, data("city"))}, {"address": "updated: city"}, "updated"),
        (
            {"newsletter": part(Status.SUBSCRIBED), "address": UNCHANGED},
            {"newsletter": "subscribed", "address": "unchanged"},
            "updated",
        ),
        (
            {"address": REJECTED, "newsletter": part(Status.SUBSCRIBED)},
            {"address": "rejected: x", "newsletter": "subscribed"},
            "rejected",
        ),
        (
            {"address": REJECTED, "newsletter": part(Status.FAILED, transient("down"))},
            {"address": "rejected: x", "newsletter": "failed: down"},
            "failed",
        ),
        ({"address": part(Status.WOULD_UPDATE, data("city"))}, {"address": "would update: city"}, "updated"),
        (
            {"address": PartOutcome(Status.UNCHANGED, note="(its id recorded)")},
            {"address": "unchanged (its id recorded)"},
            "skipped",
        ),
    ],
)
def test_a_rows_outcome_follows_its_parts(
    parts: dict[str, PartOutcome], texts: dict[str, str], outcome: str
) -> None:
    line = combine(BASE, parts)
    assert line.outcome == outcome
    assert line.parts is not None
    assert rendered(line.parts) == {"customer": "skipped: unchanged", **texts}
    # the status words a report reader recovers are the statuses the engine counted
    assert {name: part_status(text) for name, text in texts.items()} == {
        name: value.status.value for name, value in parts.items()
    }


def test_a_failed_part_names_itself_and_keeps_the_created_customer() -> None:
    line = combine(
        BASE._replace(outcome=Status.CREATED, reason=None),
        {"newsletter": part(Status.FAILED, transient("503"))},
    )
    assert (line.outcome, str(line.reason), line.customer_id) == (
        "failed",
        "newsletter failed: 503 (customer created)",
        5,
    )
    assert line.reason is not None and line.reason.kind is Kind.TRANSIENT


def test_a_dry_run_says_what_would_change_without_rewording() -> None:
    line = combine(BASE, {"address": part(Status.WOULD_CREATE)}, dry_run=True)
    assert (line.outcome, str(line.reason)) == ("updated", "dry run: would change address")
    real = combine(BASE, {"address": part(Status.CREATED)})
    assert (real.outcome, str(real.reason)) == ("updated", "changed: address")


def test_counters_follow_the_status_not_the_wording() -> None:
    # a reason whose text reads like another status changes nothing: the status is the value
    tricky = part(Status.UNCHANGED, store("failed: rejected: would create"))
    line = combine(BASE, {"address": tricky})
    assert line.outcome is Status.SKIPPED
    assert not Status.UNCHANGED.wrote and Status.WOULD_WRITE.wrote and Status.SUBSCRIBED.wrote


def test_part_status_words() -> None:
    assert [
        part_status(t) for t in ("created", "updated: city", "would create", "unchanged (its id recorded)")
    ] == [
        "created",
        "updated",
        "would create",
        "unchanged",
    ]


STATES = st.sampled_from(["TX", "tx", "Texas", "US-TX", " texas ", "CA", "California", "ny", "New York"])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30)


@settings(max_examples=scaled(150), deadline=None)
@given(
    street=TEXT,
    city=TEXT,
    state=STATES,
    postal=st.one_of(st.integers(10000, 99999), st.text("0123456789- ", min_size=3, max_size=10)),
    country=st.sampled_from(["US", "us", "USA", "United States", "united states of america"]),
    spaces=st.sampled_from(["", " ", "  "]),
)
def test_an_address_the_store_holds_as_sent_is_never_written_again(
    street: str, city: str, state: str, postal: Any, country: str, spaces: str
) -> None:
    raw = {
        "address1": street,
        "city": city,
        "state_or_province": state,
        "postal_code": postal,
        "country_code": country,
    }
    try:
        wanted = normalize_address(raw, first_name="Ada", last_name="Byron")
    except AddressSkipped:
        return
    if wanted is None:
        return
    # the store keeps what was sent; the CRM re-sends it with other spacing and case
    existing = customer([stored(wanted, 11)], {RECORD: "11"})
    again = {k: (spaces + v + spaces if isinstance(v, str) else v) for k, v in raw.items()}
    try:
        resent = normalize_address(again, first_name="Ada", last_name="Byron")
    except AddressSkipped:
        return
    assert resent is not None
    plan = plan_existing(ContactParts(address=resent), existing, CONTEXT, "upsert")
    assert not plan.pending(), plan
    assert rendered(plan.outcomes) == {"address": "unchanged"}


def test_with_a_ledger_its_address_id_wins_over_the_attribute_and_an_adopted_address_needs_no_write() -> None:
    ledger_context = replace(CONTEXT, address_ids_in_ledger=True)
    mine, shoppers = stored(address(), 11), stored(address(city="Dallas"), 12)
    wanted = ContactParts(address=address(city="Dallas"))
    # the attribute names 11, the ledger 12: the ledger's record decides which address is the sync's
    plan = plan_existing(
        wanted, customer([mine, shoppers], {RECORD: "11"}), ledger_context, "upsert", recorded=12
    )
    assert (
        plan.address_id == 12
        and plan.address_put is None
        and plan.outcomes["address"].status is Status.UNCHANGED
    )
    # without a ledger id the attribute's record is used, and kept as the sync's address
    plan = plan_existing(wanted, customer([mine, shoppers], {RECORD: "11"}), ledger_context, "upsert")
    assert plan.address_put == (11, {"city": "Dallas"}) and plan.sync_address() == 11
    # no record at all: an equal address is adopted; with a ledger its id needs no write
    adopted = plan_existing(wanted, customer([mine, shoppers], {}), ledger_context, "upsert")
    assert adopted.address_record == 12 and adopted.sync_address() == 12
    assert not adopted.pending(ledger_context) and adopted.pending(CONTEXT)
    assert str(adopted.outcomes["address"]) == "unchanged (its id recorded)"
