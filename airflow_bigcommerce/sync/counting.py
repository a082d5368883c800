"""
The engine's view of the store client: the same calls, counted by kind for ``SyncResult.requests``.

Look-ups are also normalised here (match key -> customer), so look-up and delivery agree on what a
found customer is.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

from airflow_bigcommerce.api import MAX_PAGE_SIZE, group_ids
from airflow_bigcommerce.models.contact import match_key
from airflow_bigcommerce.sync.client import CustomerClient
from airflow_bigcommerce.sync.rows import as_id

#: Key of what :meth:`CountingClient.find` returns for an e-mail that several customers on the run's
#: channel share (Multi-Storefront): their ids. Such a row is ambiguous, never guessed.
AMBIGUOUS = "__ambiguous_ids__"


class CountingClient:
    """Wrap the client to count calls by kind (thread-safe); the hook's own retries are not seen."""

    def __init__(self, client: CustomerClient) -> None:
        self.client = client
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        #: Sub-resources look-ups include (``addresses``, ``attributes``) when parts are mapped.
        self.include: tuple[str, ...] = ()
        #: Which found customers count (a channel's logins); ``None``: all of them.
        self.visible: Callable[[Mapping[str, Any]], bool] | None = None

    def _count(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self.counts[kind] += n

    def find(self, emails: Sequence[str]) -> dict[str, dict[str, Any]]:
        """
        Look e-mails up; return match key -> customer (lowest id wins, should the store hold two).

        With :attr:`visible` set (a channel), only customers who can log in there count, and an
        e-mail two of them share maps to ``{AMBIGUOUS: [ids]}``.
        """
        self._count("lookup")
        if self.include:
            answer = self.client.find_customers_by_email(list(emails), include=self.include)  # type: ignore[call-arg]
        else:
            answer = self.client.find_customers_by_email(list(emails))
        found: dict[str, dict[str, Any]] = {}
        for customer in sorted(answer, key=lambda c: as_id(c.get("id")) or 0):
            email = customer.get("email")
            if not isinstance(email, str) or (self.visible is not None and not self.visible(customer)):
                continue
            mk = match_key(email)
            first = found.get(mk)
            if first is None:
                found[mk] = customer
            elif self.visible is not None:
                ids = first.get(AMBIGUOUS) or [as_id(first.get("id"))]
                found[mk] = {AMBIGUOUS: [*ids, as_id(customer.get("id"))]}
        return found

    def find_ids(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """
        Look customers up by id, one request per 250 ids (counted as ``id_lookup``); return id -> customer.

        A customer the run's channel does not see (:attr:`visible`) counts as gone.
        """
        call = getattr(self.client, "find_customers_by_id", None)
        if not callable(call):
            raise TypeError(
                f"{type(self.client).__name__} has no find_customers_by_id(): it cannot sync with a ledger"
            )
        found: dict[int, dict[str, Any]] = {}
        for group in group_ids(ids):
            self._count("id_lookup")
            answer = call(group, include=self.include) if self.include else call(group)
            for customer in answer:
                cid = as_id(customer.get("id"))
                if cid is not None and (self.visible is None or self.visible(customer)):
                    found[cid] = customer
        return found

    def part(self, kind: str, method: str, *args: Any) -> Any:
        """Call one of the client's part methods (``sync.client.PartsClient``), counted as ``kind``."""
        call = getattr(self.client, method, None)
        if not callable(call):
            raise TypeError(
                f"{type(self.client).__name__} has no {method}(): it cannot sync a contact's parts"
            )
        self._count(kind)
        return call(*args)

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
        if self.include:
            items = self.client.iter_customers(MAX_PAGE_SIZE, params={"include": ",".join(self.include)})  # type: ignore[call-arg]
        else:
            items = self.client.iter_customers(MAX_PAGE_SIZE)
        yield from self._pages("list", items)

    def iter_part(self, kind: str, method: str) -> Iterator[dict[str, Any]]:
        """Yield every item of a part's listing (``iter_subscribers``), its pages counted as ``kind``."""
        call = getattr(self.client, method, None)
        if not callable(call):
            raise TypeError(
                f"{type(self.client).__name__} has no {method}(): it cannot sync a contact's parts"
            )
        yield from self._pages(kind, call())

    def _pages(self, kind: str, items: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        n = 0
        try:
            for item in items:
                n += 1
                yield item
        finally:
            self._count(kind, max(1, math.ceil(n / MAX_PAGE_SIZE)))


def client_stats(client: object) -> dict[str, int | float]:
    """Return the numbers among a client's ``stats`` (429s, retries, quota waits), for the summary."""
    stats = getattr(client, "stats", None)
    if not isinstance(stats, Mapping):
        return {}
    return {str(k): v for k, v in stats.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
