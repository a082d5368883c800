"""
With a ledger, the sync's address ids go into the ledger, not the ``crm_sync_address_id`` attribute.

Without a ledger the sync records which address is its own in that attribute: one attribute-value
write per 10 new contacts. With a ledger the id (from the create's answer) is kept in the contact's
ledger row: a first sync of contacts with addresses costs only the customer creates. A ledger row
without an address id falls back to the attribute, where a sync without a ledger left it.
"""

from __future__ import annotations

from typing import Any

import pytest
from ledger_tasks import Task

from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.sync.store_setup import ADDRESS_ID_ATTRIBUTE
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration

FIELD_MAP = {
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "street": "address.address1",
    "town": "address.city",
    "state": "address.state_or_province",
    "zip": "address.postal_code",
    "country": "address.country_code",
}
WRITES = ("create", "update", "address_create", "address_update", "attribute_values", "setup_create")


def contact(i: int, **changes: Any) -> dict[str, Any]:
    row = {
        "id": f"crm-{i}",
        "email": f"person{i}@example.com",
        "first_name": "P",
        "last_name": f"L{i}",
        "street": f"{i} Main St",
        "town": "Austin",
        "state": "TX",
        "zip": str(78000 + i),
        "country": "US",
    }
    return row | changes


def writes(summary: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in summary["requests"].items() if v and k in WRITES}


def addresses_by_email() -> dict[str, list[dict[str, Any]]]:
    emails = [f"person{i}@example.com" for i in range(40)]
    found = BigCommerceHook().find_customers_by_email(emails, include=("addresses",))
    return {c["email"]: list(c.get("addresses") or ()) for c in found}


def attribute_names() -> set[str]:
    return {a["name"] for a in BigCommerceHook().list_customer_attributes()}


@pytest.fixture
def task(bigcommerce_sandbox: SandboxHandle, ledger_conn_id: str, table: str) -> Task:
    bigcommerce_sandbox.store.configure(quota=0)
    return Task(bigcommerce_sandbox, ledger_conn_id, table)


def sync(task: Task, rows: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    return task(rows, field_map=FIELD_MAP, key_field="id", **kwargs)


def test_a_first_sync_with_addresses_writes_only_the_customers_and_keeps_each_address_id(task: Task) -> None:
    rows = [contact(i) for i in range(30)]
    summary = sync(task, rows)
    assert summary["created"] == 30
    # 30 customers with their addresses inline: 3 creates, no attribute-value write, no attribute created
    assert writes(summary) == {"create": 3}
    assert ADDRESS_ID_ATTRIBUTE not in attribute_names()
    ledger = task.ledger()
    stored = addresses_by_email()
    for i in range(30):
        (address,) = stored[f"person{i}@example.com"]
        assert ledger[f"crm-{i}"].address_id == address["id"]

    again = sync(task, rows)
    assert writes(again) == {}
    assert again["skipped"] == 30

    moved = [contact(3, street="9 Elm St"), *rows[4:6]]
    changed = sync(task, moved)
    assert writes(changed) == {"address_update": 1}
    (address,) = addresses_by_email()["person3@example.com"]
    assert address["address1"] == "9 Elm St"
    assert task.ledger()["crm-3"].address_id == address["id"]


def test_a_shoppers_own_address_is_never_taken_for_the_syncs(task: Task) -> None:
    sync(task, [contact(1)])
    (ours,) = addresses_by_email()["person1@example.com"]
    hook = BigCommerceHook()
    # the shopper adds an address of their own, then the CRM moves the contact
    hook.create_addresses(
        [
            {
                "customer_id": ours["customer_id"],
                "first_name": "P",
                "last_name": "L1",
                "address1": "5 Oak Ave",
                "city": "Austin",
                "state_or_province": "Texas",
                "postal_code": "78001",
                "country_code": "US",
            }
        ]
    )
    summary = sync(task, [contact(1, street="7 Pine Rd")])
    assert writes(summary) == {"address_update": 1}
    after = {a["id"]: a["address1"] for a in addresses_by_email()["person1@example.com"]}
    assert after[ours["id"]] == "7 Pine Rd"
    assert sorted(after.values()) == ["5 Oak Ave", "7 Pine Rd"]


def test_a_ledger_row_without_an_address_id_falls_back_to_the_attribute(
    task: Task, bigcommerce_sandbox: SandboxHandle
) -> None:
    rows = [contact(i) for i in range(12)]
    plain = SyncCustomersOperator(task_id="plain", contacts=rows, field_map=FIELD_MAP, mode="upsert")
    first = plain.execute(context={})
    assert first["created"] == 12
    assert first["requests"]["attribute_values"] == 2  # without a ledger: the attribute is the record
    assert ADDRESS_ID_ATTRIBUTE in attribute_names()
    ours = {email: a[0]["id"] for email, a in addresses_by_email().items()}

    # a shopper adds an address the CRM's will equal after the change below: the record decides
    hook = BigCommerceHook()
    cid = addresses_by_email()["person2@example.com"][0]["customer_id"]
    shopper = {"first_name": "P", "last_name": "L2", "city": "Austin", "state_or_province": "Texas"}
    hook.create_addresses(
        [
            {
                "customer_id": cid,
                "address1": "1 Shop St",
                "postal_code": "78002",
                "country_code": "US",
                **shopper,
            }
        ]
    )

    adopted = sync(task, [*rows[:2], contact(2, street="1 Shop St"), *rows[3:]])
    assert writes(adopted) == {"address_update": 1}  # the recorded address, never the shopper's
    ledger = task.ledger()
    assert {f"person{i}@example.com": ledger[f"crm-{i}"].address_id for i in range(12)} == ours
    after = {a["id"]: a["address1"] for a in addresses_by_email()["person2@example.com"]}
    assert after[ours["person2@example.com"]] == "1 Shop St"
    assert sorted(after.values()) == ["1 Shop St", "1 Shop St"]  # the shopper's own is still there
