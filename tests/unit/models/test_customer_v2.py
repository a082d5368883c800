"""Customer payload models: V2 Create Customer (the seed), and the V3 models the engine types with."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled
from pydantic import SecretStr, ValidationError

from airflow_bigcommerce.models.customer import (
    CustomerV2Authentication,
    CustomerV2Create,
    CustomerV3,
    CustomerV3Create,
    CustomerV3Update,
    format_validation_error,
)

BASE: dict[str, Any] = {"first_name": "Jane", "last_name": "Doe", "email": "jane@example.com"}
SECRET = "Sup3r-Secret-Pw!"
OTHER_SECRET = "Other-Secret-Pw?"


def v2(**changes: Any) -> CustomerV2Create:
    return CustomerV2Create.model_validate({**BASE, **changes})


def v2_errors(**changes: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        v2(**changes)
    return info.value


def only_error(exc: ValidationError) -> tuple[tuple[int | str, ...], str, str]:
    errors = exc.errors()
    assert len(errors) == 1, errors
    return errors[0]["loc"], errors[0]["type"], errors[0]["msg"]


# --- required fields and trimming -----------------------------------------------------------------
def test_minimal_customer_payload() -> None:
    assert v2().to_payload() == BASE


def test_strings_are_trimmed_and_email_case_kept() -> None:
    customer = v2(
        first_name="  Jane ", last_name="\tDoe\n", email="  Jane.Doe@Example.COM ", company=" Acme "
    )
    assert customer.to_payload() == {
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "Jane.Doe@Example.COM",
        "company": "Acme",
    }


@pytest.mark.parametrize("field", ["first_name", "last_name", "email"])
def test_required_field_missing(field: str) -> None:
    data = {k: v for k, v in BASE.items() if k != field}
    with pytest.raises(ValidationError) as info:
        CustomerV2Create.model_validate(data)
    loc, kind, _ = only_error(info.value)
    assert loc == (field,)
    assert kind == "missing"
    assert format_validation_error(info.value) == f"field '{field}': missing (required)"


@pytest.mark.parametrize("field", ["first_name", "last_name", "email"])
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_required_field_blank(field: str, blank: str) -> None:
    loc, _, msg = only_error(v2_errors(**{field: blank}))
    assert loc == (field,)
    assert msg == "missing (required)"


@pytest.mark.parametrize(
    "field", ["company", "phone", "notes", "tax_exempt_category", "registration_ip_address"]
)
def test_blank_optional_strings_are_not_sent(field: str) -> None:
    assert field not in v2(**{field: "   "}).to_payload()


def test_none_fields_are_not_sent() -> None:
    assert v2(company=None, phone=None, store_credit=None, _authentication=None).to_payload() == BASE


@pytest.mark.parametrize("field", ["first_name", "email", "company", "notes"])
@pytest.mark.parametrize("value", [123, b"bytes", ["x"], {"x": 1}, True])
def test_strings_must_be_strings(field: str, value: object) -> None:
    loc, _, _ = only_error(v2_errors(**{field: value}))
    assert loc == (field,)


# --- lengths (V3 customer_Post limits; V2 gives none) ---------------------------------------------
@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("first_name", 100),
        ("last_name", 100),
        ("company", 255),
        ("tax_exempt_category", 255),
        ("registration_ip_address", 30),
    ],
)
def test_text_length_limits(field: str, limit: int) -> None:
    assert v2(**{field: "a" * limit}).to_payload()[field] == "a" * limit
    loc, _, msg = only_error(v2_errors(**{field: "a" * (limit + 1)}))
    assert loc == (field,)
    assert msg == f"longer than {limit} characters"


def test_length_counts_after_trimming() -> None:
    assert v2(first_name="  " + "a" * 100 + "  ").first_name == "a" * 100


def test_email_length_limits() -> None:
    email = "a" * (250 - len("@example.com")) + "@example.com"
    assert v2(email=email).email == email
    loc, _, msg = only_error(v2_errors(email="a" + email))
    assert (loc, msg) == (("email",), "longer than 250 characters")


def test_phone_limit_and_cleanup() -> None:
    assert v2(phone="  +1 (555)\t 123-4567 x89 ").phone == "+1 (555) 123-4567 x89"
    assert v2(phone="1" * 50).phone == "1" * 50
    assert only_error(v2_errors(phone="1" * 51))[2] == "longer than 50 characters"
    assert only_error(v2_errors(phone="call me"))[0] == ("phone",)


def test_notes_have_no_limit_and_keep_lines() -> None:
    notes = "line one\r\nline\ttwo\rthree " + "n" * 10_000
    assert v2(notes=notes).notes == "line one\nline\ttwo\nthree " + "n" * 10_000


@pytest.mark.parametrize("field", ["first_name", "company", "notes", "email", "phone"])
def test_control_characters_refused(field: str) -> None:
    loc, _, msg = only_error(v2_errors(**{field: "ab\x00c@example.com"}))
    assert loc == (field,)
    assert "control" in msg


# --- e-mail rule ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "email",
    ["jane@example.com", "Jane.Doe+tag@Sub.Example.co.uk", "o'neil@example.ie", "jöhn@exämple.de", "a@b.co"],
)
def test_valid_emails(email: str) -> None:
    assert v2(email=email).email == email


@pytest.mark.parametrize(
    "email",
    [
        "plain",
        "jane@example",
        "jane@@example.com",
        "ja ne@example.com",
        "jane@example..com",
        "jane@.example.com",
        "jane@example.com.",
        "@example.com",
        "<jane@example.com>",
        "jane@example.com, john@example.com",
        "jane@example.com;",
        '"jane"@example.com',
        "jane@exa\u00a0mple.com",
    ],
)
def test_invalid_emails(email: str) -> None:
    loc, _, msg = only_error(v2_errors(email=email))
    assert loc == ("email",)
    assert msg in {"not a valid e-mail address", "contains a control or invalid character"}


# --- read-only, unknown, misplaced fields ---------------------------------------------------------
@pytest.mark.parametrize(
    "field", ["id", "date_created", "date_modified", "accepts_marketing", "addresses", "form_fields"]
)
def test_read_only_fields_refused_by_name(field: str) -> None:
    exc = v2_errors(**{field: 1})
    loc, kind, msg = only_error(exc)
    assert loc == (field,)
    assert kind != "extra_forbidden"
    assert "read-only" in msg
    assert format_validation_error(exc) == f"field '{field}': {msg}"


def test_several_read_only_fields_all_named() -> None:
    exc = v2_errors(id=1, date_created="x")
    assert {e["loc"] for e in exc.errors()} == {("id",), ("date_created",)}


def test_force_reset_at_top_level_points_to_authentication() -> None:
    loc, _, msg = only_error(v2_errors(force_reset=True))
    assert loc == ("force_reset",)
    assert "_authentication" in msg


def test_unknown_field_refused_by_name() -> None:
    exc = v2_errors(favourite_colour="blue")
    loc, kind, _ = only_error(exc)
    assert (loc, kind) == (("favourite_colour",), "extra_forbidden")
    assert (
        format_validation_error(exc) == "field 'favourite_colour': unknown field, not accepted by BigCommerce"
    )


def test_reset_pass_on_login_is_a_v2_field() -> None:
    assert v2(reset_pass_on_login=True).to_payload()["reset_pass_on_login"] is True


# --- customer_group_id and store_credit -----------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"), [(0, 0), (3, 3), ("3", 3), (" 12 ", 12), (4.0, 4), (2**31 - 1, 2**31 - 1)]
)
def test_customer_group_id_accepted(value: object, expected: int) -> None:
    assert v2(customer_group_id=value).to_payload()["customer_group_id"] == expected


@pytest.mark.parametrize(
    "value", [-1, "-1", "3.5", 3.5, True, "abc", "", 2**31, "9" * 5000, float("nan"), [3]]
)
def test_customer_group_id_refused(value: object) -> None:
    assert only_error(v2_errors(customer_group_id=value))[0] == ("customer_group_id",)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0.00"),
        (10, "10.00"),
        (10.5, "10.50"),
        ("10.5", "10.50"),
        (" 7 ", "7.00"),
        (0.1, "0.10"),
        ("0.1234", "0.1234"),
        ("1.50000", "1.50"),
        (Decimal("99.999"), "99.999"),
    ],
)
def test_store_credit_sent_as_decimal_string(value: object, expected: str) -> None:
    assert v2(store_credit=value).to_payload()["store_credit"] == expected


@pytest.mark.parametrize(
    "value", [-1, "-1", "abc", "1e3", "1,5", True, "1.23456", float("nan"), float("inf"), "", 10**20, [1]]
)
def test_store_credit_refused(value: object) -> None:
    assert only_error(v2_errors(store_credit=value))[0] == ("store_credit",)


# --- _authentication ------------------------------------------------------------------------------
def test_authentication_alias_on_input_and_output() -> None:
    by_alias = v2(_authentication={"password": SECRET, "password_confirmation": SECRET, "force_reset": True})
    by_name = CustomerV2Create(
        **BASE,
        authentication=CustomerV2Authentication(
            password=SECRET, password_confirmation=SECRET, force_reset=True
        ),
    )
    assert by_alias == by_name
    payload = by_alias.to_payload()
    assert "authentication" not in payload
    assert payload["_authentication"] == {
        "password": SECRET,
        "password_confirmation": SECRET,
        "force_reset": True,
    }


def test_passwords_hidden_in_repr_and_str() -> None:
    customer = v2(_authentication={"password": SECRET, "password_confirmation": SECRET})
    assert SECRET not in repr(customer)
    assert SECRET not in str(customer)
    assert SECRET not in str(customer.model_dump())
    assert SECRET not in customer.model_dump_json()


def test_redacted_hides_passwords() -> None:
    customer = v2(_authentication={"password": SECRET, "password_confirmation": SECRET, "force_reset": True})
    redacted = customer.redacted()
    assert SECRET not in str(redacted)
    assert redacted["_authentication"] == {"force_reset": True}
    assert {k: v for k, v in redacted.items() if k != "_authentication"} == BASE


def test_redacted_drops_an_authentication_holding_only_passwords() -> None:
    assert v2(_authentication={"password": SECRET}).redacted() == BASE


def test_password_mismatch_names_confirmation_without_values() -> None:
    exc = v2_errors(_authentication={"password": SECRET, "password_confirmation": OTHER_SECRET})
    loc, _, msg = only_error(exc)
    assert loc == ("_authentication", "password_confirmation")
    assert msg == "does not match password"
    for text in (str(exc), repr(exc), format_validation_error(exc), str(exc.errors())):
        assert SECRET not in text
        assert OTHER_SECRET not in text


def test_authentication_model_alone() -> None:
    with pytest.raises(ValidationError) as info:
        CustomerV2Authentication(password=SecretStr(SECRET), password_confirmation=SecretStr(OTHER_SECRET))
    assert only_error(info.value)[0] == ("password_confirmation",)
    assert CustomerV2Authentication(force_reset=False).to_payload() == {"force_reset": False}


def test_confirmation_without_password_refused() -> None:
    loc, _, msg = only_error(v2_errors(_authentication={"password_confirmation": SECRET}))
    assert loc == ("_authentication", "password_confirmation")
    assert msg == "given without password"


def test_password_without_confirmation_accepted() -> None:
    assert v2(_authentication={"password": SECRET}).to_payload()["_authentication"] == {"password": SECRET}


def test_password_kept_exactly_as_given() -> None:
    payload = v2(
        _authentication={"password": f" {SECRET} ", "password_confirmation": f" {SECRET} "}
    ).to_payload()
    assert payload["_authentication"]["password"] == f" {SECRET} "


@pytest.mark.parametrize("bad", ["", "   ", "pass\x00word", 12345678, b"bytes"])
def test_bad_password_refused_without_echo(bad: object) -> None:
    exc = v2_errors(_authentication={"password": bad})
    loc, _, _ = only_error(exc)
    assert loc == ("_authentication", "password")
    if bad:
        assert str(bad) not in str(exc)
        assert str(bad) not in format_validation_error(exc)


def test_authentication_refuses_unknown_and_v3_names() -> None:
    exc = v2_errors(_authentication={"new_password": SECRET})
    assert only_error(exc)[0] == ("_authentication", "new_password")
    assert SECRET not in str(exc)


# --- format_validation_error ----------------------------------------------------------------------
def test_format_validation_error_one_line_per_error_never_the_input() -> None:
    exc = v2_errors(
        first_name="x" * 101,
        email="leaky-value-17",
        phone="leaky phone 42",
        bogus="leaky-extra-99",
        _authentication={"password": SECRET, "password_confirmation": OTHER_SECRET},
    )
    text = format_validation_error(exc, record="c-17")
    lines = text.splitlines()
    assert len(lines) == len(exc.errors()) == 5
    assert all(line.startswith("record 'c-17': field '") for line in lines)
    assert "record 'c-17': field 'email': not a valid e-mail address" in lines
    assert "record 'c-17': field 'first_name': longer than 100 characters" in lines
    for leaked in ("leaky", "x" * 101, SECRET, OTHER_SECRET, "input"):
        assert leaked not in text
    for leaked in ("leaky", SECRET, OTHER_SECRET):
        assert leaked not in str(exc)


def test_format_validation_error_without_record() -> None:
    assert format_validation_error(v2_errors(email="nope")) == "field 'email': not a valid e-mail address"


# --- property: errors always name a field ---------------------------------------------------------
V2_KEYS = [
    *BASE,
    "company",
    "phone",
    "notes",
    "customer_group_id",
    "store_credit",
    "tax_exempt_category",
    "registration_ip_address",
    "reset_pass_on_login",
    "_authentication",
    "authentication",
    "id",
    "date_created",
    "accepts_marketing",
    "addresses",
    "form_fields",
    "force_reset",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.text(max_size=300)
    | st.binary(max_size=20)
    | st.sampled_from(["jane@example.com", "Jane", "10.50", "3", "<script>", "'; DROP TABLE x;--", "😀"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
AUTH = st.dictionaries(
    st.sampled_from(["password", "password_confirmation", "force_reset", "other"]), VALUES, max_size=4
)


@settings(
    max_examples=scaled(300), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.fixed_dictionaries(
        {},
        optional={key: (AUTH | VALUES if "auth" in key else VALUES) for key in V2_KEYS},
    ),
    st.dictionaries(st.text(max_size=12), VALUES, max_size=2),
    st.booleans(),
)
def test_any_dict_validates_or_names_fields(
    known: dict[str, Any], unknown: dict[str, Any], with_base: bool
) -> None:
    data = {**(BASE if with_base else {}), **unknown, **known}
    failure: ValidationError | None = None
    try:
        customer = CustomerV2Create.model_validate(data)
    except ValidationError as exc:
        failure = exc
    if failure is None:
        assert set(customer.to_payload()) <= set(V2_KEYS)
        assert "password" not in str(customer.redacted())
        return
    for error in failure.errors():
        assert error["loc"], error
        assert error["loc"][0] in data or error["loc"][0] in BASE, error
    assert len(format_validation_error(failure).splitlines()) == len(failure.errors())


# --- V3 models ------------------------------------------------------------------------------------
def test_v3_create_payload_and_secrets() -> None:
    customer = CustomerV3Create.model_validate(
        {
            **BASE,
            "phone": " 555  1234 ",
            "authentication": {"new_password": SECRET, "force_password_reset": True},
        }
    )
    assert customer.to_payload() == {
        **BASE,
        "phone": "555 1234",
        "authentication": {"new_password": SECRET, "force_password_reset": True},
    }
    assert SECRET not in repr(customer)
    assert customer.redacted() == {
        **BASE,
        "phone": "555 1234",
        "authentication": {"force_password_reset": True},
    }


@pytest.mark.parametrize("field", ["first_name", "last_name", "email"])
def test_v3_create_requires(field: str) -> None:
    with pytest.raises(ValidationError) as info:
        CustomerV3Create.model_validate({k: v for k, v in BASE.items() if k != field})
    assert only_error(info.value)[0] == (field,)


def test_v3_create_refuses_unknown_and_read_only() -> None:
    with pytest.raises(ValidationError) as info:
        CustomerV3Create.model_validate({**BASE, "id": 4, "store_credit": 3})
    assert {e["loc"] for e in info.value.errors()} == {("id",), ("store_credit",)}


def test_v3_update_needs_id_and_allows_255_char_email() -> None:
    email = "a" * (255 - len("@example.com")) + "@example.com"
    assert CustomerV3Update.model_validate({"id": 7, "email": email}).to_payload() == {
        "id": 7,
        "email": email,
    }
    with pytest.raises(ValidationError) as info:
        CustomerV3Update.model_validate({"first_name": "Jane"})
    assert only_error(info.value)[0] == ("id",)
    with pytest.raises(ValidationError):
        CustomerV3Create.model_validate({**BASE, "email": email})


def test_v3_received_customer_ignores_extra() -> None:
    customer = CustomerV3.model_validate(
        {
            "id": 1,
            "email": "jane@example.com",
            "first_name": "Jane",
            "last_name": "Doe",
            "date_created": "2024-01-02T03:04:05Z",
            "addresses": [{"id": 1}],
            "store_credit_amounts": [{"amount": 1}],
        }
    )
    assert customer.id == 1
    assert customer.company == ""
    assert customer.date_created is not None
    assert customer.date_created.year == 2024
