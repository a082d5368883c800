"""CreateCustomerOperator(api_version="v3") against the sandbox over real HTTP on loopback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_bigcommerce.exceptions import (
    BigCommerceAPIError,
    BigCommerceConfigError,
    BigCommerceDuplicateCustomerError,
)
from airflow_bigcommerce.operators.customers import CreateCustomerOperator
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration

PASSWORD = "Pw-int-v3-91b7-Secret!"
ADDRESS = {
    "address1": "12 Crescent Rd",
    "city": "Austin",
    "state_or_province": "Texas",
    "postal_code": "78701",
    "country_code": "us",
}


def create(**fields: Any) -> dict[str, Any]:
    defaults = {
        "task_id": "create",
        "api_version": "v3",
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
    }
    return CreateCustomerOperator(**(defaults | fields)).execute(context={})  # type: ignore[arg-type]


@pytest.fixture
def seeded(bigcommerce_sandbox: SandboxHandle) -> dict[str, int]:
    (attribute,) = bigcommerce_sandbox.store.seed_attributes([{"name": "crm_id", "type": "string"}])
    (group,) = bigcommerce_sandbox.store.seed_groups([{"name": "Wholesale"}])
    return {"attribute_id": int(attribute["id"]), "group_id": int(group["id"])}


def creates(sandbox: SandboxHandle) -> int:
    return int(sandbox.store.stats()["requests"].get("POST /v3/customers", 0))


def test_creates_with_address_attribute_and_group_by_name(
    bigcommerce_sandbox: SandboxHandle, seeded: dict[str, int]
) -> None:
    customer = create(
        addresses=[ADDRESS],
        attributes={"crm_id": "C-17"},
        customer_group="wholesale",
        authentication={"password": PASSWORD, "password_confirmation": PASSWORD, "force_reset": True},
    )
    assert customer["id"] > 0
    assert customer["customer_group_id"] == seeded["group_id"]
    (address,) = customer["addresses"]
    assert address["id"] > 0
    assert (address["first_name"], address["city"], address["country_code"]) == ("Ada", "Austin", "US")
    assert [(a["attribute_id"], a["attribute_value"]) for a in customer["attributes"]] == [
        (seeded["attribute_id"], "C-17")
    ]
    assert "authentication" not in customer
    assert PASSWORD not in json.dumps(customer)
    (stored,) = bigcommerce_sandbox.store.all_customers()
    assert stored["id"] == customer["id"]
    assert stored["address_count"] == 1
    assert PASSWORD not in json.dumps(stored)


def test_if_exists_fail_and_skip_write_nothing(bigcommerce_sandbox: SandboxHandle) -> None:
    first = create(addresses=[ADDRESS])
    with pytest.raises(BigCommerceDuplicateCustomerError, match=rf"already exists \(id {first['id']}\)"):
        create(email="ADA@example.com")
    again = create(email=" Ada@Example.com ", if_exists="skip")
    assert again["id"] == first["id"]
    assert len(again["addresses"]) == 1  # the look-up includes the sub-resources
    assert creates(bigcommerce_sandbox) == 1
    assert len(bigcommerce_sandbox.store.all_customers()) == 1


def test_unknown_group_and_attribute_fail_without_a_write(
    bigcommerce_sandbox: SandboxHandle, seeded: dict[str, int]
) -> None:
    with pytest.raises(BigCommerceConfigError, match="Unknown customer group 'Retail'.*'Wholesale'"):
        create(customer_group="Retail")
    with pytest.raises(BigCommerceConfigError, match="Unknown customer attribute 'tier'.*'crm_id'"):
        create(attributes={"tier": "gold"})
    assert creates(bigcommerce_sandbox) == 0
    assert bigcommerce_sandbox.store.all_customers() == []


def test_plan_without_customer_groups(bigcommerce_sandbox: SandboxHandle, seeded: dict[str, int]) -> None:
    bigcommerce_sandbox.store.configure(customer_groups_enabled=False)
    with pytest.raises(BigCommerceConfigError, match="store's plan has no customer groups"):
        create(customer_group="Wholesale")
    assert bigcommerce_sandbox.store.all_customers() == []
    assert create()["id"] > 0  # without a group the same store takes the customer


def test_invalid_address_fails_before_any_request(bigcommerce_sandbox: SandboxHandle) -> None:
    with pytest.raises(BigCommerceConfigError, match="address 1, field 'state_or_province'"):
        create(addresses=[ADDRESS, ADDRESS | {"state_or_province": "ZZ"}])
    assert bigcommerce_sandbox.store.stats()["requests"] == {}


@pytest.mark.parametrize("fault", ["commit_then_500", "commit_then_drop"])
def test_unknown_outcome_is_resolved_by_lookup_not_resent(
    bigcommerce_sandbox: SandboxHandle, seeded: dict[str, int], fault: str
) -> None:
    bigcommerce_sandbox.store.configure(fault_methods="writes")
    bigcommerce_sandbox.store.faults.force(fault)
    customer = create(
        addresses=[ADDRESS],
        attributes={"crm_id": "C-18"},
        authentication={"password": PASSWORD},
        retry_budget_s=20,
    )
    assert creates(bigcommerce_sandbox) == 1
    (stored,) = bigcommerce_sandbox.store.all_customers()
    assert customer["id"] == stored["id"]
    assert len(customer["addresses"]) == 1
    assert customer["attributes"][0]["attribute_value"] == "C-18"
    assert PASSWORD not in json.dumps(customer)


def test_error_before_write_is_sent_again_once(bigcommerce_sandbox: SandboxHandle) -> None:
    bigcommerce_sandbox.store.configure(fault_methods="writes")
    bigcommerce_sandbox.store.faults.force("error_before_write")
    customer = create(retry_budget_s=20)
    assert len(bigcommerce_sandbox.store.all_customers()) == 1
    assert customer["id"] == bigcommerce_sandbox.store.all_customers()[0]["id"]


def test_store_refusal_never_echoes_the_password(bigcommerce_sandbox: SandboxHandle) -> None:
    too_long = PASSWORD + "x" * 100  # over the store's 100 characters
    with pytest.raises(BigCommerceAPIError) as info:
        create(authentication={"password": too_long})
    assert PASSWORD not in str(info.value)
    assert bigcommerce_sandbox.store.all_customers() == []


def test_form_fields_the_store_defines_are_set_and_an_unknown_one_fails_with_the_stores_reason(
    bigcommerce_sandbox: SandboxHandle,
) -> None:
    bigcommerce_sandbox.store.define_form_fields(["License ID"])
    customer = create(form_fields={"License ID": "L-17"})
    (stored,) = bigcommerce_sandbox.store.all_customers()
    assert stored["id"] == customer["id"]
    from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook

    (found,) = BigCommerceHook().find_customers_by_email(["ada@example.com"], include=("formfields",))
    assert [(f["name"], f["value"]) for f in found["form_fields"]] == [("License ID", "L-17")]
    with pytest.raises(BigCommerceAPIError, match="The form field 'Tier' does not exist"):
        create(email="grace@example.com", form_fields={"Tier": "Gold"})
    assert creates(bigcommerce_sandbox) == 2
