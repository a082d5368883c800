"""
What the sync engine needs from a store client, and the two failures it must tell apart.

The engine imports neither Airflow nor requests: ``BigCommerceHook`` implements
:class:`CustomerClient`, and tests use an in-memory fake. Rate limits, pacing and safe retries
(GETs, and POSTs the store provably did not process, such as a 429) live in the client; what
reaches the engine is a definite rejection (the row must change), an outcome the client cannot
know (look it up), or a transient failure (trying again later can succeed: the row is *failed*).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote_plus

#: V3 ``POST``/``PUT /v3/customers`` take at most this many customers per request (an 11th: 413).
MAX_BATCH_SIZE = 10
#: Most e-mails one ``GET /v3/customers?email:in=...`` look-up carries. The spec caps no ``email:in``
#: list; ``limit`` is at most 250 per page, and an e-mail matches at most one customer of a store (one
#: per channel under Multi-Storefront, where the hook pages on), so 250 e-mails answer in one page.
LOOKUP_BATCH_SIZE = 250
#: Longest ``email:in`` value one look-up sends, counted percent-encoded as it goes on the wire
#: (``@`` and ``,`` take 3 characters each): with the store's path and the other parameters the URL
#: stays under 7.2 KB, clear of the 8 KB request-line limits of common servers and proxies.
MAX_LOOKUP_CHARS = 7000


def lookup_values(emails: Iterable[str]) -> list[str]:
    """
    Return the ``email:in`` values that find ``emails``: each as given and lower-cased (trimmed), once.

    The store treats e-mails case-insensitively, but its filter may not.
    """
    values: dict[str, None] = {}
    for raw in emails:
        email = raw.strip()
        if email:
            values.update(dict.fromkeys((email, email.lower())))
    return list(values)


def group_lookups(
    emails: Iterable[str], *, max_emails: int = LOOKUP_BATCH_SIZE, max_chars: int = MAX_LOOKUP_CHARS
) -> list[list[str]]:
    """
    Split e-mails into look-up groups, one ``GET`` each (trimmed; one already looked up is left out).

    A group holds at most ``max_emails`` e-mails, so its answer fits one page, and its
    :func:`lookup_values` joined by commas take at most ``max_chars`` characters percent-encoded.
    The engine and the hook group alike, so a group the engine hands over goes out as one request.
    """
    groups: list[list[str]] = []
    current: list[str] = []
    in_group: set[str] = set()
    sent: set[str] = set()
    size = 0
    for raw in emails:
        email = raw.strip()
        values = lookup_values([email])
        if not values or sent.issuperset(values):
            continue
        if current and (len(current) >= max_emails or size + _encoded(values, in_group) > max_chars):
            groups.append(current)
            current, in_group, size = [], set(), 0
        size += _encoded(values, in_group)
        current.append(email)
        in_group.update(values)
        sent.update(values)
    if current:
        groups.append(current)
    return groups


def _encoded(values: Iterable[str], known: set[str]) -> int:
    """Characters the values new to a group add to its ``email:in``: each and its comma (``%2C``)."""
    return sum(len(quote_plus(v)) + 3 for v in values if v not in known)


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

    def iter_customers(self, page_size: int = 250) -> Iterator[dict[str, Any]]:
        """Yield every customer of the store, page by page."""
        ...
