from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_bigcommerce.sync.client import LOOKUP_BATCH_SIZE, OutcomeUnknownError, RequestRejectedError
from airflow_bigcommerce.sync.create_once import MAX_UNKNOWN_SENDS as MAX_UNKNOWN_ATTEMPTS
from airflow_bigcommerce.sync.engine import MAX_CONCURRENCY, sync_customers
from airflow_bigcommerce.sync.report import JsonlReportWriter
from airflow_bigcommerce.sync.result import SyncResult
from airflow_bigcommerce.testing.in_process import InProcessStore, StoreFailure

# Per-chunk look-ups unless a test asks for the store index.
PER_CHUNK: dict[str, Any] = {"index_limit": 0}


def contact(i: int, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": f"c{i}",
        "email": f"person{i}@example.com",
        "first_name": f"First{i}",
        "last_name": f"Last{i}",
        "company": "Acme",
    }
    row.update(overrides)
    return row


def contacts(n: int, start: int = 1) -> list[dict[str, Any]]:
    return [contact(i) for i in range(start, start + n)]


def invariant(result: SyncResult) -> None:
    assert result.created + result.updated + result.skipped + result.rejected + result.failed == result.total


def run_with_report(
    rows: Any, store: InProcessStore, **kwargs: Any
) -> tuple[SyncResult, list[dict[str, Any]]]:
    buf = io.StringIO()
    result = sync_customers(rows, store, report=JsonlReportWriter(buf), **kwargs)
    invariant(result)
    return result, [json.loads(line) for line in buf.getvalue().splitlines()]


def emails_in(store: InProcessStore) -> list[str]:
    return sorted(c["email"].lower() for c in store.customers.values())


# ----------------------------------------------------------------- batching


@pytest.mark.parametrize(("n", "posts"), [(1, 1), (10, 1), (11, 2), (25, 3)])
def test_creates_go_out_in_batches_of_ten(store: InProcessStore, n: int, posts: int) -> None:
    result = sync_customers(contacts(n), store, **PER_CHUNK)
    invariant(result)
    assert result.created == n
    assert store.calls["create"] == posts
    assert result.requests == {"lookup": 1, "create": posts, "update": 0, "list": 0}
    assert len(store.customers) == n


def test_batch_size_and_lookup_groups(store: InProcessStore) -> None:
    result = sync_customers(contacts(600), store, batch_size=3, chunk_size=600, **PER_CHUNK)
    assert result.created == 600
    assert store.calls["create"] == 200
    assert store.calls["find"] == 3  # 250 + 250 + 100: short e-mails, the count caps a group
    assert store.max_lookup_size == LOOKUP_BATCH_SIZE


def test_rows_are_streamed_in_chunks(store: InProcessStore) -> None:
    pulled = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal pulled
        for row in contacts(25):
            pulled += 1
            yield row

    seen_at_first_create: list[int] = []
    original = store.create_customers

    def spy(customers: Any) -> list[dict[str, Any]]:
        seen_at_first_create.append(pulled)
        return original(customers)

    store.create_customers = spy  # type: ignore[method-assign]
    result = sync_customers(rows(), store, chunk_size=10, **PER_CHUNK)
    assert result.created == 25
    assert seen_at_first_create[0] == 10  # the first chunk was written before row 11 was read
    assert store.calls["find"] == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": 0},
        {"batch_size": 11},
        {"max_concurrency": 0},
        {"max_concurrency": 9},
        {"mode": "merge"},
    ],
)
def test_bad_arguments(store: InProcessStore, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        sync_customers([], store, **kwargs)


def test_bad_field_map_raises_before_any_request(store: InProcessStore) -> None:
    with pytest.raises(ValueError):
        sync_customers(contacts(3), store, field_map={"mail": "not_a_field"})
    assert sum(store.calls.values()) == 0


def test_empty_input(store: InProcessStore) -> None:
    result = sync_customers([], store)
    assert result.total == 0
    assert result.to_dict()["created"] == 0


# ----------------------------------------------------------------- look-up strategy


def test_small_store_is_read_once_instead_of_looked_up(store: InProcessStore) -> None:
    for i in range(1, 301):
        store.add({"email": f"person{i}@example.com", "first_name": f"First{i}", "last_name": f"Last{i}"})
    result = sync_customers(contacts(400), store, chunk_size=100)
    invariant(result)
    assert (result.created, result.skipped) == (100, 300)
    assert store.calls["find"] == 0
    assert store.calls["count"] == 1
    assert store.calls["list"] == 2  # 300 customers: two pages of 250
    assert result.requests["list"] == 3
    assert result.requests["lookup"] == 0


def test_empty_store_costs_one_count(store: InProcessStore) -> None:
    result = sync_customers(contacts(200), store)
    assert result.created == 200
    assert result.requests == {"lookup": 0, "create": 20, "update": 0, "list": 1}


def test_large_store_is_looked_up_per_chunk() -> None:
    store = InProcessStore({"email": f"x{i}@example.com"} for i in range(30))
    result = sync_customers(contacts(120), store, index_limit=20, chunk_size=100)
    assert result.created == 120
    assert store.calls["list"] == 0
    assert store.calls["find"] == 2  # one per chunk: 100, then 20


def test_upsert_looks_up_a_full_page_of_emails_per_request() -> None:
    store = InProcessStore(
        {"email": f"person{i}@example.com", "first_name": "Old", "last_name": f"Last{i}"}
        for i in range(1, 101)
    )
    result = sync_customers(contacts(1000), store, mode="upsert", **PER_CHUNK)
    invariant(result)
    assert (result.created, result.updated) == (900, 100)
    assert store.calls["find"] == result.requests["lookup"] == 4  # 2 per 500-row chunk, was 20
    assert store.max_lookup_size == LOOKUP_BATCH_SIZE == 250


def test_long_emails_split_look_ups_by_url_length(store: InProcessStore) -> None:
    rows = [contact(i, email=f"{'x' * 200}{i}@example.com") for i in range(100)]
    result = sync_customers(rows, store, chunk_size=100, **PER_CHUNK)
    assert result.created == 100
    assert store.calls["find"] == 4  # ~32 e-mails of 214 characters fill 7,000 encoded characters
    assert store.max_lookup_size < LOOKUP_BATCH_SIZE


def test_few_rows_skip_the_count(store: InProcessStore) -> None:
    result = sync_customers(contacts(5), store, total=5)
    assert result.created == 5
    assert store.calls["count"] == 0
    assert store.calls["find"] == 1


def test_index_answers_for_rows_created_by_this_run(store: InProcessStore) -> None:
    rows = [*contacts(3), contact(9, email="PERSON1@example.com")]
    result = sync_customers(rows, store, chunk_size=2)
    assert (result.created, result.skipped) == (3, 1)
    assert len(store.customers) == 3


# ----------------------------------------------------------------- refused batches


def test_422_batch_is_split_and_only_the_bad_row_rejected() -> None:
    store = InProcessStore(reject_emails=["person4@example.com"])
    result, lines = run_with_report(contacts(10), store, **PER_CHUNK)
    assert (result.created, result.rejected) == (9, 1)
    assert result.rejections == (
        {"row": "c4", "email": "person4@example.com", "reason": result.rejections[0]["reason"]},
    )
    reason = result.rejections[0]["reason"]
    assert reason is not None
    assert reason.startswith("email: ")
    assert "0.email" not in reason
    assert store.calls["create"] == 1 + 10
    assert len(store.customers) == 9
    assert [line["outcome"] for line in lines].count("created") == 9


def test_non_atomic_422_counts_committed_rows_once() -> None:
    store = InProcessStore(reject_emails=["person6@example.com"], atomic=False)
    result = sync_customers(contacts(10), store, **PER_CHUNK)
    invariant(result)
    # rows 1..5 were committed by the refused batch: found by the look-up, not sent again, and
    # reported as already in the store (the store said no: a refusal is never claimed as created)
    assert (result.created, result.skipped, result.rejected) == (4, 5, 1)
    assert len(store.customers) == 9
    assert len(set(emails_in(store))) == 9
    assert store.calls["create"] == 1 + 5


def test_scripted_non_atomic_fault(store: InProcessStore) -> None:
    store.reject_emails = {"person3@example.com"}
    store.fail_next("create", "non_atomic")
    result = sync_customers(contacts(5), store, **PER_CHUNK)
    assert (result.created, result.skipped, result.rejected) == (2, 2, 1)  # 1..2 committed by the refusal
    assert store.calls["create"] == 1 + 3


def test_reject_before_write_resends_one_at_a_time(store: InProcessStore) -> None:
    store.fail_next("create", "reject_before_write")
    result = sync_customers(contacts(4), store, **PER_CHUNK)
    assert result.created == 4
    assert store.calls["create"] == 1 + 4
    assert len(store.customers) == 4


def test_duplicate_created_meanwhile_by_someone_else_is_skipped(store: InProcessStore) -> None:
    original = store.find_customers_by_email
    state = {"first": True}

    def racing_find(emails: Any) -> list[dict[str, Any]]:
        found = original(emails)
        if state.pop("first", False):  # after our look-up, another app creates person2
            store.add({"email": "Person2@Example.com", "first_name": "Other", "last_name": "App"})
        return found

    store.find_customers_by_email = racing_find  # type: ignore[method-assign]
    result, lines = run_with_report(contacts(3), store, **PER_CHUNK)
    assert (result.created, result.skipped, result.rejected) == (2, 1, 0)
    by_row = {line["row"]: line for line in lines}
    assert by_row["c2"]["outcome"] == "skipped"
    assert by_row["c2"]["reason"].startswith("exists in store (id ")
    assert len(store.customers) == 3


def test_single_row_in_use_is_looked_up_and_skipped(store: InProcessStore) -> None:
    original = store.find_customers_by_email
    state = {"first": True}

    def racing_find(emails: Any) -> list[dict[str, Any]]:
        found = original(emails)
        if state.pop("first", False):
            store.add({"email": "person1@example.com", "first_name": "Other", "last_name": "App"})
        return found

    store.find_customers_by_email = racing_find  # type: ignore[method-assign]
    result = sync_customers(contacts(1), store, batch_size=1, **PER_CHUNK)
    assert (result.created, result.skipped) == (0, 1)
    assert store.calls["find"] == 2


def test_validator_errors_name_the_field() -> None:
    def no_acme(customer: Any) -> dict[str, str] | None:
        return {"company": "Company is not allowed."} if customer.get("company") == "Bad" else None

    store = InProcessStore(validator=no_acme)
    rows = [*contacts(3), contact(4, company="Bad")]
    result = sync_customers(rows, store, **PER_CHUNK)
    assert result.rejections[0]["reason"] == "company: Company is not allowed. (HTTP 422)"


def test_401_aborts_the_run_but_flushes_the_report(store: InProcessStore) -> None:
    def refuse(customers: Any) -> list[dict[str, Any]]:
        raise RequestRejectedError("401", status=401, title="Unauthorized")

    store.create_customers = refuse  # type: ignore[method-assign]
    rows = [contact(1), contact(2, email="nope")]
    buf = io.StringIO()
    with pytest.raises(RequestRejectedError):
        sync_customers(rows, store, report=JsonlReportWriter(buf), **PER_CHUNK)
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert [(line["row"], line["outcome"]) for line in lines] == [("c2", "rejected")]


# ----------------------------------------------------------------- unknown outcomes


def test_commit_then_unknown_does_not_create_twice(store: InProcessStore) -> None:
    store.fail_next("create", "commit_then_unknown")
    result, lines = run_with_report(contacts(5), store, **PER_CHUNK)
    assert result.created == 5
    assert len(store.customers) == 5
    assert store.calls["create"] == 1
    assert result.retries_resolved == 5
    assert all(line["customer_id"] for line in lines)


def test_unknown_before_write_is_resent_once(store: InProcessStore) -> None:
    store.fail_next("create", "unknown_before_write")
    result = sync_customers(contacts(5), store, **PER_CHUNK)
    assert result.created == 5
    assert len(store.customers) == 5
    assert store.calls["create"] == 2
    assert result.retries_resolved == 5


def test_unknown_forever_is_failed_not_rejected_nor_lost(store: InProcessStore) -> None:
    store.fail_next("create", "unknown_before_write", times=MAX_UNKNOWN_ATTEMPTS)
    result = sync_customers(contacts(2), store, **PER_CHUNK)
    invariant(result)
    assert (result.failed, result.rejected) == (2, 0)
    assert result.failures[0]["reason"] == f"outcome still unknown after {MAX_UNKNOWN_ATTEMPTS} attempts"
    assert store.calls["create"] == MAX_UNKNOWN_ATTEMPTS
    assert not store.customers


def test_write_unavailable_fails_the_batch_and_goes_on(store: InProcessStore) -> None:
    store.fail_next("create", "unavailable")
    result, report = run_with_report(contacts(25), store, **PER_CHUNK)
    invariant(result)
    assert (result.created, result.failed, result.rejected) == (15, 10, 0)
    failed = [line for line in report if line["outcome"] == "failed"]
    assert [line["row"] for line in failed] == [f"c{i}" for i in range(1, 11)]
    assert failed[0]["reason"].startswith("create failed: injected: create unavailable")
    assert result.to_dict()["failures"][0] == {
        "row": "c1",
        "email": "person1@example.com",
        "reason": failed[0]["reason"],
    }
    assert len(store.customers) == 15


def test_lookup_unavailable_fails_the_chunk_and_writes_nothing_blindly(store: InProcessStore) -> None:
    store.fail_next("find", "unavailable")
    result = sync_customers(contacts(30), store, **PER_CHUNK, chunk_size=20)
    invariant(result)
    assert (result.failed, result.created) == (20, 10)
    assert all(f["reason"].startswith("look-up failed") for f in result.failures)
    assert {c["email"] for c in store.customers.values()} == {f"person{i}@example.com" for i in range(21, 31)}


def test_unknown_then_lookup_unavailable_is_failed_as_unknown(store: InProcessStore) -> None:
    store.fail_next("create", "unknown_before_write")
    original = store.find_customers_by_email

    def find(emails: Any) -> Any:
        if store.calls["create"]:  # the look-up after the unknown write: reads are down now too
            store.fail_next("find", "unavailable")
        return original(emails)

    store.find_customers_by_email = find  # type: ignore[method-assign]
    result = sync_customers(contacts(3), store, **PER_CHUNK)
    invariant(result)
    assert result.failed == 3
    assert result.failures[0]["reason"].startswith("outcome unknown: injected")
    assert store.calls["create"] == 1


def test_confirmed_unknown_write_is_reported_to_the_client(store: InProcessStore) -> None:
    confirmations: list[int] = []
    store.confirm_write = lambda: confirmations.append(1)  # type: ignore[attr-defined]
    store.fail_next("create", "commit_then_unknown")
    result = sync_customers(contacts(4), store, **PER_CHUNK)
    assert result.created == 4
    assert confirmations == [1]


def test_unknown_then_in_use_is_our_own_write(store: InProcessStore) -> None:
    # the first send commits but answers nothing; the look-up misses it (replica lag), the resend
    # gets "already in use": the row is ours, so it counts as created, not as a pre-existing one.
    original = store.find_customers_by_email
    calls = {"n": 0}

    def lagging_find(emails: Any) -> list[dict[str, Any]]:
        calls["n"] += 1
        return [] if calls["n"] == 2 else original(emails)

    store.find_customers_by_email = lagging_find  # type: ignore[method-assign]
    store.fail_next("create", "commit_then_unknown")
    result = sync_customers(contacts(1), store, **PER_CHUNK)
    assert (result.created, result.skipped) == (1, 0)
    assert len(store.customers) == 1


def test_update_commit_then_unknown_is_confirmed_by_comparison() -> None:
    store = InProcessStore([{"email": "person1@example.com", "first_name": "Old", "last_name": "Last1"}])
    store.fail_next("update", "commit_then_unknown")
    result = sync_customers(contacts(1), store, mode="upsert", **PER_CHUNK)
    assert result.updated == 1
    assert store.calls["update"] == 1
    assert store.by_email("person1@example.com")["first_name"] == "First1"  # type: ignore[index]


def test_update_unknown_before_write_is_resent() -> None:
    store = InProcessStore([{"email": "person1@example.com", "first_name": "Old", "last_name": "Last1"}])
    store.fail_next("update", "unknown_before_write")
    result = sync_customers(contacts(1), store, mode="upsert", **PER_CHUNK)
    assert result.updated == 1
    assert store.calls["update"] == 2


def test_lookup_failure_propagates_after_flushing_the_report(store: InProcessStore) -> None:
    store.fail_next("find", "error", times=1)
    rows = [contact(i) for i in range(1, 4)]
    buf = io.StringIO()
    with pytest.raises(StoreFailure):
        sync_customers([*contacts(3), *rows], store, report=JsonlReportWriter(buf), chunk_size=3, **PER_CHUNK)
    assert buf.getvalue() == ""  # nothing settled before the first look-up


def test_lookup_failure_mid_run_keeps_earlier_lines(store: InProcessStore) -> None:
    original = store.find_customers_by_email
    calls = {"n": 0}

    def failing_second(emails: Any) -> list[dict[str, Any]]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OutcomeUnknownError("look-up failed after retries")
        return original(emails)

    store.find_customers_by_email = failing_second  # type: ignore[method-assign]
    buf = io.StringIO()
    with pytest.raises(OutcomeUnknownError):
        sync_customers(
            contacts(6), store, report=JsonlReportWriter(buf), chunk_size=3, batch_size=3, **PER_CHUNK
        )
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert [line["row"] for line in lines] == ["c1", "c2", "c3"]  # the first chunk's full batch
    assert len(store.customers) == 3


def test_failure_in_a_batch_lookup_leaves_other_batches_reported(store: InProcessStore) -> None:
    store.fail_next("create", "unknown_before_write")
    store.fail_next("find", "error")
    buf = io.StringIO()
    with pytest.raises(StoreFailure):
        sync_customers(
            contacts(15), store, report=JsonlReportWriter(buf), **PER_CHUNK | {"index_limit": 10**6}
        )
    # Batch 1 (rows 1-10) hit the unknown outcome and its look-up failed; batch 2 never started.
    assert buf.getvalue() == ""
    assert not store.customers


# ----------------------------------------------------------------- modes


def existing_store() -> InProcessStore:
    return InProcessStore(
        [
            {"email": "PERSON1@Example.com", "first_name": "First1", "last_name": "Last1", "company": "Acme"},
            {"email": "person2@example.com", "first_name": "Old", "last_name": "Last2", "company": "Acme"},
        ]
    )


@pytest.mark.parametrize("index_limit", [0, 2500])
def test_insert_skips_existing_in_any_case(index_limit: int) -> None:
    store = existing_store()
    result, lines = run_with_report(contacts(3), store, index_limit=index_limit)
    assert (result.created, result.skipped, result.updated) == (1, 2, 0)
    assert lines[0]["reason"] == "exists in store (id 1)"
    assert lines[0]["customer_id"] == 1
    assert store.by_email("person2@example.com")["first_name"] == "Old"  # type: ignore[index]
    assert len(store.customers) == 3


@pytest.mark.parametrize("index_limit", [0, 2500])
def test_upsert_updates_only_changed(index_limit: int) -> None:
    store = existing_store()
    result, lines = run_with_report(contacts(3), store, mode="upsert", index_limit=index_limit)
    assert (result.created, result.skipped, result.updated) == (1, 1, 1)
    assert [line["outcome"] for line in lines] == ["skipped", "updated", "created"]
    assert lines[0]["reason"] == "unchanged"
    assert lines[1]["reason"] == "changed: first_name"
    assert lines[1]["customer_id"] == 2
    assert store.calls["update"] == 1
    assert store.by_email("person2@example.com")["first_name"] == "First2"  # type: ignore[index]


def test_upsert_update_batch_refused_is_split() -> None:
    store = InProcessStore(
        {"email": f"person{i}@example.com", "first_name": "Old", "last_name": f"Last{i}"} for i in range(1, 6)
    )

    def refuse(customer: Any) -> dict[str, str] | None:
        return {"first_name": "Bad name."} if customer.get("email") == "person3@example.com" else None

    store.validator = refuse
    result = sync_customers(contacts(5), store, mode="upsert", **PER_CHUNK)
    invariant(result)
    assert (result.updated, result.rejected) == (4, 1)
    assert result.rejections[0]["reason"] == "first_name: Bad name. (HTTP 422)"
    assert store.calls["update"] == 1 + 5


def test_dry_run_writes_nothing_and_counts_right() -> None:
    store = existing_store()
    rows = [*contacts(4), contact(9, email="bad")]
    result, lines = run_with_report(rows, store, mode="upsert", dry_run=True, **PER_CHUNK)
    assert result.dry_run is True
    assert (result.created, result.updated, result.skipped, result.rejected) == (2, 1, 1, 1)
    assert store.calls["create"] == store.calls["update"] == 0
    assert len(store.customers) == 2
    assert {line["reason"] for line in lines if line["outcome"] == "created"} == {"dry run: would create"}
    assert result.to_dict()["dry_run"] is True


# ----------------------------------------------------------------- rows


def test_duplicates_within_the_run_are_skipped(store: InProcessStore) -> None:
    rows = [
        contact(1),
        contact(2, email="  PERSON1@example.COM "),
        contact(3),
        contact(4, email="person3@EXAMPLE.com"),
    ]
    result, lines = run_with_report(rows, store, chunk_size=2, **PER_CHUNK)
    assert (result.created, result.skipped) == (2, 2)
    assert lines[1]["reason"] == "duplicate of row c1 in this run"
    assert lines[3]["reason"] == "duplicate of row c3 in this run"
    assert len(store.customers) == 2
    # a duplicate carries the customer id of the row it duplicates
    assert lines[1]["customer_id"] == lines[0]["customer_id"] is not None
    assert lines[3]["customer_id"] == lines[2]["customer_id"] is not None


def test_a_duplicate_of_an_existing_customer_carries_its_id_and_of_a_rejected_row_none(
    store: InProcessStore,
) -> None:
    existing = store.add({"email": "person1@example.com", "first_name": "x", "last_name": "y"})
    rows = [
        contact(1),
        contact(2, email="person1@example.com"),
        contact(3),
        contact(4, email="person3@example.com"),
    ]
    store.reject_emails = {"person3@example.com"}
    result, lines = run_with_report(rows, store, chunk_size=1, **PER_CHUNK)
    assert [line["outcome"] for line in lines] == ["skipped", "skipped", "rejected", "skipped"]
    assert lines[1]["customer_id"] == lines[0]["customer_id"] == existing["id"]
    assert lines[3]["customer_id"] is None  # its first row was refused: no customer to point at


def test_row_keys_fall_back_to_row_numbers(store: InProcessStore) -> None:
    rows = [{"email": "a@example.com", "first_name": "A", "last_name": "B"}] * 2
    result, lines = run_with_report(rows, store, key_field=None)
    assert [line["row"] for line in lines] == ["row 1", "row 2"]
    assert lines[1]["reason"] == "duplicate of row 1 in this run"
    custom = sync_customers(
        [{"crm": 7, "email": "x", "first_name": "A", "last_name": "B"}], store, key_field="crm"
    )
    assert custom.rejections[0]["row"] == "7"


def test_mapping_rejections_and_odd_rows(store: InProcessStore) -> None:
    class Exploding(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            raise RuntimeError("secret value in message")

    rows: list[Any] = [
        contact(1, email=None),
        contact(2, email="  not-an-email  "),
        contact(3, first_name=None),
        Exploding(),
        contact(5),
    ]
    result, lines = run_with_report(rows, store)
    assert (result.created, result.rejected) == (1, 4)
    reasons = [r["reason"] for r in result.rejections]
    assert reasons[0] is not None
    assert reasons[0].startswith("email: ")
    assert reasons[2] is not None
    assert reasons[2].startswith("first_name: ")
    assert reasons[3] == "could not map row: RuntimeError"
    assert result.rejections[1]["email"] == "not-an-email"
    assert result.rejections[0]["email"] is None
    assert lines[3]["row"] == "row 4"


def test_rejections_are_capped(store: InProcessStore) -> None:
    rows = [contact(i, email=f"bad{i}") for i in range(30)]
    result = sync_customers(rows, store, max_rejections_listed=5)
    assert result.rejected == 30
    assert len(result.rejections) == 5
    assert result.rejections_truncated is True
    uncapped = sync_customers(rows[:5], store, max_rejections_listed=5)
    assert uncapped.rejections_truncated is False


def test_report_has_one_line_per_row_in_input_order() -> None:
    store = InProcessStore(
        [{"email": "person2@example.com", "first_name": "x", "last_name": "y"}],
        reject_emails=["person7@example.com"],
    )
    rows = [*contacts(30), contact(31, email="bad"), contact(32, email="person1@example.com")]
    result, lines = run_with_report(rows, store, chunk_size=7, max_concurrency=3, **PER_CHUNK)
    assert len(lines) == result.total == 32
    assert [line["row"] for line in lines] == [f"c{i}" for i in range(1, 33)]
    assert set(lines[0]) == {"row", "email", "outcome", "reason", "customer_id"}


def test_password_never_leaves_the_engine(store: InProcessStore) -> None:
    secret = "Sup3r-Secret-Pa55!"
    rows = [contact(1, password=secret), contact(2, password=secret, email="bad")]
    field_map = {
        "email": "email",
        "first_name": "first_name",
        "last_name": "last_name",
        "password": "password",
    }
    store.fail_next("create", "commit_then_unknown")
    result, lines = run_with_report(rows, store, field_map=field_map)
    assert secret not in json.dumps(result.to_dict())
    assert secret not in json.dumps(lines)
    assert result.created == 1


# ----------------------------------------------------------------- concurrency, result


def test_concurrency_gives_the_same_store_state() -> None:
    def build() -> InProcessStore:
        return InProcessStore(
            [
                {"email": f"person{i}@example.com", "first_name": "Old", "last_name": f"Last{i}"}
                for i in range(1, 40)
            ],
            reject_emails=[f"person{i}@example.com" for i in range(50, 200, 17)],
        )

    rows = [*contacts(200), *contacts(20, start=5)]
    serial, concurrent = build(), build()
    concurrent.plan("create", ["commit_then_unknown", "unknown_before_write", "non_atomic"])
    r1 = sync_customers(rows, serial, mode="upsert", chunk_size=64, **PER_CHUNK)
    r2 = sync_customers(rows, concurrent, mode="upsert", chunk_size=64, max_concurrency=4, **PER_CHUNK)
    invariant(r2)

    def state(store: InProcessStore) -> list[tuple[str, str]]:
        return sorted((c["email"], c["first_name"]) for c in store.customers.values())

    assert state(serial) == state(concurrent)
    assert (r1.created, r1.updated, r1.skipped, r1.rejected) == (
        r2.created,
        r2.updated,
        r2.skipped,
        r2.rejected,
    )


def test_result_is_json_safe_and_counts_requests() -> None:
    store = InProcessStore(stats={"429s": 2, "retries": 3})
    result = sync_customers(contacts(12), store, **PER_CHUNK)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["requests"] == {"lookup": 1, "create": 2, "update": 0, "list": 0}
    assert data["client_stats"] == {"429s": 2, "retries": 3}
    assert data["mode"] == "insert"
    assert data["duration_s"] >= 0
    with pytest.raises(AttributeError):
        result.created = 5  # type: ignore[misc]


def test_requests_per_row_is_reported_and_logged(
    store: InProcessStore, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="airflow_bigcommerce.sync"):
        result = sync_customers(contacts(12), store, **PER_CHUNK)
    assert sum(result.requests.values()) == 3  # one look-up, two create batches
    assert result.requests_per_row == 0.25
    assert result.to_dict()["requests_per_row"] == 0.25
    done = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Sync done")]
    assert done == [
        "Sync done: 12 rows, created 12, updated 0, skipped 0, rejected 0, failed 0, "
        "3 requests (0.250 per row) in " + done[0].rsplit(" in ", 1)[1]
    ]
    three = sync_customers(contacts(3, start=100), store, **PER_CHUNK)
    assert three.requests_per_row == round(2 / 3, 3) == 0.667
    assert sync_customers([], store).requests_per_row == 0.0


def test_adaptive_concurrency_offers_the_client_eight_workers(
    store: InProcessStore, caplog: pytest.LogCaptureFixture
) -> None:
    # Eight create batches must be in flight at once to pass the barrier: fewer workers break it.
    in_flight = threading.Barrier(MAX_CONCURRENCY, timeout=5)
    original = store.create_customers

    def create(customers: Any) -> list[dict[str, Any]]:
        in_flight.wait()
        return original(customers)

    store.create_customers = create  # type: ignore[method-assign]
    with caplog.at_level("INFO", logger="airflow_bigcommerce.sync"):
        result = sync_customers(contacts(80), store, max_concurrency=None, **PER_CHUNK)
    assert (result.created, result.failed) == (80, 0)
    assert store.calls["create"] == 8
    assert any("concurrency=adaptive (up to 8)" in r.getMessage() for r in caplog.records)


def test_concurrent_failure_still_reports_the_batches_that_finished(store: InProcessStore) -> None:
    original = store.create_customers
    other_done = threading.Event()

    def fail_first_batch(customers: Any) -> list[dict[str, Any]]:
        if any(c["email"] == "person1@example.com" for c in customers):
            other_done.wait(5)  # fail while the other batch is in flight, not before it starts
            raise StoreFailure("connection refused after retries")
        try:
            return original(customers)
        finally:
            other_done.set()

    store.create_customers = fail_first_batch  # type: ignore[method-assign]
    buf = io.StringIO()
    with pytest.raises(StoreFailure):
        sync_customers(contacts(20), store, report=JsonlReportWriter(buf), max_concurrency=2, **PER_CHUNK)
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert [line["row"] for line in lines] == [f"c{i}" for i in range(11, 21)]
    assert {line["outcome"] for line in lines} == {"created"}


def test_engine_imports_neither_airflow_nor_requests() -> None:
    import subprocess
    import sys

    code = (
        "import sys, airflow_bigcommerce.sync.engine, airflow_bigcommerce.testing.in_process;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('airflow', 'requests')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
