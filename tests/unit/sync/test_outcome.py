"""Typed outcomes: a row's status from its parts' statuses, counters from statuses, text only at the edge."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from airflow_bigcommerce.sync.client import RequestRejectedError
from airflow_bigcommerce.sync.outcome import (
    Kind,
    PartOutcome,
    Status,
    combine,
    data,
    failed_part,
    part,
    refused_part,
    rendered,
    store,
    transient,
)
from airflow_bigcommerce.sync.rows import Line
from airflow_bigcommerce.sync.tally import Tally


def line(outcome: Status, reason: str | None = None) -> Line:
    return Line(1, "crm-1", "a@example.com", outcome, None if reason is None else store(reason), 7)


def test_a_failed_part_fails_the_row_and_keeps_its_transient_kind() -> None:
    parts = {
        "address": failed_part("failed: create failed", TimeoutError("read timed out")),
        "attributes": part(Status.REJECTED, data("attribute_value: too long (HTTP 422)")),
    }
    row = combine(line(Status.CREATED), parts)
    assert row.outcome is Status.FAILED
    assert row.reason is not None and row.reason.kind is Kind.TRANSIENT
    assert row.reason.text.startswith("address failed: ") and row.reason.text.endswith("(customer created)")
    assert row.parts is not None and row.parts["customer"].status is Status.CREATED


def test_a_refused_part_rejects_the_row_with_the_store_words() -> None:
    exc = RequestRejectedError("422", status=422, errors={"0.postal_code": "invalid"}, title="Invalid")
    row = combine(line(Status.SKIPPED, "exists in store (id 7)"), {"address": refused_part(exc)})
    assert row.outcome is Status.REJECTED
    assert row.reason is not None and row.reason.kind is Kind.DATA
    assert row.reason.text == "address rejected: 0.postal_code: invalid (HTTP 422)"


def test_an_existing_customer_whose_parts_were_written_is_updated() -> None:
    parts = {"address": part(Status.UPDATED, data("city")), "newsletter": part(Status.UNCHANGED)}
    row = combine(line(Status.SKIPPED, "unchanged"), parts)
    assert (row.outcome, str(row.reason)) == (Status.UPDATED, "changed: address")
    dry = combine(line(Status.SKIPPED, "unchanged"), {"address": part(Status.WOULD_CREATE)}, dry_run=True)
    assert (dry.outcome, str(dry.reason)) == (Status.UPDATED, "dry run: would change address")


def test_unchanged_parts_leave_the_row_as_it_was() -> None:
    row = combine(line(Status.SKIPPED, "unchanged"), {"address": part(Status.UNCHANGED)})
    assert (row.outcome, str(row.reason)) == (Status.SKIPPED, "unchanged")


def test_text_is_rendered_at_the_edge_from_status_note_and_reason() -> None:
    outcome = PartOutcome(Status.UNCHANGED, note="(its id recorded)")
    assert rendered({"address": outcome, "group": part(Status.SKIPPED, store("insert mode"))}) == {
        "address": "unchanged (its id recorded)",
        "group": "skipped: insert mode",
    }


@given(
    statuses=st.lists(st.sampled_from(list(Status)), min_size=1, max_size=30),
    words=st.text(max_size=40),
)
def test_counters_follow_the_status_whatever_the_wording(statuses: list[Status], words: str) -> None:
    tally = Tally(max_listed=5)
    rows = [
        s
        for s in statuses
        if s in (Status.CREATED, Status.UPDATED, Status.SKIPPED, Status.REJECTED, Status.FAILED)
    ]
    for status in statuses:
        parts = {"address": PartOutcome(status, transient(words) if words else None)}
        base = Line(1, "k", None, Status.SKIPPED, data(words) if words else None, None, parts)
        tally.add(base)
    for status in rows:
        tally.add(Line(2, "k", None, status, data(words)))
    summary = tally.summary()
    assert summary["parts"]["address"] == {
        s.value: statuses.count(s) for s in sorted(set(statuses), key=lambda s: s.value)
    }
    for status in (Status.CREATED, Status.UPDATED, Status.REJECTED, Status.FAILED):
        assert summary[status.value] == rows.count(status)
    assert summary["skipped"] == rows.count(Status.SKIPPED) + len(statuses)
    assert len(summary["rejections"]) == min(5, rows.count(Status.REJECTED))
    assert summary["rejections_truncated"] == (rows.count(Status.REJECTED) > 5)
