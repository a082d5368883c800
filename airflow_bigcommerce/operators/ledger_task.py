"""
What ``SyncCustomersOperator`` does for its ledger: check the arguments, name the run, open the table.

Light at module level (the ledger's records and statements are pure): a DAG file naming a ledger
parses without a database driver. The run id a ledger row records is
``<dag_id>/<task_id>/<map_index>/<run_id>`` (``map_index`` -1 when the task is not mapped; ``-`` and
``manual`` for what a context called by hand lacks), and a task
retries only the rows whose run id starts with its own ``<dag_id>/<task_id>/<map_index>/``: the
partition tasks of one sync, sharing a ledger, never retry (and so never race for) each other's rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_bigcommerce.ledger.records import NO_CHANNEL, Scope
from airflow_bigcommerce.ledger.statements import check_table
from airflow_bigcommerce.operators.arguments import is_template
from airflow_bigcommerce.sync.option_checks import check_ledger

if TYPE_CHECKING:
    from airflow_bigcommerce.ledger.store import SqlLedger

#: The ledger's ``run_id`` column is a ``VARCHAR(250)``; the owner prefix stays shorter, so a clipped
#: run id still starts with its task's prefix.
MAX_RUN_ID_LENGTH = 250
MAX_OWNER_LENGTH = 200


def check_ledger_arguments(
    ledger_conn_id: str | None, ledger_table: str, key_field: str | None, max_attempts: int
) -> None:
    """Refuse at parse what a ledger cannot work with: no ``key_field``, a bad table or ``max_attempts``."""
    check_ledger(ledger_conn_id is not None, key_field, max_attempts)
    if ledger_conn_id is not None and not is_template(ledger_table):
        check_table(ledger_table)


def run_ids(context: Any) -> tuple[str, str]:
    """Return ``(run_id, owner)``: what the task's ledger rows record, and the prefix of those it retries."""
    ti = context.get("ti")
    dag_id, task_id = getattr(ti, "dag_id", None) or "-", getattr(ti, "task_id", None) or "-"
    map_index = getattr(ti, "map_index", None)
    owner = f"{dag_id}/{task_id}/{-1 if map_index is None else map_index}/"[:MAX_OWNER_LENGTH]
    return (owner + str(context.get("run_id") or "manual"))[:MAX_RUN_ID_LENGTH], owner


def open_ledger(conn_id: str, table: str, store_hash: str, channel_id: int | None) -> SqlLedger:
    """Open the ledger of one store and channel in ``table`` on ``conn_id`` (created when missing)."""
    from airflow_bigcommerce.ledger.store import SqlLedger

    scope = Scope(store_hash, NO_CHANNEL if channel_id is None else channel_id)
    return SqlLedger.open(conn_id, table, scope)


def ledger_reference(conn_id: str, ledger: SqlLedger, run_id: str) -> dict[str, Any]:
    """
    Return where a run's ledger rows are, for the summary: the sync view lists them from there.

    ``{"conn_id", "table", "store_hash", "channel_id", "run_id"}``: what the task used, never a request's.
    """
    return {
        "conn_id": conn_id,
        "table": ledger.table,
        "store_hash": ledger.scope.store_hash,
        "channel_id": ledger.scope.channel_id,
        "run_id": run_id,
    }
