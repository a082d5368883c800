"""
The engine's view of the store client: the same calls, counted by kind for ``SyncResult.requests``.

Look-ups are also normalised here (match key -> customer), so look-up and delivery agree on what a
found customer is.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from airflow_bigcommerce.models.contact import match_key
from airflow_bigcommerce.sync.client import CustomerClient
from airflow_bigcommerce.sync.rows import as_id

#: Page size used to read the whole store (the V3 maximum).
LIST_PAGE_SIZE = 250


class CountingClient:
    """Wrap the client to count calls by kind (thread-safe); the hook's own retries are not seen."""

    def __init__(self, client: CustomerClient) -> None:
        self.client = client
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _count(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self.counts[kind] += n

    def find(self, emails: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Look e-mails up; return match key -> customer (lowest id wins, should the store hold two)."""
        self._count("lookup")
        found: dict[str, dict[str, Any]] = {}
        for customer in sorted(
            self.client.find_customers_by_email(list(emails)), key=lambda c: as_id(c.get("id")) or 0
        ):
            email = customer.get("email")
            if isinstance(email, str):
                found.setdefault(match_key(email), customer)
        return found

    def write(
        self, kind: Literal["create", "update"], bodies: list[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """Send one create or update batch."""
        self._count(kind)
        if kind == "create":
            return self.client.create_customers(bodies)
        return self.client.update_customers(bodies)

    def confirm_write(self) -> None:
        """Tell the client that a write whose answer was lost did land (a look-up found it), if it cares."""
        confirm = getattr(self.client, "confirm_write", None)
        if callable(confirm):
            confirm()

    def count(self) -> int:
        """Return how many customers the store holds (one ``list`` request)."""
        self._count("list")
        return self.client.count_customers()

    def iter_all(self) -> Iterator[dict[str, Any]]:
        """Yield every customer; the pages read are counted even if the caller stops early."""
        n = 0
        try:
            for customer in self.client.iter_customers(LIST_PAGE_SIZE):
                n += 1
                yield customer
        finally:
            self._count("list", n // LIST_PAGE_SIZE + 1)
