"""What a run resolves once in the store: attribute ids, group ids, the channel's login rule."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_bigcommerce.models.contact import validate_field_map
from airflow_bigcommerce.models.contact_parts import PartMap, PartRejected, map_parts
from airflow_bigcommerce.sync.client import OutcomeUnknownError, RequestRejectedError
from airflow_bigcommerce.sync.store_setup import (
    ADDRESS_ID_ATTRIBUTE,
    StoreContext,
    StoreSetupError,
    resolve_store,
)


class Store:
    """The few part calls setup makes, answered from memory, each counted by kind."""

    def __init__(self, attributes: list[str], groups: list[str] | None = None, channel: Any = True) -> None:
        self.attributes = [{"id": i + 1, "name": n} for i, n in enumerate(attributes)]
        self.groups = groups
        self.channel = channel
        self.calls: list[str] = []
        self.lose_create_answer = False

    def part(self, kind: str, method: str, *args: Any) -> Any:
        self.calls.append(method)
        if method == "list_customer_attributes":
            return list(self.attributes)
        if method == "create_customer_attribute":
            made = {"id": len(self.attributes) + 1, "name": args[0], "type": args[1]}
            self.attributes.append(made)
            if self.lose_create_answer:
                raise OutcomeUnknownError("no answer")
            return made
        if method == "list_customer_groups":
            if self.groups is None:
                raise RequestRejectedError("no groups", status=403)
            return [{"id": 10 + i, "name": n} for i, n in enumerate(self.groups)]
        if method == "get_channel_settings":
            if self.channel is None:
                raise RequestRejectedError("no channel", status=404)
            return {"allow_global_logins": self.channel}
        raise AssertionError(method)


def parts(**targets: str) -> PartMap:
    return PartMap.from_field_map(validate_field_map({"email": "email", **targets}))


def test_attribute_names_resolve_to_ids_and_the_address_record_is_created_once() -> None:
    store = Store(["crm_id", "tier"])
    context = resolve_store(
        store,
        parts(c="attribute.crm_id", s="address.city"),
        channel_id=None,
        create_attributes=False,
        dry_run=False,
    )
    assert context.attribute_ids == {"crm_id": 1}
    assert context.address_attribute_id == 3 and store.attributes[-1]["name"] == ADDRESS_ID_ATTRIBUTE
    again = resolve_store(
        store, parts(s="address.city"), channel_id=None, create_attributes=False, dry_run=False
    )
    assert again.address_attribute_id == 3 and store.calls.count("create_customer_attribute") == 1


def test_with_a_ledger_the_address_record_is_read_when_the_store_has_it_and_never_created() -> None:
    store = Store(["crm_id"])
    context = resolve_store(
        store, parts(s="address.city"), channel_id=None, create_attributes=False, dry_run=False, ledger=True
    )
    assert context.address_ids_in_ledger and context.address_attribute_id is None
    assert "create_customer_attribute" not in store.calls
    had = Store(["crm_id", ADDRESS_ID_ATTRIBUTE])  # written by runs without a ledger: still read
    context = resolve_store(
        had, parts(s="address.city"), channel_id=None, create_attributes=False, dry_run=False, ledger=True
    )
    assert context.address_ids_in_ledger and context.address_attribute_id == 2
    no_address = resolve_store(
        Store([]), parts(), channel_id=None, create_attributes=False, dry_run=False, ledger=True
    )
    assert not no_address.address_ids_in_ledger


def test_an_unknown_attribute_fails_at_start_naming_what_the_store_has() -> None:
    store = Store(["tier"])
    with pytest.raises(
        StoreSetupError,
        match=r"'crm_id' that the store does not have \(it has: tier\).*create_attributes=True",
    ):
        resolve_store(
            store, parts(c="attribute.crm_id"), channel_id=None, create_attributes=False, dry_run=False
        )
    assert "create_customer_attribute" not in store.calls


def test_create_attributes_creates_them_but_a_dry_run_creates_nothing() -> None:
    store = Store([])
    dry = resolve_store(
        store,
        parts(c="attribute.crm_id", s="address.city"),
        channel_id=None,
        create_attributes=True,
        dry_run=True,
    )
    assert dry.attribute_ids == {"crm_id": -1} and dry.address_attribute_id is None
    assert "create_customer_attribute" not in store.calls
    real = resolve_store(
        store, parts(c="attribute.crm_id"), channel_id=None, create_attributes=True, dry_run=False
    )
    assert real.attribute_ids == {"crm_id": 1}


def test_an_attribute_created_without_an_answer_is_found_not_created_twice() -> None:
    store = Store([])
    store.lose_create_answer = True
    context = resolve_store(
        store, parts(s="address.city"), channel_id=None, create_attributes=False, dry_run=False
    )
    assert context.address_attribute_id == 1 and len(store.attributes) == 1


def test_groups_by_case_insensitive_name_and_a_plan_without_groups() -> None:
    context = resolve_store(
        Store([], ["Wholesale", "VIP"]),
        parts(g="customer_group"),
        channel_id=None,
        create_attributes=False,
        dry_run=False,
    )
    assert context.group_id(" wholesale ") == context.group_id("WHOLESALE") == 10
    assert context.group_id("Gold") is None
    assert context.group_names == ("VIP", "Wholesale")
    with pytest.raises(StoreSetupError, match="no customer groups.*Plus"):
        resolve_store(
            Store([], None),
            parts(g="customer_group"),
            channel_id=None,
            create_attributes=False,
            dry_run=False,
        )


@pytest.mark.parametrize(
    ("channel_ids", "global_logins", "visible"),
    [(None, True, True), (None, False, False), ([1, 2], False, True), ([1], True, False), ([], True, False)],
)
def test_who_can_log_in_on_the_channel(channel_ids: Any, global_logins: bool, visible: bool) -> None:
    context = StoreContext(channel_id=2, global_logins=global_logins)
    assert context.on_channel({"id": 1, "channel_ids": channel_ids}) is visible
    assert StoreContext().on_channel({"channel_ids": [5]}) is True


def test_the_channel_is_read_once_and_an_unknown_one_fails_at_start() -> None:
    store = Store([], channel=False)
    context = resolve_store(store, PartMap(), channel_id=3, create_attributes=False, dry_run=False)
    assert (context.channel_id, context.global_logins) == (3, False)
    with pytest.raises(StoreSetupError, match="channel_id 9"):
        resolve_store(
            Store([], channel=None), PartMap(), channel_id=9, create_attributes=False, dry_run=False
        )


def test_field_map_part_targets_are_checked_before_any_row() -> None:
    assert (
        validate_field_map({"e": "email", "z": "address.postal_code", "n": "newsletter"})["z"]
        == "address.postal_code"
    )
    with pytest.raises(ValueError, match="unknown address field 'zip'"):
        validate_field_map({"e": "email", "z": "address.zip"})
    with pytest.raises(ValueError, match="attribute name"):
        validate_field_map({"e": "email", "a": "attribute. x"})
    with pytest.raises(ValueError, match="customer_group_id or customer_group, not both"):
        validate_field_map({"e": "email", "g": "customer_group", "gid": "customer_group_id"})


def test_bad_part_values_name_the_target_never_the_value() -> None:
    part_map = parts(o="newsletter", g="customer_group", c="attribute.crm_id")
    with pytest.raises(PartRejected, match="^newsletter: ") as info:
        map_parts({"o": "perhaps-secret"}, part_map, first_name="A", last_name="B")
    assert "perhaps-secret" not in str(info.value)
    with pytest.raises(PartRejected, match="^customer_group: "):
        map_parts({"g": 5}, part_map, first_name="A", last_name="B")
    mapped = map_parts({"g": "  Whole   sale ", "o": "", "c": 12.0}, part_map, first_name="A", last_name="B")
    assert (mapped.group, mapped.newsletter, mapped.attributes) == ("Whole sale", None, {"crm_id": "12"})
