"""
Set up and read the demo's sandbox store through its admin routes (no token, no quota).

The sandbox runs in its own process, so the demo (and the tests that run the example DAG) create
the customer groups and the attribute the CRM's columns name over HTTP, as a store owner would in
the control panel before the first sync.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_bigcommerce.demo.crm import STORE_ATTRIBUTES, STORE_GROUPS


def _admin(store_url: str, path: str, payload: object | None = None) -> list[dict[str, Any]]:
    """GET (or, with ``payload``, POST) ``/__sandbox/<path>`` and return its ``data``."""
    request = urllib.request.Request(
        f"{store_url}/__sandbox/{path}",
        data=None if payload is None else json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="GET" if payload is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        data: list[dict[str, Any]] = json.load(response)["data"]
    return data


def seed_store(
    store_url: str,
    *,
    groups: Iterable[str] = STORE_GROUPS,
    attributes: Iterable[Mapping[str, str]] = STORE_ATTRIBUTES,
) -> tuple[list[str], list[str]]:
    """
    Create the customer groups and attributes the CRM's ``lifecycle_stage`` and ``crm_id`` name.

    :return: the group names and the attribute names the store now has.
    """
    wanted_groups = [{"name": name} for name in groups]
    wanted_attributes = [dict(a) for a in attributes]
    if wanted_groups:
        _admin(store_url, "groups", wanted_groups)
    if wanted_attributes:  # an empty batch is refused (422), as the API refuses one
        _admin(store_url, "attributes", wanted_attributes)
    return (
        [str(g["name"]) for g in _admin(store_url, "groups")],
        [str(a["name"]) for a in _admin(store_url, "attributes")],
    )


def store_customers(store_url: str) -> list[dict[str, Any]]:
    """Return every customer of the sandbox store, with addresses and attribute values."""
    return _admin(store_url, "customers")


@dataclass(frozen=True)
class StoreContents:
    """What the store holds after a run, in the numbers the demo prints."""

    customers: int
    duplicate_emails: int
    addresses: int
    subscribers: int
    newsletter: int

    @classmethod
    def read(cls, store_url: str) -> StoreContents:
        """Count customers, duplicate e-mails, addresses and newsletter subscribers."""
        customers = store_customers(store_url)
        unique = {str(c["email"]).strip().lower() for c in customers}
        subscribers = _admin(store_url, "subscribers")
        return cls(
            customers=len(customers),
            duplicate_emails=len(customers) - len(unique),
            addresses=sum(len(c.get("addresses") or ()) for c in customers),
            subscribers=len(subscribers),
            newsletter=sum("marketing_newsletter" in (s.get("consents") or ()) for s in subscribers),
        )
