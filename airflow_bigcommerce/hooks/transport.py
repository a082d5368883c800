"""
The one send path of a store hook: pacing, outage policy, in-flight limits, retries and errors.

Every request goes out through :meth:`Transport.send`: one attempt at a time through the outage
policy (:mod:`.breaker`), the in-flight gate (:mod:`.concurrency`) and the quota pacer
(:mod:`.pacing`); each attempt is classified once (:mod:`.verdict`), and that one verdict settles
the gate, the breaker and whether to try again. A request that may have reached the store is never
sent again unless it is idempotent: :class:`~airflow_bigcommerce.exceptions.BigCommerceOutcomeUnknownError`
says so instead, so the caller can look the write up first.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

import requests

from airflow_bigcommerce.api import DEFAULT_API_HOST, READ_METHODS, backoff_seconds
from airflow_bigcommerce.exceptions import (
    BigCommerceAuthError,
    BigCommerceConnectionError,
    BigCommerceOutcomeUnknownError,
    BigCommerceRateLimitError,
    BigCommerceServerError,
    BigCommerceUnavailableError,
    on_connection,
    refusal_error,
    store_messages,
)
from airflow_bigcommerce.hooks.access import access_problem
from airflow_bigcommerce.hooks.breaker import (
    ANNOUNCE_WAIT_S,
    BudgetExhaustedError,
    CircuitBreaker,
    Kind,
    OnWait,
)
from airflow_bigcommerce.hooks.concurrency import ConcurrencyController, endpoint_of
from airflow_bigcommerce.hooks.connection import StoreSettings
from airflow_bigcommerce.hooks.pacing import (
    IDEMPOTENT_METHODS,
    RateLimitHeaders,
    RateLimitPacer,
    wait_after_429,
)
from airflow_bigcommerce.hooks.verdict import NOT_JSON, Verdict, classify_answer, classify_failure, parse_json

if TYPE_CHECKING:
    from typing_extensions import Unpack

#: 429s are definite refusals (nothing was written), so they get a budget of their own.
MAX_RATE_LIMIT_WAITS = 50
#: First backoff after a 429 with requests left (an endpoint's concurrency limit), seconds.
CONCURRENCY_BACKOFF_S = 0.05
#: Longest such backoff, seconds.
CONCURRENCY_BACKOFF_CAP_S = 2.0
#: How long a hook keeps trying a store it has never reached (DNS failure, refused connection,
#: connect timeout) before it gives up: a wrong host fails in seconds, not after the retry budget.
#: Once the store has answered, outages get the full retry budget (:mod:`.breaker`).
UNREACHABLE_LIMIT_S = 30.0


class RequestOptions(TypedDict, total=False):
    """
    How one request goes out, besides its method and path (all optional).

    :param params: the query string's parameters.
    :param json: the body, sent as JSON.
    :param timeout: seconds to wait for the answer; default the connection's ``timeout``.
    :param max_retries: caps the retries of this request; ``0`` sends it once (429s are waited out).
    """

    params: Mapping[str, Any] | None
    json: Any
    timeout: float | None
    max_retries: int | None


class _Log(Protocol):
    """The log calls the transport makes (a ``logging.Logger`` or Airflow's structured logger)."""

    def debug(self, event: Any, *args: Any, **kw: Any) -> Any:
        """Log at debug level."""

    def info(self, event: Any, *args: Any, **kw: Any) -> Any:
        """Log at info level."""

    def warning(self, event: Any, *args: Any, **kw: Any) -> Any:
        """Log at warning level."""


class StoreConnection(Protocol):
    """What the transport uses of its hook: the store's settings, the shared policies and a sleep."""

    bigcommerce_conn_id: str
    pacer: RateLimitPacer
    concurrency: ConcurrencyController
    counts: dict[str, int]

    @property
    def breaker(self) -> CircuitBreaker:
        """The outage policy."""

    @property
    def settings(self) -> StoreSettings:
        """The connection's settings."""

    @property
    def log(self) -> _Log:
        """Where to log waits."""

    def get_conn(self) -> requests.Session:
        """Return this thread's HTTP session."""

    def _sleep(self, seconds: float) -> None:
        """Wait (tests pass a fake clock's sleep)."""


@dataclass(frozen=True)
class Attempt:
    """One attempt's outcome: its verdict, and the answer or the network error it ended in."""

    verdict: Verdict
    response: requests.Response | None = None
    headers: RateLimitHeaders = field(default_factory=RateLimitHeaders)
    body: Any = None
    error: requests.ConnectionError | requests.Timeout | None = None

    @property
    def status(self) -> int:
        """The answer's HTTP status (0 when none came)."""
        return self.response.status_code if self.response is not None else 0

    @property
    def status_text(self) -> str:
        """The answer's reason phrase (e.g. ``"Bad Gateway"``), or ``""``."""
        return (self.response.reason or "") if self.response is not None else ""

    @property
    def reason(self) -> str:
        """What went wrong, for the outage policy's message (a status or an exception's name)."""
        if self.error is not None:
            return type(self.error).__name__
        if self.verdict is Verdict.PLATFORM_429:
            return "429 without rate-limit headers"
        return str(self.status)


class Transport:
    """
    Send requests for one hook, from any number of threads; the hook holds the shared state.

    :param store: the hook: its settings, session, pacer, concurrency gate, breaker and sleep are
        read at each request, so a test may replace them.
    """

    def __init__(self, store: StoreConnection) -> None:
        self._store = store
        self._stats_lock = threading.Lock()
        self._wait_lock = threading.Lock()
        #: Whether the store has answered (any HTTP status) since this hook was made.
        self._answered = False
        #: Why the store could not be reached, while it has never answered (then the short limit applies).
        self._unreachable: str | None = None
        #: The end of the last 429 wait logged, so senders blocked by one spent quota log it once.
        self._announced_until = 0.0

    @property
    def _conn_id(self) -> str:
        return self._store.bigcommerce_conn_id

    def count(self, key: str) -> None:
        """Add one to the hook's ``counts[key]``."""
        with self._stats_lock:
            self._store.counts[key] = self._store.counts.get(key, 0) + 1

    def send(
        self, method: str, path: str, **options: Unpack[RequestOptions]
    ) -> tuple[requests.Response, Any]:
        """
        Send until the store answers for good; return the 2xx response and its parsed body.

        :param path: below ``/stores/{store_hash}/``, e.g. ``"v3/customers"``.
        :raises BigCommerceAuthError: a 401, a 403 or a 404 for the whole store (:mod:`.access`).
        :raises BigCommerceAPIError: the store answered 4xx (or 5xx after the retries, for GETs).
        :raises BigCommerceOutcomeUnknownError: a non-idempotent request may have been applied.
        :raises BigCommerceConnectionError: the host could not be reached.
        :raises BigCommerceUnavailableError: this kind of request has failed beyond the retry budget.
        """
        method = method.upper()
        settings = self._store.settings
        session = self._store.get_conn()
        max_retries = options.get("max_retries")
        retries_left = settings.max_retries if max_retries is None else max_retries
        rate_limit_waits = 0
        kind: Kind = "read" if method in READ_METHODS else "write"
        endpoint = endpoint_of(method, path)
        params, json = options.get("params"), options.get("json")
        request_timeout = options.get("timeout") or settings.timeout
        while True:
            attempt = self._attempt(session, method, path, kind, endpoint, params, json, request_timeout)
            verdict = attempt.verdict
            if attempt.response is not None:
                self._answered = True
            elif verdict is Verdict.NOT_SENT and not self._answered and attempt.error is not None:
                self._unreachable = network_reason(attempt.error)
            if verdict.rate_limited:
                rate_limit_waits += 1
                self._after_429(attempt, rate_limit_waits, kind, method, path)
                continue
            if verdict.transient:
                self._store.breaker.failed(kind, attempt.reason)
            else:
                self._store.breaker.succeeded(kind)
            if verdict is Verdict.OK and attempt.response is not None:
                return attempt.response, attempt.body
            if verdict is Verdict.REFUSED:
                raise self._refusal(attempt, method, path)
            if verdict.may_have_applied and method not in IDEMPOTENT_METHODS:
                raise BigCommerceOutcomeUnknownError(
                    f"{method} {path}{_no_answer(attempt)}; the store may have applied it",
                    method=method,
                    path=path,
                ) from None
            if retries_left is not None and retries_left <= 0:
                raise self._gave_up(attempt, method, path) from None
            retries_left = None if retries_left is None else retries_left - 1
            self.count("retries")

    def _attempt(
        self,
        session: requests.Session,
        method: str,
        path: str,
        kind: Kind,
        endpoint: str,
        params: Mapping[str, Any] | None,
        json: Any,
        timeout: float,
    ) -> Attempt:
        """Send once through the outage policy, the concurrency gate and the pacer; settle the last two."""
        store = self._store
        self._acquire(kind, method, path)
        started = store.concurrency.acquire(endpoint)
        store.pacer.acquire()
        url = store.settings.base_url + path.lstrip("/")
        try:
            self.count("requests")
            response = session.request(method, url, params=params, json=json, timeout=timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            store.pacer.release(None)
            failed = Attempt(classify_failure(exc), error=exc)
            store.concurrency.release(endpoint, started, failed.verdict.signal(room=False))
            return failed
        except BaseException:
            store.pacer.release(None)
            store.concurrency.release(endpoint, started, "neutral")
            store.breaker.abandoned(kind)
            raise
        headers = RateLimitHeaders.parse(response.headers)
        store.pacer.release(headers)
        body = parse_json(response)
        verdict = classify_answer(response.status_code, headers, body)
        room = verdict is Verdict.OK and (
            headers.left is None or headers.left - store.pacer.reserve > store.concurrency.limit
        )
        store.concurrency.release(
            endpoint, started, verdict.signal(room=room), others=store.pacer.others_per_own
        )
        return Attempt(verdict, response, headers, body)

    def _acquire(self, kind: Kind, method: str, path: str) -> None:
        """
        Wait for the outage policy to let a request of ``kind`` out; give up once its budget is spent.

        A store never reached gets :data:`UNREACHABLE_LIMIT_S` instead of the retry budget.
        """
        unreachable = self._unreachable if not self._answered else None
        try:
            self._store.breaker.acquire(
                kind,
                budget_s=UNREACHABLE_LIMIT_S if unreachable is not None else None,
                on_wait=self._announcer(method, path, unreachable),
            )
        except BudgetExhaustedError as exc:
            if unreachable is not None and not self._answered:
                raise self._cannot_reach(unreachable, method, path) from None
            raise BigCommerceUnavailableError(
                f"{on_connection(self._conn_id)}{method} {path}: {exc}"
            ) from None

    def _announcer(self, method: str, path: str, unreachable: str | None) -> OnWait:
        """Return how a long outage wait is logged: what failed, the wait, how long it keeps trying."""

        def announce(kind: Kind, wait_s: float, left_s: float, reason: str) -> None:
            if unreachable is not None:
                what = f"cannot reach the store at {self._store.settings.api_root} ({unreachable})"
            else:
                what = f"store {'reads' if kind == 'read' else 'writes'} failing ({reason or 'no answer'})"
            self._store.log.warning(
                "Connection %r: %s; waiting %.1f s before trying %s %s again, giving up in %.0f s",
                self._conn_id,
                what,
                wait_s,
                method,
                path,
                max(left_s, 0.0),
            )

        return announce

    def _cannot_reach(self, reason: str, method: str, path: str) -> BigCommerceConnectionError:
        """Return the error for a store this hook could not reach: the connection, the host, the fix."""
        return BigCommerceConnectionError(
            f"Cannot reach the store of connection {self._conn_id!r} at {self._store.settings.api_root} "
            f"({method} {path}): {reason}. Check the connection's API Host (default {DEFAULT_API_HOST}) "
            "and the network."
        )

    def _after_429(self, attempt: Attempt, waits: int, kind: Kind, method: str, path: str) -> None:
        """
        Wait out a 429 (nothing was applied), or raise once there were too many of them.

        Without rate-limit headers it is platform load: the outage policy backs off. With requests
        left in the window it is an endpoint's concurrency limit: only this sender backs off briefly.
        With none left the quota is spent (maybe by another app): every sender waits for the reset.
        """
        store = self._store
        self.count("429s")
        if waits > MAX_RATE_LIMIT_WAITS:
            raise BigCommerceRateLimitError(
                wait_seconds=wait_after_429(attempt.headers, waits),
                status=429,
                method=method,
                path=path,
                body=_error_body(attempt.body),
                connection=self._conn_id,
            )
        if attempt.verdict is Verdict.PLATFORM_429:
            store.breaker.failed(kind, attempt.reason)
            return
        store.breaker.succeeded(kind)
        if attempt.verdict is Verdict.CONCURRENCY_429:
            wait = backoff_seconds(waits, base=CONCURRENCY_BACKOFF_S, cap=CONCURRENCY_BACKOFF_CAP_S)
            self.count("concurrency_429s")
            store.log.debug("429 with requests left on %s %s: backing off %.2f s", method, path, wait)
            store._sleep(wait)
            return
        wait = wait_after_429(attempt.headers, waits)
        if wait >= ANNOUNCE_WAIT_S and self._first_to_announce(wait):
            store.log.info(
                "Connection %r: rate limited (429) on %s %s, the store's quota is spent; waiting %.1f s, "
                "then trying again (429 %d of at most %d for this request)",
                self._conn_id,
                method,
                path,
                wait,
                waits,
                MAX_RATE_LIMIT_WAITS,
            )
        else:
            store.log.debug("Rate limited (429) on %s %s; waiting %.2f s", method, path, wait)
        store.pacer.block_for(wait)

    def _first_to_announce(self, wait: float) -> bool:
        """Whether this 429 wait ends later than the one last logged (senders blocked together log once)."""
        until = self._store.pacer.clock.monotonic() + wait
        with self._wait_lock:
            if until <= self._announced_until + 1.0:
                return False
            self._announced_until = until
            return True

    def _refusal(self, attempt: Attempt, method: str, path: str) -> Exception:
        """
        Return the error for a definite refusal.

        A refusal of the connection itself (token, scope, store hash: :mod:`.access`) is a
        :class:`~airflow_bigcommerce.exceptions.BigCommerceAuthError`; a duplicate e-mail gets its own class.
        """
        body = _error_body(attempt.body)
        problem = access_problem(attempt.status, path, store_messages(body), self._store.settings.store_hash)
        if problem is not None:
            return BigCommerceAuthError(
                problem, connection=self._conn_id, status=attempt.status, request=f"{method} {path}"
            )
        detail = "" if body is not None else attempt.status_text
        return refusal_error(
            status=attempt.status,
            method=method,
            path=path,
            body=body,
            detail=detail,
            connection=self._conn_id,
        )

    def _gave_up(self, attempt: Attempt, method: str, path: str) -> Exception:
        """Return the error for a transient failure that is out of retries."""
        if attempt.error is not None:
            return self._cannot_reach(network_reason(attempt.error), method, path)
        return BigCommerceServerError(
            status=attempt.status,
            method=method,
            path=path,
            body=_error_body(attempt.body),
            detail=attempt.status_text,
            connection=self._conn_id,
        )


def _no_answer(attempt: Attempt) -> str:
    """Say how the answer was lost: none came, or one without a usable body."""
    if attempt.error is not None:
        return f": no answer ({type(attempt.error).__name__})"
    return f" answered {attempt.status} without a usable body"


def _error_body(body: Any) -> Any:
    """Return a parsed error body, or ``None`` when it was empty or not JSON."""
    return None if body is NOT_JSON else body


#: What urllib3 puts before a connection failure's reason: the connection object or its host and port.
_CONNECTION_PREFIX = re.compile(r"^(?:<[^>]*>|\w*Connection\([^)]*\)|None):\s*")


def network_reason(exc: Exception) -> str:
    """
    Return why a request got no answer, e.g. ``"ConnectionError: Failed to resolve 'x' (...)"``.

    The innermost reason only: the outer texts repeat the URL, whose query may hold e-mail addresses.
    """
    reason: Any = exc
    while reason is not None and reason.args and isinstance(reason.args[0], Exception):
        reason = reason.args[0]
    reason = getattr(reason, "reason", None) or reason
    text = _CONNECTION_PREFIX.sub("", str(reason)) or type(reason).__name__
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= 200 else text[:200] + "..."
