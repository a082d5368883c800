"""CRM address columns -> V3 address payloads; address comparison; attribute values; newsletter flags."""

from __future__ import annotations

import datetime
import math
import pickle
import re
from decimal import Decimal
from typing import Any

import pycountry
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled

from airflow_bigcommerce.models.address import (
    ADDRESS_FIELDS,
    ADDRESS_MAX_LENGTHS,
    AddressSkipped,
    address_changes,
    address_key,
    normalize_address,
    normalize_attribute_value,
    parse_newsletter,
)
from airflow_bigcommerce.models.regions import (
    country_code,
    has_subdivisions,
    requires_postal_code,
    requires_state,
)

NAMES = {"first_name": "Jane", "last_name": "Doe"}
US: dict[str, object] = {
    "address1": "1 Main St",
    "city": "Austin",
    "state_or_province": "Texas",
    "postal_code": "78701",
    "country_code": "US",
}


def norm(**values: object) -> dict[str, str] | None:
    return normalize_address(values, **NAMES)


def address(**changes: object) -> dict[str, str]:
    result = normalize_address({**US, **changes}, **NAMES)
    assert result is not None
    return result


def skipped(**changes: object) -> AddressSkipped:
    with pytest.raises(AddressSkipped) as info:
        normalize_address({**US, **changes}, **NAMES)
    return info.value


# --- the payload ----------------------------------------------------------------------------------
def test_full_payload_has_all_fields_as_strings() -> None:
    assert address() == {
        "first_name": "Jane",
        "last_name": "Doe",
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
    assert tuple(address()) == ADDRESS_FIELDS


def test_names_default_to_the_customers_and_may_be_overridden() -> None:
    assert address(first_name="  ", last_name=None)["first_name"] == "Jane"
    got = address(first_name=" Shipping ", last_name="Dept")
    assert (got["first_name"], got["last_name"]) == ("Shipping", "Dept")


def test_whitespace_is_trimmed_and_collapsed() -> None:
    got = address(address1="  1   Main\tSt  ", address2=" Suite\n 4 ", city=" Austin ", company=" A  B ")
    assert (got["address1"], got["address2"], got["city"], got["company"]) == (
        "1 Main St",
        "Suite 4",
        "Austin",
        "A B",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2000, "2000"),
        (2000.0, "2000"),
        (Decimal("2000"), "2000"),
        (Decimal("2000.00"), "2000"),
        ("02000", "02000"),
    ],
)
def test_postal_codes_written_out_like_a_crm(value: object, expected: str) -> None:
    assert address(postal_code=value)["postal_code"] == expected


def test_nan_counts_as_blank() -> None:
    got = address(address2=float("nan"), company=Decimal("NaN"), phone=None)
    assert (got["address2"], got["company"], got["phone"]) == ("", "", "")
    assert skipped(city=float("nan")).field == "city"


def test_no_address_at_all_is_none() -> None:
    assert normalize_address({}, **NAMES) is None
    assert norm(address1=None, city="  ", postal_code=float("nan"), country_code="") is None
    assert norm(address_type="commercial") is None  # a type alone describes no address


def test_unknown_keys_are_a_mapping_bug() -> None:
    with pytest.raises(ValueError, match="not address fields: street"):
        normalize_address({"street": "1 Main St"}, **NAMES)


# --- country --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        "US",
        "us",
        "USA",
        "usa",
        "United States",
        "united states",
        "  United   States  ",
        "UNITED STATES OF AMERICA",
    ],
)
def test_country_spellings(value: str) -> None:
    assert address(country_code=value)["country_code"] == "US"


@pytest.mark.parametrize("value", ["GB", "gb", "GBR", "gbr", "United Kingdom", "uk", "UK"])
def test_united_kingdom(value: str) -> None:
    got = address(country_code=value, state_or_province="", postal_code="SW1A 1AA")
    assert got["country_code"] == "GB"


@pytest.mark.parametrize(
    ("value", "expected"), [("germany", "DE"), ("Czechia", "CZ"), ("Viet Nam", "VN"), ("Vietnam", "VN")]
)
def test_country_names_pycountry_knows(value: str, expected: str) -> None:
    assert country_code(value) == expected


@pytest.mark.parametrize("value", ["Deutschland", "Untied States", "XX", "ZZZ", "840", 840, "America"])
def test_unknown_countries_are_skipped_by_name(value: object) -> None:
    # pycountry knows English names only (no "Deutschland") and matches exactly (no typo fixing).
    exc = skipped(country_code=value)
    assert (exc.field, exc.reason) == ("country_code", "unknown country")
    assert str(exc) == "address skipped: country_code: unknown country"


# --- state or province ----------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["TX", "tx", "US-TX", "us-tx", "Texas", "texas", " TEXAS "])
def test_us_state_spellings_become_the_full_name(value: str) -> None:
    assert address(state_or_province=value)["state_or_province"] == "Texas"


@pytest.mark.parametrize("value", ["NSW", "nsw", "AU-NSW", "New South Wales", "new  south wales"])
def test_australian_states(value: str) -> None:
    got = address(country_code="AU", state_or_province=value, postal_code=2000, city="Sydney")
    assert got["state_or_province"] == "New South Wales"


def test_other_countries_states() -> None:
    assert address(country_code="CA", state_or_province="QC")["state_or_province"] == "Quebec"
    assert address(country_code="DE", state_or_province="BY")["state_or_province"] == "Bayern"
    # pycountry's bracketed alternatives are dropped from the name and accepted as input
    assert address(country_code="GB", state_or_province="WLS")["state_or_province"] == "Wales"
    assert address(country_code="ES", state_or_province="Cataluña")["state_or_province"] == "Catalunya"
    # lower-level subdivisions resolve too: Italian addresses carry the province
    assert address(country_code="IT", state_or_province="MI")["state_or_province"] == "Milano"


def test_unknown_state_names_are_kept_as_given() -> None:
    # BigCommerce may know names ISO does not ("Dubai" is ISO's "Dubayy").
    assert address(country_code="AE", state_or_province="  Dubai ")["state_or_province"] == "Dubai"
    assert address(state_or_province="Lone  Star")["state_or_province"] == "Lone Star"
    # a short real name is a name, not a code
    assert (
        address(country_code="IN", state_or_province="goa", postal_code="403001")["state_or_province"]
        == "Goa"
    )


@pytest.mark.parametrize("value", ["ZZ", "zzz", "US-ZZ", "CA-ON", "ON"])
def test_codes_naming_no_subdivision_are_skipped(value: str) -> None:
    exc = skipped(state_or_province=value)
    assert exc.field == "state_or_province"
    assert str(exc) == "address skipped: state_or_province: unknown state or province code"


def test_codes_are_kept_where_iso_lists_no_subdivisions() -> None:
    assert not has_subdivisions("HK")
    assert address(country_code="HK", state_or_province="KLN", postal_code="")["state_or_province"] == "KLN"


# --- required fields ------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["address1", "city", "country_code"])
def test_always_required(field: str) -> None:
    exc = skipped(**{field: " "})
    assert (exc.field, str(exc)) == (field, f"address skipped: no {field}")


def test_missing_names_without_customer_names() -> None:
    with pytest.raises(AddressSkipped, match=r"^address skipped: no first_name$"):
        normalize_address(US, first_name=" ", last_name="Doe")


def test_first_missing_field_is_reported() -> None:
    assert str(skipped(address1=None, city=None)) == "address skipped: no address1"
    assert str(skipped(state_or_province="", postal_code="")) == "address skipped: no state_or_province"
    # without a country its state and postal code rules are unknown: the country is what is missing
    assert str(skipped(country_code=None, state_or_province="")) == "address skipped: no country_code"


def test_missing_street_is_skipped() -> None:
    assert str(skipped(address1=None)) == "address skipped: no address1"


@pytest.mark.parametrize(("country", "state"), [("US", True), ("CA", True), ("AU", True), ("DE", False)])
def test_state_needed_per_google_data(country: str, state: bool) -> None:
    assert requires_state(country) is state
    assert requires_postal_code(country)


def test_state_and_postal_code_where_the_country_needs_them() -> None:
    assert str(skipped(postal_code=None)) == "address skipped: no postal_code"
    assert skipped(state_or_province=None).field == "state_or_province"
    got = address(country_code="DE", state_or_province=None, postal_code="10115", city="Berlin")
    assert got["state_or_province"] == ""
    assert str(skipped(country_code="DE", postal_code="")) == "address skipped: no postal_code"


@pytest.mark.parametrize(("country", "state"), [("HK", "Kowloon"), ("AE", "Dubai"), ("IE", "")])
def test_countries_without_postal_codes(country: str, state: str) -> None:
    assert not requires_postal_code(country)
    got = address(country_code=country, state_or_province=state, postal_code=None)
    assert (got["country_code"], got["postal_code"]) == (country, "")


def test_hong_kong_needs_its_area() -> None:
    assert requires_state("HK")
    assert str(skipped(country_code="HK", state_or_province="")) == "address skipped: no state_or_province"


# --- address type, lengths, bad values ------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "residential"),
        ("", "residential"),
        ("Commercial", "commercial"),
        (" RESIDENTIAL ", "residential"),
    ],
)
def test_address_type(value: object, expected: str) -> None:
    assert address(address_type=value)["address_type"] == expected


def test_bad_address_type() -> None:
    assert str(skipped(address_type="business")) == (
        "address skipped: address_type: must be residential or commercial"
    )


@pytest.mark.parametrize(("field", "limit"), sorted(ADDRESS_MAX_LENGTHS.items()))
def test_length_limits(field: str, limit: int) -> None:
    value = "1" * limit if field in ("phone", "postal_code") else "a" * limit
    assert address(**{field: value})[field] == value
    exc = skipped(**{field: value + value[0]})
    assert str(exc) == f"address skipped: {field}: longer than {limit} characters"


def test_limits_follow_the_spec() -> None:
    assert ADDRESS_MAX_LENGTHS == {
        "first_name": 255,
        "last_name": 255,
        "company": 255,
        "address1": 255,  # none in the spec: the sandbox's (and our) cap
        "address2": 255,
        "city": 100,
        "state_or_province": 100,
        "postal_code": 30,
        "phone": 50,
    }


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (True, "must be text or a number, got bool"),
        (["1 Main St"], "must be text or a number, got list"),
        (float("inf"), "must be text, got an infinite number"),
        (10**40, "must be text, got a number too large to write out"),
        ("1 Main\x00St", "contains a control or invalid character"),
    ],
)
def test_bad_values_name_the_field_never_the_value(value: object, reason: str) -> None:
    exc = skipped(address1=value)
    assert (exc.field, exc.reason) == ("address1", reason)
    assert "Main" not in str(exc)


def test_address_skipped_pickles() -> None:
    exc = pickle.loads(pickle.dumps(AddressSkipped("city", "missing (required)")))
    assert (exc.field, exc.reason, str(exc)) == ("city", "missing (required)", "address skipped: no city")


# --- comparison -----------------------------------------------------------------------------------
STORED: dict[str, Any] = {
    "id": 7,
    "customer_id": 3,
    "first_name": "Jane",
    "last_name": "Doe",
    "company": None,
    "address1": "1 Main St",
    "address2": "",
    "city": "Austin",
    "state_or_province": "Texas",
    "postal_code": "78701",
    "country_code": "US",
    "country": "United States",
    "phone": "",
    "address_type": "residential",
    "form_fields": [],
}


def test_key_of_payload_equals_key_of_the_stored_copy() -> None:
    assert address_key(address()) == address_key(STORED)
    assert address_changes(address(), STORED) == {}


def test_key_is_defensive_about_store_values() -> None:
    variant = {
        **STORED,
        "state_or_province": "TX",
        "country_code": "us",
        "address1": " 1  Main St ",
        "address_type": None,
    }
    assert address_key(variant) == address_key(STORED)
    assert address_key({**STORED, "postal_code": "sw1a 1aa"}) == address_key(
        {**STORED, "postal_code": "SW1A 1AA"}
    )


def test_key_is_case_sensitive_elsewhere() -> None:
    assert address_key({**STORED, "city": "austin"}) != address_key(STORED)
    assert address_key({**STORED, "address_type": "commercial"}) != address_key(STORED)


def test_changes_are_what_a_put_sends() -> None:
    payload = address(address2="Suite 4", postal_code="78702")
    assert address_changes(payload, STORED) == {"address2": "Suite 4", "postal_code": "78702"}
    assert address_changes(address(postal_code=78701.0), STORED) == {}


def test_a_country_change_carries_state_and_postal_code() -> None:
    payload = address(country_code="CA", state_or_province="ON", postal_code="78701")
    assert address_changes(payload, STORED) == {
        "country_code": "CA",
        "state_or_province": "Ontario",
        "postal_code": "78701",
    }


def test_changes_compare_only_given_fields() -> None:
    assert address_changes({"city": "Dallas"}, STORED) == {"city": "Dallas"}


# --- attribute values -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        (float("nan"), None),
        (Decimal("NaN"), None),
        (" gold ", "gold"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (42.0, "42"),
        (4.5, "4.5"),
        (Decimal("10"), "10"),
        (Decimal("1.50"), "1.50"),
        (Decimal("1E-3"), "0.001"),
        (datetime.date(2024, 2, 29), "2024-02-29"),
        (datetime.datetime(2024, 2, 29, 13, 5, 0), "2024-02-29T13:05:00"),
        (
            datetime.datetime(2024, 2, 29, 13, 5, tzinfo=datetime.timezone.utc),
            "2024-02-29T13:05:00+00:00",
        ),
    ],
)
def test_attribute_values(value: object, expected: str | None) -> None:
    assert normalize_attribute_value(value) == expected


@pytest.mark.parametrize("value", [[1], {"a": 1}, b"x", datetime.time(12, 0), float("inf"), complex(1, 2)])
def test_attribute_values_of_other_types(value: object) -> None:
    with pytest.raises(ValueError, match=r"^must be text, a number or a date$"):
        normalize_attribute_value(value)


def test_attribute_value_limit() -> None:
    assert normalize_attribute_value("x" * 255) == "x" * 255
    with pytest.raises(ValueError, match=r"^longer than 255 characters$"):
        normalize_attribute_value("x" * 256)


# --- newsletter -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (" ", None),
        (float("nan"), None),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (1.0, True),
        (0.0, False),
        (Decimal(1), True),
        ("yes", True),
        ("No", False),
        ("Y", True),
        ("n", False),
        ("TRUE", True),
        ("false", False),
        ("t", True),
        ("f", False),
        ("on", True),
        ("OFF", False),
        ("1", True),
        ("0", False),
    ],
)
def test_newsletter_flags(value: object, expected: bool | None) -> None:
    assert parse_newsletter(value) is expected


@pytest.mark.parametrize("value", ["maybe", 2, 0.5, "subscribed", [True]])
def test_newsletter_refuses_other_values(value: object) -> None:
    with pytest.raises(ValueError, match=r"^must be true or false$"):
        parse_newsletter(value)


# --- properties -----------------------------------------------------------------------------------
PROPERTY_SETTINGS = settings(
    max_examples=scaled(150), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
_numbers = st.one_of(
    st.integers(min_value=-(10**35), max_value=10**35),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
)
_texts = st.text(max_size=40)
_countries = st.sampled_from(
    ["US", "us", "CA", "AU", "aus", "GB", "DE", "HK", "AE", "JP", "united states", "XX"]
)
_states = st.sampled_from(["TX", "us-tx", "Ontario", "NSW", "qc", "Texas", "Bayern", "", "ZZ", "Kowloon"])


def _value() -> st.SearchStrategy[object]:
    return st.one_of(st.none(), _texts, _numbers)


_rows = st.fixed_dictionaries(
    {},
    optional={
        "first_name": _value(),
        "last_name": _value(),
        "company": _value(),
        "address1": st.one_of(st.just("1 Main St"), _value()),
        "address2": _value(),
        "city": st.one_of(st.just("Springfield"), _value()),
        "state_or_province": st.one_of(_states, _value()),
        "postal_code": st.one_of(st.just("12345"), _value()),
        "country_code": st.one_of(_countries, _value()),
        "phone": _value(),
        "address_type": st.one_of(st.sampled_from(["residential", "Commercial", ""]), _value()),
    },
)

_printable = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)
_present = _printable.filter(str.strip)
#: Rows that mostly make an address, so the properties see many payloads and not only skips.
_plausible_rows = st.fixed_dictionaries(
    {
        "address1": _present,
        "city": _present,
        "country_code": st.sampled_from(["US", "ca", "AUS", "GB", "germany", "HK", "IE", "JP"]),
        "state_or_province": st.one_of(_states, _printable),
        "postal_code": st.one_of(st.integers(0, 99999), st.floats(0, 99999), _present),
    },
    optional={
        "first_name": _printable,
        "last_name": _printable,
        "company": _printable,
        "address2": st.one_of(st.none(), st.just(float("nan")), _printable),
        "phone": st.one_of(st.integers(0, 10**12), _printable),
        "address_type": st.sampled_from(["residential", "Commercial", "", None]),
    },
)


def _try(values: dict[str, object]) -> dict[str, str] | None:
    try:
        return normalize_address(values, **NAMES)
    except AddressSkipped as exc:
        problem = exc
    assert problem.field in ADDRESS_FIELDS
    assert str(problem).startswith("address skipped: ")
    return None


@PROPERTY_SETTINGS
@given(st.one_of(_rows, _plausible_rows))
def test_only_address_skipped_and_always_11_strings(values: dict[str, object]) -> None:
    result = _try(values)
    if result is not None:
        assert tuple(result) == ADDRESS_FIELDS
        assert all(type(text) is str for text in result.values())
        assert re.fullmatch(r"[A-Z]{2}", result["country_code"])
        for field, text in result.items():
            assert text == " ".join(text.split())
            assert len(text) <= ADDRESS_MAX_LENGTHS.get(field, 255)


@PROPERTY_SETTINGS
@given(st.one_of(_rows, _plausible_rows))
def test_idempotent_and_key_stable(values: dict[str, object]) -> None:
    result = _try(values)
    if result is not None:
        again = normalize_address(result, first_name="Other", last_name="Names")
        assert again == result
        assert address_key(result) == address_key(again)
        assert address_changes(again, result) == {}


_SUBDIVISIONS = sorted(
    (sub.country_code, sub.code, sub.name)
    for sub in pycountry.subdivisions
    if sub.country_code in ("US", "CA", "AU")
)


@PROPERTY_SETTINGS
@given(
    st.sampled_from(_SUBDIVISIONS),
    st.booleans(),
    st.sampled_from([str.upper, str.lower, str.title]),
)
def test_us_ca_au_codes_always_become_names(
    subdivision: tuple[str, str, str], prefixed: bool, case: Any
) -> None:
    country, code, name = subdivision
    given_code = case(code if prefixed else code.split("-", 1)[1])
    got = address(country_code=country, state_or_province=given_code, postal_code="12345")
    assert got["state_or_province"] == name
    assert not re.fullmatch(r"[A-Za-z]{2,3}|[A-Za-z]{2}-[A-Za-z0-9]{1,3}", got["state_or_province"])


@settings(max_examples=scaled(100), deadline=None)
@given(st.one_of(st.none(), _texts, _numbers, st.booleans(), st.dates(), st.datetimes()))
def test_attribute_value_is_none_or_bounded_text(value: object) -> None:
    try:
        text = normalize_attribute_value(value)
    except ValueError:
        return
    if text is not None:
        assert text == text.strip() and 0 < len(text) <= 255
        assert not (isinstance(value, float) and math.isnan(value))
