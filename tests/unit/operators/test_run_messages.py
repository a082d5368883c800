"""When a finished sync fails for its rejected rows, and what the message says."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from airflow_bigcommerce.operators.run_messages import rejected_message
from airflow_bigcommerce.sync.outcome import Status, data, store
from airflow_bigcommerce.sync.result import SyncResult
from airflow_bigcommerce.sync.rows import Line
from airflow_bigcommerce.sync.tally import Tally


def result_of(lines: list[Line]) -> SyncResult:
    tally = Tally(max_listed=100)
    for line in lines:
        tally.add(line)
    return SyncResult(total=len(lines), **tally.summary())


def rejected(pos: int, text: str = "email: missing (required)", field: str | None = "email") -> Line:
    return Line(pos, str(pos), None, Status.REJECTED, data(text, field))


def test_every_row_rejected_for_one_reason_names_it_and_the_column_to_check() -> None:
    message = rejected_message(result_of([rejected(i) for i in range(1, 51)]), None, "/r/run.jsonl")
    assert message == (
        "All 50 rows were rejected and nothing was written: every row: email: missing (required); is the"
        " source's column mapped to 'email' (field_map) and filled in? Check the query or file returns it"
        " under that name; every row is in the report at /r/run.jsonl. Set max_rejected to accept a run"
        " that rejects every row."
    )


def test_different_reasons_name_the_first() -> None:
    lines = [rejected(1), rejected(2, "last_name: missing (required)", "last_name")]
    message = rejected_message(result_of(lines), None, None)
    assert message is not None
    assert "their reasons differ; the first: row 1: email: missing (required)" in message


def test_a_store_refusal_shared_by_every_row_has_no_field_hint() -> None:
    lines = [Line(i, str(i), None, Status.REJECTED, store("the store refused it")) for i in (1, 2)]
    message = rejected_message(result_of(lines), None, None)
    assert message is not None and "every row: the store refused it." in message
    assert "field_map" not in message


def test_no_rows_one_delivered_row_or_max_rejected_keep_the_run_green() -> None:
    assert rejected_message(result_of([]), None, None) is None  # an empty hourly window
    delivered = Line(3, "3", "a@example.com", Status.CREATED, customer_id=7)
    assert rejected_message(result_of([rejected(1), rejected(2), delivered]), None, None) is None
    assert rejected_message(result_of([rejected(1), rejected(2)]), 2, None) is None
    too_many = rejected_message(result_of([rejected(1), rejected(2)]), 1, None)
    assert too_many is not None and too_many.startswith("2 rows were rejected, more than max_rejected=1")


def test_a_run_whose_rows_all_came_from_its_ledger_stays_green_when_they_are_rejected_again() -> None:
    from dataclasses import replace

    retried = replace(result_of([rejected(1), rejected(2)]), retried=2)
    assert rejected_message(retried, None, None) is None
    with_input = replace(result_of([rejected(1), rejected(2), rejected(3)]), retried=2)
    assert rejected_message(with_input, None, None) is not None  # its own input row was rejected too


@given(
    st.lists(st.sampled_from(["email: missing (required)", "last_name: too long", "phone: bad"]), min_size=1)
)
def test_the_common_reason_is_there_exactly_when_every_rejection_agrees(texts: list[str]) -> None:
    result = result_of([rejected(i, text, text.split(":")[0]) for i, text in enumerate(texts, 1)])
    common = result.common_rejection
    assert (common is not None) == (len(set(texts)) == 1)
    assert common is None or common.text == texts[0]


def test_max_rejected_as_a_share_of_the_run() -> None:
    from airflow_bigcommerce.operators.arguments import rejected_limit

    assert rejected_limit("2%") == 2.0 and rejected_limit(" 0.5 %") == 0.5 and rejected_limit(3) == 3
    delivered = [Line(i, str(i), "a@example.com", Status.CREATED, customer_id=i) for i in range(3, 101)]
    two_of_100 = result_of([rejected(1), rejected(2), *delivered])
    assert rejected_message(two_of_100, rejected_limit("2%"), None) is None
    message = rejected_message(two_of_100, rejected_limit("1.5%"), "/r.jsonl")
    assert message == (
        "2 of 100 rows were rejected (2.0 %), more than max_rejected='1.5%'; every valid row was sent."
        " See the log or the report for the reasons; every row is in the report at /r.jsonl."
    )
    assert rejected_message(result_of([]), rejected_limit("0%"), None) is None  # an empty window


@given(
    st.one_of(
        st.integers(max_value=-1), st.text().filter(lambda t: not t.strip().endswith("%")), st.booleans()
    )
)
def test_max_rejected_refuses_anything_but_a_count_or_a_share(value: object) -> None:
    import pytest

    from airflow_bigcommerce.operators.arguments import rejected_limit

    with pytest.raises(ValueError, match="max_rejected must be a number of rows"):
        rejected_limit(value)  # type: ignore[arg-type]
    for share in ("101%", "-1%", "abc%"):
        with pytest.raises(ValueError, match="such as '2%'"):
            rejected_limit(share)
