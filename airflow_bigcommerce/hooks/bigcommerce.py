"""
Hook for the BigCommerce Management API (customers, V2 and V3).

Reference: https://developer.bigcommerce.com/docs/rest-management/customers
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import requests
import requests.auth
from airflow.providers.http.hooks.http import HttpHook
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout
from urllib3.exceptions import ConnectTimeoutError

from airflow_bigcommerce import __version__
from airflow_bigcommerce.clock import Clock, current_clock
from airflow_bigcommerce.exceptions import (
    BigCommerceAPIError,
    BigCommerceConfigError,
    BigCommerceConnectionError,
    BigCommerceDuplicateCustomerError,
    BigCommerceError,
    BigCommerceOutcomeUnknownError,
    BigCommerceRateLimitError,
    BigCommerceServerError,
    BigCommerceUnavailableError,
)
from airflow_bigcommerce.hooks.breaker import BudgetExhaustedError, CircuitBreaker, Kind
from airflow_bigcommerce.hooks.concurrency import ConcurrencyController, Signal, endpoint_of
from airflow_bigcommerce.hooks.connection import StoreSettings, settings_from_connection
from airflow_bigcommerce.hooks.pacing import (
    IDEMPOTENT_METHODS,
    RateLimitHeaders,
    RateLimitPacer,
    backoff_seconds,
    wait_after_429,
)
from airflow_bigcommerce.hooks.parts import StorePartsMixin
from airflow_bigcommerce.masking import mask_secret
from airflow_bigcommerce.sync.client import (
    LOOKUP_BATCH_SIZE,
    MAX_BATCH_SIZE,
    MAX_LOOKUP_CHARS,
    group_lookups,
    lookup_values,
)

USER_AGENT = f"airflow-provider-bigcommerce/{__version__}"
#: 429s are definite refusals (nothing was written), so they get a budget of their own.
MAX_RATE_LIMIT_WAITS = 50
#: First backoff after a 429 with requests left (an endpoint's concurrency limit), seconds.
CONCURRENCY_BACKOFF_S = 0.05
#: Methods that read: they have their own circuit, so a write outage does not stop look-ups.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: V3 ``limit`` maximum for ``GET /v3/customers``.
MAX_PAGE_SIZE = 250


#: What :func:`_parse_json` returns for a body that is not JSON.
NOT_JSON: Any = object()


class _TokenInHeaders(requests.auth.AuthBase):
    """The session's auth: the ``X-Auth-Token`` header already carries it, so nothing is added."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def _may_have_arrived(exc: RequestsConnectionError | Timeout) -> bool:
    """Whether a failed request may have reached the server: anything but a failure to connect."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, RequestsConnectionError):
        reason = exc.args[0] if exc.args else None
        return not isinstance(getattr(reason, "reason", reason), ConnectTimeoutError)
    return True  # a read timeout: the request went out


def _parse_json(response: requests.Response) -> Any:
    """Return the response's JSON (``None`` for an empty body), or :data:`NOT_JSON`; parsed once."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return NOT_JSON


class BigCommerceHook(StorePartsMixin, HttpHook):
    """
    Talk to one BigCommerce store: auth headers, pacing from rate-limit headers, safe retries.

    Every call goes through :meth:`request`: GETs (and PUTs) are retried on 5xx and network errors;
    a POST is never resent after it may have reached the store (timeout, dropped connection, 5xx):
    :class:`~airflow_bigcommerce.exceptions.BigCommerceOutcomeUnknownError` is raised instead, so the
    caller can look the customer up first. 429s are waited out and retried for every method.
    Outages are ridden out by one :class:`~airflow_bigcommerce.hooks.breaker.CircuitBreaker` per hook
    (backoff with jitter, one probe at a time, a time budget); once reads or writes have failed for
    longer than the budget, :class:`~airflow_bigcommerce.exceptions.BigCommerceUnavailableError` is
    raised at once. The hook is safe to share between threads (one HTTP session per thread, one
    shared pacer and breaker).

    :param bigcommerce_conn_id: connection of type ``bigcommerce``.
    :param timeout: seconds per request; overrides the connection's ``timeout`` extra (default 30).
    :param max_retries: caps the retries of one request; overrides the ``max_retries`` extra
        (default: as many as the retry budget allows).
    :param retry_budget_s: how long reads or writes may keep failing before the run gives up on them;
        overrides the ``retry_budget_s`` extra (default 300).
    :param max_concurrency: a fixed limit on this hook's requests in flight; ``None`` (default) adapts
        it between 1 and 8 (:mod:`~airflow_bigcommerce.hooks.concurrency`). Documented per-endpoint
        caps (PUT ``/v3/customers``: 3) apply either way.
    :param quota_reserve: requests per rate-limit window left unused for the store's other apps.
    :param clock: the one clock of the pacer, the gate, the breaker and the sleeps (default: the
        context's, :func:`~airflow_bigcommerce.clock.use_clock`, else the system clock).
    """

    conn_name_attr = "bigcommerce_conn_id"
    default_conn_name = "bigcommerce_default"
    conn_type = "bigcommerce"
    hook_name = "BigCommerce"
    default_host = "https://api.bigcommerce.com"

    def __init__(
        self,
        bigcommerce_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_budget_s: float | None = None,
        max_concurrency: int | None = None,
        quota_reserve: int = 0,
        pacer: RateLimitPacer | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(method="GET", http_conn_id=bigcommerce_conn_id)
        self.bigcommerce_conn_id = bigcommerce_conn_id
        self._timeout = timeout
        self._max_retries = max_retries
        self._retry_budget_s = retry_budget_s
        self.clock = clock or current_clock()
        self.pacer = pacer or RateLimitPacer(reserve=quota_reserve, clock=self.clock)
        self.concurrency = ConcurrencyController(max_concurrency, clock=self.clock)
        self._local = threading.local()
        self._stats_lock = threading.Lock()
        self._init_lock = threading.RLock()
        self._settings: StoreSettings | None = None
        self._breaker: CircuitBreaker | None = None
        #: Counters for progress logs and benchmarks: requests by kind, 429s, retries.
        self.stats: dict[str, int] = {"requests": 0, "429s": 0, "retries": 0}

    # -- connection --------------------------------------------------------------------------

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Return the form behaviour for Airflow 3.0/3.1 (3.2+ reads ``get_provider_info``)."""
        from airflow_bigcommerce.get_provider_info import get_provider_info

        behaviour = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
        return {
            "hidden_fields": list(behaviour["hidden-fields"]),
            "relabeling": dict(behaviour["relabeling"]),
            "placeholders": dict(behaviour["placeholders"]),
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Return the extra form fields for Airflow 3.0/3.1 (WTForms), built from the same ``conn-fields``."""
        from wtforms import IntegerField, StringField
        from wtforms.validators import NumberRange, Optional, Regexp

        widgets: dict[str, Any] = {}
        for name, spec in legacy_field_specs().items():
            if spec["kind"] == "integer":
                validators = [Optional(), NumberRange(min=spec["minimum"])]
                widgets[name] = IntegerField(
                    spec["label"], validators=validators, description=spec["description"]
                )
            else:
                validators = [Regexp(spec["pattern"])] if spec["pattern"] else []
                widgets[name] = StringField(
                    spec["label"], validators=validators, description=spec["description"]
                )
        return widgets

    # Lazily built once per hook under this hook's own lock. Not functools.cached_property: on
    # Python 3.10 and 3.11 it holds one lock per class, so hooks built in several threads would
    # wait for each other's connection look-up.
    @property
    def breaker(self) -> CircuitBreaker:
        """Return the outage policy every request of this hook (all threads) goes through."""
        if self._breaker is None:
            settings = self.settings
            with self._init_lock:
                if self._breaker is None:
                    self._breaker = CircuitBreaker(settings.retry_budget_s, clock=self.clock)
        return self._breaker

    @breaker.setter
    def breaker(self, breaker: CircuitBreaker) -> None:
        """Replace the outage policy (tests inject one with a fake clock)."""
        self._breaker = breaker

    @property
    def settings(self) -> StoreSettings:
        """Read and validate the connection once."""
        if self._settings is None:
            with self._init_lock:
                if self._settings is None:
                    self._settings = self._read_settings()
        return self._settings

    def _read_settings(self) -> StoreSettings:
        conn = self.get_connection(self.bigcommerce_conn_id)
        settings = settings_from_connection(
            host=conn.host,
            port=conn.port,
            password=conn.password,
            extra=conn.extra_dejson,
            timeout=self._timeout,
            max_retries=self._max_retries,
            retry_budget_s=self._retry_budget_s,
        )
        mask_secret(settings.token)
        return settings

    @property
    def store_hash(self) -> str:
        """Return the connection's store hash."""
        return self.settings.store_hash

    def get_conn(
        self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None
    ) -> requests.Session:
        """Return this thread's HTTP session, with the auth and JSON headers (built once per thread)."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            settings = self.settings
            self.base_url = settings.base_url
            session = requests.Session()
            session.headers.update(
                {
                    "X-Auth-Token": settings.token,
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                }
            )
            # The token travels in X-Auth-Token. With no auth set, requests would look for ~/.netrc
            # on every request (two file-system look-ups under the GIL) and could add a Basic header.
            session.auth = _TokenInHeaders()
            self._local.session = session
        if headers:
            session.headers.update(headers)
        return session

    # -- the one request path ---------------------------------------------------------------

    def _count(self, key: str) -> None:
        with self._stats_lock:
            self.stats[key] = self.stats.get(key, 0) + 1

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> requests.Response:
        """
        Send one API request with pacing and the retry policy; return the 2xx response.

        :param path: below ``/stores/{store_hash}/``, e.g. ``"v3/customers"``.
        :raises BigCommerceAPIError: the store answered 4xx (or 5xx after the retries, for GETs).
        :raises BigCommerceOutcomeUnknownError: a non-idempotent request may have been applied.
        :raises BigCommerceConnectionError: the host could not be reached.
        """
        return self._send(method, path, params=params, json=json, timeout=timeout, max_retries=max_retries)[0]

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send like :meth:`request` and return the parsed JSON body (``None`` when empty)."""
        return self._send(method, path, **kwargs)[1]

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> tuple[requests.Response, Any]:
        """Send through the one request path (pacing, outage policy, errors); return response and body."""
        method = method.upper()
        settings = self.settings
        session = self.get_conn()
        retries_left = settings.max_retries if max_retries is None else max_retries
        rate_limit_waits = 0
        idempotent = method in IDEMPOTENT_METHODS
        kind: Kind = "read" if method in READ_METHODS else "write"
        endpoint = endpoint_of(method, path)
        request_timeout = timeout or settings.timeout
        while True:
            outcome = self._attempt(session, method, path, kind, endpoint, params, json, request_timeout)
            if not isinstance(outcome, tuple):
                self._raise_unless_retryable(outcome, method, path, retries_left)
                retries_left = None if retries_left is None else retries_left - 1
                self._count("retries")
                continue
            response, headers, body = outcome
            status = response.status_code
            if 200 <= status < 300 and body is not NOT_JSON:
                self.breaker.succeeded(kind)
                return response, body
            if status == 429:
                rate_limit_waits += 1
                self._after_429(headers, body, rate_limit_waits, kind, method, path)
                continue
            if status >= 500 or status < 300:  # a 5xx, or a 2xx whose body is not JSON
                self.breaker.failed(kind, str(status))
                if not idempotent:
                    raise BigCommerceOutcomeUnknownError(
                        f"{method} {path} answered {status} without a usable body; the store may have "
                        "applied it",
                        method=method,
                        path=path,
                    )
                if retries_left is None or retries_left > 0:
                    retries_left = None if retries_left is None else retries_left - 1
                    self._count("retries")
                    continue
                raise BigCommerceServerError(
                    status=status,
                    method=method,
                    path=path,
                    body=_error_body(body),
                    detail=response.reason or "",
                )
            self.breaker.succeeded(kind)
            raise self._error_for(response, body, method, path)

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
    ) -> tuple[requests.Response, RateLimitHeaders, Any] | RequestsConnectionError | Timeout:
        """
        Send once through the outage policy, the concurrency gate and the pacer; settle all three.

        :return: the response with its headers and parsed body, or the network error it ended in.
        """
        self._acquire(kind, method, path)
        started = self.concurrency.acquire(endpoint)
        self.pacer.acquire()
        url = self.settings.base_url + path.lstrip("/")
        try:
            self._count("requests")
            response = session.request(method, url, params=params, json=json, timeout=timeout)
        except (RequestsConnectionError, Timeout) as exc:
            self.pacer.release(None)
            self.concurrency.release(endpoint, started, "error")
            self.breaker.failed(kind, type(exc).__name__)
            return exc
        except BaseException:
            self.pacer.release(None)
            self.concurrency.release(endpoint, started, "neutral")
            self.breaker.abandoned(kind)
            raise
        headers = RateLimitHeaders.parse(response.headers)
        self.pacer.release(headers)
        body = _parse_json(response)
        signal = self._signal(response.status_code, headers, body)
        self.concurrency.release(endpoint, started, signal, others=self.pacer.others_per_own)
        return response, headers, body

    def _signal(self, status: int, headers: RateLimitHeaders, body: Any) -> Signal:
        """Say what an answer tells the concurrency controller (grow, hold, or back off)."""
        if 200 <= status < 300 and body is not NOT_JSON:
            room = headers.left is None or headers.left - self.pacer.reserve > self.concurrency.limit
            return "ok" if room else "busy"
        if status == 429:
            if not headers.present:
                return "error"
            return "concurrency" if _is_concurrency_limit(headers) else "neutral"
        if status >= 500 or status < 300:
            return "error"
        return "neutral"

    def _acquire(self, kind: Kind, method: str, path: str) -> None:
        """Wait for the outage policy to let a request of ``kind`` out; give up once its budget is spent."""
        try:
            self.breaker.acquire(kind)
        except BudgetExhaustedError as exc:
            raise BigCommerceUnavailableError(f"{method} {path}: {exc}") from None

    def _after_429(
        self, headers: RateLimitHeaders, body: Any, waits: int, kind: Kind, method: str, path: str
    ) -> None:
        """
        Wait out a 429 (nothing was applied), or raise once there were too many of them.

        Without rate-limit headers it is platform load: the outage policy backs off. With requests
        left in the window it is an endpoint's concurrency limit: only this sender backs off briefly.
        With none left the quota is spent (maybe by another app): every sender waits for the reset.
        """
        self._count("429s")
        if waits > MAX_RATE_LIMIT_WAITS:
            raise BigCommerceRateLimitError(
                wait_seconds=wait_after_429(headers, waits),
                status=429,
                method=method,
                path=path,
                body=_error_body(body),
            )
        if not headers.present:
            self.breaker.failed(kind, "429 without rate-limit headers")
            return
        self.breaker.succeeded(kind)
        if _is_concurrency_limit(headers):
            wait = backoff_seconds(waits, base=CONCURRENCY_BACKOFF_S, cap=2.0)
            self._count("concurrency_429s")
            self.log.debug("429 with requests left on %s %s: backing off %.2f s", method, path, wait)
            self._sleep(wait)
            return
        wait = wait_after_429(headers, waits)
        self.log.info("Rate limited (429) on %s %s; waiting %.2f s", method, path, wait)
        self.pacer.block_for(wait)

    def confirm_write(self) -> None:
        """
        Record that a write whose answer was lost did land (a look-up found it).

        The sync engine calls this: it proves the store's writes work even when every answer is an
        error, so the outage policy must not count it as an outage.
        """
        self.breaker.succeeded("write")

    def _raise_unless_retryable(
        self, exc: RequestsConnectionError | Timeout, method: str, path: str, retries_left: int | None
    ) -> None:
        """Raise for a network failure that must not (or can no longer) be retried."""
        if _may_have_arrived(exc) and method not in IDEMPOTENT_METHODS:
            raise BigCommerceOutcomeUnknownError(
                f"{method} {path}: no answer ({type(exc).__name__}); the store may have applied it",
                method=method,
                path=path,
            ) from None
        if retries_left is not None and retries_left <= 0:
            raise BigCommerceConnectionError(
                f"Cannot reach {self.settings.api_root} ({method} {path}): {type(exc).__name__}: "
                f"{_short_reason(exc)}"
            ) from None

    def _sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)

    @staticmethod
    def _error_for(response: requests.Response, body: Any, method: str, path: str) -> BigCommerceAPIError:
        body = _error_body(body)
        detail = "" if body is not None else response.reason or ""
        error_cls = BigCommerceAPIError
        if response.status_code == 409 or (
            response.status_code == 422 and "already in use" in str(body).lower()
        ):
            error_cls = BigCommerceDuplicateCustomerError
        return error_cls(status=response.status_code, method=method, path=path, body=body, detail=detail)

    # -- V2 ------------------------------------------------------------------------------------

    def get_time(self) -> int:
        """Return the store's clock as epoch seconds (``GET /v2/time``; needs the Information scope)."""
        return int(self._json("GET", "v2/time")["time"])

    def get_store(self) -> dict[str, Any]:
        """Return the store's profile (``GET /v2/store``; needs the Information scope)."""
        result: dict[str, Any] = self._json("GET", "v2/store")
        return result

    def create_customer_v2(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """
        Create one customer with ``POST /v2/customers``; return the store's customer.

        :raises BigCommerceDuplicateCustomerError: the e-mail is already in use (409).
        :raises BigCommerceOutcomeUnknownError: no definite answer; look the e-mail up before resending.
        """
        result: dict[str, Any] = self._json("POST", "v2/customers", json=dict(payload))
        return result

    def find_customer_v2_by_email(self, email: str) -> dict[str, Any] | None:
        """
        Return the V2 customer with this e-mail (case-insensitive), or ``None``.

        The look-up itself is BigCommerce's documented ``GET /v3/customers?email:in=``; the match
        is then read as V2 (``GET /v2/customers/{id}``), the shape the V2 create answers with.
        """
        matches = self.find_customers_by_email([email])
        if not matches:
            return None
        customer_id = int(matches[0]["id"])
        result: dict[str, Any] = self._json("GET", f"v2/customers/{customer_id}")
        return result

    # -- V3 ------------------------------------------------------------------------------------

    def find_customers_by_email(
        self, emails: Sequence[str], include: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """
        Return the customers whose e-mail is in ``emails`` (``GET /v3/customers?email:in=``).

        One request per :func:`lookup_groups` group; a further page only when a group matches more
        than 250 customers (one e-mail per channel under Multi-Storefront).

        :param include: sub-resources to include, e.g. ``("addresses", "attributes")``.
        """
        found: dict[int, dict[str, Any]] = {}
        extra = {"include": ",".join(include)} if include else {}
        for group in lookup_groups(emails):
            params = {"email:in": ",".join(group), "limit": MAX_PAGE_SIZE, **extra}
            for customer in self._paged("v3/customers", params):
                found.setdefault(int(customer.get("id") or 0), customer)
        return list(found.values())

    def create_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Create up to 10 customers with one ``POST /v3/customers``; return them as the store has them."""
        return self._write_batch("POST", customers)

    def update_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Update up to 10 customers (each with ``id``) with one ``PUT /v3/customers``."""
        return self._write_batch("PUT", customers)

    def _write_batch(self, method: str, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        if not 1 <= len(customers) <= MAX_BATCH_SIZE:
            raise BigCommerceConfigError(
                f"A V3 batch holds 1 to {MAX_BATCH_SIZE} customers, got {len(customers)}"
            )
        body = self._json(method, "v3/customers", json=[dict(c) for c in customers])
        data = body.get("data", []) if isinstance(body, Mapping) else []
        return [dict(item) for item in data]

    def count_customers(self) -> int:
        """Return how many customers the store has (one 1-row page)."""
        body = self._json("GET", "v3/customers", params={"limit": 1})
        return int(body.get("meta", {}).get("pagination", {}).get("total", 0))

    def iter_customers(
        self, page_size: int = MAX_PAGE_SIZE, params: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield every customer (optionally filtered by V3 ``params``), page by page."""
        yield from self._paged("v3/customers", {**(params or {}), "limit": min(page_size, MAX_PAGE_SIZE)})

    def _paged(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            body = self._json("GET", path, params={**params, "page": page})
            data = body.get("data", []) if isinstance(body, Mapping) else []
            yield from (dict(item) for item in data)
            meta = body.get("meta") if isinstance(body, Mapping) else None
            pagination = meta.get("pagination") if isinstance(meta, Mapping) else None
            if isinstance(pagination, Mapping) and "total_pages" in pagination:
                last_page = page >= int(pagination["total_pages"])
            else:  # no pagination block: a short page is the last one
                last_page = len(data) < int(params.get("limit", MAX_PAGE_SIZE))
            if not data or last_page:
                return
            page += 1

    # -- connection test -------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """
        Check the connection; return ``(ok, message)`` with a message a store owner can act on.

        ``GET /v3/customers?limit=1`` decides (token, Customers scope, store hash, host); the store
        profile ``GET /v2/store`` (Information scope, optional) then only adds the store's name.
        One quick attempt each.
        """
        try:
            settings = self.settings
        except BigCommerceConfigError as exc:
            return False, str(exc)
        quick_timeout = min(settings.timeout, 10.0)
        try:
            self.request("GET", "v3/customers", params={"limit": 1}, timeout=quick_timeout, max_retries=0)
        except BigCommerceError as exc:
            return False, self._explain(exc, settings)
        try:
            store = self._json("GET", "v2/store", timeout=quick_timeout, max_retries=0)
        except BigCommerceError:
            store = None
        store_name = store.get("name") if isinstance(store, Mapping) else None
        if store_name:
            return (
                True,
                f"Connected to store '{store_name}' (store hash {settings.store_hash}); customers readable.",
            )
        return True, (
            f"Connected to store hash {settings.store_hash}; customers readable. Grant the API account "
            "'Information & settings: read-only' to see the store name here."
        )

    @staticmethod
    def _explain(exc: BigCommerceError, settings: StoreSettings) -> str:
        if isinstance(exc, BigCommerceAPIError):
            if exc.status == 401:
                return (
                    "BigCommerce rejected the access token (401 Unauthorized): paste the API account's "
                    "Access Token into the password field; it is shown once, when the account is created."
                )
            if exc.status == 403:
                return (
                    "The access token lacks the Customers scope (403 Forbidden): give the API account "
                    "'Customers: modify' in the store's control panel (Settings > API accounts)."
                )
            if exc.status == 404:
                return (
                    f"Unknown store hash {settings.store_hash!r} (404 Not Found): use the letters and digits "
                    "after /stores/ in the API path shown with the API account."
                )
            return f"BigCommerce answered an error: {exc}"
        if isinstance(exc, BigCommerceConnectionError):
            return f"{exc}. Check the API Host (default https://api.bigcommerce.com) and the network."
        return str(exc)


def lookup_groups(emails: Sequence[str]) -> list[list[str]]:
    """
    Split e-mails into ``email:in`` values, one ``GET`` each, grouped as the sync engine groups them.

    At most LOOKUP_BATCH_SIZE e-mails (their customers fit one page of 250) and MAX_LOOKUP_CHARS
    once percent-encoded, so the URL stays under 8 KB. Each e-mail goes as given and lower-cased
    (trimmed): the store treats e-mails case-insensitively, but its filter may not.
    """
    groups = group_lookups(emails, max_emails=LOOKUP_BATCH_SIZE, max_chars=MAX_LOOKUP_CHARS)
    return [lookup_values(group) for group in groups]


def legacy_field_specs() -> dict[str, dict[str, Any]]:
    """Describe the ``conn-fields`` of ``get_provider_info`` in the terms WTForms needs."""
    from airflow_bigcommerce.get_provider_info import get_provider_info

    specs: dict[str, dict[str, Any]] = {}
    for name, field in get_provider_info()["connection-types"][0]["conn-fields"].items():
        schema = field["schema"]
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        specs[name] = {
            "kind": "integer" if "integer" in types else "string",
            "label": field["label"],
            "description": field["description"],
            "pattern": schema.get("pattern"),
            "minimum": schema.get("minimum", 0),
        }
    return specs


def _is_concurrency_limit(headers: RateLimitHeaders) -> bool:
    """Whether a 429 came while the window had requests left: an endpoint's in-flight cap, not the quota."""
    return headers.left is not None and headers.left > 0 and headers.retry_after_s is None


def _error_body(body: Any) -> Any:
    """Return a parsed error body, or ``None`` when it was empty or not JSON."""
    return None if body is NOT_JSON else body


def _short_reason(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."
