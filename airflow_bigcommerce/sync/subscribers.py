"""
Where a run learns each e-mail's newsletter subscriber: read once, or looked up one e-mail at a time.

The Subscribers API filters by one exact ``email`` (there is no ``email:in``), so per-e-mail look-ups
cost a request each. A store with few subscribers is read whole once instead, when that takes fewer
requests than the run's rows would (as the customer index does).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping
from typing import Any

from airflow_bigcommerce.api import MAX_PAGE_SIZE
from airflow_bigcommerce.models.contact import match_key
from airflow_bigcommerce.sync.counting import CountingClient

log = logging.getLogger("airflow_bigcommerce.sync")

#: Stores with at most this many subscribers are read once (≤ 40 pages) rather than per e-mail.
SUBSCRIBER_INDEX_LIMIT = 10_000
#: The consent the ``newsletter`` target manages; other consents (``abandoned_cart``) are kept.
NEWSLETTER_CONSENT = "marketing_newsletter"


class SubscriberBook:
    """
    Return the subscriber of an e-mail (``None``: not a subscriber); thread-safe.

    :param index: match key -> subscriber for a store read whole, or ``None`` (look up per e-mail).
    """

    def __init__(self, client: CountingClient, index: dict[str, dict[str, Any]] | None) -> None:
        self.client = client
        self.index = index
        self._lock = threading.Lock()

    @classmethod
    def open(cls, client: CountingClient, *, total: int | None) -> SubscriberBook:
        """Read a small store's subscribers once when that costs fewer requests than look-ups."""
        count = int(client.part("subscriber_lookup", "count_subscribers"))
        pages = math.ceil(count / MAX_PAGE_SIZE)
        if count > SUBSCRIBER_INDEX_LIMIT or (total is not None and pages >= total):
            log.info("Store holds %d subscribers: looking them up per e-mail", count)
            return cls(client, None)
        index: dict[str, dict[str, Any]] = {}
        if count:
            for subscriber in client.iter_part("subscriber_lookup", "iter_subscribers"):
                email = subscriber.get("email")
                if isinstance(email, str):
                    index.setdefault(match_key(email), dict(subscriber))
        log.info("Store holds %d subscribers: read them once (%d pages)", count, pages)
        return cls(client, index)

    def get(self, email: str) -> dict[str, Any] | None:
        """Return the e-mail's subscriber, from the index or by one look-up."""
        if self.index is not None:
            with self._lock:
                found = self.index.get(match_key(email))
            return dict(found) if found is not None else None
        return self.lookup(email)

    def lookup(self, email: str) -> dict[str, Any] | None:
        """Ask the store (after a 409 or a lost answer the index may be stale)."""
        found = self.client.part("subscriber_lookup", "find_subscriber", email)
        return dict(found) if isinstance(found, Mapping) else None

    def remember(self, email: str, subscriber: Mapping[str, Any]) -> None:
        """Keep the index true after the run wrote a subscriber."""
        if self.index is not None:
            with self._lock:
                self.index[match_key(email)] = dict(subscriber)


def consents_of(subscriber: Mapping[str, Any] | None) -> list[str]:
    """Return a subscriber's consents (an empty list for none)."""
    if subscriber is None:
        return []
    consents = subscriber.get("consents")
    return [str(c) for c in consents] if isinstance(consents, list) else []
