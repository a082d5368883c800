"""
Hook for the BigCommerce Management API (customers, V2 and V3).

The hook holds one store's connection and shared policies, and its typed calls: V2 and V3 customers
here, a contact's other parts in :mod:`.part_calls`. Every call goes out through the one send path,
:mod:`.transport`; the connection form lives in :mod:`.connection_form`.

Reference: https://developer.bigcommerce.com/docs/rest-management/customers
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import requests
import requests.auth
from airflow.providers.http.hooks.http import HttpHook

from airflow_bigcommerce import __version__
from airflow_bigcommerce.api import (
    CUSTOMER_BATCH_SIZE,
    DEFAULT_API_HOST,
    LOOKUP_BATCH_SIZE,
    MAX_LOOKUP_CHARS,
    MAX_PAGE_SIZE,
    group_ids,
    lookup_groups,
)
from airflow_bigcommerce.clock import Clock, current_clock
from airflow_bigcommerce.exceptions import (
    BigCommerceAPIError,
    BigCommerceAuthError,
    BigCommerceConfigError,
    BigCommerceError,
    on_connection,
)
from airflow_bigcommerce.hooks.access import ACCESS_CHECK_PATH, INFORMATION_SCOPE
from airflow_bigcommerce.hooks.breaker import ANNOUNCE_WAIT_S, CircuitBreaker
from airflow_bigcommerce.hooks.concurrency import ConcurrencyController
from airflow_bigcommerce.hooks.connection import StoreSettings, settings_from_connection
from airflow_bigcommerce.hooks.connection_form import ConnectionFormMixin, legacy_field_specs
from airflow_bigcommerce.hooks.field_calls import StoreFieldsMixin
from airflow_bigcommerce.hooks.pacing import RateLimitPacer
from airflow_bigcommerce.hooks.part_calls import StorePartsMixin
from airflow_bigcommerce.hooks.transport import RequestOptions, Transport
from airflow_bigcommerce.masking import mask_secret

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "LOOKUP_BATCH_SIZE",
    "MAX_LOOKUP_CHARS",
    "MAX_PAGE_SIZE",
    "BigCommerceHook",
    "legacy_field_specs",
    "lookup_groups",
]

USER_AGENT = f"airflow-provider-bigcommerce/{__version__}"
#: Longest wait for the access check's answer (the Test button, a run's pre-flight), seconds.
ACCESS_CHECK_TIMEOUT_S = 10.0


class _TokenInHeaders(requests.auth.AuthBase):
    """The session's auth: the ``X-Auth-Token`` header already carries it, so nothing is added."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class BigCommerceHook(ConnectionFormMixin, StorePartsMixin, StoreFieldsMixin, HttpHook):
    """
    Talk to one BigCommerce store: auth headers, pacing from rate-limit headers, safe retries.

    Every call goes through :meth:`request`: GETs (and PUTs) are retried on 5xx and network errors;
    a POST is never resent after it may have reached the store (timeout, dropped connection, 5xx):
    :class:`~airflow_bigcommerce.exceptions.BigCommerceOutcomeUnknownError` is raised instead, so the
    caller can look the customer up first. 429s are waited out and retried for every method.
    Outages are ridden out by one :class:`~airflow_bigcommerce.hooks.breaker.CircuitBreaker` per hook
    (backoff with jitter, one probe at a time, a time budget); once reads or writes have failed for
    longer than the budget, :class:`~airflow_bigcommerce.exceptions.BigCommerceUnavailableError` is
    raised at once. A store the hook has never reached (DNS failure, refused connection) gets
    :data:`~airflow_bigcommerce.hooks.transport.UNREACHABLE_LIMIT_S` instead. A refusal of the
    connection itself (401, 403, 404 for the store) raises
    :class:`~airflow_bigcommerce.exceptions.BigCommerceAuthError` with the fix (:meth:`check_access`
    tests it up front). Every error names the connection id, and every wait of at least
    :data:`~airflow_bigcommerce.hooks.breaker.ANNOUNCE_WAIT_S` logs one line. The hook is safe to
    share between threads (one HTTP session per thread, one shared pacer and breaker).

    :param bigcommerce_conn_id: connection of type ``bigcommerce``.
    :param timeout: seconds per request; overrides the connection's ``timeout`` extra (default 30).
    :param max_retries: caps the retries of one request; overrides the ``max_retries`` extra
        (default: as many as the retry budget allows).
    :param retry_budget_s: how long reads or writes may keep failing before the run gives up on them;
        overrides the ``retry_budget_s`` extra (default 300).
    :param max_concurrency: a fixed limit on this hook's requests in flight; ``None`` (default) adapts
        it between 1 and 8, :data:`~airflow_bigcommerce.api.MAX_IN_FLIGHT` (:mod:`.concurrency`).
        Documented per-endpoint caps (PUT ``/v3/customers``: 3) apply either way.
    :param quota_reserve: requests per rate-limit window left unused for the store's other apps.
    :param clock: the one clock of the pacer, the gate, the breaker and the sleeps (default: the
        context's, :func:`~airflow_bigcommerce.clock.use_clock`, else the system clock).
    """

    conn_name_attr = "bigcommerce_conn_id"
    default_conn_name = "bigcommerce_default"
    conn_type = "bigcommerce"
    hook_name = "BigCommerce"
    default_host = DEFAULT_API_HOST

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
        self.pacer = pacer or RateLimitPacer(
            reserve=quota_reserve, clock=self.clock, on_wait=self._announce_quota_wait
        )
        self.concurrency = ConcurrencyController(max_concurrency, clock=self.clock)
        self._local = threading.local()
        self._transport = Transport(self)
        self._init_lock = threading.RLock()
        self._settings: StoreSettings | None = None
        self._breaker: CircuitBreaker | None = None
        #: Counters the transport adds to: requests, 429s, retries (:attr:`stats` reads them).
        self.counts: dict[str, int] = {"requests": 0, "429s": 0, "retries": 0}

    @property
    def stats(self) -> dict[str, int | float]:
        """Counters for progress logs, summaries and benchmarks, and the seconds waited for the quota."""
        return {**self.counts, "quota_wait_s": round(self.pacer.waited_s, 3)}

    # -- connection --------------------------------------------------------------------------

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

    def request(self, method: str, path: str, **options: Unpack[RequestOptions]) -> requests.Response:
        """
        Send one API request with pacing and the retry policy; return the 2xx response.

        :param path: below ``/stores/{store_hash}/``, e.g. ``"v3/customers"``.
        :param options: ``params``, ``json``, ``timeout``, ``max_retries``
            (:class:`~airflow_bigcommerce.hooks.transport.RequestOptions`), by keyword.
        :raises BigCommerceAuthError: the store refused the connection itself (token, scope, store
            hash: :mod:`.access`); no later request can succeed.
        :raises BigCommerceAPIError: the store answered 4xx (or 5xx after the retries, for GETs).
        :raises BigCommerceOutcomeUnknownError: a non-idempotent request may have been applied.
        :raises BigCommerceConnectionError: the host could not be reached (a store this hook never
            reached: within :data:`~.transport.UNREACHABLE_LIMIT_S`).
        """
        return self._transport.send(method, path, **options)[0]

    def _json(self, method: str, path: str, **options: Unpack[RequestOptions]) -> Any:
        """Send like :meth:`request` and return the parsed JSON body (``None`` when empty)."""
        return self._transport.send(method, path, **options)[1]

    def confirm_write(self) -> None:
        """
        Record that a write whose answer was lost did land (a look-up found it).

        The sync engine calls this: it proves the store's writes work even when every answer is an
        error, so the outage policy must not count it as an outage.
        """
        self.breaker.succeeded("write")

    def _sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)

    def _announce_quota_wait(self, seconds: float) -> None:
        """Log a long wait of the pacer for the store's next rate-limit window (one line per window)."""
        if seconds >= ANNOUNCE_WAIT_S:
            self.log.info(
                "%sthe store's requests for this rate-limit window are spent; waiting %.1f s for the next",
                on_connection(self.bigcommerce_conn_id),
                seconds,
            )

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
        return self._find_customers("email:in", lookup_groups(emails), include)

    def find_customers_by_id(self, ids: Sequence[int], include: Sequence[str] = ()) -> list[dict[str, Any]]:
        """
        Return the customers whose id is in ``ids`` (``GET /v3/customers?id:in=``), none for a gone id.

        One request per :func:`~airflow_bigcommerce.api.group_ids` group of 250 ids (one page each).
        """
        return self._find_customers("id:in", [[str(i) for i in group] for group in group_ids(ids)], include)

    def _find_customers(
        self, filter_key: str, groups: Sequence[Sequence[str]], include: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Read ``GET /v3/customers?<filter_key>=<group>`` per group (every page); each customer once."""
        found: dict[int, dict[str, Any]] = {}
        extra = {"include": ",".join(include)} if include else {}
        for group in groups:
            params = {filter_key: ",".join(group), "limit": MAX_PAGE_SIZE, **extra}
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
        if not 1 <= len(customers) <= CUSTOMER_BATCH_SIZE:
            raise BigCommerceConfigError(
                f"A V3 batch holds 1 to {CUSTOMER_BATCH_SIZE} customers, got {len(customers)}"
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

    def check_access(self, *, quick: bool = True) -> None:
        """
        Check that the connection can reach the store and read its customers; raise what to fix if not.

        ``GET /v3/customers?limit=1``: the Test button's request, and a run's pre-flight check before
        its first store write.

        :param quick: one attempt with a short timeout (the Test button). ``False`` (a run's
            pre-flight): the run's retry policy, so an outage at the start is ridden out as later
            ones are, while a store never reached still fails within
            :data:`~airflow_bigcommerce.hooks.transport.UNREACHABLE_LIMIT_S`.

        :raises BigCommerceAuthError: a wrong token (401), a missing Customers scope (403) or an
            unknown store hash (404); the message says which and how to fix it.
        :raises BigCommerceConnectionError: the API host could not be reached.
        :raises BigCommerceConfigError: the connection's fields are unusable.
        :raises BigCommerceAPIError: any other answer (5xx, ...).
        """
        try:
            settings = self.settings
        except BigCommerceConfigError as exc:
            raise BigCommerceConfigError(f"{on_connection(self.bigcommerce_conn_id)}{exc}") from None
        options: RequestOptions = {"params": {"limit": 1}}
        if quick:
            options["timeout"] = min(settings.timeout, ACCESS_CHECK_TIMEOUT_S)
            options["max_retries"] = 0
        try:
            self.request("GET", ACCESS_CHECK_PATH, **options)
        except BigCommerceAuthError as exc:  # the check's own request goes without saying
            raise BigCommerceAuthError(exc.problem, connection=exc.connection, status=exc.status) from None

    def test_connection(self) -> tuple[bool, str]:
        """
        Check the connection; return ``(ok, message)`` with a message a store owner can act on.

        :meth:`check_access` decides (token, Customers scope, store hash, host); the store profile
        ``GET /v2/store`` (Information scope, optional) then only adds the store's name. One quick
        attempt each.
        """
        try:
            self.check_access()
        except BigCommerceAPIError as exc:
            return False, f"BigCommerce answered an error: {exc}"
        except BigCommerceError as exc:
            return False, str(exc)
        settings = self.settings
        quick_timeout = min(settings.timeout, ACCESS_CHECK_TIMEOUT_S)
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
            f"'{INFORMATION_SCOPE.grant}' to see the store name here."
        )
