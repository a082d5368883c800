"""One sync task with a ledger, run as Airflow runs it (its own run id each time), for the ledger's tests."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from airflow_bigcommerce.ledger import LedgerRow, Scope, SqlLedger
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.testing import SandboxHandle

FIELD_MAP = {"email": "email", "first_name": "first_name", "last_name": "last_name"}


class Task:
    """Runs of one sync task with a ledger: each its own Airflow run id."""

    def __init__(self, sandbox: SandboxHandle, conn_id: str, table: str, map_index: int = -1) -> None:
        self.sandbox = sandbox
        self.conn_id = conn_id
        self.table = table
        self.map_index = map_index
        self.n = 0

    def __call__(self, rows: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        self.n += 1
        kwargs.setdefault("mode", "upsert")
        kwargs.setdefault("field_map", FIELD_MAP)
        op = SyncCustomersOperator(
            task_id="sync",
            contacts=rows,
            ledger_conn_id=self.conn_id,
            ledger_table=self.table,
            **kwargs,
        )
        ti = SimpleNamespace(dag_id="crm", task_id="sync", map_index=self.map_index)
        summary: dict[str, Any] = op.execute(context={"ti": ti, "run_id": f"manual__{self.n}"})  # type: ignore[arg-type]
        return summary

    def ledger(self) -> dict[str, LedgerRow]:
        with SqlLedger.open(self.conn_id, self.table, Scope(store_hash())) as ledger:
            return {row.crm_key: row for row in ledger.rows()}

    def customers(self) -> dict[int, dict[str, Any]]:
        return {c["id"]: c for c in self.sandbox.store.all_customers()}


def store_hash() -> str:
    from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook

    return BigCommerceHook().store_hash
