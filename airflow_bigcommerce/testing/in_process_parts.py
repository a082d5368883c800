"""The part calls of the in-process store client: addresses, attributes, groups, subscribers, channels.

Metafields, segments and shopper profiles are in ``in_process_fields.py`` (inherited).

The same methods as the hook's (``hooks/part_calls.py``), each one operation of the sandbox's state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from airflow_bigcommerce.api import MAX_PAGE_SIZE
from airflow_bigcommerce.testing.in_process_fields import FieldCalls
from airflow_bigcommerce.testing.sandbox_calls import data_of

__all__ = ["PartCalls"]

#: The ``limit`` of every listing: the API's largest page.
_PAGE = str(MAX_PAGE_SIZE)


class PartCalls(FieldCalls):
    """What the sync's part deliveries and store set-up call, answered by the sandbox in process."""

    def create_addresses(self, addresses: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Add addresses (``POST /v3/customers/addresses``)."""
        body = [dict(a) for a in addresses]
        return self._call(
            "address_create",
            "POST /v3/customers/addresses",
            "POST",
            lambda _: self.store.addresses.create(body),
        )

    def update_addresses(self, addresses: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Change addresses (``PUT /v3/customers/addresses``)."""
        body = [dict(a) for a in addresses]
        return self._call(
            "address_update",
            "PUT /v3/customers/addresses",
            "PUT",
            lambda _: self.store.addresses.update(body),
        )

    def find_addresses(self, customer_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Return the addresses of these customers."""
        query = {"customer_id:in": ",".join(str(i) for i in sorted(set(customer_ids))), "limit": _PAGE}
        return self._read(
            "address_lookup",
            "GET /v3/customers/addresses",
            lambda: self._pages(self.store.addresses.search, query),
        )

    def delete_addresses(self, address_ids: Sequence[int]) -> None:
        """Delete addresses by id (``DELETE /v3/customers/addresses?id:in=``); never without ids."""
        ids = sorted({int(i) for i in address_ids})
        if not ids:
            raise ValueError("an address delete names its addresses: no id given")
        query = {"id:in": ",".join(map(str, ids))}
        self._call(
            "address_delete",
            "DELETE /v3/customers/addresses",
            "DELETE",
            lambda _: self.store.addresses.delete(query),
        )

    def list_customer_attributes(self) -> list[dict[str, Any]]:
        """Return the store's customer attributes."""
        return self._read(
            "attribute_list",
            "GET /v3/customers/attributes",
            lambda: self._pages(self.store.attributes.search, {"limit": _PAGE}),
        )

    def create_customer_attribute(self, name: str, attribute_type: str = "string") -> dict[str, Any]:
        """Create one customer attribute; return it with its id."""
        body = [{"name": name, "type": attribute_type}]
        created = self._call(
            "attribute_create",
            "POST /v3/customers/attributes",
            "POST",
            lambda _: self.store.attributes.create(body),
        )
        return created[0]

    def upsert_attribute_values(self, values: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Write attribute values (an upsert)."""
        body = [dict(v) for v in values]
        return self._call(
            "attribute_values",
            "PUT /v3/customers/attribute-values",
            "PUT",
            lambda _: self.store.attributes.upsert_values(body),
        )

    def list_customer_groups(self) -> list[dict[str, Any]]:
        """Return the store's customer groups (403 on a plan without them)."""

        def every_page() -> list[dict[str, Any]]:
            groups: list[dict[str, Any]] = []
            page = 1
            while True:
                items = self.store.groups.search({"page": str(page), "limit": _PAGE})
                groups.extend(items)
                if len(items) < MAX_PAGE_SIZE:
                    return groups
                page += 1

        return self._read("group_list", "GET /v2/customer_groups", every_page)

    def find_subscriber(self, email: str) -> dict[str, Any] | None:
        """Return the subscriber with this e-mail (any case), or ``None``."""
        key = email.strip().lower()

        def search() -> dict[str, Any] | None:
            for value in dict.fromkeys((email.strip(), key)):
                for subscriber in data_of(self.store.subscribers.search({"email": value, "limit": "5"})):
                    if str(subscriber.get("email", "")).strip().lower() == key:
                        return subscriber
            return None

        return self._read("subscriber_lookup", "GET /v3/customers/subscribers", search)

    def count_subscribers(self) -> int:
        """Return how many subscribers the store has."""

        def count() -> int:
            body = self.store.subscribers.search({"limit": "1"})
            return int(body.get("meta", {}).get("pagination", {}).get("total", 0))

        return self._read("subscriber_count", "GET /v3/customers/subscribers", count)

    def iter_subscribers(self) -> Iterator[dict[str, Any]]:
        """Yield every subscriber."""
        yield from self._read(
            "subscriber_list",
            "GET /v3/customers/subscribers",
            lambda: self._pages(self.store.subscribers.search, {"limit": _PAGE}),
        )

    def create_subscriber(self, subscriber: Mapping[str, Any]) -> dict[str, Any]:
        """Create one subscriber (409 when the e-mail is already one)."""
        body = dict(subscriber)
        created = self._call(
            "subscriber_create",
            "POST /v3/customers/subscribers",
            "POST",
            lambda _: data_of(self.store.subscribers.create(body)),
        )
        return created[0] if created else {}

    def update_subscriber(self, subscriber_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change one subscriber, e.g. its ``consents``."""
        body = dict(changes)
        updated = self._call(
            "subscriber_update",
            "PUT /v3/customers/subscribers/{id}",
            "PUT",
            lambda _: data_of(self.store.subscribers.update(str(int(subscriber_id)), body)),
        )
        return updated[0] if updated else {}

    def get_channel_settings(self, channel_id: int) -> dict[str, Any]:
        """Return a channel's customer settings."""
        found = self._read(
            "channel_settings",
            "GET /v3/customers/settings/channels/{id}",
            lambda: data_of(self.store.channels.get(str(int(channel_id)))),
        )
        return found[0] if found else {}
