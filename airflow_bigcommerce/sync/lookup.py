"""
Find what the store already holds for each row, by the cheaper of two strategies.

A small store is read whole once (at most ``index_limit`` customers) when that takes fewer requests
than looking the run's rows up by e-mail, chunk by chunk; otherwise each chunk is looked up in
the groups the client sends as one request each
(:func:`~airflow_bigcommerce.api.group_lookups`: up to 250 e-mails, a URL under 8 KB).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_bigcommerce.api import LOOKUP_BATCH_SIZE, MAX_PAGE_SIZE, group_lookups
from airflow_bigcommerce.models.contact import COMPARABLE_FIELDS, match_key
from airflow_bigcommerce.sync.client import TransientFailureError
from airflow_bigcommerce.sync.counting import CountingClient
from airflow_bigcommerce.sync.pool import WorkerPool
from airflow_bigcommerce.sync.rows import Item

log = logging.getLogger("airflow_bigcommerce.sync")

#: The field of ``customer_Full`` each ``include=`` sub-resource fills, where their names differ.
INCLUDED_FIELDS = {"formfields": "form_fields", "storecredit": "store_credit_amounts"}
#: Stores with at most this many customers are read once (≤10 pages of 250) instead of looked up per chunk.
INDEX_LIMIT = 2_500


def lookups_needed(total: int, chunk_size: int) -> int:
    """
    Return the look-up requests ``total`` rows cost at least when looked up ``chunk_size`` at a time.

    At least: long e-mails fill a group's URL before it holds LOOKUP_BATCH_SIZE of them.
    """
    full, rest = divmod(total, chunk_size)
    return full * math.ceil(chunk_size / LOOKUP_BATCH_SIZE) + math.ceil(rest / LOOKUP_BATCH_SIZE)


class StoreLookup:
    """
    Return the stored customer of each item, from the index if there is one, else by e-mail look-ups.

    :param index: match key -> customer (only the fields a comparison needs), or ``None``.
    """

    def __init__(
        self, client: CountingClient, pool: WorkerPool, index: dict[str, dict[str, Any]] | None = None
    ) -> None:
        self.client = client
        self.pool = pool
        self.index = index

    @classmethod
    def open(
        cls,
        client: CountingClient,
        pool: WorkerPool,
        *,
        index_limit: int,
        total: int | None,
        chunk_size: int,
    ) -> StoreLookup:
        """Pick the strategy: read a small store once when that costs fewer requests than look-ups."""
        try:
            index = _load_index(client, index_limit=index_limit, total=total, chunk_size=chunk_size)
        except TransientFailureError as exc:
            # Per-chunk look-ups still settle every row (as failed, while the store cannot be read).
            log.warning("Could not read the store's customers (%s): looking contacts up per chunk", exc)
            index = None
        return cls(client, pool, index)

    def find(self, items: Sequence[Item]) -> dict[str, Mapping[str, Any]]:
        """Return match key -> stored customer for the items the store holds."""
        if self.index is not None:
            return {item.mk: self.index[item.mk] for item in items if item.mk in self.index}
        groups = group_lookups(item.email for item in items)
        found: dict[str, Mapping[str, Any]] = {}
        for part in self.pool.map(self.client.find, groups):
            for mk, customer in part.items():
                found.setdefault(mk, customer)
        return found


def _load_index(
    client: CountingClient, *, index_limit: int, total: int | None, chunk_size: int
) -> dict[str, dict[str, Any]] | None:
    if index_limit <= 0:
        return None
    budget = None
    if total is not None:
        budget = lookups_needed(total, chunk_size)
        if budget <= 1:  # one look-up at most: cheaper than even counting the store
            return None
    count = client.count()
    pages = math.ceil(count / MAX_PAGE_SIZE)
    if count > index_limit or (budget is not None and pages > budget):
        log.info("Store holds %d customers: looking contacts up per chunk", count)
        return None
    keep = {"id", "email", *COMPARABLE_FIELDS, *(INCLUDED_FIELDS.get(i, i) for i in client.include)}
    index: dict[str, dict[str, Any]] = {}
    if count:
        for customer in client.iter_all():
            email = customer.get("email")
            if isinstance(email, str):
                index.setdefault(match_key(email), {k: v for k, v in customer.items() if k in keep})
    log.info(
        "Store holds %d customers: read them once (%d pages) instead of per-chunk look-ups", count, pages
    )
    return index
