"""
The store calls for the parts of a contact beyond the customer record itself.

Addresses, customer attribute values, customer groups, newsletter subscribers and channel settings:
each goes through the hook's one request path (pacing, per-endpoint concurrency caps, retry budget,
never a blind resend of a POST), so a part is a new resource for the same delivery policy, not a
second policy. No method here ever sends an unfiltered ``DELETE`` (on subscribers, V2 customers and
V2 addresses it deletes everything): the one delete, of addresses, names each address by its id
(the sync deletes only its own address, with ``empty_values="clear"``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from airflow_bigcommerce.api import (
    ADDRESS_BATCH_SIZE,
    ADDRESS_LOOKUP_CUSTOMERS,
    ATTRIBUTE_VALUE_BATCH_SIZE,
    MAX_PAGE_SIZE,
)
from airflow_bigcommerce.exceptions import BigCommerceConfigError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from airflow_bigcommerce.hooks.transport import RequestOptions


class _Requester(Protocol):
    """What the mixin needs from the hook: its one request path and its pager."""

    def _json(self, method: str, path: str, **options: Unpack[RequestOptions]) -> Any: ...

    def _paged(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]: ...


def _data(body: Any) -> list[dict[str, Any]]:
    """Return a V3 answer's ``data`` list (empty for anything else)."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if isinstance(data, Mapping):
        return [dict(data)]
    return [dict(item) for item in data or () if isinstance(item, Mapping)]


def _check_batch(items: Sequence[Any], what: str, most: int) -> None:
    if not 1 <= len(items) <= most:
        raise BigCommerceConfigError(f"A {what} batch holds 1 to {most} items, got {len(items)}")


class StorePartsMixin:
    """Typed calls for addresses, attributes, groups, subscribers and channels (mixed into the hook)."""

    # -- addresses --------------------------------------------------------------------------

    def create_addresses(self: _Requester, addresses: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """
        Add up to 10 addresses (each with ``customer_id``) with one ``POST /v3/customers/addresses``.

        An address identical in all fields to one its customer has is left out of the answer (the
        store folds exact duplicates): the caller looks such a customer's addresses up.
        """
        _check_batch(addresses, "address", ADDRESS_BATCH_SIZE)
        return _data(self._json("POST", "v3/customers/addresses", json=[dict(a) for a in addresses]))

    def update_addresses(self: _Requester, addresses: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Change up to 10 addresses (each with ``id``) with one ``PUT /v3/customers/addresses``."""
        _check_batch(addresses, "address", ADDRESS_BATCH_SIZE)
        return _data(self._json("PUT", "v3/customers/addresses", json=[dict(a) for a in addresses]))

    def find_addresses(self: _Requester, customer_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Return the addresses of these customers (``GET /v3/customers/addresses?customer_id:in=``)."""
        found: list[dict[str, Any]] = []
        ids = sorted({int(i) for i in customer_ids})
        for start in range(0, len(ids), ADDRESS_LOOKUP_CUSTOMERS):
            group = ids[start : start + ADDRESS_LOOKUP_CUSTOMERS]
            params = {"customer_id:in": ",".join(map(str, group)), "limit": MAX_PAGE_SIZE}
            found.extend(self._paged("v3/customers/addresses", params))
        return found

    def delete_addresses(self: _Requester, address_ids: Sequence[int]) -> None:
        """
        Delete up to 10 addresses by id (``DELETE /v3/customers/addresses?id:in=``); never without ids.

        :raises BigCommerceConfigError: no id, or more than 10 (an unfiltered delete empties every book).
        """
        ids = sorted({int(i) for i in address_ids})
        _check_batch(ids, "address delete", ADDRESS_BATCH_SIZE)
        self._json("DELETE", "v3/customers/addresses", params={"id:in": ",".join(map(str, ids))})

    # -- attributes -------------------------------------------------------------------------

    def list_customer_attributes(self: _Requester) -> list[dict[str, Any]]:
        """Return the store's customer attributes (``GET /v3/customers/attributes``; at most 50)."""
        return list(self._paged("v3/customers/attributes", {"limit": MAX_PAGE_SIZE}))

    def create_customer_attribute(
        self: _Requester, name: str, attribute_type: str = "string"
    ) -> dict[str, Any]:
        """Create one customer attribute (``POST /v3/customers/attributes``); return it with its id."""
        created = _data(
            self._json("POST", "v3/customers/attributes", json=[{"name": name, "type": attribute_type}])
        )
        if not created:
            raise BigCommerceConfigError(f"The store created no customer attribute {name!r}")
        return created[0]

    def upsert_attribute_values(
        self: _Requester, values: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """
        Write up to 10 ``{attribute_id, value, customer_id}`` with one ``PUT /v3/customers/attribute-values``.

        An upsert: sending a value again changes nothing, so a lost answer may be resent.
        """
        _check_batch(values, "attribute value", ATTRIBUTE_VALUE_BATCH_SIZE)
        return _data(self._json("PUT", "v3/customers/attribute-values", json=[dict(v) for v in values]))

    # -- customer groups (V2, Plus plans and above) --------------------------------------------

    def list_customer_groups(self: _Requester) -> list[dict[str, Any]]:
        """
        Return the store's customer groups (``GET /v2/customer_groups``, paged; a bare JSON array).

        :raises BigCommerceAPIError: 403 (or 404) on a plan without customer groups.
        """
        groups: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._json("GET", "v2/customer_groups", params={"page": page, "limit": MAX_PAGE_SIZE})
            items = [dict(g) for g in body or () if isinstance(g, Mapping)] if isinstance(body, list) else []
            groups.extend(items)
            if len(items) < MAX_PAGE_SIZE:  # V2 answers 204 (no body) past the last page
                return groups
            page += 1

    # -- subscribers (newsletter consent) --------------------------------------------------------

    def find_subscriber(self: _Requester, email: str) -> dict[str, Any] | None:
        """Return the subscriber with this e-mail (``GET /v3/customers/subscribers?email=``), or ``None``."""
        for value in dict.fromkeys((email.strip(), email.strip().lower())):
            found = _data(self._json("GET", "v3/customers/subscribers", params={"email": value, "limit": 5}))
            for subscriber in found:
                if str(subscriber.get("email", "")).strip().lower() == email.strip().lower():
                    return subscriber
        return None

    def count_subscribers(self: _Requester) -> int:
        """Return how many subscribers the store has (one 1-row page)."""
        body = self._json("GET", "v3/customers/subscribers", params={"limit": 1})
        meta = body.get("meta", {}) if isinstance(body, Mapping) else {}
        return int(meta.get("pagination", {}).get("total", 0))

    def iter_subscribers(self: _Requester) -> Iterator[dict[str, Any]]:
        """Yield every subscriber, page by page."""
        yield from self._paged("v3/customers/subscribers", {"limit": MAX_PAGE_SIZE})

    def create_subscriber(self: _Requester, subscriber: Mapping[str, Any]) -> dict[str, Any]:
        """
        Create one subscriber (``POST /v3/customers/subscribers``).

        :raises BigCommerceAPIError: 409 when the e-mail is already a subscriber.
        :raises BigCommerceOutcomeUnknownError: no definite answer: look the e-mail up first.
        """
        created = _data(self._json("POST", "v3/customers/subscribers", json=dict(subscriber)))
        return created[0] if created else {}

    def update_subscriber(self: _Requester, subscriber_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change one subscriber (``PUT /v3/customers/subscribers/{id}``), e.g. its ``consents``."""
        updated = _data(
            self._json("PUT", f"v3/customers/subscribers/{int(subscriber_id)}", json=dict(changes))
        )
        return updated[0] if updated else {}

    # -- channels (Multi-Storefront) -----------------------------------------------------------

    def get_channel_settings(self: _Requester, channel_id: int) -> dict[str, Any]:
        """Return a channel's customer settings (``GET /v3/customers/settings/channels/{id}``)."""
        found = _data(self._json("GET", f"v3/customers/settings/channels/{int(channel_id)}"))
        return found[0] if found else {}
