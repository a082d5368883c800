"""SyncCustomersOperator closes a streamed source (cursor and connection) however the sync ends."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

import airflow_bigcommerce.hooks.bigcommerce as hook_module
import airflow_bigcommerce.sync.engine as engine_module
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.sources import Source


class _Hook:
    settings = object()
    store_hash = "abc123"
    bigcommerce_conn_id = "bigcommerce_default"

    def __init__(self, **_: Any) -> None:
        pass

    def check_access(self, *, quick: bool = True) -> None:
        pass


def test_a_sync_that_fails_midway_closes_the_streamed_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[str] = []
    kept: list[Iterator[Mapping[str, Any]]] = []  # as a traceback would: no garbage collection closes it

    def stream() -> Iterator[Mapping[str, Any]]:
        try:
            yield from ({"id": i, "email": f"p{i}@example.com"} for i in range(1_000))
        finally:
            closed.append("cursor and connection")

    def failing_sync(rows: Iterator[Mapping[str, Any]], client: Any, options: Any) -> Any:
        kept.append(rows)
        next(rows)
        raise RuntimeError("the store said 401")

    monkeypatch.setattr(hook_module, "BigCommerceHook", _Hook)
    monkeypatch.setattr(engine_module, "run_sync", failing_sync)
    rows = stream()
    source = Source("stream", rows, columns=("id", "email"), close=rows.close)
    monkeypatch.setattr(SyncCustomersOperator, "_open_source", lambda self: source)
    op = SyncCustomersOperator(task_id="sync", sql_conn_id="crm", sql="SELECT * FROM contacts")
    with pytest.raises(RuntimeError, match="401"):
        op.execute(context={})  # type: ignore[arg-type]
    assert closed == ["cursor and connection"]
