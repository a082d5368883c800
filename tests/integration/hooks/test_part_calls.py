"""The hook's calls for a contact's parts (addresses, attributes, groups, subscribers, channels) over HTTP."""

from __future__ import annotations

import pytest

from airflow_bigcommerce.exceptions import BigCommerceAPIError
from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration

ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "",
    "address1": "1 Main St",
    "address2": "",
    "city": "Austin",
    "state_or_province": "Texas",
    "postal_code": "78701",
    "country_code": "US",
    "phone": "",
    "address_type": "residential",
}


def _customer(hook: BigCommerceHook, email: str = "ada@example.com") -> int:
    created = hook.create_customers([{"email": email, "first_name": "Ada", "last_name": "Lovelace"}])
    return int(created[0]["id"])


def test_addresses_post_put_find_and_fold(bigcommerce_sandbox: SandboxHandle) -> None:
    hook = BigCommerceHook()
    cid = _customer(hook)
    created = hook.create_addresses([{**ADDRESS, "customer_id": cid}])
    assert len(created) == 1 and created[0]["city"] == "Austin"
    # an exact duplicate is folded: 200 without it
    assert hook.create_addresses([{**ADDRESS, "customer_id": cid}]) == []
    hook.update_addresses([{"id": created[0]["id"], "city": "Dallas"}])
    found = hook.find_addresses([cid])
    assert [a["city"] for a in found] == ["Dallas"]
    looked_up = hook.find_customers_by_email(["ada@example.com"], include=("addresses", "attributes"))
    assert looked_up[0]["addresses"][0]["id"] == created[0]["id"]
    assert looked_up[0]["attributes"] == []


def test_attributes_and_values(bigcommerce_sandbox: SandboxHandle) -> None:
    hook = BigCommerceHook()
    cid = _customer(hook)
    attribute = hook.create_customer_attribute("crm_id")
    assert attribute["name"] == "crm_id" and attribute["type"] == "string"
    assert [a["name"] for a in hook.list_customer_attributes()] == ["crm_id"]
    hook.upsert_attribute_values([{"attribute_id": attribute["id"], "value": "C-1", "customer_id": cid}])
    hook.upsert_attribute_values([{"attribute_id": attribute["id"], "value": "C-2", "customer_id": cid}])
    stored = hook.find_customers_by_email(["ada@example.com"], include=("attributes",))[0]["attributes"]
    assert [(a["attribute_id"], a["attribute_value"]) for a in stored] == [(attribute["id"], "C-2")]


def test_customer_groups_and_plans_without_them(bigcommerce_sandbox: SandboxHandle) -> None:
    hook = BigCommerceHook()
    bigcommerce_sandbox.store.seed_groups([{"name": "Wholesale"}, {"name": "VIP"}])
    assert sorted(g["name"] for g in hook.list_customer_groups()) == ["VIP", "Wholesale"]
    bigcommerce_sandbox.store.configure(customer_groups_enabled=False)
    with pytest.raises(BigCommerceAPIError) as info:
        hook.list_customer_groups()
    assert info.value.status == 403


def test_subscribers_create_find_update(bigcommerce_sandbox: SandboxHandle) -> None:
    hook = BigCommerceHook()
    assert hook.find_subscriber("ada@example.com") is None
    created = hook.create_subscriber({"email": "Ada@Example.com", "consents": ["marketing_newsletter"]})
    with pytest.raises(BigCommerceAPIError) as info:
        hook.create_subscriber({"email": "ada@example.com"})
    assert info.value.status == 409
    found = hook.find_subscriber("ADA@example.com")
    assert found is not None and found["id"] == created["id"]
    hook.update_subscriber(created["id"], {"consents": []})
    assert hook.find_subscriber("ada@example.com")["consents"] == []  # type: ignore[index]
    assert hook.count_subscribers() == 1
    assert [s["id"] for s in hook.iter_subscribers()] == [created["id"]]


def test_channel_settings(bigcommerce_sandbox: SandboxHandle) -> None:
    hook = BigCommerceHook()
    assert hook.get_channel_settings(1)["allow_global_logins"] is True
