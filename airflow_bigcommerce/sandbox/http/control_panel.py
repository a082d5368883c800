"""
The sandbox's stand-in for the control panel's customer pages: read-only HTML, where the extra links go.

A real store's "BigCommerce customers" link opens ``https://store-{hash}.mybigcommerce.com/manage/customers``;
for a sandbox connection (a loopback API host, see :mod:`airflow_bigcommerce.links`) the link opens
the same path on the sandbox, served here: a table of its customers (id, e-mail, name, group).
Like the admin routes, these pages spend no quota, need no token and never suffer faults.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from airflow_bigcommerce.sandbox.store import SandboxStore

#: The control panel's path of the customer list (``{path}/{id}/edit`` is one customer's page).
CUSTOMERS_PAGE = "/manage/customers"

_STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}th{background:#f3f3f3}"
)


def render_customers(
    customers: Iterable[Mapping[str, Any]], groups: Mapping[int, str], *, title: str = "Customers"
) -> str:
    """Return an HTML page with one table row per customer: id, e-mail, name, group (all escaped)."""
    rows = []
    for customer in customers:
        group_id = customer.get("customer_group_id") or 0
        group = groups.get(int(group_id), f"#{group_id}") if group_id else "-"
        name = " ".join(str(customer.get(key) or "") for key in ("first_name", "last_name")).strip()
        cells = (customer.get("id"), customer.get("email"), name, group)
        rows.append(
            f'<tr id="customer-{escape(str(customer.get("id")))}">'
            + "".join(f"<td>{escape(str(cell))}</td>" for cell in cells)
            + "</tr>"
        )
    body = "".join(rows) or '<tr><td colspan="4">No customers yet.</td></tr>'
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)} - BigCommerce sandbox"
        f"</title><style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>"
        f"<p>{len(rows)} shown. Sandbox store, read-only; JSON at /__sandbox/customers.</p>"
        "<table><thead><tr><th>ID</th><th>E-mail</th><th>Name</th><th>Group</th></tr></thead>"
        f"<tbody>{body}</tbody></table></body></html>"
    )


def control_panel_router() -> APIRouter:
    """Return the router of ``/manage/customers`` and ``/manage/customers/{id}/edit`` (HTML, GET only)."""
    router = APIRouter(prefix=CUSTOMERS_PAGE)

    def page(request: Request, *, only: int | None = None) -> HTMLResponse:
        store: SandboxStore = request.app.state.store
        groups = {int(group["id"]): str(group["name"]) for group in store.groups.everything()}
        customers = store.all_customers()
        if only is None:
            return HTMLResponse(render_customers(customers, groups))
        chosen = [customer for customer in customers if customer.get("id") == only]
        title = f"Customer {only}"
        return HTMLResponse(render_customers(chosen, groups, title=title), status_code=200 if chosen else 404)

    @router.get("", response_class=HTMLResponse)
    async def customers(request: Request) -> HTMLResponse:
        return page(request)

    @router.get("/{customer_id}/edit", response_class=HTMLResponse)
    async def customer(request: Request, customer_id: int) -> HTMLResponse:
        return page(request, only=customer_id)

    return router
