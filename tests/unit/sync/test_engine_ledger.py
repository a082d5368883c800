"""The sync with an in-memory ledger: identity by CRM key, every settled row kept, retries across runs."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from airflow_bigcommerce.ledger import LedgerRow, MemoryLedger, Scope
from airflow_bigcommerce.ledger.retries import MAX_ATTEMPTS
from airflow_bigcommerce.sync.engine import run_sync, sync_customers
from airflow_bigcommerce.sync.options import SyncOptions
from airflow_bigcommerce.sync.report import JsonlReportWriter
from airflow_bigcommerce.sync.result import SyncResult
from airflow_bigcommerce.testing.in_process import InProcessStore

FIELDS = {"email": "email", "first_name": "first_name", "last_name": "last_name"}


def contact(i: int, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": f"c{i}",
        "email": f"person{i}@example.com",
        "first_name": f"First{i}",
        "last_name": f"Last{i}",
    }
    row.update(overrides)
    return row


class Runs:
    """Runs of one sync on one store and one ledger, each with its own run id."""

    def __init__(self, store: InProcessStore, ledger: MemoryLedger) -> None:
        self.store = store
        self.ledger = ledger
        self.n = 0
        self.lines: list[dict[str, Any]] = []

    def __call__(self, rows: list[dict[str, Any]], **options: Any) -> SyncResult:
        self.n += 1
        buf = io.StringIO()
        options.setdefault("mode", "upsert")
        options.setdefault("index_limit", 0)
        result = run_sync(
            rows,
            self.store,
            SyncOptions(ledger=self.ledger, run_id=f"run-{self.n}", report=JsonlReportWriter(buf), **options),
        )
        assert (
            result.created + result.updated + result.skipped + result.rejected + result.failed == result.total
        )
        self.lines = [json.loads(line) for line in buf.getvalue().splitlines()]
        return result

    def row(self, key: str) -> LedgerRow:
        return self.ledger.rows()[[r.crm_key for r in self.ledger.rows()].index(key)]


@pytest.fixture
def runs() -> Runs:
    return Runs(InProcessStore(), MemoryLedger(Scope("store")))


def test_a_changed_email_updates_the_same_customer_never_a_second(runs: Runs) -> None:
    first = runs([contact(1), contact(2)])
    assert first.created == 2
    cid = runs.row("c1").customer_id
    assert cid is not None

    moved = runs([contact(1, email="new.job@example.com"), contact(2)])

    assert (moved.created, moved.updated, moved.skipped, moved.email_changes) == (0, 1, 1, 1)
    assert len(runs.store.customers) == 2
    assert runs.store.customers[cid]["email"] == "new.job@example.com"
    assert (runs.row("c1").customer_id, runs.row("c1").email) == (cid, "new.job@example.com")
    assert runs.row("c1").outcome == "updated"
    assert moved.to_dict()["email_changes"] == 1


def test_insert_mode_leaves_a_customer_whose_email_changed_alone(runs: Runs) -> None:
    runs([contact(1)], mode="insert")
    cid = runs.row("c1").customer_id

    again = runs([contact(1, email="new.job@example.com")], mode="insert")

    assert (again.created, again.skipped, again.email_changes) == (0, 1, 0)
    assert "insert mode" in runs.lines[0]["reason"] and str(cid) in runs.lines[0]["reason"]
    assert runs.store.customers[cid]["email"] == "person1@example.com"
    assert (runs.row("c1").customer_id, runs.row("c1").email) == (cid, "person1@example.com")


def test_a_new_email_held_by_another_customer_is_rejected_naming_it(runs: Runs) -> None:
    runs([contact(1), contact(2)])
    mine, theirs = runs.row("c1").customer_id, runs.row("c2").customer_id

    taken = runs([contact(1, email="person2@example.com")])

    assert (taken.rejected, taken.updated, taken.created) == (1, 0, 0)
    assert f"id {theirs}" in runs.lines[0]["reason"]
    assert runs.store.customers[mine]["email"] == "person1@example.com"
    row = runs.row("c1")
    assert (row.outcome, row.reason_kind, row.customer_id) == ("rejected", "store", mine)


def test_a_customer_deleted_in_the_store_is_created_again_and_the_ledger_gets_its_id(runs: Runs) -> None:
    runs([contact(1)])
    old = runs.row("c1").customer_id
    assert old is not None
    runs.store.store.v2_delete_customer(str(old))

    again = runs([contact(1)])

    assert again.created == 1
    new = runs.row("c1").customer_id
    assert new is not None and new != old and new in runs.store.customers


def test_an_empty_ledger_adopts_the_store_customers_by_email_creating_nothing(runs: Runs) -> None:
    for i in (1, 2, 3):
        runs.store.add(
            {"email": f"person{i}@example.com", "first_name": f"First{i}", "last_name": f"Last{i}"}
        )
    ids = {c["email"]: cid for cid, c in runs.store.customers.items()}

    adopted = runs([contact(1), contact(2), contact(3)])

    assert (adopted.created, adopted.skipped) == (0, 3)
    assert {r.crm_key: r.customer_id for r in runs.ledger.rows()} == {
        f"c{i}": ids[f"person{i}@example.com"] for i in (1, 2, 3)
    }
    # the next run finds them by id: one id look-up, no e-mail look-up
    resync = runs([contact(1), contact(2), contact(3)])
    assert resync.skipped == 3
    assert resync.requests["lookup"] == 0 and resync.requests["id_lookup"] == 1


def test_rows_without_a_key_are_rejected_and_not_kept(runs: Runs) -> None:
    result = runs([contact(1, id=None), contact(2, id="  "), contact(3)])

    assert (result.rejected, result.created) == (2, 1)
    assert [line["outcome"] for line in runs.lines] == ["rejected", "rejected", "created"]
    assert "needs each row's key" in runs.lines[0]["reason"]
    assert [r.crm_key for r in runs.ledger.rows()] == ["c3"]


def test_without_a_ledger_a_row_without_a_key_is_synced_as_before() -> None:
    store = InProcessStore()
    result = sync_customers([contact(1, id=None)], store, index_limit=0)
    assert result.created == 1 and (result.retried, result.email_changes) == (0, 0)


def test_a_ledger_needs_a_key_field() -> None:
    with pytest.raises(ValueError, match="key_field"):
        SyncOptions(ledger=MemoryLedger(), key_field=None)
    with pytest.raises(ValueError, match="max_attempts"):
        SyncOptions(ledger=MemoryLedger(), max_attempts=0)


def test_each_chunk_costs_one_ledger_read_and_one_write(runs: Runs) -> None:
    runs([contact(i) for i in range(1, 31)], chunk_size=10)
    # 3 chunks: a read and a write each; the search for due retries reads once more
    assert runs.ledger.reads == 3 + 1
    assert runs.ledger.writes == 3
    assert len(runs.ledger.rows()) == 30


def test_a_dry_run_reads_the_ledger_and_writes_nothing(runs: Runs) -> None:
    runs([contact(1)])
    before = runs.ledger.rows()
    result = runs([contact(1, email="new@example.com"), contact(2)], dry_run=True)
    assert (result.updated, result.created) == (1, 1)
    assert runs.ledger.rows() == before


def test_the_ledger_never_keeps_a_password(runs: Runs) -> None:
    fields = {**FIELDS, "pw": "password"}
    runs.store.fail_next("create", "unavailable")
    runs([contact(1, pw="s3cret-Passw0rd!")], field_map=fields)
    assert runs.row("c1").outcome == "failed"
    assert all("s3cret" not in str(row) for row in runs.ledger.rows())

    retried = runs([], field_map=fields)

    assert (retried.retried, retried.created) == (1, 1)  # sent without a password
    (customer,) = runs.store.customers.values()
    assert customer["email"] == "person1@example.com"


def test_failed_rows_are_delivered_from_the_ledger_by_a_later_empty_run_once(runs: Runs) -> None:
    runs.store.plan("create", ["unavailable"] * 20)
    down = runs([contact(i) for i in range(1, 6)])
    assert down.failed == 5
    runs.store.reset()  # the store heals (and its fault plan is gone)

    healed = runs([])

    assert (healed.total, healed.retried, healed.created) == (5, 5, 5)
    assert len(runs.store.customers) == 5
    assert {r.outcome for r in runs.ledger.rows()} == {"created"}
    nothing = runs([])
    assert (nothing.total, nothing.retried) == (0, 0)


def test_the_run_input_wins_over_the_ledger_copy(runs: Runs) -> None:
    runs.store.plan("create", ["unavailable"] * 5)
    runs([contact(1)])
    runs.store.reset()

    result = runs([contact(1, last_name="Newer")])

    assert (result.total, result.retried, result.created) == (1, 0, 1)
    (customer,) = runs.store.customers.values()
    assert customer["last_name"] == "Newer"


def test_a_row_refused_max_attempts_times_is_given_up_once(runs: Runs) -> None:
    runs.store.plan("create", ["unavailable"] * 100)
    first = runs([contact(1)])
    assert first.failed == 1
    for attempt in range(2, MAX_ATTEMPTS + 1):
        again = runs([])
        assert (again.retried, again.failed) == (1, 1)
        assert runs.row("c1").attempts == attempt
    assert "gave up after 5 attempts" in (runs.row("c1").reason or "")
    after = runs([])
    assert (after.total, after.retried) == (0, 0)
    # a changed CRM row counts anew
    changed = runs([contact(1, last_name="Fixed")])
    assert changed.failed == 1 and runs.row("c1").attempts == 1


def test_rows_rejected_for_their_own_data_are_not_retried(runs: Runs) -> None:
    runs([contact(1, email="not-an-email")])
    assert runs.row("c1").reason_kind == "data"
    assert runs([]).retried == 0


def test_partition_tasks_retry_only_their_own_rows() -> None:
    store, ledger = InProcessStore(), MemoryLedger(Scope("store"))
    store.plan("create", ["unavailable"] * 10)
    for part, rows in (("p0", [contact(1)]), ("p1", [contact(2)])):
        run_sync(
            rows,
            store,
            SyncOptions(ledger=ledger, run_id=f"{part}/r1", ledger_owner=f"{part}/", index_limit=0),
        )
    store.reset()

    p0 = run_sync([], store, SyncOptions(ledger=ledger, run_id="p0/r2", ledger_owner="p0/", index_limit=0))

    assert (p0.retried, p0.created) == (1, 1)
    assert [c["email"] for c in store.customers.values()] == ["person1@example.com"]


def test_duplicates_in_a_run_keep_the_customer_of_their_first_row(runs: Runs) -> None:
    result = runs([contact(1), contact(2, email="person1@example.com")])
    assert (result.created, result.skipped) == (1, 1)
    assert runs.row("c1").customer_id == runs.row("c2").customer_id


@pytest.mark.parametrize("workers", [1, 4])
def test_the_index_strategy_and_parallel_workers_give_the_same_identity(workers: int) -> None:
    runs = Runs(InProcessStore(), MemoryLedger(Scope("store")))
    runs([contact(i) for i in range(1, 25)], index_limit=2500, max_concurrency=workers, chunk_size=7)
    moved = runs(
        [contact(i, email=f"moved{i}@example.com") for i in range(1, 25)],
        index_limit=2500,
        max_concurrency=workers,
        chunk_size=7,
    )
    assert (moved.updated, moved.created, moved.email_changes) == (24, 0, 24)
    assert len(runs.store.customers) == 24
