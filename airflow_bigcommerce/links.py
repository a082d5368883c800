"""
Extra links from a task instance to the store's control panel: the customer list, the created customer.

Airflow 3 computes a link on the worker when the task finishes (``get_link`` on the executed
operator) and stores it in XCom, where the task instance view reads it. ``execute`` therefore
records on the operator what the link needs (``bigcommerce_store_hash``, ``bigcommerce_api_root``,
and for ``CreateCustomerOperator`` ``bigcommerce_customer_id``); a task that failed before reaching
the store has no link (an empty string, which the UI does not show). No link makes a request.

Where a link goes (:func:`control_panel_root`): a connection whose API host is loopback is a sandbox
store (plain http is allowed only there), and the sandbox serves its own read-only customer list
at the control panel's path (``{api_root}/manage/customers``); any other host (the real API, or a
proxy in front of it) is a real store, whose control panel is ``store-{hash}.mybigcommerce.com``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

# BaseOperatorLink is in airflow.sdk from Airflow 3.0 on (unlike BaseHook, see compat.py).
from airflow.sdk import BaseOperatorLink

from airflow_bigcommerce.hooks.connection import is_loopback
from airflow_bigcommerce.view import PAGE_PATH

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

#: The store's control panel; ``{store_hash}`` is the connection's store hash.
CONTROL_PANEL = "https://store-{store_hash}.mybigcommerce.com/manage"


def api_root_of(hook: object) -> str | None:
    """Return the API host ``hook`` talks to, for the links; ``None`` if it cannot say (never raises)."""
    root = getattr(getattr(hook, "settings", None), "api_root", None)
    return root if isinstance(root, str) else None


def control_panel_root(store_hash: str, api_root: str | None = None) -> str:
    """Return the control panel: a loopback (sandbox) API host's own pages, else the real store's."""
    if api_root and is_loopback(urlsplit(api_root).hostname or ""):
        return api_root.rstrip("/") + "/manage"
    return CONTROL_PANEL.format(store_hash=store_hash)


def customers_url(store_hash: str, api_root: str | None = None) -> str:
    """Return the control panel's customer list of a store (``api_root``: the connection's API host)."""
    return control_panel_root(store_hash, api_root) + "/customers"


def customer_url(store_hash: str, customer_id: int | str, api_root: str | None = None) -> str:
    """Return the control panel's page of one customer."""
    return f"{customers_url(store_hash, api_root)}/{customer_id}/edit"


class BigCommerceCustomersLink(BaseOperatorLink):
    """Link "BigCommerce customers": the store's customer list in its control panel."""

    name = "BigCommerce customers"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        """Return the customer list of the store the task wrote to, or ``""`` before it reached one."""
        store_hash = getattr(operator, "bigcommerce_store_hash", None)
        api_root = getattr(operator, "bigcommerce_api_root", None)
        return customers_url(store_hash, api_root) if store_hash else ""


class BigCommerceCustomerLink(BaseOperatorLink):
    """Link "BigCommerce customer": the control-panel page of the customer a task created."""

    name = "BigCommerce customer"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        """Return the created (or, with ``if_exists="skip"``, existing) customer's page, or ``""``."""
        store_hash = getattr(operator, "bigcommerce_store_hash", None)
        customer_id = getattr(operator, "bigcommerce_customer_id", None)
        if not store_hash or customer_id is None:
            return ""
        return customer_url(store_hash, customer_id, getattr(operator, "bigcommerce_api_root", None))


def sync_view_url(dag_id: str, run_id: str, task_id: str, map_index: int = -1, base_url: str = "") -> str:
    """Return the sync view's page of a task instance (``base_url``: Airflow's ``[api] base_url``)."""
    path = PAGE_PATH.format(
        dag_id=quote(dag_id, safe=""),
        run_id=quote(run_id, safe=""),
        task_id=quote(task_id, safe=""),
        map_index=map_index,
    )
    return base_url.rstrip("/") + path


class BigCommerceSyncViewLink(BaseOperatorLink):
    """
    Link "BigCommerce sync": the task instance's sync view as a page of its own.

    On Airflow 3.1+ the view is also a tab of the task instance; on 3.0, which has no plugin tabs,
    this link is the way to it. The path starts at Airflow's ``[api] base_url``, when one is set.
    """

    name = "BigCommerce sync"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        """Return the view of the task instance ``ti_key``."""
        from airflow.configuration import conf

        base_url = conf.get("api", "base_url", fallback="") or ""
        base_path = urlsplit(base_url).path if "://" in base_url else base_url
        return sync_view_url(ti_key.dag_id, ti_key.run_id, ti_key.task_id, ti_key.map_index, base_path)
