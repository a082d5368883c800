"""
Every code example of the docs runs: the files under ``docs/examples/`` that the pages include.

The pages pull their code from these files (and from ``dags/``, which the e2e tests run) between
``[START ...]`` / ``[END ...]`` markers, so what a reader copies is what ran here.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from airflow_bigcommerce.demo.crm import read_contacts, seed_crm
from airflow_bigcommerce.operators.customers import CreateCustomerOperator, SyncCustomersOperator
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
DAGS = Path(__file__).resolve().parents[2] / "dags"
SEEDED_AT = datetime(2026, 1, 2, 9, 30, tzinfo=timezone.utc)
PASSWORD = "Docs-example-pw-2024!"


def _module(name: str, folder: Path = EXAMPLES) -> ModuleType:
    """Import ``<folder>/<name>.py`` (``docs/examples`` by default; neither it nor ``dags/`` is a package)."""
    spec = importlib.util.spec_from_file_location(f"{folder.name}_{name}", folder / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _between_markers(path: Path, name: str) -> str:
    """Return the text a page includes: between ``[START name]`` and ``[END name]``."""
    match = re.search(
        rf"\[START {name}\]\n(.*?)\n[^\n]*\[END {name}\]", path.read_text(encoding="utf-8"), re.S
    )
    assert match, f"{path.name} lost its [START {name}] / [END {name}] markers"
    return match.group(1)


def _task(dag_function: str, module: str, task_id: str) -> Any:
    """Build the example's DAG and return one of its tasks."""
    return getattr(_module(module), dag_function)().get_task(task_id)


@pytest.fixture
def crm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo's SQLite CRM with 60 contacts, as the connection ``crm_default``."""
    path = tmp_path / "crm.db"
    seed_crm(path, n=60, seed=3, now=SEEDED_AT)
    monkeypatch.setenv("AIRFLOW_CONN_CRM_DEFAULT", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return path


def test_create_customer_example_creates_one_customer_then_skips(bigcommerce_sandbox: SandboxHandle) -> None:
    context: dict[str, Any] = {
        "params": {"email": "ada@example.com"},
        "var": {"value": {"initial_pw": PASSWORD}},
    }
    for expected_count in (1, 1):  # the second run: if_exists="skip"
        op = _task("one_customer", "create_customer", "create_customer")
        assert isinstance(op, CreateCustomerOperator)
        op.render_template_fields(context)  # type: ignore[arg-type]
        customer = op.execute(context={})  # type: ignore[arg-type]
        assert customer["email"] == "ada@example.com"
        assert customer["company"] == "Analytical Engines Ltd"
        assert bigcommerce_sandbox.store.count() == expected_count
    assert PASSWORD not in json.dumps(customer)


def test_create_customer_v3_example_creates_the_customer_with_its_parts(
    bigcommerce_sandbox: SandboxHandle,
) -> None:
    store = bigcommerce_sandbox.store
    store.seed_groups([{"name": "Wholesale"}])
    store.seed_attributes([{"name": "crm_id", "type": "string"}, {"name": "first_order", "type": "date"}])
    op = _task("one_customer_v3", "create_customer", "create_customer_v3")
    op.render_template_fields(
        {"params": {"email": "ada@example.com", "crm_id": "C-17"}, "var": {"value": {"initial_pw": PASSWORD}}}
    )
    customer = op.execute(context={})  # type: ignore[arg-type]
    assert customer["email"] == "ada@example.com"
    [address] = customer["addresses"]
    assert address["state_or_province"] == "Texas"  # the code TX, sent as the name BigCommerce requires
    values = {a["attribute_value"] for a in customer["attributes"]}
    assert {"C-17", "2024-05-01"} <= values
    assert customer["customer_group_id"] > 0


def test_sync_example_runs_on_the_demo_sqlite_crm(
    bigcommerce_sandbox: SandboxHandle, crm: Path, tmp_path: Path
) -> None:
    op = _task("sync_examples", "sync_customers", "sync_contacts")
    assert isinstance(op, SyncCustomersOperator)
    assert op.report_path == "/data/reports/{{ run_id }}.jsonl"
    op.report_path = f"{tmp_path}/reports/{{{{ run_id }}}}.jsonl"
    since = datetime(2025, 12, 30, 0, 0, tzinfo=timezone.utc)
    op.render_template_fields({"data_interval_start": since, "run_id": "docs"})  # type: ignore[arg-type]
    assert op.parameters == {"since": "2025-12-30 00:00:00"}
    summary = op.execute(context={})  # type: ignore[arg-type]
    expected = [row for row in read_contacts(crm) if str(row["updated_at"]) >= "2025-12-30 00:00:00"]
    assert 0 < summary["total"] == len(expected) < 60  # the bound filtered the CRM, in SQLite's paramstyle
    assert summary["created"] > 0
    assert (tmp_path / "reports" / "docs.jsonl").exists()


def test_file_example_reads_a_gzipped_csv_export(bigcommerce_sandbox: SandboxHandle, tmp_path: Path) -> None:
    op = _task("sync_examples", "sync_customers", "sync_export")
    assert op.contacts_path.startswith("s3://aws_crm@crm-exports/")
    export = tmp_path / "contacts.csv.gz"  # the same format, on the local disk instead of S3
    with gzip.open(export, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Record ID", "Email", "First Name", "Last Name", "Lifecycle"])
        writer.writerow(["101", "Ada@Example.com ", "Ada", "Lovelace", "lead"])
        writer.writerow(["102", "grace@example.com", "Grace", "Hopper", "customer"])
        writer.writerow(["103", "not-an-email", "Alan", "Turing", "lead"])
    op.contacts_path = str(export)
    op.render_template_fields({"ds": "2026-01-02"})  # type: ignore[arg-type]
    summary = op.execute(context={})  # type: ignore[arg-type]
    assert (summary["created"], summary["rejected"], summary["total"]) == (2, 1, 3)
    assert summary["rejections"][0]["row"] == "103"  # key_field="Record ID" names the row
    emails = {c.email.lower() for c in bigcommerce_sandbox.store.customers()}
    assert emails == {"ada@example.com", "grace@example.com"}


def test_ledger_example_and_its_writeback_query(bigcommerce_sandbox: SandboxHandle, crm: Path) -> None:
    since = datetime(2000, 1, 1, tzinfo=timezone.utc)
    for run in ("first", "second"):
        op = _task("sync_examples", "sync_customers", "sync_with_ledger")
        op.render_template_fields({"data_interval_start": since, "run_id": run})  # type: ignore[arg-type]
        summary = op.execute(context={})  # type: ignore[arg-type]
        assert summary["total"] == 60
    assert summary["created"] == 0  # the second run: the ledger knows every customer
    query = _between_markers(EXAMPLES / "ledger_writeback.sql", "howto_ledger_writeback")
    query = query.replace("'abc123'", f"'{bigcommerce_sandbox.store_hash}'")
    with sqlite3.connect(crm) as db:
        rows = db.execute(query).fetchall()
    assert len(rows) == 60
    store_ids = {c.id for c in bigcommerce_sandbox.store.customers()}
    assert {row[2] for row in rows if row[2] is not None} == store_ids  # each customer's id, back in the CRM
    rejected = [row for row in rows if row[3] == "rejected"]
    assert all(row[2] is None and row[4] for row in rejected)  # no customer; the reason says why


def test_hubspot_query_and_field_map_sync_from_postgres(
    bigcommerce_sandbox: SandboxHandle, postgres_conn_id: str
) -> None:
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    store = bigcommerce_sandbox.store
    store.seed_groups([{"name": "Retail"}])
    store.seed_attributes([{"name": "crm_id", "type": "string"}])
    hook = PostgresHook(postgres_conn_id=postgres_conn_id)
    hook.run(
        [
            "DROP SCHEMA IF EXISTS hubspot CASCADE",
            "CREATE SCHEMA hubspot",
            "CREATE TABLE hubspot.contacts (hs_object_id BIGINT, email TEXT, firstname TEXT, lastname TEXT,"
            " phone TEXT, company TEXT, address TEXT, city TEXT, state TEXT, zip TEXT, country TEXT,"
            " lifecyclestage TEXT, newsletter_opt_in TEXT, lastmodifieddate TIMESTAMP)",
            "INSERT INTO hubspot.contacts VALUES"
            " (5100017, 'ada@example.com', 'Ada', 'Lovelace', NULL, 'Analytical', '12 Crescent Rd', 'Austin',"
            "  'TX', '78701', 'United States', 'retail', 'yes', '2026-01-02 10:15:00'),"
            " (5100018, 'grace@example.com', 'Grace', 'Hopper', NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
            "  NULL, 'no', '2026-01-02 10:45:00'),"
            " (5100019, 'alan@example.com', 'Alan', 'Turing', NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
            "  NULL, NULL, '2026-01-02 11:05:00')",  # outside the window
        ]
    )
    op = SyncCustomersOperator(
        task_id="hubspot",
        sql_conn_id=postgres_conn_id,
        sql=_between_markers(EXAMPLES / "hubspot_contacts.sql", "howto_hubspot_sql"),
        parameters={"start": "2026-01-02 10:00:00", "end": "2026-01-02 11:00:00"},
        field_map=json.loads((EXAMPLES / "hubspot_field_map.json").read_text(encoding="utf-8")),
        mode="upsert",
    )
    summary = op.execute(context={})  # type: ignore[arg-type]
    assert (summary["created"], summary["total"]) == (2, 2)
    ada = next(c for c in store.customers() if c.email == "ada@example.com")
    assert ada.customer_group_id > 0


def test_run_sandbox_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_BIGCOMMERCE_DEFAULT", "{}")  # restored after the example overwrites it
    _module("testing_with_the_sandbox").check_my_sync_with_run_sandbox()


def test_sandbox_fixture_example(bigcommerce_sandbox: SandboxHandle) -> None:
    _module("testing_with_the_sandbox").test_my_sync(bigcommerce_sandbox)


def test_in_process_store_example_creates_each_customer_once() -> None:
    result = _module("testing_with_the_sandbox").check_in_process_store()
    assert (result.created, result.skipped, result.total) == (2, 1, 3)  # Ada was in the store already
    assert result.retries_resolved == 2  # the lost answer, settled by a look-up, not a resend


def test_readme_dag_syncs_the_window_with_groups(bigcommerce_sandbox: SandboxHandle, crm: Path) -> None:
    store = bigcommerce_sandbox.store
    store.seed_groups([{"name": "Wholesale"}, {"name": "Retail"}, {"name": "VIP"}])
    op = _module("crm_to_bigcommerce_hourly", DAGS).crm_to_bigcommerce().get_task("sync_contacts")
    assert op.retries == 3
    start, end = datetime(2025, 12, 30, tzinfo=timezone.utc), datetime(2026, 1, 3, tzinfo=timezone.utc)
    op.render_template_fields({"data_interval_start": start, "data_interval_end": end})  # type: ignore[arg-type]
    assert op.parameters == {"start": "2025-12-30 00:00:00", "end": "2026-01-03 00:00:00"}
    summary = op.execute(context={})  # type: ignore[arg-type]
    in_window = [r for r in read_contacts(crm) if "2025-12-30" <= str(r["updated_at"]) < "2026-01-03"]
    assert 0 < summary["total"] == len(in_window) < 60
    assert summary["created"] > 0
    assert summary["parts"]["group"].get("created", 0) > 0  # lifecycle stages became customer groups


def test_update_mode_example_enriches_existing_customers_and_creates_no_one(
    bigcommerce_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = bigcommerce_sandbox.store
    store.define_form_fields(["License ID"])
    (ada,) = store.seed(
        [{"email": "ada@example.com", "first_name": "Ada", "last_name": "L", "phone": "555-0100"}]
    )
    crm = tmp_path / "accounts.db"
    with sqlite3.connect(crm) as db:
        db.execute(
            "CREATE TABLE accounts (id INTEGER, email TEXT, first_name TEXT, last_name TEXT, company TEXT,"
            " phone TEXT, licence_no TEXT, balance REAL)"
        )
        db.executemany(
            "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (1, "Ada@Example.com", "Ada", "Lovelace", "Analytical", None, "L-17", 12.5),
                (2, "grace@example.com", "Grace", "Hopper", None, "555-0101", "L-18", 3),  # signed up nowhere
            ],
        )
    monkeypatch.setenv("AIRFLOW_CONN_CRM_DEFAULT", json.dumps({"conn_type": "sqlite", "host": str(crm)}))
    op = _task("sync_examples", "sync_customers", "enrich_b2b_accounts")
    assert (op.mode, op.empty_values) == ("update", "clear")
    summary = op.execute(context={})  # type: ignore[arg-type]
    assert (summary["updated"], summary["skipped"], summary["created"]) == (1, 1, 0)
    [customer] = store.customers()  # nobody created: Grace is not in the store
    assert customer.id == ada["id"]
    assert customer.store_credit == 12.5
    assert (customer.last_name, customer.company, customer.phone) == ("Lovelace", "Analytical", "")  # cleared
    assert [(f["name"], f["value"]) for f in customer.form_fields] == [("License ID", "L-17")]
