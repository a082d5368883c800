"""The V3 create payload pieces: inline addresses, attributes and groups by name, argument mapping."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from airflow_bigcommerce.models.customer_post import (
    CustomerV3Post,
    channel_list,
    optional_bool,
    v3_authentication,
    v3_store_credit,
)
from airflow_bigcommerce.models.inline_address import ADDRESS_FIELDS, MAX_ADDRESSES, v3_addresses
from airflow_bigcommerce.models.store_names import (
    attribute_items,
    attribute_text,
    attribute_texts,
    customer_group_id_for,
)

PASSWORD = "Pw-model-7f1a-Secret!"
HOME = {
    "address1": " 1 Main St ",
    "city": "Austin",
    "country_code": "us",
    "state_or_province": "Texas",
    "postal_code": "78701",
}


def addresses(values: Any) -> list[dict[str, str]]:
    return v3_addresses(values, first_name="Ada", last_name="Lovelace")


# -- addresses -------------------------------------------------------------------------------------
def test_address_defaults_names_trims_and_upper_cases_the_country() -> None:
    (address,) = addresses([HOME])
    assert address == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "",
        "address1": "1 Main St",
        "address2": "",
        "city": "Austin",
        "country_code": "US",
        "state_or_province": "Texas",
        "postal_code": "78701",
        "phone": "",
        "address_type": "residential",
    }


def test_address_takes_country_names_and_state_codes_as_the_store_needs_them() -> None:
    (address,) = addresses([HOME | {"country_code": "United States", "state_or_province": "tx"}])
    assert (address["country_code"], address["state_or_province"]) == ("US", "Texas")
    (sydney,) = addresses([HOME | {"country_code": "AU", "state_or_province": "NSW", "postal_code": "2000"}])
    assert sydney["state_or_province"] == "New South Wales"


def test_address_keeps_its_own_names_and_numeric_postal_code() -> None:
    (address,) = addresses(
        [HOME | {"first_name": "Bob", "postal_code": 78701, "address_type": "Commercial", "phone": "+1 555"}]
    )
    assert (address["first_name"], address["last_name"]) == ("Bob", "Lovelace")
    assert (address["postal_code"], address["address_type"], address["phone"]) == (
        "78701",
        "commercial",
        "+1 555",
    )


def test_no_addresses_and_a_single_dict() -> None:
    assert addresses(None) == []
    assert len(addresses(HOME)) == 1


@pytest.mark.parametrize(
    ("index", "change", "field", "reason"),
    [
        (0, {"address1": None}, "address1", "missing"),
        (1, {"city": "  "}, "city", "missing"),
        (1, {"country_code": None}, "country_code", "missing"),
        (1, {"country_code": "Narnia"}, "country_code", "unknown country"),
        (1, {"state_or_province": "ZZ"}, "state_or_province", ""),
        (1, {"state_or_province": "CA-ON"}, "state_or_province", ""),
        (1, {"postal_code": " "}, "postal_code", "missing"),
        (1, {"address_type": "home"}, "address_type", "residential"),
        (1, {"city": "x" * 101}, "city", "100"),
        (1, {"floor": "3"}, "floor", "unknown field"),
        (1, {"city": ["x"]}, "city", "must be text"),
    ],
)
def test_invalid_address_names_index_and_field(
    index: int, change: dict[str, Any], field: str, reason: str
) -> None:
    good = dict(HOME)
    values = [good, good | change] if index else [good | change, good]
    with pytest.raises(ValueError, match=rf"address {index}, field '{field}': .*{reason}") as info:
        addresses(values)
    for value in change.values():
        if isinstance(value, str) and len(value.strip()) > 3:
            assert value not in str(info.value)  # personal data is not echoed


def test_state_codes_are_resolved_in_every_country_with_subdivisions() -> None:
    (address,) = addresses([HOME | {"country_code": "DE", "state_or_province": "NW"}])
    assert address["state_or_province"] == "Nordrhein-Westfalen"


def test_at_most_ten_addresses() -> None:
    with pytest.raises(ValueError, match=f"at most {MAX_ADDRESSES}"):
        addresses([HOME] * (MAX_ADDRESSES + 1))
    with pytest.raises(ValueError, match="list of dicts"):
        addresses("1 Main St")
    with pytest.raises(ValueError, match="address 0: must be a dict"):
        addresses(["1 Main St"])


@given(
    st.dictionaries(
        st.sampled_from(sorted(ADDRESS_FIELDS)),
        st.one_of(st.none(), st.text(max_size=120), st.integers()),
    )
)
def test_any_address_is_accepted_complete_or_refused_with_a_located_error(values: dict[str, Any]) -> None:
    try:
        (address,) = addresses([values])
    except ValueError as exc:
        message = str(exc)
    else:
        message = ""
    if message:
        assert message.startswith("address 0")
        return
    assert {"first_name", "last_name", "address1", "city", "country_code"} <= set(address)
    assert len(address["country_code"]) == 2
    assert address["country_code"].isupper()
    assert set(address) <= set(ADDRESS_FIELDS)


# -- attributes and groups -------------------------------------------------------------------------
STORE_ATTRIBUTES = [
    {"id": 3, "name": "crm_id", "type": "string"},
    {"id": 4, "name": "loyalty_points", "type": "number"},
    {"id": 5, "name": "first_order", "type": "date"},
]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (" C-17 ", "C-17"),
        (42, "42"),
        (1.5, "1.5"),
        (Decimal("10.500"), "10.5"),
        (date(2024, 2, 29), "2024-02-29"),
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "2024-01-02T03:04:05+00:00"),
    ],
)
def test_attribute_values_become_strings(value: Any, text: str) -> None:
    assert attribute_text(value) == text


@pytest.mark.parametrize("value", [True, None, ["a"], float("nan"), "x" * 256])
def test_attribute_values_of_other_kinds_are_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        attribute_text(value)


def test_attribute_names_resolve_to_ids() -> None:
    texts = attribute_texts({"crm_id": "C-17", "loyalty_points": 120, "first_order": date(2024, 5, 1)})
    assert attribute_items(texts, STORE_ATTRIBUTES) == [
        {"attribute_id": 3, "attribute_value": "C-17"},
        {"attribute_id": 4, "attribute_value": "120"},
        {"attribute_id": 5, "attribute_value": "2024-05-01"},
    ]


def test_unknown_attribute_lists_the_store_s_names() -> None:
    with pytest.raises(ValueError, match=r"Unknown customer attribute 'tier': .*'crm_id', 'first_order'"):
        attribute_items({"tier": "gold"}, STORE_ATTRIBUTES)
    with pytest.raises(ValueError, match="attributes are none"):
        attribute_items({"tier": "gold"}, [])


def test_attribute_value_must_fit_the_attribute_type() -> None:
    with pytest.raises(ValueError, match="'loyalty_points': must be a number"):
        attribute_items({"loyalty_points": "many"}, STORE_ATTRIBUTES)
    with pytest.raises(ValueError, match="'first_order': must be an ISO 8601 date"):
        attribute_items({"first_order": "last spring"}, STORE_ATTRIBUTES)


def test_attribute_argument_shape_and_count() -> None:
    with pytest.raises(ValueError, match="dict of attribute name"):
        attribute_texts([("crm_id", "1")])
    with pytest.raises(ValueError, match="at most 10"):
        attribute_texts({f"a{i}": i for i in range(11)})
    with pytest.raises(ValueError, match="attribute 'vip': must be text, a number or a date"):
        attribute_texts({"vip": True})


def test_group_names_are_case_insensitive_and_unknown_ones_listed() -> None:
    groups = [{"id": 1, "name": "Retail"}, {"id": 7, "name": "Wholesale"}]
    assert customer_group_id_for(" wholesale ", groups) == 7
    with pytest.raises(
        ValueError, match=r"Unknown customer group 'VIP': the store's groups are 'Retail', 'Wholesale'"
    ):
        customer_group_id_for("VIP", groups)
    with pytest.raises(ValueError, match="ambiguous: groups 1, 2"):
        customer_group_id_for("retail", [{"id": 1, "name": "Retail"}, {"id": 2, "name": "RETAIL"}])


# -- mapping of the operator's V2-shaped arguments ---------------------------------------------------
def test_authentication_maps_to_v3_names_and_stays_secret() -> None:
    auth = v3_authentication({"password": PASSWORD, "password_confirmation": PASSWORD, "force_reset": True})
    customer = CustomerV3Post(email="ada@example.com", first_name="Ada", last_name="L", authentication=auth)
    assert customer.to_payload()["authentication"] == {"new_password": PASSWORD, "force_password_reset": True}
    assert PASSWORD not in repr(customer.redacted())
    assert PASSWORD not in repr(customer)
    assert v3_authentication(None) is None
    assert v3_authentication({}) is None


def test_authentication_mismatch_names_the_field_not_the_password() -> None:
    with pytest.raises(ValidationError) as info:
        v3_authentication({"password": PASSWORD, "password_confirmation": "other"})
    assert info.value.errors()[0]["loc"] == ("authentication", "password_confirmation")
    assert PASSWORD not in str(info.value)


def test_store_credit_becomes_store_credit_amounts() -> None:
    assert v3_store_credit("10.50") == [{"amount": 10.5}]
    assert v3_store_credit(None) is None
    with pytest.raises(ValueError, match="store_credit: must be"):
        v3_store_credit("-1")


def test_flags_and_channels() -> None:
    assert optional_bool("False", "x") is False
    assert optional_bool(None, "x") is None
    with pytest.raises(ValueError, match="x must be true or false"):
        optional_bool("maybe", "x")
    assert channel_list(None) is None
    assert channel_list(2) == [2]
    assert channel_list((1, 2)) == [1, 2]
    with pytest.raises(ValueError, match="channel_ids must be a list"):
        channel_list({"id": 1})
    with pytest.raises(ValidationError, match="channel_ids"):
        CustomerV3Post(email="ada@example.com", first_name="Ada", last_name="L", channel_ids=[])
