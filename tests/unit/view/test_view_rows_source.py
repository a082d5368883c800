"""
Where the sync view's rows come from: the run's ledger rows, else its report, else the summary's list.

A real run of the operator (an in-process store, a SQLite ledger through an Airflow connection)
writes the summary the view reads; the ledger and the report are the ones that summary names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import airflow_bigcommerce.hooks.bigcommerce as hook_module
from airflow_bigcommerce.ledger.records import LedgerRow, Scope
from airflow_bigcommerce.ledger.store import SqlLedger
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.testing.in_process import InProcessStore
from airflow_bigcommerce.view import app as view_app

CONN_ID = "view_ledger"
TABLE = "crm_sync_ledger"


class FakeSyncHook(InProcessStore):
    def __init__(self, bigcommerce_conn_id: str = "bigcommerce_default", **kwargs: Any) -> None:
        super().__init__()
        self.settings = object()
        self.store_hash = "store1"


class TI:
    dag_id = "crm"
    task_id = "sync"
    map_index = -1

    def xcom_push(self, key: str, value: Any) -> None:
        pass


@pytest.fixture
def ledger_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(hook_module, "BigCommerceHook", FakeSyncHook)
    db = tmp_path / "ledger.db"
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps({"conn_type": "sqlite", "host": str(db)})
    )
    return db


def contacts() -> list[dict[str, Any]]:
    return [
        {"id": "c1", "email": "ok@example.com", "first_name": "O", "last_name": "K"},
        {"id": "c2", "email": "jane@@example", "first_name": "Jane", "last_name": "Doe"},
        {"id": "c3", "email": "", "first_name": "No", "last_name": "Mail"},
    ]


def run(tmp_path: Path, *, ledger: bool, report: bool) -> dict[str, Any]:
    op = SyncCustomersOperator(
        task_id="sync",
        contacts=contacts(),
        report_path=str(tmp_path / "report.jsonl") if report else None,
        ledger_conn_id=CONN_ID if ledger else None,
        ledger_table=TABLE,
    )
    summary: dict[str, Any] = op.execute(context={"ti": TI(), "run_id": "manual__1"})  # type: ignore[arg-type]
    return summary


def page(summary: dict[str, Any]) -> str:
    found = {"state": "success", "summary": summary, "customers_url": None}
    return view_app.render_task_instance(
        found, dag_id="crm", run_id="manual__1", task_id="sync", map_index=-1
    )


def test_the_summary_names_the_ledger_the_task_used(ledger_db: Path, tmp_path: Path) -> None:
    summary = run(tmp_path, ledger=True, report=False)
    assert summary["ledger"] == {
        "conn_id": CONN_ID,
        "table": TABLE,
        "store_hash": "store1",
        "channel_id": 0,
        "run_id": "crm/sync/-1/manual__1",
    }
    assert run(tmp_path, ledger=False, report=False)["ledger"] is None


def test_a_run_with_a_ledger_lists_its_rows_from_the_ledger(ledger_db: Path, tmp_path: Path) -> None:
    summary = run(tmp_path, ledger=True, report=True)
    # another run's rejected row in the same table: not this run's, not listed
    with SqlLedger.open(CONN_ID, TABLE, Scope("store1")) as ledger:
        ledger.write(
            [LedgerRow("c9", "rejected", email="other@example.com", reason="x", run_id="crm/sync/-1/r0")]
        )
    (tmp_path / "report.jsonl").unlink()  # the rows cannot have come from the report
    lines, source, complete, note = view_app.listed_rows(summary)
    assert (source, complete, note) == ("ledger", True, None)
    assert {line["row"] for line in lines or []} == {"c2", "c3"}
    assert {line["outcome"] for line in lines or []} == {"rejected"}
    html = page(summary)
    assert "From the sync's ledger (this run's rows)" in html
    assert 'data-key="c2" data-email="jane@@example"' in html
    assert "other@example.com" not in html


def test_a_ledger_that_cannot_be_read_falls_back_to_the_report_and_says_so(
    ledger_db: Path, tmp_path: Path
) -> None:
    summary = run(tmp_path, ledger=True, report=True)
    gone = {**summary, "ledger": {**summary["ledger"], "conn_id": "no_such_connection"}}
    lines, source, _, note = view_app.listed_rows(gone)
    assert source == "report"
    assert {line["row"] for line in lines or []} == {"c2", "c3"}
    assert note is not None and note.startswith(f"The ledger {TABLE} could not be read (")
    assert "could not be read" in page(gone)


def test_without_ledger_or_report_the_summary_list_is_shown_and_the_page_says_so(
    ledger_db: Path, tmp_path: Path
) -> None:
    summary = run(tmp_path, ledger=False, report=False)
    assert view_app.listed_rows(summary) == (None, "summary", True, None)
    html = page(summary)
    assert "No ledger or report for this run: the rows below are the summary&#x27;s own list." in html
    assert "From the task's summary (XCom)" in html
    assert 'data-key="c2"' in html


def test_a_table_name_the_ledger_would_refuse_is_never_put_in_sql(ledger_db: Path, tmp_path: Path) -> None:
    summary = run(tmp_path, ledger=True, report=False)
    forged = {**summary, "ledger": {**summary["ledger"], "table": "t; DROP TABLE crm_sync_ledger"}}
    lines, source, _, note = view_app.listed_rows(forged)
    assert (lines, source) == (None, "summary")
    assert note is not None and "could not be read (ValueError)" in note
    assert view_app.listed_rows(summary)[1] == "ledger"  # the table is still there
