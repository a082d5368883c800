"""
What the sync engine needs from a store client, and the two failures it must tell apart.

The engine imports neither Airflow nor requests: ``BigCommerceHook`` implements
:class:`CustomerClient`, and tests use the sandbox in process (``testing.InProcessStore``). Rate
limits, pacing and safe retries (GETs, and POSTs the store provably did not process, such as a
429) live in the client; what reaches the engine is a definite rejection (the row must change), an
outcome the client cannot know (look it up), or a transient failure (trying again later can
succeed: the row is *failed*).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from airflow_bigcommerce.api import CUSTOMER_BATCH_SIZE as MAX_BATCH_SIZE
from airflow_bigcommerce.api import (
    LOOKUP_BATCH_SIZE,
    MAX_LOOKUP_CHARS,
    MAX_PAGE_SIZE,
    group_lookups,
    lookup_values,
)

__all__ = [
    "LOOKUP_BATCH_SIZE",
    "MAX_BATCH_SIZE",
    "MAX_LOOKUP_CHARS",
    "CustomerClient",
    "IdLookupClient",
    "OutcomeUnknownError",
    "RequestRejectedError",
    "TransientFailureError",
    "group_lookups",
    "lookup_values",
]


class RequestRejectedError(Exception):
    """
    The store answered with a definite 4xx refusal (not a 429).

    :param status: HTTP status code.
    :param errors: the V3 ``errors`` object (field or key -> message), or V2 messages keyed by index.
    :param title: the V3 ``title`` or the first V2 ``message``.
    """

    def __init__(
        self, message: str, *, status: int, errors: Mapping[str, str] | None = None, title: str = ""
    ):
        super().__init__(message)
        self.status = status
        self.errors: dict[str, str] = dict(errors or {})
        self.title = title


class OutcomeUnknownError(Exception):
    """
    A write was sent and its effect is unknown: timeout, dropped connection, 5xx after send.

    The caller resolves it by looking the e-mails up, never by sending the write again blindly.
    """


class TransientFailureError(Exception):
    """
    The request did not get through, for a reason that is not the row's.

    The store stayed down or overloaded beyond the client's retry budget (5xx, no answer, 429s).
    Nothing was applied by the last attempt; trying again later can succeed, so the rows count as
    *failed*, not *rejected*.
    """


@runtime_checkable
class CustomerClient(Protocol):
    """The V3 customer calls the engine makes; every method is safe to call from several threads."""

    def find_customers_by_email(self, emails: Sequence[str]) -> list[dict[str, Any]]:
        """Return the store's customers whose e-mail is in ``emails`` (case-insensitive), any order."""
        ...

    def create_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """
        Create up to 10 customers in one ``POST /v3/customers``; return the created ``customer_Full`` dicts.

        :raises RequestRejectedError: the store refused the batch (e.g. 422 with one bad row, a
            duplicate e-mail). It may still have written some rows: look them up.
        :raises OutcomeUnknownError: the request went out and no definite answer came back.
        """
        ...

    def update_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Update up to 10 customers (each with ``id``) in one ``PUT /v3/customers``; same errors."""
        ...

    def count_customers(self) -> int:
        """Return how many customers the store holds (``meta.pagination.total`` of a 1-row page)."""
        ...

    def iter_customers(self, page_size: int = MAX_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Yield every customer of the store, page by page."""
        ...


@runtime_checkable
class IdLookupClient(Protocol):
    """
    The look-up by id a sync with a ledger also needs (``BigCommerceHook`` and ``InProcessStore`` have it).

    Apart from :class:`CustomerClient` so that clients written before the ledger keep working without it.
    """

    def find_customers_by_id(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Return the customers whose id is in ``ids`` (``GET /v3/customers?id:in=``, in groups of 250)."""
        ...
