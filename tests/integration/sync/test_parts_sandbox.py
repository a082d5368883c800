"""A contact's parts (address, attributes, group, newsletter, channel) synced to the sandbox over HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.sync.store_setup import ADDRESS_ID_ATTRIBUTE, StoreSetupError
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration

FIELD_MAP = {
    "email": "email",
    "first": "first_name",
    "last": "last_name",
    "street": "address.address1",
    "town": "address.city",
    "state": "address.state_or_province",
    "zip": "address.postal_code",
    "country": "address.country_code",
    "crm_id": "attribute.crm_id",
    "segment": "customer_group",
    "optin": "newsletter",
}
WRITES = (
    "create",
    "update",
    "address_create",
    "address_update",
    "attribute_values",
    "subscriber_create",
    "subscriber_update",
)


def contact(i: int, **changes: Any) -> dict[str, Any]:
    row = {
        "id": i,
        "email": f"Person{i}@Example.com",
        "first": "Per",
        "last": f"Son{i}",
        "street": f"{i}  Main St ",
        "town": "Austin",
        "state": "TX",
        "zip": 78701 + i,
        "country": "United States",
        "crm_id": f"C-{i}",
        "segment": "wholesale",
        "optin": "yes" if i % 2 == 0 else "no",
    }
    return row | changes


def writes(result: Any) -> dict[str, int]:
    return {k: v for k, v in result.requests.items() if k in WRITES and v}


@pytest.fixture
def store(bigcommerce_sandbox: SandboxHandle) -> SandboxHandle:
    bigcommerce_sandbox.store.seed_attributes([{"name": "crm_id", "type": "string"}])
    bigcommerce_sandbox.store.seed_groups([{"name": "Wholesale"}, {"name": "Retail"}])
    return bigcommerce_sandbox


def customer(store: SandboxHandle, email: str) -> dict[str, Any]:
    (found,) = BigCommerceHook().find_customers_by_email([email], include=("addresses", "attributes"))
    return found


def attribute_values(store: SandboxHandle, found: dict[str, Any]) -> dict[str, str]:
    names = {a["id"]: a["name"] for a in BigCommerceHook().list_customer_attributes()}
    return {names[a["attribute_id"]]: a["attribute_value"] for a in found["attributes"]}


def subscriber_consents(email: str) -> list[str] | None:
    found = BigCommerceHook().find_subscriber(email)
    return None if found is None else list(found["consents"])


def test_first_sync_unchanged_resync_and_one_change_per_part(store: SandboxHandle) -> None:
    rows = [contact(i) for i in range(20)]
    first = sync_customers(rows, BigCommerceHook(), field_map=FIELD_MAP, mode="upsert")
    assert (first.created, first.rejected, first.failed) == (20, 0, 0)
    # address and attribute inline in the create; the address's id recorded; one subscriber per opt-in
    assert writes(first) == {"create": 2, "attribute_values": 2, "subscriber_create": 10}
    assert first.parts["address"] == {"created": 20}
    assert first.parts["newsletter"] == {"subscribed": 10, "unchanged": 10}
    group_id = next(g["id"] for g in BigCommerceHook().list_customer_groups() if g["name"] == "Wholesale")
    stored = customer(store, "person4@example.com")
    assert stored["customer_group_id"] == group_id
    (address,) = stored["addresses"]
    assert (address["address1"], address["state_or_province"], address["postal_code"]) == (
        "4 Main St",
        "Texas",
        "78705",
    )
    assert (address["country_code"], address["first_name"], address["last_name"]) == ("US", "Per", "Son4")
    values = attribute_values(store, stored)
    assert values == {"crm_id": "C-4", ADDRESS_ID_ATTRIBUTE: str(address["id"])}
    assert subscriber_consents("person4@example.com") == ["marketing_newsletter"]
    assert subscriber_consents("person5@example.com") is None

    again = sync_customers(rows, BigCommerceHook(), field_map=FIELD_MAP, mode="upsert")
    assert (again.skipped, again.created, again.updated) == (20, 0, 0)
    assert writes(again) == {}
    assert again.parts["address"] == {"unchanged": 20}

    changed = [contact(0, town="Dallas"), contact(1, crm_id="C-1b"), contact(2, optin="no"), *rows[3:]]
    third = sync_customers(changed, BigCommerceHook(), field_map=FIELD_MAP, mode="upsert")
    assert (third.updated, third.skipped) == (3, 17)
    assert writes(third) == {"address_update": 1, "attribute_values": 1, "subscriber_update": 1}
    assert customer(store, "person0@example.com")["addresses"][0]["city"] == "Dallas"
    assert attribute_values(store, customer(store, "person1@example.com"))["crm_id"] == "C-1b"
    assert subscriber_consents("person2@example.com") == []
    assert len(store.store.all_customers()) == 20


def test_a_shoppers_own_addresses_are_never_touched(store: SandboxHandle) -> None:
    hook = BigCommerceHook()
    # a customer who signed up on the storefront and added an address before the first sync
    (pre,) = store.store.seed([{"email": "person1@example.com", "first_name": "Per", "last_name": "Son1"}])
    shopper = {
        "customer_id": pre["id"],
        "first_name": "Per",
        "last_name": "Son1",
        "address1": "9 Beach Rd",
        "city": "Miami",
        "state_or_province": "Florida",
        "postal_code": "33101",
        "country_code": "US",
    }
    (own,) = hook.create_addresses([shopper])
    first = sync_customers([contact(1)], BigCommerceHook(), field_map=FIELD_MAP, mode="upsert")
    assert (first.updated, first.parts["address"]) == (1, {"created": 1})
    moved = sync_customers(
        [contact(1, street="1 New St")], BigCommerceHook(), field_map=FIELD_MAP, mode="upsert"
    )
    assert moved.parts["address"] == {"updated": 1}
    addresses = {a["id"]: a for a in customer(store, "person1@example.com")["addresses"]}
    assert len(addresses) == 2
    assert addresses[own["id"]]["address1"] == "9 Beach Rd"  # untouched
    assert {a["address1"] for a in addresses.values()} == {"9 Beach Rd", "1 New St"}
    # a shopper adds another address later: re-runs write nothing and leave it alone
    hook.create_addresses([{**shopper, "address1": "5 Hill Rd"}])
    again = sync_customers(
        [contact(1, street="1 New St")], BigCommerceHook(), field_map=FIELD_MAP, mode="upsert"
    )
    assert writes(again) == {} and again.skipped == 1
    assert len(customer(store, "person1@example.com")["addresses"]) == 3


def test_without_a_record_an_equal_address_is_adopted_not_duplicated(store: SandboxHandle) -> None:
    (pre,) = store.store.seed([{"email": "person3@example.com", "first_name": "Per", "last_name": "Son3"}])
    BigCommerceHook().create_addresses(
        [
            {
                "customer_id": pre["id"],
                "first_name": "Per",
                "last_name": "Son3",
                "address1": "3 Main St",
                "city": "Austin",
                "state_or_province": "Texas",
                "postal_code": "78704",
                "country_code": "us",
            }
        ]
    )
    result = sync_customers([contact(3)], BigCommerceHook(), field_map=FIELD_MAP, mode="insert")
    assert result.requests.get("address_create", 0) == 0
    assert result.parts["address"] == {"unchanged": 1}
    assert len(customer(store, "person3@example.com")["addresses"]) == 1


def test_incomplete_address_unknown_group_and_bad_opt_in(store: SandboxHandle) -> None:
    rows = [
        contact(1, street=" "),
        contact(2, segment="Gold"),
        contact(3, optin="maybe"),
        contact(4, state="ZZ"),
    ]
    result = sync_customers(rows, BigCommerceHook(), field_map=FIELD_MAP, report=None)
    assert (result.created, result.rejected) == (2, 2)
    reasons = {r["row"]: r["reason"] for r in result.rejections}
    assert (
        reasons["2"].startswith("customer_group: ")
        and "Wholesale" in reasons["2"]
        and "Gold" not in reasons["2"]
    )
    assert reasons["3"].startswith("newsletter: ")
    assert result.parts["address"] == {"skipped": 2}
    assert customer(store, "person1@example.com")["addresses"] == []


def test_setup_errors_name_what_the_store_lacks(bigcommerce_sandbox: SandboxHandle) -> None:
    with pytest.raises(StoreSetupError, match="'crm_id'.*create_attributes=True"):
        sync_customers(
            [contact(1)],
            BigCommerceHook(),
            field_map={
                "email": "email",
                "first": "first_name",
                "last": "last_name",
                "crm_id": "attribute.crm_id",
            },
        )
    assert bigcommerce_sandbox.store.all_customers() == []
    made = sync_customers(
        [contact(1)],
        BigCommerceHook(),
        create_attributes=True,
        field_map={
            "email": "email",
            "first": "first_name",
            "last": "last_name",
            "crm_id": "attribute.crm_id",
        },
    )
    assert made.created == 1
    assert attribute_values(bigcommerce_sandbox, customer(bigcommerce_sandbox, "person1@example.com")) == {
        "crm_id": "C-1"
    }
    bigcommerce_sandbox.store.configure(customer_groups_enabled=False)
    with pytest.raises(StoreSetupError, match="no customer groups"):
        sync_customers(
            [contact(2)],
            BigCommerceHook(),
            field_map={
                "email": "email",
                "first": "first_name",
                "last": "last_name",
                "segment": "customer_group",
            },
        )


def test_dry_run_reports_each_part_and_writes_nothing(store: SandboxHandle) -> None:
    sync_customers([contact(1)], BigCommerceHook(), field_map=FIELD_MAP, mode="upsert")
    rows = [contact(1, town="Dallas", optin="no"), contact(2)]
    result = sync_customers(rows, BigCommerceHook(), field_map=FIELD_MAP, mode="upsert", dry_run=True)
    assert writes(result) == {}
    assert (result.created, result.updated) == (1, 1)
    assert result.parts["address"] == {"would create": 1, "would update": 1}
    assert customer(store, "person1@example.com")["addresses"][0]["city"] == "Austin"


def test_channels_same_email_global_customers_and_ambiguity(bigcommerce_sandbox: SandboxHandle) -> None:
    store = bigcommerce_sandbox.store
    store.configure(msf=True)
    minimal = {"email": "email", "first": "first_name", "last": "last_name"}
    store.seed(
        [
            {"email": "person1@example.com", "first_name": "A", "last_name": "B", "channel_ids": [1]},
            {"email": "person2@example.com", "first_name": "A", "last_name": "B", "channel_ids": None},
            {"email": "person3@example.com", "first_name": "A", "last_name": "B", "channel_ids": [2]},
            {"email": "person3@example.com", "first_name": "C", "last_name": "D", "channel_ids": [2, 3]},
        ],
        allow_duplicates=True,
    )
    rows = [contact(1), contact(2), contact(3)]
    result = sync_customers(rows, BigCommerceHook(), field_map=minimal, channel_id=2)
    # channel 2 has no global logins: person1 (channel 1) and person2 (global) are new there
    assert (result.created, result.rejected) == (2, 1)
    assert "ambiguous" in result.rejections[0]["reason"]
    new = [c for c in store.find_by_email("person1@example.com") if c["origin_channel_id"] == 2]
    assert [c["channel_ids"] for c in new] == [[2]]
    # channel 1 allows global logins: person2 (null channel_ids) exists there
    on_one = sync_customers([contact(2)], BigCommerceHook(), field_map=minimal, channel_id=1)
    assert (on_one.skipped, on_one.created) == (1, 0)
    assert len(store.find_by_email("person2@example.com")) == 2


def test_operator_summary_and_report_say_how_each_part_ended(store: SandboxHandle, tmp_path: Any) -> None:
    from airflow_bigcommerce.operators.customers import SyncCustomersOperator

    report = tmp_path / "report.jsonl"
    rows = [contact(1), contact(2, town=""), contact(3, crm_id="C-3", new_field="x")]
    field_map = {**FIELD_MAP, "tier": "attribute.loyalty_tier"}
    operator = SyncCustomersOperator(
        task_id="sync",
        contacts=[r | {"tier": "gold"} for r in rows],
        field_map=field_map,
        create_attributes=True,
        report_path=str(report),
    )
    summary = operator.execute(context={})  # type: ignore[arg-type]
    assert summary["created"] == 3
    assert summary["parts"]["address"] == {"created": 2, "skipped": 1}
    assert summary["parts"]["attributes"] == {"created": 3}
    assert summary["requests"]["setup"] >= 3  # attributes listed, two created, groups listed
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert lines[1]["parts"]["address"] == "skipped: no city"
    assert lines[1]["outcome"] == "created" and lines[0]["parts"]["customer"] == "created"
    assert {"newsletter", "group", "attributes", "address", "customer"} == set(lines[0]["parts"])


def test_operator_refuses_a_bad_channel_id() -> None:
    from airflow_bigcommerce.operators.customers import SyncCustomersOperator

    for bad in (0, -1, True, "2"):
        with pytest.raises(ValueError, match="channel_id"):
            SyncCustomersOperator(task_id=f"s{bad!s}", contacts=[], channel_id=bad)
