"""OpenLineage facets and extra links of both operators, after a real execute against the sandbox."""

from __future__ import annotations

import json
import sqlite3
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from airflow_bigcommerce.links import BigCommerceCustomerLink, BigCommerceCustomersLink
from airflow_bigcommerce.operators.customers import CreateCustomerOperator, SyncCustomersOperator
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration

CONTACTS = [
    {"id": 1, "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
    {"id": 2, "email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper"},
    {"id": 3, "email": "not-an-email", "first_name": "Bad", "last_name": "Row"},
]


def _store_hash(sandbox: SandboxHandle) -> str:
    return str(json.loads(sandbox.conn_json())["extra"]["store_hash"])


def _facets(dataset: Any) -> dict[str, Any]:
    """The dataset as OpenLineage serialises it (attrs classes: plain dicts, facets by name)."""
    from openlineage.client.serde import Serde

    return dict(json.loads(Serde.to_json(dataset)))


def _crm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    db = tmp_path / "crm.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE contacts (id INTEGER, email TEXT, first_name TEXT, last_name TEXT)")
        conn.executemany("INSERT INTO contacts VALUES (:id, :email, :first_name, :last_name)", CONTACTS)
    monkeypatch.setenv("AIRFLOW_CONN_CRM_TEST", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    return str(db)


def test_sync_from_sql_reports_the_table_in_and_the_customers_out(
    bigcommerce_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _crm(tmp_path, monkeypatch)
    op = SyncCustomersOperator(
        task_id="sync",
        sql_conn_id="crm_test",
        sql="SELECT * FROM contacts WHERE id < :n",
        parameters={"n": 9},
    )
    summary = op.execute(context={})  # type: ignore[arg-type]
    assert (summary["created"], summary["rejected"]) == (2, 1)

    lineage = op.get_openlineage_facets_on_complete(task_instance=None)
    assert lineage is not None
    assert [(d.namespace, d.name) for d in lineage.inputs] == [(f"sqlite://{db}", "main.contacts")]
    (output,) = lineage.outputs
    assert (output.namespace, output.name) == (
        f"bigcommerce://{_store_hash(bigcommerce_sandbox)}",
        "customers",
    )
    assert _facets(output)["outputFacets"]["outputStatistics"]["rowCount"] == 2
    assert "WHERE id < :n" in lineage.job_facets["sql"].query


def test_sync_of_xcom_contacts_has_no_input_and_counts_updates(bigcommerce_sandbox: SandboxHandle) -> None:
    SyncCustomersOperator(task_id="first", contacts=CONTACTS[:2]).execute(context={})  # type: ignore[arg-type]
    changed = [CONTACTS[0] | {"last_name": "King"}, CONTACTS[1]]
    op = SyncCustomersOperator(task_id="sync", contacts=changed, mode="upsert")
    summary = op.execute(context={})  # type: ignore[arg-type]
    assert (summary["updated"], summary["skipped"]) == (1, 1)

    lineage = op.get_openlineage_facets_on_complete(task_instance=None)
    assert lineage is not None
    assert lineage.inputs == []
    assert _facets(lineage.outputs[0])["outputFacets"]["outputStatistics"]["rowCount"] == 1


def test_dry_run_writes_no_rows(bigcommerce_sandbox: SandboxHandle) -> None:
    op = SyncCustomersOperator(task_id="sync", contacts=CONTACTS, dry_run=True)
    op.execute(context={})  # type: ignore[arg-type]
    lineage = op.get_openlineage_facets_on_complete(task_instance=None)
    assert lineage is not None
    assert _facets(lineage.outputs[0])["outputFacets"]["outputStatistics"]["rowCount"] == 0
    assert bigcommerce_sandbox.store.all_customers() == []


def test_create_customer_lineage_and_links(bigcommerce_sandbox: SandboxHandle) -> None:
    store_hash = _store_hash(bigcommerce_sandbox)
    op = CreateCustomerOperator(task_id="create", email="ada@example.com", first_name="Ada", last_name="L")
    customers, customer = BigCommerceCustomersLink(), BigCommerceCustomerLink()
    assert op.get_openlineage_facets_on_complete(task_instance=None) is None  # never reached a store
    assert customers.get_link(op, ti_key=None) == ""  # type: ignore[arg-type]
    assert customer.get_link(op, ti_key=None) == ""  # type: ignore[arg-type]

    created = op.execute(context={})  # type: ignore[arg-type]
    # A sandbox connection (loopback API host): the sandbox's own customer pages, which exist.
    panel = f"{bigcommerce_sandbox.url}/manage/customers"
    assert customers.get_link(op, ti_key=None) == panel  # type: ignore[arg-type]
    assert customer.get_link(op, ti_key=None) == f"{panel}/{created['id']}/edit"  # type: ignore[arg-type]
    assert "ada@example.com" in _page(customer.get_link(op, ti_key=None))  # type: ignore[arg-type]
    # The same operator pointed at the real API: the store's control panel.
    op.bigcommerce_api_root = "https://api.bigcommerce.com"
    real_panel = f"https://store-{store_hash}.mybigcommerce.com/manage/customers"
    assert customers.get_link(op, ti_key=None) == real_panel  # type: ignore[arg-type]
    assert customer.get_link(op, ti_key=None) == f"{real_panel}/{created['id']}/edit"  # type: ignore[arg-type]
    op.bigcommerce_api_root = bigcommerce_sandbox.url
    lineage = op.get_openlineage_facets_on_complete(task_instance=None)
    assert lineage is not None
    assert lineage.inputs == []
    assert _facets(lineage.outputs[0])["outputFacets"]["outputStatistics"]["rowCount"] == 1

    again = CreateCustomerOperator(
        task_id="again", email="ADA@example.com", first_name="Ada", last_name="L", if_exists="skip"
    )
    again.execute(context={})  # type: ignore[arg-type]
    assert customer.get_link(again, ti_key=None) == f"{panel}/{created['id']}/edit"  # type: ignore[arg-type]
    lineage = again.get_openlineage_facets_on_complete(task_instance=None)
    assert lineage is not None
    assert _facets(lineage.outputs[0])["outputFacets"]["outputStatistics"]["rowCount"] == 0


def test_sync_link_points_at_the_store_it_wrote_to(bigcommerce_sandbox: SandboxHandle) -> None:
    op = SyncCustomersOperator(task_id="sync", contacts=CONTACTS[:1])
    (link,) = [link for link in op.operator_extra_links if link.name == "BigCommerce customers"]
    assert link.get_link(op, ti_key=None) == ""  # type: ignore[arg-type]
    op.execute(context={})  # type: ignore[arg-type]
    expected = f"{bigcommerce_sandbox.url}/manage/customers"  # the sandbox's own list (loopback API host)
    assert link.get_link(op, ti_key=None) == expected  # type: ignore[arg-type]
    page = _page(expected)
    (customer,) = bigcommerce_sandbox.store.all_customers()
    assert f'<tr id="customer-{customer["id"]}"><td>{customer["id"]}</td><td>ada@example.com</td>' in page
    assert "<td>Ada Lovelace</td>" in page
    op.bigcommerce_api_root = "https://api.bigcommerce.com"  # a real store: its control panel
    real = f"https://store-{_store_hash(bigcommerce_sandbox)}.mybigcommerce.com/manage/customers"
    assert link.get_link(op, ti_key=None) == real  # type: ignore[arg-type]


def _page(url: str) -> str:
    """GET an extra link's target (the sandbox's HTML customer pages need no token)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/html")
        return str(response.read().decode("utf-8"))
