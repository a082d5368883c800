"""CRM row -> V3 payload mapping: field map, normalisation, rejections, change detection."""

from __future__ import annotations

import pickle
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled

from airflow_bigcommerce.models.contact import (
    COMPARABLE_FIELDS,
    TARGET_FIELDS,
    ContactRejected,
    customer_differs,
    map_contact,
    match_key,
    validate_field_map,
)
from airflow_bigcommerce.models.customer import CustomerV3Create

IDENTITY = validate_field_map(None)
ROW: dict[str, Any] = {"email": "jane@example.com", "first_name": "Jane", "last_name": "Doe"}
SECRET = "Sup3r-Secret-Pw!"


def mapped(**changes: Any) -> dict[str, Any]:
    payload = map_contact({**ROW, **changes}, IDENTITY)
    CustomerV3Create.model_validate(payload)  # whatever map_contact returns, the model accepts
    return payload


def rejected(**changes: Any) -> ContactRejected:
    with pytest.raises(ContactRejected) as info:
        map_contact({**ROW, **changes}, IDENTITY)
    return info.value


# --- constants and the exception ------------------------------------------------------------------
def test_target_and_comparable_fields() -> None:
    assert {
        "email",
        "first_name",
        "last_name",
        "company",
        "phone",
        "notes",
        "tax_exempt_category",
        "customer_group_id",
        "password",
        "force_password_reset",
        "accepts_product_review_abandoned_cart_emails",
    } == TARGET_FIELDS
    assert set(COMPARABLE_FIELDS) == TARGET_FIELDS - {"email", "password", "force_password_reset"}
    assert len(COMPARABLE_FIELDS) == len(set(COMPARABLE_FIELDS))


def test_contact_rejected_shape_and_pickling() -> None:
    exc = ContactRejected("email", "not a valid e-mail address")
    assert (exc.field, exc.reason) == ("email", "not a valid e-mail address")
    assert str(exc) == "email: not a valid e-mail address"
    copy = pickle.loads(pickle.dumps(exc))
    assert (copy.field, copy.reason, str(copy)) == (exc.field, exc.reason, str(exc))


# --- validate_field_map / match_key ---------------------------------------------------------------
def test_field_map_none_is_identity_on_targets() -> None:
    assert {target: target for target in TARGET_FIELDS} == IDENTITY
    assert next(iter(IDENTITY)) == "email"


def test_field_map_is_ordered_by_target() -> None:
    result = validate_field_map(
        {"Phone": "phone", "Last": "last_name", "Mail": "email", "First": "first_name"}
    )
    assert list(result.items()) == [
        ("Mail", "email"),
        ("First", "first_name"),
        ("Last", "last_name"),
        ("Phone", "phone"),
    ]


def test_field_map_unknown_target_named() -> None:
    with pytest.raises(ValueError, match="'loyalty_points'"):
        validate_field_map({"mail": "email", "credit": "loyalty_points"})


def test_field_map_two_columns_on_one_target() -> None:
    with pytest.raises(ValueError, match="'first_name'") as info:
        validate_field_map({"mail": "email", "fn": "first_name", "given": "first_name"})
    assert "'fn'" in str(info.value)
    assert "'given'" in str(info.value)


@pytest.mark.parametrize("field_map", [{}, {"fn": "first_name", "ln": "last_name"}])
def test_field_map_needs_email(field_map: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="'email'"):
        validate_field_map(field_map)


@pytest.mark.parametrize("field_map", [["email"], {"": "email"}, {"mail": "email", 3: "phone"}])
def test_field_map_bad_shapes(field_map: Any) -> None:
    with pytest.raises(ValueError, match="field_map"):
        validate_field_map(field_map)


def test_match_key() -> None:
    assert match_key("  Jane.Doe@Example.COM \n") == "jane.doe@example.com"


# --- map_contact: happy path and the field map ----------------------------------------------------
def test_typical_row() -> None:
    field_map = validate_field_map(
        {
            "Mail": "email",
            "First": "first_name",
            "Last": "last_name",
            "Org": "company",
            "Tel": "phone",
            "Memo": "notes",
            "Group": "customer_group_id",
            "Tax": "tax_exempt_category",
        }
    )
    row = {
        "crm_id": 17,
        "Mail": "  Jane.Doe@Example.com ",
        "First": " Jane ",
        "Last": "Doe",
        "Org": "Acme",
        "Tel": " +1 (555)  123-4567 ",
        "Memo": "likes tea\nprefers e-mail",
        "Group": "3",
        "Tax": "A",
    }
    payload = map_contact(row, field_map)
    assert payload == {
        "email": "Jane.Doe@Example.com",
        "first_name": "Jane",
        "last_name": "Doe",
        "company": "Acme",
        "phone": "+1 (555) 123-4567",
        "notes": "likes tea\nprefers e-mail",
        "tax_exempt_category": "A",
        "customer_group_id": 3,
    }
    assert CustomerV3Create.model_validate(payload).to_payload() == payload


def test_unmapped_columns_ignored_and_missing_columns_missing() -> None:
    field_map = validate_field_map({"mail": "email", "fn": "first_name", "ln": "last_name", "org": "company"})
    row = {"mail": "a@b.co", "fn": "A", "ln": "B", "email": "ignored@x.com", "phone": "123"}
    assert map_contact(row, field_map) == {"email": "a@b.co", "first_name": "A", "last_name": "B"}


@pytest.mark.parametrize("missing", [None, "", "   ", "\t\n", float("nan"), Decimal("NaN")])
@pytest.mark.parametrize("field", ["company", "phone", "notes", "tax_exempt_category", "customer_group_id"])
def test_missing_optional_values_are_not_sent(field: str, missing: object) -> None:
    assert field not in mapped(**{field: missing})


@pytest.mark.parametrize("field", ["email", "first_name", "last_name"])
@pytest.mark.parametrize("missing", [None, "", "  "])
def test_required_fields(field: str, missing: object) -> None:
    exc = rejected(**{field: missing})
    assert (exc.field, exc.reason) == (field, "missing (required)")


@pytest.mark.parametrize("field", ["email", "first_name", "last_name"])
def test_required_field_absent_from_row(field: str) -> None:
    with pytest.raises(ContactRejected) as info:
        map_contact({k: v for k, v in ROW.items() if k != field}, IDENTITY)
    assert info.value.field == field


def test_first_problem_in_target_order() -> None:
    exc = rejected(email="nope", first_name="x" * 101, phone="abc")
    assert exc.field == "email"
    exc = rejected(phone="abc", notes="a\x00b")
    assert exc.field == "phone"


# --- type rules -----------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["first_name", "company", "phone", "notes", "email", "password"])
@pytest.mark.parametrize("value", [b"bytes", bytearray(b"x"), {"a": 1}, ["x"], True, False, object(), 1j])
def test_non_text_values_refused(field: str, value: object) -> None:
    exc = rejected(**{field: value})
    assert exc.field == field
    assert exc.reason.startswith("must be text")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5551234, "5551234"), (5551234.0, "5551234"), (Decimal("42"), "42"), (12.5, "12.5")],
)
def test_numbers_written_out_for_text_fields(value: object, expected: str) -> None:
    assert mapped(phone=value)["phone"] == expected
    assert mapped(company=value)["company"] == expected


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), 10**40])
def test_unwritable_numbers_refused(value: object) -> None:
    assert rejected(company=value).field == "company"


# --- e-mail ---------------------------------------------------------------------------------------
def test_email_trimmed_case_kept() -> None:
    assert mapped(email="  Jane.DOE@Example.Com  ")["email"] == "Jane.DOE@Example.Com"


@pytest.mark.parametrize(
    "email", ["a@b.co", "jane+tag@mail.example.org", "jöhn@exämple.de", "o'neil@example.ie"]
)
def test_valid_emails(email: str) -> None:
    assert mapped(email=email)["email"] == email


@pytest.mark.parametrize(
    "email",
    [
        "plain",
        "jane@example",
        "jane@@example.com",
        "jane@ex@ample.com",
        "ja ne@example.com",
        "jane@example..com",
        "jane@example.com.",
        "<jane@example.com>",
        "jane@example.com,john@example.com",
        "jane@exa\x00mple.com",
        "jane@exa\u200bmple.com",
        12345,
    ],
)
def test_invalid_emails(email: object) -> None:
    exc = rejected(email=email)
    assert exc.field == "email"
    assert exc.reason in {"not a valid e-mail address", "contains a control or invalid character"}


def test_email_length() -> None:
    longest = "a" * (250 - len("@example.com")) + "@example.com"
    assert mapped(email=longest)["email"] == longest
    assert rejected(email="a" + longest).reason == "longer than 250 characters"


# --- lengths --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "limit"),
    [("first_name", 100), ("last_name", 100), ("company", 255), ("tax_exempt_category", 255)],
)
def test_length_limits(field: str, limit: int) -> None:
    assert mapped(**{field: f"  {'é' * limit}  "})[field] == "é" * limit
    exc = rejected(**{field: "a" * (limit + 1)})
    assert (exc.field, exc.reason) == (field, f"longer than {limit} characters")


def test_notes_unbounded() -> None:
    assert len(mapped(notes="n" * 100_000)["notes"]) == 100_000


# --- phone ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  +1 (555) 123-4567 ", "+1 (555) 123-4567"),
        ("555\t\t123   4567", "555 123 4567"),
        ("555.123.4567 x89", "555.123.4567 x89"),
        ("+44\u00a020 7946 0958", "+44 20 7946 0958"),
    ],
)
def test_phone_cleanup(raw: str, clean: str) -> None:
    assert mapped(phone=raw)["phone"] == clean


@pytest.mark.parametrize("raw", ["call me", "555-CALL", "+1 555 1234 ext 5", "٥٥٥١٢٣٤", "555#1", "<b>5</b>"])
def test_phone_bad_characters(raw: str) -> None:
    exc = rejected(phone=raw)
    assert exc.field == "phone"
    assert raw not in str(exc)


def test_phone_length() -> None:
    assert mapped(phone="1" * 50)["phone"] == "1" * 50
    assert rejected(phone="1" * 51).reason == "longer than 50 characters"
    assert mapped(phone="1 " * 25)["phone"] == ("1 " * 25).strip()


# --- control characters ---------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["first_name", "last_name", "company", "tax_exempt_category"])
@pytest.mark.parametrize("char", ["\x00", "\x07", "\n", "\t", "\x1b", "\x7f", "\x85", "\ud800"])
def test_control_characters_refused(field: str, char: str) -> None:
    exc = rejected(**{field: f"ab{char}cd"})
    assert (exc.field, exc.reason) == (field, "contains a control or invalid character")


def test_notes_keep_tabs_and_newlines_and_normalise_crlf() -> None:
    assert mapped(notes=" a\tb\r\nc\rd\n ")["notes"] == "a\tb\nc\nd"
    assert rejected(notes="a\x00b").field == "notes"
    assert rejected(notes="a\x0bb").field == "notes"


def test_printable_unicode_kept() -> None:
    payload = mapped(first_name="Zoë 😀", last_name="O'Brien-Søren", company='<b>"Acme" & Co; DROP TABLE</b>')
    assert payload["first_name"] == "Zoë 😀"
    assert payload["company"] == '<b>"Acme" & Co; DROP TABLE</b>'


# --- customer_group_id ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"), [(3, 3), ("3", 3), (" 7 ", 7), (0, 0), (4.0, 4), ("2147483647", 2**31 - 1)]
)
def test_customer_group_id(value: object, expected: int) -> None:
    assert mapped(customer_group_id=value)["customer_group_id"] == expected


@pytest.mark.parametrize("value", [-1, "-1", "3.5", 3.5, "abc", "٣", True, 2**31, "9" * 5000, b"3", [3]])
def test_customer_group_id_refused(value: object) -> None:
    assert rejected(customer_group_id=value).field == "customer_group_id"


# --- password and force_password_reset ------------------------------------------------------------
def test_password_becomes_authentication() -> None:
    payload = mapped(password=SECRET)
    assert payload["authentication"] == {"new_password": SECRET, "force_password_reset": False}
    assert "password" not in payload


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        (True, True),
        (1, True),
        ("yes", True),
        (" TRUE ", True),
        ("y", True),
        (False, False),
        (0, False),
        ("no", False),
    ],
)
def test_force_password_reset(flag: object, expected: bool) -> None:
    payload = mapped(password=SECRET, force_password_reset=flag)
    assert payload["authentication"] == {"new_password": SECRET, "force_password_reset": expected}


def test_force_reset_without_password() -> None:
    assert mapped(force_password_reset="true")["authentication"] == {"force_password_reset": True}
    assert "authentication" not in mapped(force_password_reset="")


@pytest.mark.parametrize("flag", ["maybe", 2, 0.5, b"1", [True]])
def test_force_password_reset_refused(flag: object) -> None:
    assert rejected(force_password_reset=flag).field == "force_password_reset"


def test_password_kept_as_given_blank_is_missing() -> None:
    assert mapped(password=f"  {SECRET} ")["authentication"]["new_password"] == f"  {SECRET} "
    assert "authentication" not in mapped(password="   ")


def test_password_never_in_rejection() -> None:
    exc = rejected(password=f"{SECRET}\x00")
    assert exc.field == "password"
    assert SECRET not in str(exc)
    assert SECRET not in repr(exc)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "leaky-value@"),
        ("first_name", "leaky" * 30),
        ("phone", "leaky-phone"),
        ("customer_group_id", "leaky"),
        ("force_password_reset", "leaky"),
        ("notes", "leaky\x00"),
    ],
)
def test_rejections_never_echo_values(field: str, value: str) -> None:
    exc = rejected(**{field: value})
    assert exc.field == field
    assert "leaky" not in str(exc)


# --- customer_differs -----------------------------------------------------------------------------
EXISTING: dict[str, Any] = {
    "id": 5,
    "email": "JANE@example.com",
    "first_name": "Jane",
    "last_name": "Doe",
    "company": "",
    "phone": "555 1234",
    "notes": "a\r\nb",
    "tax_exempt_category": "",
    "customer_group_id": 0,
    "date_modified": "2024-01-01T00:00:00Z",
}


def test_unchanged_customer() -> None:
    payload = mapped(email="jane@example.com", phone="555  1234", notes="a\nb", customer_group_id="0")
    assert customer_differs(payload, EXISTING) == {}


def test_changed_fields_reported_with_payload_values() -> None:
    payload = mapped(first_name="Janet", company="Acme", customer_group_id="2", password=SECRET)
    assert customer_differs(payload, EXISTING) == {
        "first_name": "Janet",
        "company": "Acme",
        "customer_group_id": 2,
    }


def test_fields_missing_from_payload_not_compared() -> None:
    assert (
        customer_differs({"email": "x@y.co", "first_name": "Jane"}, {"first_name": " Jane ", "company": "X"})
        == {}
    )


def test_store_values_trimmed_and_none_is_empty() -> None:
    assert customer_differs(
        {"first_name": "Jane", "company": "Acme"}, {"first_name": "Jane ", "company": None}
    ) == {"company": "Acme"}
    assert customer_differs({"customer_group_id": 0}, {}) == {}


def test_case_changes_count() -> None:
    assert customer_differs({"last_name": "DOE"}, EXISTING) == {"last_name": "DOE"}


# --- property: map_contact returns a valid payload or rejects a target field ----------------------
NASTY_TEXT = st.sampled_from(
    [
        "jane@example.com",
        " Jane.Doe@Example.COM ",
        "Robert'); DROP TABLE customers;--",
        '{"$ne": null}',
        "<script>alert(1)</script>",
        "😀👩‍👩‍👧",
        "\u202eevil",
        "\x00\x1b[31m",
        "+1 (555) 123-4567",
        "3",
        "yes",
        "nan",
        "a" * 300,
    ]
)
ANY_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.decimals()
    | st.binary(max_size=10)
    | st.text(max_size=120)
    | st.text(alphabet=st.characters(codec="utf-8"), min_size=90, max_size=300)
    | st.characters().map(lambda c: c * 60)
    | NASTY_TEXT,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=5), inner, max_size=2),
    max_leaves=4,
)
PLAUSIBLE = {
    "email": st.emails(),
    "phone": st.from_regex(r"\A[0-9+() .x-]{0,60}\Z"),
    "customer_group_id": st.integers(min_value=-2, max_value=2**31) | st.integers(0, 99).map(str),
    "force_password_reset": st.sampled_from([True, False, 0, 1, "yes", "No", " true "]),
}


def plausible_or(key: str, value: Any) -> st.SearchStrategy[Any]:
    return PLAUSIBLE[key] | st.just(value) if key in PLAUSIBLE else st.just(value)


ROWS = st.dictionaries(
    st.sampled_from(sorted(TARGET_FIELDS)), ANY_VALUE | st.text(max_size=40), max_size=4
).flatmap(lambda row: st.fixed_dictionaries({key: plausible_or(key, value) for key, value in row.items()}))


@settings(
    max_examples=scaled(600), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(ROWS, st.booleans())
def test_any_row_maps_to_a_valid_payload_or_a_field_rejection(row: dict[str, Any], base: bool) -> None:
    if base:
        row = {**ROW, **row}
    if isinstance(row.get("password"), str) and row["password"].strip():
        # A marker no rejection wording contains, so "not in the message" can only fail on a real leak
        # (a short password like "tax_" would otherwise match the field name by coincidence).
        row["password"] = "PW§probe-" + row["password"]
    failure: ContactRejected | None = None
    try:
        payload = map_contact(row, IDENTITY)
    except ContactRejected as exc:
        failure = exc
    if failure is not None:
        assert failure.field in TARGET_FIELDS
        assert failure.reason
        assert str(failure) == f"{failure.field}: {failure.reason}"
        password = row.get("password")
        if isinstance(password, str) and len(password) > 3:
            assert password not in str(failure)
        return
    model = CustomerV3Create.model_validate(payload)
    assert model.to_payload() == payload  # the model changes nothing: the rules are the same


@settings(max_examples=scaled(200), deadline=None, database=None)
@given(st.emails().filter(lambda email: len(email) <= 250))
def test_every_rfc_dot_atom_email_accepted(email: str) -> None:
    assert mapped(email=email)["email"] == email
