"""
A new user's usual mistakes, each caught before the store is written to and named with its fix.

The sync runs as a user's DAG runs it (the operator, the real hook, a HubSpot-style SQLite table)
against the sandbox over HTTP; the sandbox's request counters prove what reached the store.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from airflow_bigcommerce.exceptions import BigCommerceConfigError, BigCommerceError
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration

COLUMNS = ("hs_object_id", "Email", "First_Name", "Last_Name", "Phone", "hubspot_id")
NO_EMAILS = "SELECT hs_object_id, '' AS Email, First_Name, Last_Name, Phone FROM contacts"
FIELD_MAP = {"Email": "email", "First_Name": "first_name", "Last_Name": "last_name", "Phone": "phone"}


@pytest.fixture
def crm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HubSpot-style contacts table in SQLite, as connection ``crm``."""
    db = tmp_path / "crm.db"
    with sqlite3.connect(db) as conn:
        conn.execute(f"CREATE TABLE contacts ({', '.join(COLUMNS)})")
        conn.executemany(
            "INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)",
            [(i, f"p{i}@example.com", "Pat", f"Doe{i}", f"+1 555 0{i:03d}", f"hs-{i}") for i in range(50)],
        )
    monkeypatch.setenv("AIRFLOW_CONN_CRM", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    return db


def writes(sandbox: SandboxHandle) -> dict[str, int]:
    """Return the store requests that could have changed it (anything but a GET)."""
    return {k: n for k, n in sandbox.store.stats()["requests"].items() if not k.startswith("GET")}


def sync(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("sql_conn_id", "crm")
    kwargs.setdefault("sql", "SELECT * FROM contacts")
    return SyncCustomersOperator(task_id="sync", **kwargs).execute(context={})  # type: ignore[arg-type, no-any-return]


def test_a_mapped_column_the_query_lacks_fails_before_the_store_naming_the_closest(
    bigcommerce_sandbox: SandboxHandle, crm: Path
) -> None:
    with pytest.raises(BigCommerceConfigError) as info:
        sync(
            field_map={**FIELD_MAP, "E_mail": "email", "Email": "notes", "Phon": "phone", "Phone": "company"}
        )
    message = str(info.value)
    assert message.startswith("The sync did not start (2 problems; nothing was written to the store)")
    assert "field_map column (-> email) 'E_mail' is not a column of the source; closest: 'Email'" in message
    assert "field_map column (-> phone) 'Phon' is not a column of the source; closest: 'Phone'" in message
    assert "'hs_object_id', 'Email', 'First_Name'" in message  # the columns there are
    assert writes(bigcommerce_sandbox) == {}
    assert bigcommerce_sandbox.store.all_customers() == []


def test_no_field_map_and_no_email_column_names_the_column_to_map(
    bigcommerce_sandbox: SandboxHandle, crm: Path
) -> None:
    with pytest.raises(BigCommerceConfigError, match=r"field_map=\{'Email': 'email', \.\.\.\}"):
        sync()
    assert writes(bigcommerce_sandbox) == {}


def test_every_row_rejected_fails_the_run_saying_what_they_share(
    bigcommerce_sandbox: SandboxHandle, crm: Path, tmp_path: Path
) -> None:
    with pytest.raises(BigCommerceError) as info:
        sync(sql=NO_EMAILS, field_map=FIELD_MAP)
    message = str(info.value)
    assert message.startswith("All 50 rows were rejected and nothing was written: every row: email:")
    assert "is the source's column mapped to 'email' (field_map) and filled in?" in message
    assert "Set max_rejected" in message
    assert bigcommerce_sandbox.store.all_customers() == []
    # max_rejected set explicitly decides; a run without rows (an empty window) stays green
    summary = sync(
        sql=NO_EMAILS,
        field_map=FIELD_MAP,
        max_rejected=50,
    )
    assert summary["rejected"] == 50 and summary["common_rejection"].startswith("email:")
    empty = sync(
        sql="SELECT * FROM contacts WHERE 0", field_map=FIELD_MAP, report_path=str(tmp_path / "r.jsonl")
    )
    assert empty["total"] == 0
    assert (tmp_path / "r.jsonl").read_text() == ""


def test_a_wrong_table_or_connection_fails_before_attributes_are_created(
    bigcommerce_sandbox: SandboxHandle, crm: Path
) -> None:
    mapped = {**FIELD_MAP, "hubspot_id": "attribute.hubspot_id"}
    with pytest.raises(BigCommerceConfigError) as info:
        sync(sql="SELECT * FROM contactz", field_map=mapped, create_attributes=True)
    assert "sql on connection 'crm': the query failed (OperationalError: no such table: contactz)" in str(
        info.value
    )
    with pytest.raises(BigCommerceConfigError) as info:
        sync(sql_conn_id="crm_typo", field_map=mapped, create_attributes=True)
    assert "sql_conn_id='crm_typo': no such connection" in str(info.value)
    assert "AIRFLOW_CONN_CRM_TYPO" in str(info.value)
    assert writes(bigcommerce_sandbox) == {}
    assert bigcommerce_sandbox.store.stats()["requests"].get("GET /v3/customers/attributes", 0) == 0


def test_an_attribute_name_a_typo_away_from_the_stores_is_never_created(
    bigcommerce_sandbox: SandboxHandle, crm: Path
) -> None:
    sync(field_map={**FIELD_MAP, "hubspot_id": "attribute.hubspot_id"}, create_attributes=True)
    attributes_before = writes(bigcommerce_sandbox).get("POST /v3/customers/attributes")
    assert attributes_before == 1  # a first run creates the attribute it was told to
    with pytest.raises(ValueError) as info:
        sync(field_map={**FIELD_MAP, "hubspot_id": "attribute.hubspt_id"}, create_attributes=True)
    assert "attribute 'hubspt_id', which the store lacks but has 'hubspot_id'" in str(info.value)
    assert "fix the name in field_map" in str(info.value)
    assert writes(bigcommerce_sandbox).get("POST /v3/customers/attributes") == attributes_before


@pytest.mark.parametrize(
    ("wrong", "expected"),
    [
        ("token", "BigCommerce rejected the access token (401 Unauthorized): paste the API account's"),
        ("store_hash", "Unknown store hash 'wrong0hash' (404 Not Found)"),
    ],
)
def test_a_wrong_token_or_store_hash_reads_like_the_test_button_and_leaves_no_report(
    bigcommerce_sandbox: SandboxHandle,
    crm: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    wrong: str,
    expected: str,
) -> None:
    conn = json.loads(bigcommerce_sandbox.conn_json())
    if wrong == "token":
        conn["password"] = "not-the-token"
    else:
        conn["extra"]["store_hash"] = "wrong0hash"
    monkeypatch.setenv("AIRFLOW_CONN_SHOP", json.dumps(conn))
    report = tmp_path / "reports" / "run.jsonl"
    with pytest.raises(BigCommerceConfigError) as info:
        sync(field_map=FIELD_MAP, bigcommerce_conn_id="shop", report_path=str(report))
    message = str(info.value)
    assert f"Connection 'shop': {expected}" in message
    assert "not-the-token" not in message
    assert info.value.__cause__ is None and info.value.__context__ is None  # no chained internals
    assert not report.exists()
    assert writes(bigcommerce_sandbox) == {}


def test_xcom_dicts_may_leave_out_an_empty_key_but_not_the_email(
    bigcommerce_sandbox: SandboxHandle, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [{"id": i, "mail": f"p{i}@example.com", "first_name": "P", "last_name": "Q"} for i in range(3)]
    with pytest.raises(
        BigCommerceConfigError, match="'email' is not a column of the source; closest: 'mail'"
    ):
        SyncCustomersOperator(task_id="sync", contacts=rows, field_map={"email": "email"}).execute(context={})  # type: ignore[arg-type]
    assert writes(bigcommerce_sandbox) == {}
    # an API's dicts omit null keys: a mapped column no row has this time is a warning, not a failure
    rows = [{"id": i, "email": f"p{i}@example.com", "first_name": "P", "last_name": "Q"} for i in range(3)]
    field_map = {"email": "email", "first_name": "first_name", "last_name": "last_name", "phone": "phone"}
    with caplog.at_level("WARNING"):
        summary = SyncCustomersOperator(task_id="sync", contacts=rows, field_map=field_map).execute(
            context={}
        )  # type: ignore[arg-type]
    assert summary["created"] == 3
    assert any("'phone' is not a column of the source" in m and "stays empty" in m for m in caplog.messages)


def test_an_unreachable_store_fails_within_the_short_limit_naming_the_connection_and_host(
    crm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from airflow_bigcommerce.hooks.transport import UNREACHABLE_LIMIT_S
    from airflow_bigcommerce.testing import virtual_time

    with socket.socket() as probe:  # a port nothing listens on: every connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conn = {"conn_type": "bigcommerce", "host": f"http://127.0.0.1:{port}", "password": "t0ken"}
    monkeypatch.setenv("AIRFLOW_CONN_NOWHERE", json.dumps({**conn, "extra": {"store_hash": "abc123"}}))
    with virtual_time() as clock:
        started = clock.monotonic()
        with pytest.raises(BigCommerceConfigError) as info:
            sync(field_map=FIELD_MAP, bigcommerce_conn_id="nowhere")
        waited = clock.monotonic() - started
    message = str(info.value)
    assert f"Cannot reach the store of connection 'nowhere' at http://127.0.0.1:{port}" in message
    assert "Check the connection's API Host" in message and "t0ken" not in message
    assert UNREACHABLE_LIMIT_S - 5 <= waited <= UNREACHABLE_LIMIT_S + 5  # not the 300 s retry budget


def test_a_refused_token_reaches_the_task_log_without_the_frames_below_the_operator(
    bigcommerce_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    import traceback

    from airflow_bigcommerce.exceptions import BigCommerceAuthError
    from airflow_bigcommerce.operators.customers import CreateCustomerOperator

    conn = json.loads(bigcommerce_sandbox.conn_json())
    monkeypatch.setenv("AIRFLOW_CONN_SHOP", json.dumps({**conn, "password": "revoked"}))
    op = CreateCustomerOperator(
        task_id="create", email="a@example.com", first_name="A", last_name="B", bigcommerce_conn_id="shop"
    )
    with pytest.raises(BigCommerceAuthError) as info:
        op.execute(context={})  # type: ignore[arg-type]
    assert str(info.value).startswith("Connection 'shop': BigCommerce rejected the access token (401")
    frames = {Path(frame.filename).name for frame in traceback.extract_tb(info.value.__traceback__)}
    assert not frames & {"transport.py", "single_create.py", "create_once.py", "sessions.py"}
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_the_summary_says_how_long_the_run_waited_for_the_quota(bigcommerce_sandbox: SandboxHandle) -> None:
    bigcommerce_sandbox.store.configure(quota=3, window_ms=1000)
    rows = [
        {"id": i, "email": f"q{i}@example.com", "first_name": "Q", "last_name": str(i)} for i in range(40)
    ]
    summary = SyncCustomersOperator(task_id="sync", contacts=rows, max_concurrency=1).execute(context={})  # type: ignore[arg-type]
    assert summary["created"] == 40
    assert summary["client_stats"]["quota_wait_s"] > 0  # 6+ requests through 3 per second
