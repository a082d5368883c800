"""Store credit, metafield and form field values, segment names and the empty_values rule."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_bigcommerce.api import FORM_FIELD_VALUE_MAX_LENGTH, METAFIELD_VALUE_MAX_LENGTH
from airflow_bigcommerce.models.empty_values import (
    EmptyAction,
    check_empty_values,
    on_empty,
)
from airflow_bigcommerce.models.field_values import (
    form_field_value,
    metafield_value,
    segment_names,
    store_credit_amounts,
    store_credit_value,
)
from airflow_bigcommerce.sync.store_context import name_key

CENTS = st.integers(min_value=0, max_value=10**11)


# -- store credit ------------------------------------------------------------------------------------
@given(CENTS)
def test_store_credit_round_trips_cents_from_text_decimal_and_float(cents: int) -> None:
    amount = Decimal(cents).scaleb(-2)
    assert store_credit_value(str(amount)) == amount
    assert store_credit_value(f"  {amount}  ") == amount
    assert store_credit_value(amount) == amount
    as_float = cents / 100
    if cents < 10**13:  # a float column holds these exactly enough to print as the cents
        assert store_credit_value(as_float) == Decimal(repr(as_float)).quantize(Decimal("0.01"))
    (wire,) = store_credit_amounts(amount)
    assert wire == {"amount": float(amount)}


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_store_credit_accepts_exactly_the_non_negative_cents(value: Decimal) -> None:
    ok = value.is_finite() and 0 <= value < 10**12 and value == value.quantize(Decimal("0.01"))
    if value.is_nan():
        assert store_credit_value(value) is None  # NaN is a blank cell
        return
    if ok:
        result = store_credit_value(value)
        assert result == value and result is not None and result.as_tuple().exponent == -2
    else:
        with pytest.raises(ValueError, match="non-negative amount"):
            store_credit_value(value)


@pytest.mark.parametrize("bad", ["-1", "1.005", "abc", "1e400", "inf", True, [], float("inf"), -0.01])
def test_store_credit_refuses_without_echoing(bad: object) -> None:
    with pytest.raises(ValueError) as refused:
        store_credit_value(bad)
    assert "abc" not in str(refused.value)


@pytest.mark.parametrize("blank", [None, "", "   ", float("nan"), Decimal("NaN")])
def test_blank_store_credit_is_none(blank: object) -> None:
    assert store_credit_value(blank) is None


def test_store_credit_integers_and_trailing_zeros() -> None:
    assert store_credit_value(12) == Decimal("12.00")
    assert store_credit_value("12.500") == Decimal("12.50")
    assert store_credit_value(0.1) == Decimal("0.10")


# -- metafield and form field values -----------------------------------------------------------------
@given(st.text(alphabet=st.characters(categories=("L", "N", "P", "Zs")), max_size=300))
def test_text_values_are_trimmed_or_none(text: str) -> None:
    for rule, limit in (
        (metafield_value, METAFIELD_VALUE_MAX_LENGTH),
        (form_field_value, FORM_FIELD_VALUE_MAX_LENGTH),
    ):
        stripped = text.strip()
        if len(stripped) > limit:
            with pytest.raises(ValueError, match="longer than"):
                rule(text)
            continue
        assert rule(text) == (stripped or None)


def test_values_write_numbers_flags_and_dates_as_text() -> None:
    import datetime

    assert metafield_value(2000.0) == "2000"
    assert metafield_value(True) == "true"
    assert form_field_value(datetime.date(2026, 1, 2)) == "2026-01-02"
    assert form_field_value(math.nan) is None
    with pytest.raises(ValueError):
        metafield_value("x" * (METAFIELD_VALUE_MAX_LENGTH + 1))
    with pytest.raises(ValueError):
        form_field_value("x" * (FORM_FIELD_VALUE_MAX_LENGTH + 1))
    with pytest.raises(ValueError, match="text, a number or a date"):
        form_field_value({"a": 1})
    with pytest.raises(ValueError):
        metafield_value("a\x00b")


# -- segment names -------------------------------------------------------------------------------------
NAME = st.text(alphabet=st.characters(categories=("L", "N", "Zs"), exclude_characters=","), max_size=12)


@given(st.lists(NAME, max_size=8))
def test_segment_names_from_a_list_and_from_text_agree(names: list[str]) -> None:
    from_list = segment_names(names)
    assert segment_names(",".join(names)) == from_list
    assert all(name == " ".join(name.split()) and name for name in from_list)
    keys = [name_key(name) for name in from_list]
    assert len(keys) == len(set(keys))
    assert set(keys) == {name_key(n) for n in names if n.strip()}


def test_segment_names_examples() -> None:
    assert segment_names(" VIP ,  Whole   Sale, vip,,") == ("VIP", "Whole Sale")
    assert segment_names(["b", "a"]) == ("b", "a")
    assert segment_names({"b", "a"}) == ("a", "b")
    assert segment_names(None) == () and segment_names("  ") == () and segment_names(math.nan) == ()
    with pytest.raises(ValueError):
        segment_names([1, 2])
    with pytest.raises(ValueError):
        segment_names(5)


# -- empty values ----------------------------------------------------------------------------------------
TARGETS = [
    "company",
    "phone",
    "notes",
    "tax_exempt_category",
    "attribute.crm_id",
    "form_field.License ID",
    "metafield.crm.tier",
    "customer_group",
    "store_credit",
    "segment",
    "address",
    "newsletter",
]


@pytest.mark.parametrize("target", TARGETS)
def test_keep_leaves_every_optional_value_alone(target: str) -> None:
    assert on_empty(target, "keep") == EmptyAction("keep")


@pytest.mark.parametrize("target", ["email", "first_name", "last_name"])
@pytest.mark.parametrize("mode", ["keep", "clear"])
def test_an_empty_required_field_rejects_in_either_mode(target: str, mode: str) -> None:
    assert on_empty(target, check_empty_values(mode)).kind == "reject"


def test_clear_clears_as_the_api_allows() -> None:
    cleared = {target: on_empty(target, "clear") for target in TARGETS}
    assert cleared["company"] == EmptyAction("set", "")
    assert cleared["attribute.crm_id"] == EmptyAction("set", "")
    assert cleared["form_field.License ID"] == EmptyAction("set", "")
    assert cleared["metafield.crm.tier"] == EmptyAction("delete")  # a value needs 1 character
    assert cleared["customer_group"] == EmptyAction("set", 0)
    assert cleared["store_credit"] == EmptyAction("set", Decimal("0.00"))
    assert cleared["segment"].kind == "leave_managed_segments"
    assert cleared["address"].kind == "delete_own_address"
    assert cleared["newsletter"].kind == "keep"


@given(st.sampled_from([*TARGETS, "email"]), st.sampled_from(["keep", "clear"]))
def test_the_rule_is_total_and_keep_never_writes(target: str, mode: str) -> None:
    action = on_empty(target, check_empty_values(mode))
    if mode == "keep":
        assert action.kind in ("keep", "reject")
    assert (action.kind == "set") == (action.value is not None)


def test_unknown_targets_and_modes_are_refused() -> None:
    with pytest.raises(ValueError, match="no empty-value rule"):
        on_empty("shoe_size", "clear")
    with pytest.raises(ValueError, match="empty_values must be one of keep, clear"):
        check_empty_values("wipe")
