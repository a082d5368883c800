"""A refusal of the connection itself (BigCommerceAuthError) stops a sync: no row takes the blame."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from airflow_bigcommerce.exceptions import BigCommerceAuthError
from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.sync.report import JsonlReportWriter
from airflow_bigcommerce.testing.in_process import InProcessStore

REVOKED = BigCommerceAuthError(
    "BigCommerce rejected the access token (401 Unauthorized): paste the API account's Access Token "
    "into the password field; it is shown once, when the account is created.",
    connection="shop",
    status=401,
    request="POST v3/customers",
)


def rows(n: int) -> list[dict[str, Any]]:
    return [
        {"id": f"c{i}", "email": f"p{i}@example.com", "first_name": "F", "last_name": "L"} for i in range(n)
    ]


@pytest.mark.parametrize("call", ["create_customers", "find_customers_by_email"])
def test_a_revoked_token_stops_the_run_without_rejecting_rows(call: str) -> None:
    store = InProcessStore()

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise REVOKED

    setattr(store, call, refuse)
    buf = io.StringIO()
    with pytest.raises(BigCommerceAuthError) as info:
        sync_customers(rows(25), store, report=JsonlReportWriter(buf), index_limit=0)
    assert str(info.value).startswith("Connection 'shop': BigCommerce rejected the access token")
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert not [line for line in lines if line["outcome"] == "rejected"]
    assert store.customers == {}
