"""Form fields, store credit and empty values in the sync: value conversion and clear-mode payloads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled

from airflow_bigcommerce.models.contact_parts import PartMap, PartRejected, map_parts
from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.testing import InProcessStore

FIELD_MAP = {
    "email": "email",
    "first": "first_name",
    "last": "last_name",
    "company": "company",
    "phone": "phone",
    "licence": "form_field.License ID",
    "credit": "store_credit",
}
#: What a customer PUT may carry: its id and the fields this map can change.
PUT_KEYS = {"id", "company", "phone", "form_fields", "store_credit_amounts"}
BLANKS = st.sampled_from([None, "", "   ", float("nan")])
TEXT = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=20)
PHONE = st.from_regex(r"\+?[0-9]{3,12}", fullmatch=True)
CENTS = st.integers(min_value=0, max_value=10**9)


class Recording(InProcessStore):
    """The in-process store, keeping the customer bodies the sync sends."""

    def __init__(self) -> None:
        super().__init__()
        self.posted: list[dict[str, Any]] = []
        self.put: list[dict[str, Any]] = []

    def create_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        self.posted.extend(dict(c) for c in customers)
        return super().create_customers(customers)

    def update_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        self.put.extend(dict(c) for c in customers)
        return super().update_customers(customers)


@st.composite
def cells(draw: st.DrawFn) -> dict[str, Any]:
    """One contact's optional cells, each a value or a blank."""
    return {
        "company": draw(st.one_of(TEXT, BLANKS)),
        "phone": draw(st.one_of(PHONE, BLANKS)),
        "licence": draw(st.one_of(TEXT, BLANKS)),
        "credit": draw(st.one_of(CENTS.map(lambda c: str(Decimal(c).scaleb(-2))), BLANKS)),
    }


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or not str(value).strip()


def _row(values: Mapping[str, Any]) -> dict[str, Any]:
    return {"email": "buyer@example.com", "first": "Bu", "last": "Yer", **values}


def _stored(store: InProcessStore) -> dict[str, Any]:
    (customer,) = store.find_customers_by_email(["buyer@example.com"], include=("formfields", "storecredit"))
    return customer


@settings(max_examples=scaled(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=cells(), after=cells(), clear=st.booleans())
def test_a_resync_sets_each_value_clears_only_under_clear_and_is_then_idempotent(
    before: dict[str, Any], after: dict[str, Any], clear: bool
) -> None:
    store = Recording()
    store.store.define_form_fields(["License ID"])
    sync_customers([_row(before)], store, field_map=FIELD_MAP)
    (created,) = store.posted
    assert not any(value in ("", 0) for value in (created.get("company"), created.get("phone")))
    empty_values = "clear" if clear else "keep"
    first = _stored(store)
    sync_customers([_row(after)], store, field_map=FIELD_MAP, mode="upsert", empty_values=empty_values)
    for body in store.put:
        assert set(body) <= PUT_KEYS and "id" in body
    customer = _stored(store)
    forms = {f["name"]: f["value"] for f in customer.get("form_fields") or ()}
    credit = Decimal(repr(customer["store_credit_amounts"][0]["amount"]))
    old_forms = {f["name"]: f["value"] for f in first.get("form_fields") or ()}
    old_credit = Decimal(repr(first["store_credit_amounts"][0]["amount"]))
    for column in ("company", "phone"):
        wanted = after[column]
        if not _blank(wanted):
            assert customer[column] == str(wanted).strip()
        else:
            assert customer[column] == ("" if clear else first[column])
    if not _blank(after["licence"]):
        assert forms["License ID"] == after["licence"].strip()
    else:
        assert forms.get("License ID", "") == ("" if clear else old_forms.get("License ID", ""))
    if not _blank(after["credit"]):
        assert credit == Decimal(after["credit"])
    else:
        assert credit == (Decimal(0) if clear else old_credit)
    # the store now holds what the CRM says: the same run again writes nothing
    store.put.clear()
    again = sync_customers(
        [_row(after)], store, field_map=FIELD_MAP, mode="upsert", empty_values=empty_values
    )
    assert store.put == [] and again.skipped == 1


@given(st.decimals(allow_nan=False, allow_infinity=False, places=3), st.booleans())
def test_a_store_credit_cell_becomes_cents_or_rejects_naming_it(value: Decimal, as_text: bool) -> None:
    part_map = PartMap.from_field_map({"credit": "store_credit"})
    cell: Any = str(value) if as_text else value
    exact = 0 <= value < 10**12 and value == value.quantize(Decimal("0.01"))
    if not exact:
        with pytest.raises(PartRejected) as refused:
            map_parts({"credit": cell}, part_map, first_name="A", last_name="B")
        assert refused.value.target == "store_credit" and str(value) not in str(refused.value)
        return
    parts = map_parts({"credit": cell}, part_map, first_name="A", last_name="B")
    assert parts.store_credit == value and parts.store_credit.as_tuple().exponent == -2


@given(st.one_of(BLANKS, TEXT), st.sampled_from(["keep", "clear"]))
def test_an_empty_form_field_is_cleared_only_under_clear(value: Any, empty_values: Any) -> None:
    part_map = PartMap.from_field_map({"f": "form_field.Trade", "c": "store_credit", "a": "attribute.tier"})
    row = {"f": value, "c": value if _blank(value) else "1", "a": value}
    parts = map_parts(row, part_map, first_name="A", last_name="B", empty_values=empty_values)
    if not _blank(value):
        assert parts.form_fields == {"Trade": value.strip()} and not parts.cleared
    elif empty_values == "clear":
        assert parts.form_fields == {"Trade": ""} and parts.attributes == {"tier": ""}
        assert parts.store_credit == Decimal(0)
        assert parts.cleared == {"form_field.Trade", "store_credit", "attribute.tier"}
    else:
        assert (parts.form_fields, parts.attributes, parts.store_credit, parts.cleared) == (
            {},
            {},
            None,
            set(),
        )


@pytest.mark.parametrize(
    ("fault", "landed"), [("unknown_before_write", False), ("commit_then_unknown", True)]
)
@pytest.mark.parametrize("column", ["licence", "credit"])
def test_a_lost_answer_to_a_form_field_or_credit_update_is_resolved_by_the_look_up(
    fault: Any, landed: bool, column: str
) -> None:
    store = Recording()
    store.store.define_form_fields(["License ID"])
    start = {"company": "Acme", "phone": "555", "licence": "L-1", "credit": "1.00"}
    sync_customers([_row(start)], store, field_map=FIELD_MAP)
    store.fail_next("update", fault)
    changed = {**start, column: "L-2" if column == "licence" else "2.00"}
    result = sync_customers([_row(changed)], store, field_map=FIELD_MAP, mode="upsert")
    assert (result.updated, result.failed) == (1, 0)
    # sent again only when the look-up shows the first send did not land: never blindly, never lost
    assert len(store.put) == (1 if landed else 2)
    customer = _stored(store)
    if column == "licence":
        assert [f["value"] for f in customer["form_fields"]] == ["L-2"]
    else:
        assert customer["store_credit_amounts"][0]["amount"] == 2.0
