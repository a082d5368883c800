"""
Who created a customer the look-up finds (fake client).

After an unknown outcome, a found customer is counted as ours only if it holds what we sent: a
storefront sign-up that happened meanwhile is "skipped", not "created". After a definitive refusal
(4xx) a found customer was not created by this run ("skipped"), so two runs racing over the same
contacts report "created" once per customer in all.
"""

from __future__ import annotations

import io
import json
import random
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from airflow_bigcommerce.sync.client import OutcomeUnknownError, RequestRejectedError
from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.sync.report import JsonlReportWriter
from airflow_bigcommerce.sync.result import SyncResult
from airflow_bigcommerce.testing.in_process import InProcessStore

pytestmark = pytest.mark.reliability

ROWS = [
    {"id": f"r{i}", "email": f"p{i}@example.com", "first_name": f"P{i}", "last_name": "Q"} for i in range(3)
]


class SignupDuringUnknown(InProcessStore):
    """The first create is lost in transit; meanwhile ``p1`` signs up on the storefront."""

    def __init__(self, *, commit_first: bool) -> None:
        super().__init__()
        self.commit_first = commit_first
        self.creates = 0

    def create_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        self.creates += 1
        if self.creates == 1:
            if self.commit_first:
                super().create_customers(customers)
            else:
                self.add({"email": "P1@example.com", "first_name": "Store", "last_name": "Front"})
            raise OutcomeUnknownError("connection dropped")
        return super().create_customers(customers)


def test_signup_meanwhile_is_skipped_not_created() -> None:
    client = SignupDuringUnknown(commit_first=False)
    result = sync_customers(ROWS, client, index_limit=0)
    assert (result.created, result.skipped) == (2, 1)
    assert client.by_email("p1@example.com")["first_name"] == "Store"  # type: ignore[index]
    assert len(client.customers) == 3


def test_our_own_lost_write_is_still_created() -> None:
    client = SignupDuringUnknown(commit_first=True)
    result = sync_customers(ROWS, client, index_limit=0)
    assert (result.created, result.skipped, result.retries_resolved) == (3, 0, 3)
    assert len(client.customers) == 3


# ----------------------------------------------------------------- after a definitive refusal

CONTACTS = [
    {"id": f"c{i}", "email": f"c{i}@example.com", "first_name": "C", "last_name": f"T{i}"}
    for i in range(1000)
]


class OtherRunDuringRefusal(InProcessStore):
    """Another run (same data as ours) creates ``before`` before our first batch and ``after`` after it."""

    def __init__(self, before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> None:
        super().__init__()
        self.before, self.after = list(before), list(after)

    def create_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        for row in self.before:
            self.add(dict(row))
        self.before = []
        try:
            return super().create_customers(customers)
        except RequestRejectedError:
            for row in self.after:
                self.add(dict(row))
            self.after = []
            raise


def test_a_customer_found_after_a_refusal_is_not_claimed() -> None:
    rows = [dict(r) for r in CONTACTS[:10]]
    client = OtherRunDuringRefusal(before=[rows[3]], after=[rows[7]])
    result, lines = _run(rows, client)
    # the batch was refused naming row 3 "in use"; the look-up after it also found row 7, which
    # the other run created after the refusal: neither is this run's
    assert (result.created, result.skipped) == (8, 2)
    assert {line["row"] for line in lines if line["outcome"] == "skipped"} == {"c3", "c7"}
    assert all(line["reason"].startswith("exists in store") for line in lines if line["outcome"] == "skipped")
    assert len(client.customers) == 10
    assert client.calls["create"] == 1 + 8  # the refused batch, then the rows nobody holds one by one


def test_rows_a_store_commits_before_the_refused_one_are_not_claimed() -> None:
    # a store that commits a refused batch in part (rows 0..4 before the bad row 5): it answered a
    # definitive 422, so the rows the look-up finds are reported as already in the store, never
    # created twice and never claimed; the rest go one by one
    client = InProcessStore(reject_emails=["c5@example.com"], atomic=False)
    rows = [dict(r) for r in CONTACTS[:10]]
    result, lines = _run(rows, client)
    assert (result.created, result.rejected, result.skipped) == (4, 1, 5)
    assert {line["row"] for line in lines if line["outcome"] == "skipped"} == {f"c{i}" for i in range(5)}
    assert len(client.customers) == 9
    assert client.calls["create"] == 1 + 5


class Distant(InProcessStore):
    """A store a few milliseconds away: another run can write between our refusal and our look-up."""

    def create_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        time.sleep(0.002)
        try:
            return super().create_customers(customers)
        finally:
            time.sleep(0.002)

    def find_customers_by_email(self, emails: Sequence[str]) -> list[dict[str, Any]]:
        time.sleep(0.002)
        return super().find_customers_by_email(emails)


def test_two_runs_racing_over_the_same_contacts_claim_each_customer_once() -> None:
    store = Distant()
    shuffled = list(CONTACTS)
    random.Random(18).shuffle(shuffled)
    runs = [(CONTACTS, 10, 4), (shuffled, 7, None)]  # a scheduled run and a manual one, set up apart
    results: list[SyncResult] = []
    start = threading.Barrier(len(runs))

    def run(rows: list[dict[str, Any]], batch_size: int, workers: int | None) -> None:
        start.wait()
        results.append(
            sync_customers(
                rows, store, index_limit=0, chunk_size=50, batch_size=batch_size, max_concurrency=workers
            )
        )

    threads = [threading.Thread(target=run, args=args) for args in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    emails = [c["email"].lower() for c in store.customers.values()]
    assert len(emails) == len(set(emails)) == len(CONTACTS)  # nobody twice, nobody missing
    assert sum(r.created for r in results) == len(CONTACTS)  # created once per customer in all
    assert all(r.created + r.skipped == len(CONTACTS) and not r.failed for r in results)
    assert all(r.created > 0 for r in results), "the runs did not race"


def _run(rows: list[dict[str, Any]], client: InProcessStore) -> tuple[SyncResult, list[dict[str, Any]]]:
    buffer = io.StringIO()
    result = sync_customers(rows, client, index_limit=0, report=JsonlReportWriter(buffer))
    return result, [json.loads(line) for line in buffer.getvalue().splitlines()]
