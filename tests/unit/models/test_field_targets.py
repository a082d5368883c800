"""The metafield and segment targets of field_map: names checked at parse, values as text, keep and clear."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled

from airflow_bigcommerce.models.contact import validate_field_map
from airflow_bigcommerce.models.contact_parts import PartMap, PartRejected, map_parts
from airflow_bigcommerce.models.field_targets import FieldMap, FieldRejected, map_fields, metafield_key
from airflow_bigcommerce.sync.option_checks import check_managed_segments, check_metafield_permission

BASE = {"email": "email", "first_name": "first_name", "last_name": "last_name"}


def test_targets_are_checked_when_the_map_is() -> None:
    fields = validate_field_map({**BASE, "ltv": "metafield.crm.lifetime.value", "lists": "segment"})
    assert fields["ltv"] == "metafield.crm.lifetime.value"
    assert metafield_key("metafield.crm.lifetime.value") == (
        "crm",
        "lifetime.value",
    )  # namespace: to the first dot
    for bad in (
        "metafield.crm",
        "metafield..key",
        "metafield.crm.",
        "metafield. crm.key",
        "metafield.crm." + "k" * 65,
    ):
        with pytest.raises(ValueError, match="metafield.<namespace>.<key>"):
            validate_field_map({**BASE, "x": bad})
    part_map = PartMap.from_field_map(fields)
    assert part_map.fields == FieldMap({"ltv": ("crm", "lifetime.value")}, "lists")
    assert part_map


def test_values_are_text_and_blanks_follow_empty_values() -> None:
    field_map = FieldMap({"a": ("crm", "a"), "b": ("crm", "b"), "c": ("crm", "c")}, "lists")
    row = {"a": 12.0, "b": "  ", "c": datetime.date(2026, 1, 2), "lists": None}
    kept = map_fields(row, field_map, "keep")
    assert kept.metafields == {("crm", "a"): "12", ("crm", "c"): "2026-01-02"}
    assert kept.segments is None
    cleared = map_fields(row, field_map, "clear")
    assert cleared.metafields == {("crm", "a"): "12", ("crm", "b"): None, ("crm", "c"): "2026-01-02"}
    assert cleared.segments == ()
    assert map_fields({"lists": " VIP,  gold list ,vip, "}, field_map, "keep").segments == (
        "VIP",
        "gold list",
    )
    assert map_fields({"lists": ["VIP", "", "News"]}, field_map, "keep").segments == ("VIP", "News")


def test_bad_values_reject_the_row_naming_the_target_not_the_value() -> None:
    field_map = {**BASE, "ltv": "metafield.crm.ltv", "lists": "segment"}
    part_map = PartMap.from_field_map(validate_field_map(field_map))
    with pytest.raises(PartRejected, match=r"^metafield\.crm\.ltv: ") as caught:
        map_parts({"ltv": "secret\x00"}, part_map, first_name="A", last_name="B")
    assert "secret" not in str(caught.value)
    with pytest.raises(PartRejected, match="^segment: "):
        map_parts({"lists": ["VIP", 3]}, part_map, first_name="A", last_name="B")
    with pytest.raises(FieldRejected):
        map_fields({"ltv": "x" * 65536}, part_map.fields, "keep")


def test_option_checks() -> None:
    check_metafield_permission("write_and_sf_access")
    with pytest.raises(ValueError, match="app_only"):
        check_metafield_permission("APP_ONLY")
    assert check_managed_segments(None) == ()
    assert check_managed_segments({"b", "a"}) == ("a", "b")
    for bad in ("VIP", ["VIP", 3], [""], 5):
        with pytest.raises(ValueError, match="managed_segments"):
            check_managed_segments(bad)


CELLS = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.booleans(),
    st.dates(),
)


@settings(max_examples=scaled(300))
@given(cells=st.lists(CELLS, min_size=1, max_size=4), clear=st.booleans())
def test_any_cell_is_text_a_clear_or_a_rejection(cells: list[object], clear: bool) -> None:
    field_map = FieldMap({f"c{i}": ("ns", f"k{i}") for i in range(len(cells))})
    row = {f"c{i}": cell for i, cell in enumerate(cells)}
    try:
        mapped = map_fields(row, field_map, "clear" if clear else "keep")
    except FieldRejected as exc:
        target = exc.target
        mapped = None
    if mapped is None:
        assert target.startswith("metafield.ns.k")
        return
    for i, cell in enumerate(cells):
        value = mapped.metafields.get(("ns", f"k{i}"), "absent")
        if value is None:
            assert clear  # a delete only ever comes from clear
        elif value == "absent":
            assert not clear  # keep leaves a blank out; clear never does
        else:
            assert 1 <= len(value) <= 65535
            assert value == value.strip()
            if isinstance(cell, int | Decimal) and not isinstance(cell, bool):
                assert Decimal(value) == Decimal(cell)


@settings(max_examples=scaled(200))
@given(st.one_of(st.text(max_size=60), st.lists(st.text(max_size=12), max_size=6)))
def test_segment_names_are_trimmed_once_each(cell: object) -> None:
    names = map_fields({"s": cell}, FieldMap({}, "s"), "keep").segments or ()
    keys = [" ".join(n.split()).casefold() for n in names]
    assert len(keys) == len(set(keys))
    assert all(n and n == " ".join(n.split()) for n in names)
    if isinstance(cell, str):
        assert all("," not in n for n in names)
