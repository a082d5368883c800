"""
What one attempt's answer (or failure) means: classified once, read by every policy.

The retry decision, the outage policy (:mod:`.breaker`) and the in-flight limits (:mod:`.concurrency`)
all act on the same :class:`Verdict`, so they cannot disagree about what an answer was. See SOURCE.md
("Rate limits", "Concurrency limits") and BigCommerce's rate-limit guide for what each answer means.
"""

from __future__ import annotations

import enum
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError

from airflow_bigcommerce.hooks.concurrency import Signal
from airflow_bigcommerce.hooks.pacing import RateLimitHeaders

#: What :func:`parse_json` returns for a body that is not JSON.
NOT_JSON: Any = object()


class Verdict(enum.Enum):
    """The kinds of outcome an attempt can have, as the store's answer (or its absence) says."""

    #: 2xx with a JSON (or empty) body: done.
    OK = "ok"
    #: 429 and the window's quota is spent (no requests left, or ``X-Retry-After``): everyone waits.
    QUOTA_429 = "quota_429"
    #: 429 while the window has requests left: an endpoint's in-flight cap; this sender backs off.
    CONCURRENCY_429 = "concurrency_429"
    #: 429 without rate-limit headers: platform load, an outage's symptom.
    PLATFORM_429 = "platform_429"
    #: 5xx, or a 2xx whose body is not JSON (a proxy's page): the store's trouble; a write may have landed.
    SERVER_ERROR = "server_error"
    #: Any other status (4xx): a definite refusal; nothing to retry.
    REFUSED = "refused"
    #: No connection was made (refused, connect timeout): the request never reached the store.
    NOT_SENT = "not_sent"
    #: The request went out and no answer came (read timeout, dropped connection): it may have landed.
    NO_ANSWER = "no_answer"

    @property
    def rate_limited(self) -> bool:
        """Whether it was a 429: nothing was applied, the request is always sent again."""
        return self in _RATE_LIMITED

    @property
    def transient(self) -> bool:
        """Whether it is an outage's symptom: the outage policy counts it as a failure."""
        return self in _TRANSIENT

    @property
    def may_have_applied(self) -> bool:
        """Whether the store may have applied the request although no usable answer says so."""
        return self in (Verdict.SERVER_ERROR, Verdict.NO_ANSWER)

    def signal(self, *, room: bool) -> Signal:
        """
        Return what this outcome tells the in-flight limits.

        :param room: for :attr:`OK`: whether the window has requests left beyond those in flight
            (else the limit holds: the quota, not the store, is the bottleneck).
        """
        if self is Verdict.OK:
            return "ok" if room else "busy"
        if self is Verdict.CONCURRENCY_429:
            return "concurrency"
        return "error" if self.transient else "neutral"


_RATE_LIMITED = frozenset({Verdict.QUOTA_429, Verdict.CONCURRENCY_429, Verdict.PLATFORM_429})
_TRANSIENT = frozenset({Verdict.PLATFORM_429, Verdict.SERVER_ERROR, Verdict.NOT_SENT, Verdict.NO_ANSWER})


def classify_answer(status: int, headers: RateLimitHeaders, body: Any) -> Verdict:
    """
    Classify an answer by its status, rate-limit headers and parsed body (:data:`NOT_JSON` if unreadable).

    A 429 with requests left and no ``X-Retry-After`` is an endpoint's concurrency cap: BigCommerce
    says only a spent quota justifies waiting for the reset.
    """
    if 200 <= status < 300:
        return Verdict.SERVER_ERROR if body is NOT_JSON else Verdict.OK
    if status == 429:
        if not headers.present:
            return Verdict.PLATFORM_429
        if headers.left is not None and headers.left > 0 and headers.retry_after_s is None:
            return Verdict.CONCURRENCY_429
        return Verdict.QUOTA_429
    if status >= 500 or status < 200:
        return Verdict.SERVER_ERROR
    return Verdict.REFUSED


def classify_failure(exc: requests.ConnectionError | requests.Timeout) -> Verdict:
    """Classify a request that got no answer: whether it may have reached the store."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Verdict.NOT_SENT
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        connect_timeout = isinstance(getattr(reason, "reason", reason), ConnectTimeoutError)
        return Verdict.NOT_SENT if connect_timeout else Verdict.NO_ANSWER
    return Verdict.NO_ANSWER  # a read timeout: the request went out


def parse_json(response: requests.Response) -> Any:
    """Return the response's JSON (``None`` for an empty body), or :data:`NOT_JSON`; parsed once."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return NOT_JSON
