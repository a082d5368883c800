"""Retries across runs: undelivered rows come back from the ledger, capped; the run's input always wins."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from airflow_bigcommerce.ledger import LedgerRow, MemoryLedger, Scope
from airflow_bigcommerce.ledger.retries import (
    MAX_ATTEMPTS,
    due_rows,
    gave_up,
    is_due,
    is_retriable,
    reason_kind,
    settle,
)
from airflow_bigcommerce.sync.outcome import data, store, transient

UTC = dt.timezone.utc
VALUES = {"id": "k1", "mail": "ada@example.com", "group": "VIP"}


class Ticks:
    """A clock that moves one minute per reading."""

    def __init__(self) -> None:
        self._minutes = itertools.count()

    def __call__(self) -> dt.datetime:
        return dt.datetime(2026, 12, 7, tzinfo=UTC) + dt.timedelta(minutes=next(self._minutes))


def _settle(previous: LedgerRow | None, outcome: str, run: int, **kw: Any) -> LedgerRow:
    kw.setdefault("email", "ada@example.com")
    kw.setdefault("values", VALUES)
    return settle(
        previous, crm_key="k1", outcome=outcome, now=kw.pop("now", Ticks()), run_id=f"run-{run}", **kw
    )


@pytest.mark.parametrize(
    ("outcome", "kind", "retried"),
    [
        ("failed", "transient", True),
        ("rejected", "store", True),
        ("rejected", "data", False),
        ("created", None, False),
        ("updated", "data", False),
        ("skipped", "store", False),
    ],
)
def test_failed_rows_and_rows_the_store_refused_are_retried_not_bad_data(
    outcome: str, kind: str | None, retried: bool
) -> None:
    assert is_retriable(outcome, kind) is retried
    assert is_due(LedgerRow("k", outcome, reason_kind=kind, attempts=1)) is retried


def test_a_row_settled_by_this_run_or_out_of_attempts_is_not_due() -> None:
    row = LedgerRow("k", "failed", reason_kind="transient", attempts=2, run_id="run-7")
    assert is_due(row, run_id="run-8")
    assert not is_due(row, run_id="run-7")
    assert not is_due(LedgerRow("k", "failed", attempts=MAX_ATTEMPTS))
    assert is_due(LedgerRow("k", "failed", attempts=2), max_attempts=3)
    assert not is_due(LedgerRow("k", "failed", attempts=3), max_attempts=3)


def test_due_rows_page_through_the_ledger_and_the_runs_input_wins() -> None:
    ledger = MemoryLedger(Scope("s"))
    ledger.write(
        [LedgerRow(f"k{i:03d}", "failed", reason_kind="transient", attempts=1) for i in range(7)]
        + [LedgerRow("r-data", "rejected", reason_kind="data", attempts=1)]
        + [LedgerRow("r-store", "rejected", reason_kind="store", attempts=1, run_id="now")]
    )
    due = list(due_rows(ledger, seen={"k003"}, run_id="now", page=3))
    assert [r.crm_key for r in due] == ["k000", "k001", "k002", "k004", "k005", "k006"]
    assert ledger.reads == 4  # 9 candidates, three a page, then an empty page


def test_a_delivered_row_resets_attempts_and_records_its_customer_and_time() -> None:
    clock = Ticks()
    failed = _settle(None, "failed", 1, reason="HTTP 503", reason_kind="transient", now=clock)
    assert (failed.attempts, failed.customer_id, failed.email) == (1, None, "ada@example.com")
    created = _settle(failed, "created", 2, customer_id=42, address_id=7, now=clock)
    assert (created.outcome, created.attempts, created.customer_id, created.address_id) == (
        "created",
        0,
        42,
        7,
    )
    assert created.run_id == "run-2" and created.updated_at > failed.updated_at
    assert created.updated_at.tzinfo is UTC


def test_an_undelivered_row_keeps_its_customer_its_delivered_email_and_its_address() -> None:
    delivered = _settle(None, "created", 1, customer_id=42, address_id=7)
    refused = _settle(
        delivered,
        "rejected",
        2,
        email="new@example.com",
        reason="held by 9",
        reason_kind="store",
        values={**VALUES, "mail": "new@example.com"},
    )
    assert (refused.customer_id, refused.email, refused.address_id, refused.attempts) == (
        42,
        "ada@example.com",
        7,
        1,
    )
    assert refused.values["mail"] == "new@example.com"  # what a retry sends


def test_a_row_refused_by_the_store_five_times_is_given_up_once_with_the_count() -> None:
    ledger = MemoryLedger(Scope("s"))
    row = _settle(None, "rejected", 1, reason="group 'VIP' not in store", reason_kind="store")
    ledger.write([row])
    runs = 1
    for run in range(2, 10):
        due = list(due_rows(ledger, run_id=f"run-{run}"))
        if not due:
            break
        runs += 1
        (retry,) = due
        row = _settle(
            retry,
            "rejected",
            run,
            reason="group 'VIP' not in store",
            reason_kind="store",
            values=None,
            from_ledger=True,
        )
        ledger.write([row])
    assert runs == MAX_ATTEMPTS  # the first run and four retries
    assert row.attempts == MAX_ATTEMPTS and gave_up(row)
    assert row.reason == "gave up after 5 attempts: group 'VIP' not in store"
    assert row.outcome == "rejected" and row.values == VALUES
    assert list(due_rows(ledger, run_id="run-99")) == []


def test_a_changed_crm_row_starts_counting_anew_after_the_ledger_gave_up() -> None:
    row = LedgerRow(
        "k1",
        "failed",
        reason="gave up after 5 attempts: HTTP 503",
        reason_kind="transient",
        attempts=5,
        values=VALUES,
    )
    same = _settle(row, "failed", 6, reason="HTTP 503", reason_kind="transient")
    assert same.attempts == 6 and same.reason == "gave up after 6 attempts: HTTP 503"
    changed = _settle(
        row, "failed", 6, reason="HTTP 503", reason_kind="transient", values={**VALUES, "group": "Gold"}
    )
    assert changed.attempts == 1 and changed.reason == "HTTP 503" and is_due(changed)


def test_a_row_rejected_for_its_data_counts_attempts_but_never_gives_up_in_words() -> None:
    row = LedgerRow("k1", "rejected", reason_kind="data", attempts=7, values=VALUES)
    again = _settle(row, "rejected", 8, reason="bad e-mail", reason_kind="data")
    assert again.attempts == 8 and again.reason == "bad e-mail" and not gave_up(again)


def test_a_retried_row_keeps_the_ledgers_values_and_the_input_version_replaces_them() -> None:
    row = LedgerRow("k1", "failed", reason_kind="transient", attempts=1, values=VALUES)
    retried = _settle(
        row, "failed", 2, reason="HTTP 503", reason_kind="transient", values=None, from_ledger=True
    )
    assert retried.values == VALUES and retried.attempts == 2
    newer = {**VALUES, "group": "Gold"}
    from_input = _settle(row, "created", 2, customer_id=5, values=newer)
    assert from_input.values == newer


def test_long_reasons_are_clipped_for_the_ledger() -> None:
    row = _settle(None, "failed", 1, reason="x" * 5000, reason_kind="transient")
    assert row.reason is not None and len(row.reason) == 1000 and row.reason.endswith("…")


def test_reason_kinds_are_named_as_the_ledger_stores_them() -> None:
    assert [reason_kind(r) for r in (data("x"), store("x"), transient("x"), None)] == [
        "data",
        "store",
        "transient",
        None,
    ]
    assert is_retriable("rejected", reason_kind(store("group missing")))
    assert not is_retriable("rejected", reason_kind(data("bad e-mail")))
