"""Where the extra links go: a real store's control panel, or a sandbox's own customer pages (no I/O)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_bigcommerce.links import (
    BigCommerceCustomerLink,
    BigCommerceCustomersLink,
    api_root_of,
    customer_url,
    customers_url,
)

REAL_PANEL = "https://store-abc123.mybigcommerce.com/manage/customers"


@pytest.mark.parametrize(
    "api_root",
    [None, "", "https://api.bigcommerce.com", "https://bc-proxy.example.com:8443/bigcommerce"],
)
def test_a_real_store_links_to_its_control_panel(api_root: str | None) -> None:
    assert customers_url("abc123", api_root) == REAL_PANEL
    assert customer_url("abc123", 42, api_root) == f"{REAL_PANEL}/42/edit"


@pytest.mark.parametrize(
    "api_root",
    ["http://127.0.0.1:8765", "http://localhost:8765/", "http://[::1]:8765", "https://127.0.0.2"],
)
def test_a_loopback_api_host_is_a_sandbox_that_serves_its_own_pages(api_root: str) -> None:
    root = api_root.rstrip("/")
    assert customers_url("sandbox", api_root) == f"{root}/manage/customers"
    assert customer_url("sandbox", 7, api_root) == f"{root}/manage/customers/7/edit"


def test_links_read_what_execute_recorded_and_are_empty_before() -> None:
    customers, customer = BigCommerceCustomersLink(), BigCommerceCustomerLink()
    before = SimpleNamespace()
    assert customers.get_link(before, ti_key=None) == ""  # type: ignore[arg-type]
    assert customer.get_link(before, ti_key=None) == ""  # type: ignore[arg-type]
    ran = SimpleNamespace(
        bigcommerce_store_hash="abc123", bigcommerce_api_root="http://127.0.0.1:9", bigcommerce_customer_id=3
    )
    assert customers.get_link(ran, ti_key=None) == "http://127.0.0.1:9/manage/customers"  # type: ignore[arg-type]
    assert customer.get_link(ran, ti_key=None) == "http://127.0.0.1:9/manage/customers/3/edit"  # type: ignore[arg-type]
    # An operator pickled before the API host was recorded: the control panel, as before.
    older = SimpleNamespace(bigcommerce_store_hash="abc123", bigcommerce_customer_id=3)
    assert customers.get_link(older, ti_key=None) == REAL_PANEL  # type: ignore[arg-type]


def test_the_api_host_is_read_from_the_hook_without_ever_failing_the_task() -> None:
    hook = SimpleNamespace(settings=SimpleNamespace(api_root="http://127.0.0.1:8765"))
    assert api_root_of(hook) == "http://127.0.0.1:8765"
    assert api_root_of(SimpleNamespace(store_hash="abc123")) is None  # a hook that cannot say
    assert api_root_of(SimpleNamespace(settings=object())) is None


def test_the_sync_view_link_opens_the_plugin_page_of_the_task_instance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_bigcommerce.links import BigCommerceSyncViewLink, sync_view_url

    key = SimpleNamespace(
        dag_id="crm sync", run_id="manual__2026-01-02T09:30:00+00:00", task_id="sync", map_index=-1
    )
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    assert BigCommerceSyncViewLink().get_link(None, ti_key=key) == (  # type: ignore[arg-type]
        "/bigcommerce/dags/crm%20sync/runs/manual__2026-01-02T09%3A30%3A00%2B00%3A00/tasks/sync?map_index=-1"
    )
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/team-a/")
    assert (
        BigCommerceSyncViewLink()
        .get_link(None, ti_key=key)
        .startswith("/team-a/bigcommerce/dags/crm%20sync/")
    )  # type: ignore[arg-type]
    assert sync_view_url("d", "r", "t", 3).endswith("/tasks/t?map_index=3")
