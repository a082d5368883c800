"""
A contact's parts under faults: every part exactly once, nothing lost, whatever the store answers.

300 contacts with an address, a customer attribute, a group and a newsletter opt-in go through the
real hook over HTTP into a sandbox that fails 20 % of the requests (every fault kind, on every
endpoint: customers, addresses, attribute values, subscribers). Runs are repeated as Airflow's task
retries would be, until one ends without failed rows. Then every customer holds exactly one address
(no copy), its recorded id, the right attribute value and group, and the opted-in e-mails are
subscribers exactly once; a last run without faults writes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from reliability_support import fault_hook, key, record, run_fault_sandbox, until_no_failures

from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.sync.store_setup import ADDRESS_ID_ATTRIBUTE
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.reliability

N_CONTACTS = 300
FIELD_MAP = {
    "email": "email",
    "first": "first_name",
    "last": "last_name",
    "street": "address.address1",
    "city": "address.city",
    "state": "address.state_or_province",
    "zip": "address.postal_code",
    "country": "address.country_code",
    "crm_id": "attribute.crm_id",
    "stage": "customer_group",
    "optin": "newsletter",
}
PART_WRITES = (
    "address_create",
    "address_update",
    "attribute_values",
    "subscriber_create",
    "subscriber_update",
)


def rows(street_of: Any = lambda i: f"{i} Main St") -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "email": f"Part{i}@Example.com",
            "first": "Par",
            "last": f"T{i}",
            "street": street_of(i),
            "city": "Austin",
            "state": "tx",
            "zip": f"{78000 + i}",
            "country": "US",
            "crm_id": f"C-{i}",
            "stage": "VIP" if i % 3 == 0 else "Retail",
            "optin": i % 2 == 0,
        }
        for i in range(N_CONTACTS)
    ]


def sync(contacts: list[dict[str, Any]], mode: str) -> Any:
    return sync_customers(contacts, fault_hook(), field_map=FIELD_MAP, mode=mode, max_concurrency=4)  # type: ignore[arg-type]


def check_store(sandbox: SandboxHandle, contacts: list[dict[str, Any]]) -> None:
    """Every contact exactly once, with exactly the parts the CRM says; nothing twice."""
    store = sandbox.store
    customers = store.all_customers()
    assert sorted(key(c["email"]) for c in customers) == sorted(key(r["email"]) for r in contacts)
    groups = {g["name"]: g["id"] for g in store.groups.everything()}
    attrs = {a["name"]: a["id"] for a in store.attributes.everything()}
    by_email = {key(r["email"]): r for r in contacts}
    found = BigCommerceHook().find_customers_by_email(
        [r["email"] for r in contacts], include=("addresses", "attributes")
    )
    assert len(found) == len(contacts)
    for customer in found:
        row = by_email[key(customer["email"])]
        (address,) = customer["addresses"]  # exactly one: no copy after unknown outcomes
        assert (address["address1"], address["state_or_province"], address["postal_code"]) == (
            row["street"],
            "Texas",
            row["zip"],
        )
        values = {a["attribute_id"]: a["attribute_value"] for a in customer["attributes"]}
        assert values[attrs["crm_id"]] == row["crm_id"]
        assert values[attrs[ADDRESS_ID_ATTRIBUTE]] == str(address["id"])
        assert customer["customer_group_id"] == groups[row["stage"]]
    subscribers = [s for s in BigCommerceHook().iter_subscribers()]
    emails = [key(s["email"]) for s in subscribers]
    assert len(emails) == len(set(emails))
    subscribed = {key(s["email"]) for s in subscribers if "marketing_newsletter" in s["consents"]}
    assert subscribed == {key(r["email"]) for r in contacts if r["optin"]}


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Any:
    with run_fault_sandbox(seed=11) as handle:
        for name, value in handle.env().items():
            monkeypatch.setenv(name, value)
        handle.store.seed_attributes([{"name": "crm_id", "type": "string"}])
        handle.store.seed_groups([{"name": "VIP"}, {"name": "Retail"}])
        yield handle


def test_parts_exactly_once_under_faults_then_no_writes(sandbox: SandboxHandle) -> None:
    contacts = rows()
    first = until_no_failures(lambda: sync(contacts, "insert"))
    faults_first = dict(sandbox.store.stats().get("faults", {}))
    check_store(sandbox, contacts)

    moved = rows(lambda i: f"{i} New St" if i % 10 == 0 else f"{i} Main St")
    second = until_no_failures(lambda: sync(moved, "upsert"))
    check_store(sandbox, moved)

    sandbox.store.configure(faults={})
    last = sync(moved, "upsert")
    assert (last.skipped, last.failed) == (N_CONTACTS, 0)
    assert {k: v for k, v in last.requests.items() if k in ("create", "update", *PART_WRITES) and v} == {}
    record(
        "parts_under_faults",
        contacts=N_CONTACTS,
        runs_first_sync=len(first),
        failed_first_run=first[0].failed,
        runs_after_address_change=len(second),
        faults=faults_first,
        duplicates=0,
        lost=0,
    )


def test_parts_failed_in_an_outage_are_completed_by_the_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    contacts = rows()[:60]
    with run_fault_sandbox(seed=5, faults={}) as sandbox:
        for name, value in sandbox.env().items():
            monkeypatch.setenv(name, value)
        sandbox.store.seed_attributes(
            [{"name": n, "type": "string"} for n in ("crm_id", ADDRESS_ID_ATTRIBUTE)]
        )
        sandbox.store.seed_groups([{"name": "VIP"}, {"name": "Retail"}])
        # the customers exist already (an earlier sync without parts); writes then go down for an hour
        sandbox.store.seed(
            [{"email": r["email"], "first_name": r["first"], "last_name": r["last"]} for r in contacts]
        )
        sandbox.store.configure(outage_s=3600, outage_kind="writes")
        down = sync_customers(
            contacts, BigCommerceHook(retry_budget_s=2), field_map=FIELD_MAP, mode="upsert", max_concurrency=4
        )
        assert (down.failed, down.rejected, down.created) == (len(contacts), 0, 0)
        assert all("failed" in f["reason"] for f in down.failures)
        assert sandbox.store.stats()["customers"] == len(contacts)
        sandbox.store.configure(outage_s=0)
        retried = sync(contacts, "upsert")
        assert (retried.failed, retried.updated) == (0, len(contacts))
        check_store(sandbox, contacts)
        record(
            "parts_outage_then_retry",
            contacts=len(contacts),
            failed_in_outage=down.failed,
            duplicates=0,
            lost=0,
        )
