"""What the nested-resource modules need from the store: its customers, ids, clock and lock.

Addresses, attribute values and V2 customer edits change customer records; they get the store
through this narrow protocol instead of its whole class, so each family stays a small module.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from airflow_bigcommerce.sandbox.state.customer import Customer


class CustomerBook(Protocol):
    """The store's customer records as the nested resources see them."""

    lock: threading.RLock

    def customer(self, customer_id: int) -> Customer | None:
        """Return the customer with that id, if any (not a copy: copy before changing)."""

    def customers(self) -> list[Customer]:
        """Return every customer, ordered by id."""

    def next_id(self, kind: str) -> int:
        """Hand out the next id of ``kind`` (``customer``, ``address``, ``attribute``, ...)."""

    def commit(self, customers: Iterable[Customer]) -> None:
        """Store new or changed customers (and persist them)."""

    def now(self) -> datetime:
        """Return the store's current time."""
