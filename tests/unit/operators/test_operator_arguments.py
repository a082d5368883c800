"""
Bad operator arguments fail early with a message that says what to fix.

Plain arguments fail when the DAG file is parsed; templated values and the connection fail when the
task starts, before any row is read or any request is sent (the connection points at a closed port,
so a request would fail differently).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from airflow_bigcommerce.exceptions import BigCommerceConfigError
from airflow_bigcommerce.operators.customers import CreateCustomerOperator, SyncCustomersOperator

CONTACTS = [{"id": 1, "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}]
#: Nothing listens here: a request would raise a connection error, not the errors asserted below.
CLOSED = "http://127.0.0.1:9"


def sync_op(**overrides: Any) -> SyncCustomersOperator:
    return SyncCustomersOperator(**({"task_id": "sync", "contacts": CONTACTS} | overrides))


def create_op(**overrides: Any) -> CreateCustomerOperator:
    fields = {"task_id": "create", "email": "ada@example.com", "first_name": "Ada", "last_name": "L"}
    return CreateCustomerOperator(**(fields | overrides))


def set_connection(
    monkeypatch: pytest.MonkeyPatch, conn_id: str = "bigcommerce_default", **fields: Any
) -> None:
    conn: dict[str, Any] = {
        "conn_type": "bigcommerce",
        "host": CLOSED,
        "password": "tok",
        "extra": {"store_hash": "abc123"},
    }
    extra = fields.pop("extra", {})
    conn.update(fields)
    conn["extra"].update(extra)
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


# -- at parse time ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "merge"}, "mode must be one of ('insert', 'upsert', 'update'), got 'merge'"),
        ({"batch_size": 11}, "batch_size must be 1 to 10 (the V3 API's limit per request), got 11"),
        ({"batch_size": 0}, "batch_size must be 1 to 10"),
        ({"max_concurrency": 9}, "max_concurrency must be 1 to 8, or None to adapt, got 9"),
        ({"quota_reserve": -1}, "quota_reserve must be a number of requests, 0 or more, got -1"),
        (
            {"max_rejected": -1},
            "max_rejected must be a number of rows (0 or more) or a share of the run's rows such as"
            " '2%', got -1",
        ),
        ({"fetch_size": 0}, "fetch_size must be at least 1"),
        ({"contacts": None}, "Give exactly one source"),
        ({"sql": "SELECT 1"}, "Give exactly one source"),
        ({"contacts": None, "sql": "SELECT 1"}, "sql= needs sql_conn_id="),
        ({"ledger_conn_id": "crm", "key_field": None}, "a sync with a ledger needs key_field"),
        ({"ledger_conn_id": "crm", "ledger_table": "x; DROP TABLE y"}, "ledger_table='x; DROP TABLE y'"),
        ({"ledger_conn_id": "crm", "max_attempts": 0}, "max_attempts must be a whole number of at least 1"),
    ],
)
def test_sync_arguments_fail_at_parse(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + _escape(message)):
        sync_op(**kwargs)


def test_a_templated_ledger_table_is_checked_when_the_task_starts() -> None:
    op = sync_op(ledger_conn_id="{{ var.value.ledger }}", ledger_table="{{ params.table }}")
    assert (op.ledger_table, op.max_attempts) == ("{{ params.table }}", 5)
    assert "ledger_conn_id" in op.template_fields and "ledger_table" in op.template_fields


def test_create_if_exists_fails_at_parse() -> None:
    with pytest.raises(ValueError, match=r"if_exists must be one of \('fail', 'skip'\), got 'replace'"):
        create_op(if_exists="replace")


def _escape(text: str) -> str:
    import re

    return re.escape(text)


def test_a_dag_file_with_a_bad_argument_reports_an_import_error(tmp_path: Path) -> None:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef,unused-ignore]

    dag_file = tmp_path / "bad_sync.py"
    dag_file.write_text(
        textwrap.dedent(
            """
            from __future__ import annotations
            import pendulum
            from airflow.sdk import DAG
            from airflow_bigcommerce.operators.customers import SyncCustomersOperator

            with DAG("bad_sync", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
                SyncCustomersOperator(task_id="sync", contacts=[], batch_size=50)
            """
        )
    )
    bag = DagBag(dag_folder=str(tmp_path))
    assert "bad_sync" not in bag.dags
    (error,) = bag.import_errors.values()
    assert "batch_size must be 1 to 10 (the V3 API's limit per request), got 50" in error


# -- at task start ---------------------------------------------------------------------------------
def test_templated_mode_is_checked_when_the_task_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch)
    op = sync_op(mode="{{ params.mode }}")  # cannot be checked before rendering
    op.mode = "merge"  # what the template rendered to
    modes = r"\('insert', 'upsert', 'update'\)"
    with pytest.raises(ValueError, match=rf"mode must be one of {modes}, got 'merge'"):
        op.execute(context={})  # type: ignore[arg-type]


def test_bad_field_map_fails_at_task_start(monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch)
    with pytest.raises(ValueError, match="maps to unknown customer field 'mail'"):
        sync_op(field_map={"email": "mail"}).execute(context={})  # type: ignore[arg-type]


@pytest.mark.parametrize("operator", [sync_op, create_op], ids=["sync", "create"])
def test_missing_connection_is_named(monkeypatch: pytest.MonkeyPatch, operator: Any) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_NO_SUCH_STORE", raising=False)
    with pytest.raises(Exception, match="The conn_id `no_such_store` isn't defined"):
        operator(bigcommerce_conn_id="no_such_store").execute(context={})


@pytest.mark.parametrize("store_hash", ["abc/def", "../admin", "..", "abc def", "abc?x=1", "abc%2F.."])
@pytest.mark.parametrize("operator", [sync_op, create_op], ids=["sync", "create"])
def test_store_hash_that_could_escape_the_url_path_is_refused(
    monkeypatch: pytest.MonkeyPatch, operator: Any, store_hash: str
) -> None:
    set_connection(monkeypatch, extra={"store_hash": store_hash})
    with pytest.raises(BigCommerceConfigError, match="is invalid: use only the letters and digits"):
        operator().execute(context={})


@pytest.mark.parametrize(
    "host",
    ["http://api.bigcommerce.com", "http://10.0.0.5:8080", "http://example.com", "http://127.0.0.1.nip.io"],
)
@pytest.mark.parametrize("operator", [sync_op, create_op], ids=["sync", "create"])
def test_plain_http_to_a_remote_host_is_refused(
    monkeypatch: pytest.MonkeyPatch, operator: Any, host: str
) -> None:
    set_connection(monkeypatch, host=host)
    with pytest.raises(
        BigCommerceConfigError, match="uses plain http: the access token would travel in clear"
    ):
        operator().execute(context={})


@pytest.mark.parametrize("operator", [sync_op, create_op], ids=["sync", "create"])
def test_connection_without_token_or_store_hash(monkeypatch: pytest.MonkeyPatch, operator: Any) -> None:
    set_connection(monkeypatch, password=None)
    with pytest.raises(BigCommerceConfigError, match="The connection has no access token"):
        operator().execute(context={})
    set_connection(monkeypatch, extra={"store_hash": ""})
    with pytest.raises(BigCommerceConfigError, match="The connection has no store hash"):
        operator().execute(context={})
