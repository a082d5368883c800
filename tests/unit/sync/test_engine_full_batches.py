"""Full write batches across chunks: only the run's last batch of each kind may be short."""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_bigcommerce.sync import engine
from airflow_bigcommerce.sync.client import RequestRejectedError
from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.sync.report import JsonlReportWriter
from airflow_bigcommerce.sync.result import SyncResult
from airflow_bigcommerce.testing.in_process import InProcessStore


def contact(i: int, **overrides: Any) -> dict[str, Any]:
    return {
        "id": f"c{i}",
        "email": f"person{i}@example.com",
        "first_name": f"F{i}",
        "last_name": "L",
    } | overrides


def with_bad_rows(n: int, every: int) -> list[dict[str, Any]]:
    """``n`` valid new contacts, and a row with a bad e-mail after every ``every`` of them."""
    rows: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        rows.append(contact(i))
        if i % every == 0:
            rows.append(contact(10_000 + i, email="not-an-email"))
    return rows


class BatchSpy:
    """Record the size of every create and update batch the store receives."""

    def __init__(self, store: InProcessStore) -> None:
        self.sizes: dict[str, list[int]] = {"create": [], "update": []}
        create, update = store.create_customers, store.update_customers

        def spy_create(customers: Any) -> list[dict[str, Any]]:
            self.sizes["create"].append(len(customers))
            return create(customers)

        def spy_update(customers: Any) -> list[dict[str, Any]]:
            self.sizes["update"].append(len(customers))
            return update(customers)

        store.create_customers = spy_create  # type: ignore[method-assign]
        store.update_customers = spy_update  # type: ignore[method-assign]

    def short(self, kind: str) -> list[int]:
        return [n for n in self.sizes[kind] if n < 10]


def run(rows: Any, store: InProcessStore, **kwargs: Any) -> tuple[SyncResult, list[dict[str, Any]]]:
    buf = io.StringIO()
    result = sync_customers(rows, store, report=JsonlReportWriter(buf), **kwargs)
    assert result.created + result.updated + result.skipped + result.rejected + result.failed == result.total
    return result, [json.loads(line) for line in buf.getvalue().splitlines()]


@pytest.mark.parametrize("n", [2000, 2005])
def test_an_insert_into_an_empty_store_takes_ceil_n_over_10_creates(store: InProcessStore, n: int) -> None:
    # Bad rows every 37 contacts leave no 500-row chunk with a multiple of 10 creates: 204 POSTs before.
    rows = with_bad_rows(n, every=37)
    spy = BatchSpy(store)
    result, lines = run(rows, store)
    assert (result.created, result.rejected) == (n, n // 37)
    assert store.calls["create"] == math.ceil(n / 10)
    assert result.requests == {"lookup": 0, "create": math.ceil(n / 10), "update": 0, "list": 1}
    assert spy.sizes["create"][:-1] == [10] * (len(spy.sizes["create"]) - 1)  # only the last is short
    assert [line["row"] for line in lines] == [row["id"] for row in rows]
    assert len(store.customers) == n


@pytest.mark.parametrize(("chunk_size", "concurrency"), [(333, 1), (7, 3), (1, 1), (15, 8)])
def test_chunk_sizes_that_are_no_multiple_of_the_batch_size(
    store: InProcessStore, chunk_size: int, concurrency: int
) -> None:
    rows = [contact(i) for i in range(1, 406)]
    spy = BatchSpy(store)
    result, lines = run(rows, store, chunk_size=chunk_size, max_concurrency=concurrency, index_limit=0)
    assert result.created == 405
    assert spy.sizes["create"] == [10] * 40 + [5]
    assert [line["row"] for line in lines] == [f"c{i}" for i in range(1, 406)]
    assert [line["outcome"] for line in lines] == ["created"] * 405
    assert all(line["customer_id"] for line in lines)


def mixed_store() -> InProcessStore:
    """Every 3rd contact of 1..600 exists with an old first name (update), every 7th unchanged (skip)."""
    store = InProcessStore()
    for i in range(1, 601):
        if i % 7 == 0:
            store.add({"email": f"person{i}@example.com", "first_name": f"F{i}", "last_name": "L"})
        elif i % 3 == 0:
            store.add({"email": f"PERSON{i}@example.com", "first_name": "Old", "last_name": "L"})
    return store


def test_mixed_creates_and_updates_fill_their_batches_across_chunks() -> None:
    store = mixed_store()
    spy = BatchSpy(store)
    rows = [contact(i) for i in range(1, 601)]
    result, lines = run(rows, store, mode="upsert", chunk_size=64, max_concurrency=4, index_limit=0)
    skips = sum(1 for i in range(1, 601) if i % 7 == 0)
    updates = sum(1 for i in range(1, 601) if i % 3 == 0 and i % 7)
    creates = 600 - skips - updates
    assert (result.created, result.updated, result.skipped) == (creates, updates, skips)
    assert result.requests["create"] == math.ceil(creates / 10) == len(spy.sizes["create"])
    assert result.requests["update"] == math.ceil(updates / 10) == len(spy.sizes["update"])
    assert len(spy.short("create")) == len(spy.short("update")) == 1
    assert [line["row"] for line in lines] == [f"c{i}" for i in range(1, 601)]
    by_row = {line["row"]: line for line in lines}
    assert by_row["c3"] == {
        "row": "c3",
        "email": "person3@example.com",
        "outcome": "updated",
        "reason": "changed: first_name",
        "customer_id": by_row["c3"]["customer_id"],
    }
    assert by_row["c7"]["outcome"] == "skipped"
    assert all(c["first_name"] != "Old" for c in store.customers.values())
    assert len(store.customers) == 600


def test_dry_run_is_unaffected_by_batching() -> None:
    store = mixed_store()
    before = {cid: dict(c) for cid, c in store.customers.items()}
    result, lines = run(
        [contact(i) for i in range(1, 601)], store, mode="upsert", dry_run=True, chunk_size=64
    )
    assert store.calls["create"] == store.calls["update"] == 0
    assert store.customers == before
    assert result.created + result.updated + result.skipped == len(lines) == 600
    assert [line["row"] for line in lines] == [f"c{i}" for i in range(1, 601)]


def test_waiting_rows_are_looked_up_once_and_duplicates_stay_skipped(store: InProcessStore) -> None:
    looked_up: Counter[str] = Counter()
    find = store.find_customers_by_email

    def counting_find(emails: Any) -> list[dict[str, Any]]:
        looked_up.update(e.lower() for e in emails)
        return find(emails)

    store.find_customers_by_email = counting_find  # type: ignore[method-assign]
    # c1..c4 wait after chunk 1; c6 and c13 repeat c1's e-mail in later chunks, while c1 is unsent.
    rows = [contact(i) for i in range(1, 26)]
    rows[5] = contact(6, email=" PERSON1@example.com")
    rows[12] = contact(13, email="Person1@Example.COM")
    result, lines = run(rows, store, chunk_size=4, index_limit=0)
    assert (result.created, result.skipped) == (23, 2)
    assert store.calls["create"] == 3
    assert max(looked_up.values()) == 1
    assert looked_up["person1@example.com"] == 1
    assert [(line["row"], line["outcome"]) for line in lines if line["outcome"] != "created"] == [
        ("c6", "skipped"),
        ("c13", "skipped"),
    ]
    assert lines[5]["reason"] == lines[12]["reason"] == "duplicate of row c1 in this run"
    # c1 was sent after c6 and c13 were read: their lines waited for its id, and kept input order
    assert lines[0]["customer_id"] is not None
    assert lines[5]["customer_id"] == lines[12]["customer_id"] == lines[0]["customer_id"]
    assert [line["row"] for line in lines] == [f"c{i}" for i in range(1, 26)]
    assert sorted(c["email"] for c in store.customers.values()).count("person1@example.com") == 1


def test_a_run_whose_source_fails_midway_reports_each_settled_row_once(store: InProcessStore) -> None:
    for i in range(1, 200, 3):  # every 3rd contact exists already: skipped lines wait behind creates
        store.add({"email": f"person{i}@example.com", "first_name": "x", "last_name": "y"})

    def rows() -> Iterator[dict[str, Any]]:
        for i in range(1, 56):
            yield contact(i)
        raise ConnectionError("CRM database went away")

    buf = io.StringIO()
    with pytest.raises(ConnectionError):
        sync_customers(rows(), store, report=JsonlReportWriter(buf), chunk_size=10, index_limit=0)
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    reported = [line["row"] for line in lines]
    assert len(reported) == len(set(reported))  # once each
    assert reported == sorted(reported, key=lambda key: int(key[1:]))  # in input order
    created = {line["email"] for line in lines if line["outcome"] == "created"}
    new = {f"person{i}@example.com" for i in range(1, 56) if i % 3 != 1}
    in_store = {c["email"] for c in store.customers.values()} & new
    assert created == in_store  # every write that landed is reported, nothing else
    unreported = new - created
    assert 0 < len(unreported) < 10  # the short rest waited for a batch: not sent, no line
    assert {line["outcome"] for line in lines} == {"created", "skipped"}
    # Rows 51-55 came with the read that failed: never processed, as before. Rows 1-50 all settled.
    assert sum(line["outcome"] == "skipped" for line in lines) == len(range(1, 51, 3))


def test_a_fatal_write_error_reports_what_settled_before_it(store: InProcessStore) -> None:
    create = store.create_customers
    sent = Counter[str]()

    def refuse_third(customers: Any) -> list[dict[str, Any]]:
        sent["create"] += 1
        if sent["create"] == 3:
            raise RequestRejectedError("401", status=401, title="Unauthorized")
        return create(customers)

    store.create_customers = refuse_third  # type: ignore[method-assign]
    rows = [contact(i) if i % 5 else contact(i, email="bad") for i in range(1, 41)]
    buf = io.StringIO()
    with pytest.raises(RequestRejectedError):
        sync_customers(rows, store, report=JsonlReportWriter(buf), chunk_size=12, index_limit=0)
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    outcomes = Counter(line["outcome"] for line in lines)
    assert sent["create"] == 3
    assert outcomes["created"] == 20 == len(store.customers)  # two full batches, then the 401
    assert outcomes["rejected"] == 8  # every bad row, including those behind the unsent rows
    rows_reported = [line["row"] for line in lines]
    assert rows_reported == sorted(set(rows_reported), key=lambda key: int(key[1:]))


def test_a_rare_kind_of_write_goes_out_short_rather_than_hold_the_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def setup() -> tuple[InProcessStore, list[dict[str, Any]]]:
        store = InProcessStore(
            {"email": f"person{i}@example.com", "first_name": "x", "last_name": "y"}
            for i in range(1, 201)
            if i % 50
        )
        return store, [contact(i) for i in range(1, 201)]  # a new contact every 50 rows

    store, rows = setup()
    result, lines = run(rows, store, chunk_size=10, index_limit=0)
    assert (result.created, store.calls["create"]) == (4, 1)  # all 4 creates wait for one batch
    assert [line["row"] for line in lines] == [f"c{i}" for i in range(1, 201)]

    monkeypatch.setattr(engine, "MAX_HELD_LINES", 30)
    store, rows = setup()
    written_at: list[int] = []

    class Recording(JsonlReportWriter):
        def write(
            self, row: str, email: str | None, outcome: str, reason: str | None, customer_id: int | None
        ) -> None:
            written_at.append(store.calls["find"])  # chunks read when this line went out
            super().write(row, email, outcome, reason, customer_id)

    buf = io.StringIO()
    result = sync_customers(rows, store, report=Recording(buf), chunk_size=10, index_limit=0)
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert (result.created, store.calls["create"]) == (4, 4)  # each sent once 40 lines wait behind it
    assert [line["row"] for line in lines] == [f"c{i}" for i in range(1, 201)]
    held = [(chunks_read * 10) - written for written, chunks_read in enumerate(written_at)]
    assert max(held) <= 30 + 10 + 10  # the limit, plus the chunk that crossed it, plus the waiting rows
