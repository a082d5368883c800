"""field_map against the source's columns: every missing column named with the closest match."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from airflow_bigcommerce.sync.source_checks import closest, column_problems

HUBSPOT = ["hs_object_id", "Email", "First_Name", "Last_Name", "Phone", "lifecyclestage"]


def test_a_mapped_column_the_source_lacks_is_named_with_its_closest_match() -> None:
    problems = column_problems({"E_mail": "email", "Phon": "phone", "First_Name": "first_name"}, HUBSPOT)
    assert problems == [
        "field_map column (-> email) 'E_mail' is not a column of the source; closest: 'Email' (its columns:"
        " 'hs_object_id', 'Email', 'First_Name', 'Last_Name', 'Phone', 'lifecyclestage')",
        "field_map column (-> phone) 'Phon' is not a column of the source; closest: 'Phone' (its columns:"
        " 'hs_object_id', 'Email', 'First_Name', 'Last_Name', 'Phone', 'lifecyclestage')",
    ]


def test_the_default_map_needs_an_email_column_and_names_the_one_to_map() -> None:
    (problem,) = column_problems(None, HUBSPOT)
    assert "no column is named 'email'" in problem
    assert "field_map={'Email': 'email', ...}" in problem
    assert column_problems(None, ["id", "email"]) == []  # other fields are optional without a map


def test_key_field_is_checked_when_given() -> None:
    (problem,) = column_problems({"Email": "email"}, HUBSPOT, key_field="hs_objectid")
    assert problem.startswith("key_field 'hs_objectid' is not a column")
    assert "closest: 'hs_object_id'" in problem
    assert column_problems({"Email": "email"}, HUBSPOT, key_field="hs_object_id") == []


def test_a_wide_table_lists_only_the_first_columns() -> None:
    columns = [f"col{i}" for i in range(100)]
    (problem,) = column_problems({"email": "email"}, columns)
    assert "and 70 more" in problem and "'col99'" not in problem


@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=20, unique=True))
def test_every_present_column_passes_and_closest_is_one_of_the_columns(columns: list[str]) -> None:
    assert column_problems({columns[0]: "email"}, columns) == []
    match = closest(columns[0] + "x", columns)
    assert match is None or match in columns
