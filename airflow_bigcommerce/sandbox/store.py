"""State of the sandbox store: customers, ids, the quota window, faults and stats (no HTTP here).

The store is plain Python guarded by one lock, so the HTTP layer stays thin (parse, one store call,
serialise) and the same logic is unit-tested without a server. Operations raise
:class:`~airflow_bigcommerce.sandbox.errors.ApiError`, which carries status and wire shape.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

from airflow_bigcommerce.sandbox.errors import ApiError, v2_error, v3_error
from airflow_bigcommerce.sandbox.faults import FaultPlan, validate_rates
from airflow_bigcommerce.sandbox.schemas import (
    V3_VALIDATION_TITLE,
    V3AddressPost,
    V3Attribute,
    V3CustomerPost,
    V3CustomerPut,
    check_v2_passwords,
    parse_v2_create,
    parse_v3_items,
)

UNLIMITED = 1_000_000_000
"""Quota and requests-left reported when the quota is switched off (``quota=0``)."""
V2_MAX_LIMIT = 250
V3_MAX_LIMIT = 250
DEFAULT_LIMIT = 50
COUNTRIES = {
    "US": "United States",
    "GB": "United Kingdom",
    "CA": "Canada",
    "AU": "Australia",
    "DE": "Germany",
}


def normalize_email(email: str) -> str:
    """Return the match key of an e-mail: trimmed and lower-cased (uniqueness is case-insensitive)."""
    return email.strip().lower()


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """Format a V3 timestamp (ISO 8601, UTC, seconds)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_when(value: str) -> datetime:
    """Parse an ISO date or datetime filter value; naive values are UTC. Raise ValueError if bad."""
    text = value.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), timezone.utc)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class SandboxConfig:
    """Runtime settings of a sandbox store; all can change at runtime through ``configure``."""

    quota: int = 150
    window_ms: int = 30_000
    latency_ms: int = 0
    faults: dict[str, float] = field(default_factory=dict)
    fault_seed: int | None = None
    slow_s: float = 10.0
    non_atomic_batches: bool = False
    store_name: str = "Sandbox Store"
    max_body_bytes: int = 1_048_576

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as JSON-safe data."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RateDecision:
    """Outcome of counting one request against the store's fixed window."""

    allowed: bool
    quota: int
    left: int
    reset_ms: int
    window_ms: int

    def headers(self) -> dict[str, str]:
        """Return the BigCommerce rate-limit headers (sent on every API response)."""
        return {
            "X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
            "X-Rate-Limit-Time-Reset-Ms": str(self.reset_ms),
            "X-Rate-Limit-Requests-Quota": str(self.quota),
            "X-Rate-Limit-Requests-Left": str(self.left),
        }

    @property
    def retry_after_s(self) -> int:
        """Seconds until the window resets, rounded up (the ``X-Retry-After`` header)."""
        return max(1, math.ceil(self.reset_ms / 1000))


class RateLimiter:
    """One fixed-window request counter; the window opens at the first request after the last expired."""

    def __init__(self, quota: int, window_ms: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.quota = quota
        self.window_ms = window_ms
        self._clock = clock
        self._start: float | None = None
        self._used = 0

    def reset(self) -> None:
        """Forget the current window."""
        self._start, self._used = None, 0

    def _roll(self) -> float:
        now = self._clock()
        if self._start is None or now >= self._start + self.window_ms / 1000:
            self._start, self._used = now, 0
        return now

    def _decision(self, now: float, *, allowed: bool) -> RateDecision:
        assert self._start is not None
        reset_ms = max(1, math.ceil((self._start + self.window_ms / 1000 - now) * 1000))
        if self.quota <= 0:
            return RateDecision(allowed, UNLIMITED, UNLIMITED - self._used, reset_ms, self.window_ms)
        return RateDecision(allowed, self.quota, max(0, self.quota - self._used), reset_ms, self.window_ms)

    def take(self) -> RateDecision:
        """Count one request; a request beyond the quota is refused and not counted."""
        now = self._roll()
        if 0 < self.quota <= self._used:
            return self._decision(now, allowed=False)
        self._used += 1
        return self._decision(now, allowed=True)

    def peek(self) -> RateDecision:
        """Return the current state without counting a request."""
        return self._decision(self._roll(), allowed=True)


@dataclass
class Customer:
    """One stored customer; the password is kept only as a digest and never rendered."""

    id: int
    email: str
    first_name: str
    last_name: str
    date_created: datetime
    date_modified: datetime
    company: str = ""
    phone: str = ""
    notes: str = ""
    tax_exempt_category: str = ""
    customer_group_id: int = 0
    registration_ip_address: str = ""
    store_credit: float = 0.0
    force_password_reset: bool = False
    password_digest: str | None = None
    accepts_product_review_abandoned_cart_emails: bool = False
    origin_channel_id: int = 1
    channel_ids: list[int] | None = None
    addresses: list[dict[str, Any]] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)
    form_fields: list[dict[str, Any]] = field(default_factory=list)

    def to_v3(self, *, include: Iterable[str] = ("addresses", "attributes")) -> dict[str, Any]:
        """Render V3 ``customer_Full``; sub-resources only when included (as ``include=`` does)."""
        wanted = set(include)
        data: dict[str, Any] = {
            "id": self.id,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "company": self.company,
            "phone": self.phone,
            "registration_ip_address": self.registration_ip_address,
            "notes": self.notes,
            "tax_exempt_category": self.tax_exempt_category,
            "customer_group_id": self.customer_group_id,
            "date_created": iso(self.date_created),
            "date_modified": iso(self.date_modified),
            "address_count": len(self.addresses),
            "attribute_count": len(self.attributes),
            "authentication": {"force_password_reset": self.force_password_reset},
            "store_credit_amounts": [{"amount": self.store_credit}],
            "accepts_product_review_abandoned_cart_emails": self.accepts_product_review_abandoned_cart_emails,
            "origin_channel_id": self.origin_channel_id,
            "channel_ids": self.channel_ids,
        }
        if "addresses" in wanted:
            data["addresses"] = [dict(address) for address in self.addresses]
        if "attributes" in wanted:
            data["attributes"] = [dict(attribute) for attribute in self.attributes]
        if "formfields" in wanted:
            data["form_fields"] = [dict(form_field) for form_field in self.form_fields]
        return data

    def to_v2(self, store_hash: str) -> dict[str, Any]:
        """Render V2 ``customer_Full`` (dates in RFC 2822, as V2 does; no password)."""
        return {
            "id": self.id,
            "company": self.company,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone,
            "form_fields": None,
            "date_created": format_datetime(self.date_created.replace(microsecond=0)),
            "date_modified": format_datetime(self.date_modified.replace(microsecond=0)),
            "store_credit": f"{self.store_credit:.4f}",
            "registration_ip_address": self.registration_ip_address,
            "customer_group_id": self.customer_group_id,
            "notes": self.notes,
            "tax_exempt_category": self.tax_exempt_category,
            "reset_pass_on_login": self.force_password_reset,
            "accepts_marketing": self.accepts_product_review_abandoned_cart_emails,
            "addresses": {
                "url": f"/stores/{store_hash}/v2/customers/{self.id}/addresses",
                "resource": f"/customers/{self.id}/addresses",
            },
        }

    def to_record(self) -> dict[str, Any]:
        """Return JSON-safe data for persistence."""
        data = dataclasses.asdict(self)
        data["date_created"] = self.date_created.isoformat()
        data["date_modified"] = self.date_modified.isoformat()
        return data

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Customer:
        """Rebuild a customer from :meth:`to_record` data."""
        values = dict(data)
        values["date_created"] = datetime.fromisoformat(values["date_created"])
        values["date_modified"] = datetime.fromisoformat(values["date_modified"])
        return cls(**values)


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


class _SqliteState:
    """Write-through persistence of customers and id counters, so a restarted sandbox keeps its data."""

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, data TEXT NOT NULL)"
        )
        self._conn.execute("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER)")

    def load(self) -> tuple[list[Customer], dict[str, int]]:
        rows = self._conn.execute("SELECT data FROM customers ORDER BY id").fetchall()
        counters = dict(self._conn.execute("SELECT name, value FROM counters").fetchall())
        return [Customer.from_record(json.loads(row[0])) for row in rows], counters

    def save(self, customers: Iterable[Customer], counters: Mapping[str, int]) -> None:
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT OR REPLACE INTO customers (id, data) VALUES (?, ?)",
                [(c.id, json.dumps(c.to_record())) for c in customers],
            )
            self._conn.executemany("INSERT OR REPLACE INTO counters VALUES (?, ?)", list(counters.items()))

    def clear(self) -> None:
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.execute("DELETE FROM customers")
            self._conn.execute("DELETE FROM counters")

    def close(self) -> None:
        self._conn.close()


def _int_param(
    query: Mapping[str, str], name: str, default: int, low: int, high: int | None, version: str
) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        message = f"The query parameter '{name}' must be an integer within {bounds}."
        if version == "v2":
            raise v2_error(400, message)
        raise v3_error(422, "The filter(s) are invalid", {name: message})
    return value


_NUMBERS: dict[str, type[int] | type[float]] = {
    "quota": int,
    "window_ms": int,
    "latency_ms": int,
    "max_body_bytes": int,
    "slow_s": float,
}


def _coerce(name: str, value: Any) -> Any:
    """Check a runtime setting's type, so a bad admin call fails with 400 instead of breaking later."""
    if name in _NUMBERS:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"{name} must be a non-negative number")
        if name == "window_ms" and value <= 0:
            raise ValueError("window_ms must be positive")
        return _NUMBERS[name](value)
    if name == "non_atomic_batches" and not isinstance(value, bool):
        raise ValueError("non_atomic_batches must be true or false")
    if name == "fault_seed" and value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError("fault_seed must be an integer or null")
    if name == "store_name" and not isinstance(value, str):
        raise ValueError("store_name must be a string")
    return value


class SandboxStore:
    """A BigCommerce store in memory (or in SQLite with ``db_path``), shared by every client."""

    def __init__(
        self,
        *,
        store_hash: str = "sandbox",
        token: str = "sandbox-token",
        config: SandboxConfig | None = None,
        db_path: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store_hash = store_hash
        self.token = token
        self.default_config = dataclasses.replace(config or SandboxConfig())
        self.default_config.faults = validate_rates(self.default_config.faults)
        self.config = dataclasses.replace(self.default_config, faults=dict(self.default_config.faults))
        self.lock = threading.RLock()
        self._now = now
        self.limiter = RateLimiter(self.config.quota, self.config.window_ms, clock)
        self.faults = FaultPlan(self.config.faults, self.config.fault_seed)
        self._db = _SqliteState(db_path) if db_path else None
        self._customers: dict[int, Customer] = {}
        self._by_email: dict[str, int] = {}
        self._counters = {"customer": 0, "address": 0, "attribute": 0}
        self._stats: dict[str, Any] = {}
        self._clear_stats()
        if self._db is not None:
            customers, counters = self._db.load()
            self._counters.update(counters)
            for customer in customers:
                self._index(customer)

    # -- housekeeping -------------------------------------------------------------------------------
    def _clear_stats(self) -> None:
        self._stats = {"requests": Counter(), "rate_limited": 0, "faults": Counter()}

    def _index(self, customer: Customer) -> None:
        self._customers[customer.id] = customer
        self._by_email.setdefault(normalize_email(customer.email), customer.id)

    def _next(self, counter: str) -> int:
        self._counters[counter] += 1
        return self._counters[counter]

    def _commit(self, customers: Iterable[Customer]) -> None:
        changed = list(customers)
        for customer in changed:
            self._index(customer)
        if self._db is not None and changed:
            self._db.save(changed, self._counters)

    def _stamp(self, previous: datetime | None = None) -> datetime:
        moment = self._now()
        if previous is not None and moment <= previous:
            moment = previous + timedelta(microseconds=1)
        return moment

    def reset(self) -> None:
        """Return to the start-up state: no customers, fresh ids, window, stats, config and fault RNG."""
        with self.lock:
            self._customers.clear()
            self._by_email.clear()
            self._counters = {"customer": 0, "address": 0, "attribute": 0}
            if self._db is not None:
                self._db.clear()
            self.config = dataclasses.replace(self.default_config, faults=dict(self.default_config.faults))
            self._apply_config()
            self._clear_stats()

    def configure(self, **changes: Any) -> SandboxConfig:
        """Change settings at runtime (quota, window_ms, latency_ms, faults, fault_seed, ...)."""
        with self.lock:
            known = {f.name for f in dataclasses.fields(SandboxConfig)}
            unknown = set(changes) - known
            if unknown:
                raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
            if "faults" in changes:
                changes["faults"] = validate_rates(changes["faults"] or {})
            changes = {name: _coerce(name, value) for name, value in changes.items()}
            self.config = dataclasses.replace(self.config, **changes)
            self._apply_config()
            return self.config

    def _apply_config(self) -> None:
        self.limiter.quota = self.config.quota
        self.limiter.window_ms = self.config.window_ms
        self.limiter.reset()
        self.faults = FaultPlan(self.config.faults, self.config.fault_seed)

    def close(self) -> None:
        """Close the SQLite file, if any."""
        if self._db is not None:
            self._db.close()

    # -- traffic: auth, quota, faults, stats ---------------------------------------------------------
    def authorize(self, store_hash: str, token: str | None, version: str) -> None:
        """Check the store hash (404 if unknown) and the ``X-Auth-Token`` (401 if missing or wrong)."""
        if store_hash != self.store_hash:
            raise ApiError(404, "Store not found.", version=version)
        if token != self.token:
            raise ApiError(401, "You are not authorized to access this resource.", version=version)

    def take_request(self) -> RateDecision:
        """Count one API request against the shared window; record a refusal in the stats."""
        with self.lock:
            decision = self.limiter.take()
            if not decision.allowed:
                self._stats["rate_limited"] += 1
            return decision

    def peek_rate(self) -> RateDecision:
        """Return the window state without counting a request."""
        with self.lock:
            return self.limiter.peek()

    def draw_fault(self) -> str | None:
        """Draw the fault for the next request and record it."""
        with self.lock:
            kind = self.faults.draw()
            if kind is not None:
                self._stats["faults"][kind] += 1
            return kind

    def record_request(self, kind: str) -> None:
        """Count a request by method and path kind, e.g. ``POST /v3/customers``."""
        with self.lock:
            self._stats["requests"][kind] += 1

    def stats(self) -> dict[str, Any]:
        """Return counters for tests and benchmarks (JSON-safe)."""
        with self.lock:
            emails = Counter(normalize_email(c.email) for c in self._customers.values())
            return {
                "requests": dict(self._stats["requests"]),
                "requests_total": sum(self._stats["requests"].values()),
                "rate_limited": self._stats["rate_limited"],
                "faults": dict(self._stats["faults"]),
                "customers": len(self._customers),
                "emails_with_duplicates": {email: n for email, n in emails.items() if n > 1},
            }

    # -- V2 ------------------------------------------------------------------------------------------
    def store_info(self) -> dict[str, Any]:
        """Return the V2 store information object."""
        return {
            "id": self.store_hash,
            "domain": f"{self.store_hash}.sandbox.invalid",
            "secure_url": f"https://{self.store_hash}.sandbox.invalid",
            "name": self.config.store_name,
            "first_name": "Sandbox",
            "last_name": "Owner",
            "address": "",
            "country": "United States",
            "country_code": "US",
            "phone": "",
            "admin_email": "owner@sandbox.invalid",
            "order_email": "orders@sandbox.invalid",
            "timezone": {"name": "Etc/UTC", "raw_offset": 0, "dst_offset": 0, "dst_correction": False},
            "language": "en",
            "currency": "USD",
            "currency_symbol": "$",
            "decimal_separator": ".",
            "thousands_separator": ",",
            "decimal_places": 2,
            "dimension_units": "Centimeters",
            "weight_units": "KGS",
            "plan_name": "Sandbox",
            "plan_level": "Sandbox",
            "status": "live",
            "is_price_entered_with_tax": False,
            "store_id": 1,
            "default_channel_id": 1,
            "features": {"stencil_enabled": False, "multi_storefront_enabled": False},
        }

    def v2_create_customer(self, body: Any) -> dict[str, Any]:
        """Create one customer from a V2 ``customer_Base`` body; 409 if the e-mail is in use."""
        payload = parse_v2_create(body)
        check_v2_passwords(payload.authentication)
        with self.lock:
            if normalize_email(payload.email) in self._by_email:
                raise v2_error(
                    409,
                    f"The email address '{payload.email}' is already in use by another customer.",
                    conflict_reason="Another customer with the same email address already exists.",
                )
            moment = self._now()
            auth = payload.authentication
            customer = Customer(
                id=self._next("customer"),
                email=payload.email,
                first_name=payload.first_name,
                last_name=payload.last_name,
                date_created=moment,
                date_modified=moment,
                company=payload.company or "",
                phone=payload.phone or "",
                notes=payload.notes or "",
                tax_exempt_category=payload.tax_exempt_category or "",
                customer_group_id=payload.customer_group_id or 0,
                registration_ip_address=payload.registration_ip_address or "",
                store_credit=float(payload.store_credit or 0),
                force_password_reset=bool(payload.reset_pass_on_login or (auth and auth.force_reset)),
                password_digest=_digest(auth.password) if auth and auth.password else None,
            )
            self._commit([customer])
            return customer.to_v2(self.store_hash)

    def v2_list_customers(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """List customers by id (``email`` exact and case-insensitive, ``page``, ``limit`` ≤ 250)."""
        page = _int_param(query, "page", 1, 1, None, "v2")
        limit = _int_param(query, "limit", DEFAULT_LIMIT, 1, V2_MAX_LIMIT, "v2")
        min_id = _int_param(query, "min_id", 0, 0, None, "v2")
        max_id = _int_param(query, "max_id", 2**63, 0, None, "v2")
        email = query.get("email")
        with self.lock:
            found = [
                c
                for c in sorted(self._customers.values(), key=lambda c: c.id)
                if min_id <= c.id <= max_id
                and (email is None or normalize_email(c.email) == normalize_email(email))
            ]
            start = (page - 1) * limit
            return [c.to_v2(self.store_hash) for c in found[start : start + limit]]

    def v2_get_customer(self, customer_id: str) -> dict[str, Any]:
        """Return one V2 customer; 404 if there is none with that id."""
        with self.lock:
            customer = self._customers.get(int(customer_id)) if customer_id.isdigit() else None
            if customer is None:
                raise v2_error(404, "The requested resource was not found.")
            return customer.to_v2(self.store_hash)

    def count(self) -> int:
        """Return the number of customers."""
        with self.lock:
            return len(self._customers)

    # -- V3 ------------------------------------------------------------------------------------------
    def _new_v3_customer(self, item: V3CustomerPost, moment: datetime) -> Customer:
        customer_id = self._next("customer")
        customer = Customer(
            id=customer_id,
            email=item.email,
            first_name=item.first_name,
            last_name=item.last_name,
            date_created=moment,
            date_modified=moment,
            origin_channel_id=item.origin_channel_id or 1,
        )
        self._apply_common(customer, item)
        customer.addresses = [self._address(customer_id, a) for a in item.addresses or []]
        customer.attributes = [self._attribute(customer_id, a, moment) for a in item.attributes or []]
        return customer

    def _address(self, customer_id: int, address: V3AddressPost) -> dict[str, Any]:
        data = address.model_dump(exclude_none=True)
        data.setdefault("address_type", "residential")
        data.setdefault("address2", "")
        data.setdefault("company", "")
        data.setdefault("phone", "")
        data.setdefault("state_or_province", "")
        data.setdefault("postal_code", "")
        data.pop("form_fields", None)
        data["country_code"] = address.country_code.upper()
        data["country"] = COUNTRIES.get(data["country_code"], data["country_code"])
        return {"id": self._next("address"), "customer_id": customer_id, **data}

    def _attribute(self, customer_id: int, attribute: V3Attribute, moment: datetime) -> dict[str, Any]:
        return {
            "id": self._next("attribute"),
            "customer_id": customer_id,
            "attribute_id": attribute.attribute_id,
            "attribute_value": attribute.attribute_value,
            "date_created": iso(moment),
            "date_modified": iso(moment),
        }

    @staticmethod
    def _apply_common(customer: Customer, item: V3CustomerPost | V3CustomerPut) -> None:
        given = item.model_fields_set
        for name in ("email", "first_name", "last_name", "company", "phone", "notes", "tax_exempt_category"):
            value = getattr(item, name, None)
            if name in given and value is not None:
                setattr(customer, name, value)
        for name in (
            "customer_group_id",
            "accepts_product_review_abandoned_cart_emails",
            "origin_channel_id",
        ):
            value = getattr(item, name)
            if name in given and value is not None and not (name == "origin_channel_id" and customer.id):
                setattr(customer, name, value)
        if "registration_ip_address" in given and getattr(item, "registration_ip_address", None) is not None:
            customer.registration_ip_address = getattr(item, "registration_ip_address", "")
        if "channel_ids" in given:
            customer.channel_ids = item.channel_ids
        if item.store_credit_amounts is not None:
            customer.store_credit = sum(credit.amount for credit in item.store_credit_amounts)
        if item.form_fields is not None:
            customer.form_fields = [f.model_dump() for f in item.form_fields]
        if item.authentication is not None:
            if item.authentication.force_password_reset is not None:
                customer.force_password_reset = item.authentication.force_password_reset
            if item.authentication.new_password:
                customer.password_digest = _digest(item.authentication.new_password)

    def _reject_batch(
        self, first_bad: int, to_commit: list[Customer], errors: dict[str, str], title: str
    ) -> ApiError:
        if self.config.non_atomic_batches:
            self._commit(to_commit[:first_bad])
        return v3_error(422, title, errors)

    def v3_create_customers(self, body: Any) -> list[dict[str, Any]]:
        """Create a batch of 1..10 ``customer_Post``; reject it whole (422) on any bad item or e-mail.

        With ``non_atomic_batches`` the items before the first bad one are committed anyway, which
        BigCommerce does not rule out ("do not assume the entire batch succeeded or failed").
        """
        parsed = parse_v3_items(body, V3CustomerPost)
        with self.lock:
            moment = self._now()
            errors: dict[str, str] = {}
            duplicates: list[str] = []
            claimed: set[str] = set()
            built: list[Customer] = []
            first_bad: int | None = None
            saved_counters = dict(self._counters)
            for index, (model, item_errors) in enumerate(parsed):
                bad = bool(item_errors)
                errors.update(item_errors)
                if isinstance(model, V3CustomerPost):
                    key = normalize_email(model.email)
                    if key in self._by_email or key in claimed:
                        duplicates.append(model.email)
                        bad = True
                    claimed.add(key)
                    if not bad and first_bad is None:
                        built.append(self._new_v3_customer(model, moment))
                if bad and first_bad is None:
                    first_bad = index
            if first_bad is None:
                self._commit(built)
                return [c.to_v3() for c in built]
            if not self.config.non_atomic_batches:
                self._counters = saved_counters
            if duplicates:
                errors[".customer_create"] = "Error creating customers. " + " ".join(
                    f"The email address {email} is already in use." for email in duplicates
                )
            title = V3_VALIDATION_TITLE if not duplicates else "Create customers failed."
            raise self._reject_batch(first_bad, built, errors, title)

    def v3_update_customers(self, body: Any) -> list[dict[str, Any]]:
        """Update a batch of 1..10 ``customer_Put`` by id; 422 for an unknown id or an e-mail in use."""
        parsed = parse_v3_items(body, V3CustomerPut)
        with self.lock:
            errors: dict[str, str] = {}
            duplicates: list[str] = []
            claimed: dict[str, int] = {}
            updated: list[Customer] = []
            first_bad: int | None = None
            for index, (model, item_errors) in enumerate(parsed):
                bad = bool(item_errors)
                errors.update(item_errors)
                if isinstance(model, V3CustomerPut):
                    current = self._customers.get(model.id)
                    if current is None:
                        errors[f"{index}.id"] = f"Customer with id {model.id} was not found."
                        bad = True
                    elif model.email is not None:
                        key = normalize_email(model.email)
                        owner = self._by_email.get(key, model.id)
                        if owner != model.id or claimed.get(key, model.id) != model.id:
                            duplicates.append(model.email)
                            bad = True
                        claimed[key] = model.id
                    if not bad and first_bad is None and current is not None:
                        updated.append(self._updated(current, model))
                if bad and first_bad is None:
                    first_bad = index
            if first_bad is None:
                self._commit_updates(updated)
                return [c.to_v3() for c in updated]
            if duplicates:
                errors[".customer_update"] = "Error updating customers. " + " ".join(
                    f"The email address {email} is already in use." for email in duplicates
                )
            if self.config.non_atomic_batches:
                self._commit_updates(updated[:first_bad])
            raise v3_error(422, "Update customers failed.", errors)

    def _updated(self, current: Customer, item: V3CustomerPut) -> Customer:
        customer = dataclasses.replace(
            current,
            addresses=list(current.addresses),
            attributes=list(current.attributes),
            form_fields=list(current.form_fields),
        )
        self._apply_common(customer, item)
        customer.date_modified = self._stamp(current.date_modified)
        return customer

    def _commit_updates(self, customers: list[Customer]) -> None:
        for customer in customers:
            old = self._customers[customer.id]
            if self._by_email.get(normalize_email(old.email)) == customer.id:
                del self._by_email[normalize_email(old.email)]
        self._commit(customers)

    def v3_list_customers(self, query: Mapping[str, str]) -> dict[str, Any]:
        """List customers by id with ``email:in``, ``id:in``, ``date_*:min|max``, ``page``, ``limit``."""
        page = _int_param(query, "page", 1, 1, None, "v3")
        limit = _int_param(query, "limit", DEFAULT_LIMIT, 1, V3_MAX_LIMIT, "v3")
        emails = {normalize_email(e) for e in query.get("email:in", "").split(",") if e.strip()}
        try:
            ids = {int(i) for i in query.get("id:in", "").split(",") if i.strip()}
        except ValueError:
            raise v3_error(
                422, "The filter(s) are invalid", {"id:in": "must be a list of integers"}
            ) from None
        bounds: dict[str, datetime] = {}
        for name in ("date_created:min", "date_created:max", "date_modified:min", "date_modified:max"):
            if name in query:
                try:
                    bounds[name] = parse_when(query[name])
                except (ValueError, OverflowError, OSError):
                    raise v3_error(
                        422, "The filter(s) are invalid", {name: "must be an ISO 8601 date or date-time"}
                    ) from None
        include = {part.strip() for part in query.get("include", "").split(",") if part.strip()}

        def keep(c: Customer) -> bool:
            if "email:in" in query and normalize_email(c.email) not in emails:
                return False
            if "id:in" in query and c.id not in ids:
                return False
            for name, bound in bounds.items():
                value = c.date_created if name.startswith("date_created") else c.date_modified
                if (name.endswith(":min") and value < bound) or (name.endswith(":max") and value > bound):
                    return False
            return True

        with self.lock:
            found = [c for c in sorted(self._customers.values(), key=lambda c: c.id) if keep(c)]
            start = (page - 1) * limit
            data = [c.to_v3(include=include) for c in found[start : start + limit]]
        total_pages = math.ceil(len(found) / limit)
        links: dict[str, str] = {"current": f"?page={page}&limit={limit}"}
        if page > 1:
            links["previous"] = f"?page={page - 1}&limit={limit}"
        if page < total_pages:
            links["next"] = f"?page={page + 1}&limit={limit}"
        pagination = {
            "total": len(found),
            "count": len(data),
            "per_page": limit,
            "current_page": page,
            "total_pages": total_pages,
            "links": links,
        }
        return {"data": data, "meta": {"pagination": pagination}}

    # -- admin ---------------------------------------------------------------------------------------
    def seed(
        self, customers: Iterable[Mapping[str, Any]], *, allow_duplicates: bool = False
    ) -> list[dict[str, Any]]:
        """Add customers directly (e.g. earlier storefront sign-ups): no quota, no faults.

        Each item is a V3 ``customer_Post``, optionally with ``date_created`` / ``date_modified`` (ISO).
        ``allow_duplicates`` lets a test plant duplicate e-mails that the API itself would refuse.
        """
        with self.lock:
            created: list[Customer] = []
            for index, raw in enumerate(customers):
                item = dict(raw) if isinstance(raw, Mapping) else raw
                dates = {
                    k: item.pop(k)
                    for k in ("date_created", "date_modified")
                    if isinstance(item, dict) and k in item
                }
                ((model, errors),) = parse_v3_items([item], V3CustomerPost)
                if not isinstance(model, V3CustomerPost):
                    raise v3_error(
                        422, V3_VALIDATION_TITLE, {f"{index}{k[1:]}": v for k, v in errors.items()}
                    )
                if not allow_duplicates and normalize_email(model.email) in self._by_email:
                    raise v3_error(409, f"The email address {model.email} is already in use.")
                try:
                    moments = {k: parse_when(str(v)) for k, v in dates.items()}
                except ValueError:
                    raise v3_error(422, V3_VALIDATION_TITLE, {f"{index}.date_created": "bad date"}) from None
                moment = moments.get("date_created", self._now())
                customer = self._new_v3_customer(model, moment)
                customer.date_modified = moments.get("date_modified", moment)
                self._commit([customer])
                created.append(customer)
            return [c.to_v3() for c in created]

    def all_customers(self) -> list[dict[str, Any]]:
        """Return every customer as V3 ``customer_Full`` with sub-resources, ordered by id."""
        with self.lock:
            return [c.to_v3() for c in sorted(self._customers.values(), key=lambda c: c.id)]

    def find_by_email(self, email: str) -> list[dict[str, Any]]:
        """Return the customers whose e-mail matches case-insensitively."""
        key = normalize_email(email)
        with self.lock:
            return [c.to_v3() for c in self._customers.values() if normalize_email(c.email) == key]
