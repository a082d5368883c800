"""
Which refusals mean the connection itself is wrong (token, scope, store hash), and what to do about it.

ONE rule for the Test button, the sync's pre-flight check and every request of a run: a 401 is
the token, a 403 is a missing scope (named by the endpoint: SOURCE.md "Auth" and each spec's "OAuth
scopes"), a 404 whose body says "Store not found", or on a path that exists in every store, is the
store hash. Those stop a run: no later request can succeed, so retrying or rejecting rows would only
hide them. A 403 or 404 that means the store's *plan* lacks a feature (V2 customer groups,
:data:`~airflow_bigcommerce.api.NO_GROUPS_STATUSES`) and a 404 on one record (a customer id, a
channel) are ordinary refusals, left to their callers.

Pure: no HTTP, no Airflow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ACCESS_CHECK_PATH",
    "CUSTOMERS_SCOPE",
    "INFORMATION_SCOPE",
    "access_problem",
    "scope_for",
]

#: The Test button's and the pre-flight check's request: cheap, and needs only the Customers scope.
ACCESS_CHECK_PATH = "v3/customers"


@dataclass(frozen=True)
class Scope:
    """An API account scope: its name in the control panel, and the level the provider needs."""

    name: str
    level: str

    @property
    def grant(self) -> str:
        """The scope as the API account form shows it, e.g. ``'Customers: modify'``."""
        return f"{self.name}: {self.level}"


#: Every customer, attribute, address, subscriber, channel-setting and V2 customer-group endpoint
#: (customers.v2.yml, customers.v3.yml, subscribers.v3.yml "OAuth scopes": ``store_v2_customers``);
#: the sync writes, so read-only is not enough.
CUSTOMERS_SCOPE = Scope("Customers", "modify")
#: ``GET /v2/time`` and ``GET /v2/store`` (SOURCE.md "Auth": "needs the information scope").
INFORMATION_SCOPE = Scope("Information & settings", "read-only")
#: Paths below the store that need :data:`INFORMATION_SCOPE`; every other path the hook calls
#: needs :data:`CUSTOMERS_SCOPE`.
_INFORMATION_PATHS = frozenset({"v2/time", "v2/store"})
#: Paths whose 403 or 404 says the plan has no such feature (SOURCE.md: customer groups "only on
#: Plus plans and above"; the Customer Segmentation API "Enterprise plans only"), never the token:
#: :func:`~airflow_bigcommerce.sync.store_context.plan_lacks_groups`,
#: :data:`~airflow_bigcommerce.api.NO_SEGMENTS_STATUSES`.
#: (A token without the Customers scope is refused on ``v3/customers`` first.)
_PLAN_PATHS = ("v2/customer_groups", "v3/segments", "v3/shopper-profiles")
#: Paths that exist in every store: a 404 there can only mean the store hash is unknown.
_STORE_WIDE_PATHS = frozenset({"v3/customers", "v2/customers", "v2/time", "v2/store"})
#: What the store's 404 says when the whole ``/stores/{hash}/`` path is unknown.
_STORE_NOT_FOUND = "store not found"


def _bare(path: str) -> str:
    return path.split("?", 1)[0].strip("/")


def scope_for(path: str) -> Scope:
    """Return the scope the endpoint at ``path`` (below ``/stores/{hash}/``) needs."""
    return INFORMATION_SCOPE if _bare(path) in _INFORMATION_PATHS else CUSTOMERS_SCOPE


def store_not_found(status: int, path: str, messages: Iterable[str]) -> bool:
    """Whether a 404 says the store hash is unknown (its text says so, or no store lacks the path)."""
    if status != 404:
        return False
    if _bare(path) in _STORE_WIDE_PATHS:
        return True
    return any(_STORE_NOT_FOUND in message.lower() for message in messages)


def access_problem(status: int, path: str, messages: Iterable[str], store_hash: str) -> str | None:
    """
    Return what is wrong with the connection and how to fix it, when a refusal says so; else ``None``.

    :param status: the refusal's HTTP status.
    :param path: the request's path below ``/stores/{hash}/``.
    :param messages: the store's error texts (V3 ``title``, V2 ``message``).
    :param store_hash: the connection's store hash, named in the 404's message.
    """
    bare = _bare(path)
    plan_feature = bare.startswith(_PLAN_PATHS)
    if status == 401:
        return (
            "BigCommerce rejected the access token (401 Unauthorized): paste the API account's "
            "Access Token into the password field; it is shown once, when the account is created."
        )
    if status == 403 and not plan_feature:
        scope = scope_for(path)
        return (
            f"The access token lacks the {scope.name} scope (403 Forbidden): give the API account "
            f"'{scope.grant}' in the store's control panel (Settings > API accounts)."
        )
    if store_not_found(status, path, messages):
        return (
            f"Unknown store hash {store_hash!r} (404 Not Found): use the letters and digits "
            "after /stores/ in the API path shown with the API account."
        )
    return None
