"""State of the sandbox store: customers, ids, traffic conditions and stats (no HTTP here).

The store is plain Python guarded by one lock, so the HTTP layer stays thin (parse, one store call,
serialise) and the same logic is unit-tested without a server. Operations raise
:class:`~airflow_bigcommerce.sandbox.errors.ApiError`, which carries status and wire shape. The
record, list queries, settings and SQLite file live in their own modules, and so does the admission of
requests (``traffic.py``: outages, concurrency limits, the quota with a competing app, faults); the
names other code imports from here are re-exported.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from airflow_bigcommerce.clock import Clock, as_clock
from airflow_bigcommerce.sandbox.config import SandboxConfig, checked_changes
from airflow_bigcommerce.sandbox.state.addresses import Addresses, refuse_unfiltered_delete, state_problem
from airflow_bigcommerce.sandbox.state.attributes import Attributes
from airflow_bigcommerce.sandbox.state.channels import Channels
from airflow_bigcommerce.sandbox.state.customer import (
    Customer,
    customer_from_v2,
    customer_from_v3,
    customer_updated,
    normalize_email,
    utcnow,
    v2_updated,
)
from airflow_bigcommerce.sandbox.state.errors import ApiError, v2_error, v3_error
from airflow_bigcommerce.sandbox.state.groups import Groups
from airflow_bigcommerce.sandbox.state.persistence import SqliteState
from airflow_bigcommerce.sandbox.state.query import int_set, parse_when, path_id, v2_list_query, v3_list_query
from airflow_bigcommerce.sandbox.state.schemas import (
    V3_VALIDATION_TITLE,
    V2CustomerUpdate,
    V3CustomerPost,
    V3CustomerPut,
    check_v2_passwords,
    parse_v2_body,
    parse_v2_create,
    parse_v3_items,
)
from airflow_bigcommerce.sandbox.state.subscribers import Subscribers
from airflow_bigcommerce.sandbox.traffic.control import TrafficControl
from airflow_bigcommerce.sandbox.traffic.faults import FaultPlan
from airflow_bigcommerce.sandbox.traffic.outage import affects
from airflow_bigcommerce.sandbox.traffic.ratelimit import UNLIMITED, RateDecision, RateLimiter

__all__ = ["UNLIMITED", "Customer", "RateDecision", "RateLimiter", "SandboxConfig", "SandboxStore"]

M = TypeVar("M", bound=BaseModel)
#: An extra refusal rule (a test's, like a store app validating rows): a customer as it would be
#: stored -> ``{field: message}`` to refuse it with a 422, or ``None``/``{}`` to accept it.
RowRule = Callable[[Mapping[str, Any]], Mapping[str, str] | None]

#: The id sequences: customers, and the addresses and attributes created with them.
_ID_KINDS = ("customer", "address", "attribute", "attribute_definition", "group", "subscriber")
#: Customer fields that ``PUT /v3/customers`` refuses ("Subresource updates are not supported").
_SUBRESOURCES = ("addresses", "attributes")


def _copy(config: SandboxConfig) -> SandboxConfig:
    return dataclasses.replace(
        config, faults=dict(config.faults), concurrency_limits=dict(config.concurrency_limits)
    )


def _in_use(emails: list[str]) -> str:
    return " ".join(f"The email address {email} is already in use." for email in emails)


class SandboxStore:
    """A BigCommerce store in memory (or in SQLite with ``db_path``), shared by every client."""

    def __init__(
        self,
        *,
        store_hash: str = "sandbox",
        token: str = "sandbox-token",
        config: SandboxConfig | None = None,
        db_path: str | None = None,
        clock: Clock | Callable[[], float] | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store_hash = store_hash
        self.token = token
        self.default_config = SandboxConfig(**checked_changes(dataclasses.asdict(config or SandboxConfig())))
        self.config = _copy(self.default_config)
        self.lock = threading.RLock()
        self._now = now
        #: Quota windows, outages and the competitor run on it (default: the context's clock).
        self.clock = as_clock(clock)
        self.traffic = TrafficControl(self.config, self.clock.monotonic)
        self._db = SqliteState(db_path) if db_path else None
        self._customers: dict[int, Customer] = {}
        self._by_email: dict[str, int] = {}
        self._counters = dict.fromkeys(_ID_KINDS, 0)
        #: Extra refusal rules checked on every V3 create and update item, see :data:`RowRule`.
        self.rules: list[RowRule] = []
        self.addresses = Addresses(self)
        self.attributes = Attributes(self, self._saver("attributes"))
        self.groups = Groups(
            self.lock, self.next_id, lambda: self.config.customer_groups_enabled, self._saver("groups")
        )
        self.channels = Channels(self.lock, self._saver("channels"))
        self.subscribers = Subscribers(self.lock, self.next_id, self.now, self._saver("subscribers"))
        if self._db is not None:
            customers, counters = self._db.load()
            self._counters.update(counters)
            for customer in customers:
                self._index(customer)
            self.attributes.load(self._db.load_extra("attributes"))
            self.groups.load(self._db.load_extra("groups"))
            self.channels.load(self._db.load_extra("channels"))
            self.subscribers.load(self._db.load_extra("subscribers"))

    # -- the customer book (what addresses.py and attributes.py use) ---------------------------------
    def customer(self, customer_id: int) -> Customer | None:
        """Return the stored customer with that id, if any."""
        return self._customers.get(customer_id)

    def customers(self) -> list[Customer]:
        """Return every customer, ordered by id."""
        return self._sorted()

    def next_id(self, kind: str) -> int:
        """Hand out the next id of ``kind``."""
        with self.lock:
            return self._next(kind)

    def commit(self, customers: Iterable[Customer]) -> None:
        """Store new or changed customers and persist them."""
        self._commit(customers)

    def now(self) -> datetime:
        """Return the store's current time."""
        return self._now()

    def _saver(self, name: str) -> Callable[[list[dict[str, Any]]], None]:
        def save(records: list[dict[str, Any]]) -> None:
            if self._db is not None:
                self._db.save_extra(name, records, self._counters)

        return save

    # -- housekeeping -------------------------------------------------------------------------------
    def _index(self, customer: Customer) -> None:
        self._customers[customer.id] = customer
        self._by_email.setdefault(normalize_email(customer.email), customer.id)

    def _next(self, counter: str) -> int:
        self._counters[counter] += 1
        return self._counters[counter]

    def _commit(self, customers: Iterable[Customer]) -> None:
        """Store new or changed customers; a changed e-mail frees the old one first."""
        changed = list(customers)
        for customer in changed:
            old = self._customers.get(customer.id)
            if old is not None and self._by_email.get(normalize_email(old.email)) == customer.id:
                del self._by_email[normalize_email(old.email)]
        for customer in changed:
            self._index(customer)
        self._persist(changed)

    def _persist(self, changed: list[Customer]) -> None:
        """Write ``changed`` customers and the id counters to the SQLite file (one transaction), if any."""
        if self._db is not None and changed:
            self._db.save(changed, self._counters)

    def _email_taken(self, email: str, channel_ids: list[int] | None, other_than: int | None = None) -> bool:
        """Whether ``email`` is in use: per store, or with ``msf`` on a channel these logins share."""
        key = normalize_email(email)
        if not self.config.msf:
            return self._by_email.get(key, other_than) != other_than
        return any(
            c.id != other_than
            and normalize_email(c.email) == key
            and self.channels.overlap(c.channel_ids, channel_ids)
            for c in self._customers.values()
        )

    def _claims_clash(
        self, claimed: list[tuple[str, list[int] | None]], email: str, channel_ids: list[int] | None
    ) -> bool:
        """Whether an earlier item of the same batch already claims ``email`` (on a shared channel)."""
        key = normalize_email(email)
        return any(
            k == key and (not self.config.msf or self.channels.overlap(ch, channel_ids)) for k, ch in claimed
        )

    def _inline_problems(self, index: int, item: V3CustomerPost) -> dict[str, str]:
        """Errors of a new customer's inline addresses (state codes) and attributes (unknown, bad value)."""
        errors = self.attributes.inline_problems(f"{index}.attributes", item.attributes or [])
        for number, address in enumerate(item.addresses or []):
            problem = state_problem(address.state_or_province)
            if problem:
                errors[f"{index}.addresses.{number}.state_or_province"] = problem
        return errors

    def _rule_problems(self, index: int, customer: Mapping[str, Any]) -> dict[str, str]:
        """Errors the extra :attr:`rules` find in a customer, keyed ``index.field``."""
        return {
            f"{index}.{field}": message
            for rule in self.rules
            for field, message in (rule(customer) or {}).items()
        }

    def _sorted(self, keep: Callable[[Customer], bool] = lambda _: True) -> list[Customer]:
        return [c for c in sorted(self._customers.values(), key=lambda c: c.id) if keep(c)]

    @property
    def limiter(self) -> RateLimiter:
        """The fixed-window quota counter."""
        return self.traffic.limiter

    @property
    def faults(self) -> FaultPlan:
        """The fault plan (``store.faults.force("commit_then_500")`` queues a fault)."""
        return self.traffic.faults

    def reset(self) -> None:
        """Return to the start-up state: no customers, fresh ids, window, stats, config and fault RNG.

        A start-up outage (``outage_s`` in the store's initial config) starts again from now.
        """
        with self.lock:
            self._customers.clear()
            self._by_email.clear()
            self._counters = dict.fromkeys(_ID_KINDS, 0)
            for registry in (self.attributes, self.groups, self.channels, self.subscribers):
                registry.clear()
            if self._db is not None:
                self._db.clear()
            self.config = _copy(self.default_config)
            self.traffic.reset(self.config)

    def configure(self, **changes: Any) -> SandboxConfig:
        """Change settings at runtime (quota, window_ms, latency_ms, faults, outage_s, ...).

        Only what a change names restarts: ``quota``/``window_ms`` open a new window, ``faults``/
        ``fault_seed`` a new fault RNG, ``competitor_rps`` a new competitor, ``outage_s`` a new outage
        (after ``outage_start_s``, 0 unless given); an outage's kind or headers apply to a running one.
        """
        with self.lock:
            checked = checked_changes(changes)
            if "outage_s" in checked:
                checked.setdefault("outage_start_s", 0.0)
            self.config = dataclasses.replace(self.config, **checked)
            self.traffic.apply(self.config, set(checked))
            return self.config

    def settings(self) -> dict[str, Any]:
        """Return the settings as JSON-safe data, ``outage_s``/``outage_start_s`` as they stand now."""
        with self.lock:
            return self.traffic.live_settings()

    def close(self) -> None:
        """Close the SQLite file, if any."""
        if self._db is not None:
            self._db.close()

    # -- traffic: auth, outage, concurrency, quota, faults, stats ------------------------------------
    def authorize(self, store_hash: str, token: str | None, version: str) -> None:
        """Check the store hash (404 if unknown) and the ``X-Auth-Token`` (401 if missing or wrong)."""
        if store_hash != self.store_hash:
            raise ApiError(404, "Store not found.", version=version)
        if token != self.token:
            raise ApiError(401, "You are not authorized to access this resource.", version=version)

    def record_request(self, kind: str) -> None:
        """Count a request by method and path kind, e.g. ``POST /v3/customers``."""
        with self.lock:
            self.traffic.record(kind)

    def outage_answer(self, method: str) -> dict[str, str] | None:
        """Return the headers of the 503 for a request a staged outage hits ({} = bare), else None."""
        with self.lock:
            return self.traffic.outage_answer(method)

    def enter(self, key: str) -> RateDecision | None:
        """Admit a request under its endpoint's concurrency cap (None; then call ``leave``) or refuse it.

        A refusal returns its quota charge: ``allowed`` = concurrency 429 with requests left, else the
        quota is spent and it is a quota 429.
        """
        with self.lock:
            return self.traffic.enter(key)

    def leave(self, key: str) -> None:
        """Count a request that ``enter`` admitted as answered."""
        with self.lock:
            self.traffic.leave(key)

    def take_request(self) -> RateDecision:
        """Count one API request against the shared window; record a refusal in the stats."""
        with self.lock:
            return self.traffic.take()

    def draw_fault(self, method: str = "GET", operation: str | None = None) -> str | None:
        """Return the fault for the next request and record it, if any.

        One scripted for ``operation`` comes first, else one drawn at random (none for the methods
        ``fault_methods`` spares).
        """
        with self.lock:
            return self.traffic.draw_fault(operation, drawn=affects(self.config.fault_methods, method))

    def script_faults(self, operation: str, kinds: Iterable[str]) -> None:
        """Queue faults for the next calls of ``operation`` (e.g. ``customers.create``), one per call."""
        with self.lock:
            self.traffic.script.add(operation, kinds)

    def pending_faults(self, operation: str | None = None) -> int:
        """Return how many scripted faults (for ``operation``, or in all) are still unused."""
        with self.lock:
            return self.traffic.script.pending(operation)

    def stats(self) -> dict[str, Any]:
        """Return counters for tests and benchmarks (JSON-safe); see ``TrafficControl.stats``."""
        with self.lock:
            emails = Counter(normalize_email(c.email) for c in self._customers.values())
            return {
                **self.traffic.stats(),
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
            if self._email_taken(payload.email, None):
                raise v2_error(
                    409,
                    f"The email address '{payload.email}' is already in use by another customer.",
                    conflict_reason="Another customer with the same email address already exists.",
                )
            moment = self._now()
            customer = customer_from_v2(self._next("customer"), payload, moment)
            self._commit([customer])
            return customer.to_v2(self.store_hash)

    def v2_list_customers(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """List customers by id (``email`` exact and case-insensitive, ``page``, ``limit`` ≤ 250)."""
        wanted = v2_list_query(query)
        with self.lock:
            return [c.to_v2(self.store_hash) for c in wanted.window(self._sorted(wanted.keep))]

    def v2_get_customer(self, customer_id: str) -> dict[str, Any]:
        """Return one V2 customer; 404 if there is none with that id."""
        with self.lock:
            customer = self._customers.get(path_id(customer_id) or 0)
            if customer is None:
                raise v2_error(404, "The requested resource was not found.")
            return customer.to_v2(self.store_hash)

    def v2_update_customer(self, customer_id: str, body: Any) -> dict[str, Any]:
        """Apply a V2 ``customer_Put`` to one customer; 404 if unknown, 409 if the new e-mail is in use."""
        payload = parse_v2_body(body, V2CustomerUpdate)
        check_v2_passwords(payload.authentication)
        with self.lock:
            current = self._customers.get(path_id(customer_id) or 0)
            if current is None:
                raise v2_error(404, "The requested resource was not found.")
            if payload.email is not None and self._email_taken(
                payload.email, current.channel_ids, current.id
            ):
                raise v2_error(
                    409,
                    f"The email address '{payload.email}' is already in use by another customer.",
                    conflict_reason="Another customer with the same email address already exists.",
                )
            customer = v2_updated(current, payload, self._now())
            self._commit([customer])
            return customer.to_v2(self.store_hash)

    def v2_delete_customer(self, customer_id: str) -> None:
        """Delete one customer (and its addresses and attribute values); 404 if unknown."""
        with self.lock:
            customer = self._customers.get(path_id(customer_id) or 0)
            if customer is None:
                raise v2_error(404, "The requested resource was not found.")
            self._remove([customer.id])

    def v2_delete_customers(self, query: Mapping[str, str]) -> None:
        """Delete the customers named by ``id:in``; refuse the unfiltered delete (it empties the store)."""
        ids = int_set(query, "id:in") if "id:in" in query else None
        if not ids:
            raise refuse_unfiltered_delete("customers", "v2")
        with self.lock:
            self._remove([i for i in ids if i in self._customers])

    def _remove(self, ids: list[int]) -> None:
        for customer_id in ids:
            customer = self._customers.pop(customer_id)
            key = normalize_email(customer.email)
            if self._by_email.get(key) == customer_id:
                del self._by_email[key]
                others = [c.id for c in self._sorted() if normalize_email(c.email) == key]
                if others:
                    self._by_email[key] = others[0]
        if self._db is not None and ids:
            self._db.delete(ids)

    def seed_attributes(self, attributes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create attribute definitions (``[{"name", "type"}]``) directly: no quota, no faults."""
        return self.attributes.create(attributes)

    def seed_groups(self, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create customer groups (``[{"name", ...}]``) directly, even with groups disabled."""
        with self.lock:
            return [self.groups.create(group, admin=True) for group in groups]

    def count(self) -> int:
        """Return the number of customers."""
        with self.lock:
            return len(self._customers)

    # -- V3 ------------------------------------------------------------------------------------------
    def _vet_batch(
        self,
        parsed: list[tuple[BaseModel | None, dict[str, str]]],
        model: type[M],
        vet: Callable[[int, M, dict[str, str]], bool],
        build: Callable[[M], Customer],
    ) -> tuple[list[Customer], dict[str, str], int | None]:
        """Vet every item (so all errors are reported) but build only those before the first bad one.

        Return the built customers, the errors keyed ``index.field`` and the first bad index, if any.
        """
        built: list[Customer] = []
        errors: dict[str, str] = {}
        first_bad: int | None = None
        for index, (item, item_errors) in enumerate(parsed):
            good = not item_errors
            errors.update(item_errors)
            if isinstance(item, model):
                good = vet(index, item, errors) and good
                if good and first_bad is None:
                    built.append(build(item))
            if not good and first_bad is None:
                first_bad = index
        return built, errors, first_bad

    def _reject_batch(
        self, good_part: list[Customer], errors: dict[str, str], title: str, *, non_atomic: bool
    ) -> ApiError:
        """Return the 422 for a bad batch; non-atomic, commit its good leading part first.

        BigCommerce does not rule that out ("do not assume the entire batch succeeded or failed").
        """
        if non_atomic:
            self._commit(good_part)
        return v3_error(422, title, errors)

    def v3_create_customers(self, body: Any, *, non_atomic: bool = False) -> list[dict[str, Any]]:
        """Create a batch of 1..10 ``customer_Post``; reject it whole (422) on any bad item or e-mail.

        ``non_atomic`` (or the ``non_atomic_batches`` setting): a refused batch commits its good head.
        """
        parsed = parse_v3_items(body, V3CustomerPost)
        non_atomic = non_atomic or self.config.non_atomic_batches
        with self.lock:
            moment = self._now()
            duplicates: list[str] = []
            claimed: list[tuple[str, list[int] | None]] = []

            def vet(index: int, item: V3CustomerPost, errors: dict[str, str]) -> bool:
                problems = self._inline_problems(index, item)
                problems.update(self._rule_problems(index, item.model_dump(exclude_unset=True)))
                errors.update(problems)
                free = not self._email_taken(item.email, item.channel_ids)
                free = free and not self._claims_clash(claimed, item.email, item.channel_ids)
                if not free:
                    duplicates.append(item.email)
                claimed.append((normalize_email(item.email), item.channel_ids))
                return free and not problems

            saved_counters = dict(self._counters)
            built, errors, first_bad = self._vet_batch(
                parsed, V3CustomerPost, vet, lambda item: customer_from_v3(item, moment, self._next)
            )
            if first_bad is None:
                self._commit(built)
                return [c.to_v3() for c in built]
            if not non_atomic:
                self._counters = saved_counters
            if duplicates:
                errors[".customer_create"] = "Error creating customers. " + _in_use(duplicates)
            title = V3_VALIDATION_TITLE if not duplicates else "Create customers failed."
            raise self._reject_batch(built, errors, title, non_atomic=non_atomic)

    def v3_update_customers(self, body: Any, *, non_atomic: bool = False) -> list[dict[str, Any]]:
        """Update a batch of 1..10 ``customer_Put`` by id; 422 for an unknown id or an e-mail in use."""
        _refuse_subresources(body)
        parsed = parse_v3_items(body, V3CustomerPut)
        non_atomic = non_atomic or self.config.non_atomic_batches
        with self.lock:
            duplicates: list[str] = []
            claimed: dict[str, int] = {}

            def vet(index: int, item: V3CustomerPut, errors: dict[str, str]) -> bool:
                current = self._customers.get(item.id)
                if current is None:
                    errors[f"{index}.id"] = f"Customer with id {item.id} was not found."
                    return False
                problems = self._rule_problems(
                    index, {**current.to_v3(), **item.model_dump(exclude_unset=True)}
                )
                errors.update(problems)
                if problems:
                    return False
                moves = self.config.msf and "channel_ids" in item.model_fields_set
                if item.email is None and not moves:
                    return True
                email = item.email or current.email
                key = normalize_email(email)
                channels = item.channel_ids if "channel_ids" in item.model_fields_set else current.channel_ids
                free = not self._email_taken(email, channels, other_than=item.id)
                free = free and claimed.get(key, item.id) == item.id
                if not free:
                    duplicates.append(email)
                claimed[key] = item.id
                return free

            def build(item: V3CustomerPut) -> Customer:
                return customer_updated(self._customers[item.id], item, self._now())

            updated, errors, first_bad = self._vet_batch(parsed, V3CustomerPut, vet, build)
            if first_bad is None:
                self._commit(updated)
                return [c.to_v3() for c in updated]
            if duplicates:
                errors[".customer_update"] = "Error updating customers. " + _in_use(duplicates)
            raise self._reject_batch(updated, errors, "Update customers failed.", non_atomic=non_atomic)

    def v3_list_customers(self, query: Mapping[str, str]) -> dict[str, Any]:
        """List customers by id with ``email:in``, ``id:in``, ``date_*:min|max``, ``page``, ``limit``."""
        wanted = v3_list_query(query)
        with self.lock:
            found = self._sorted(wanted.keep)
            data = [c.to_v3(include=wanted.include) for c in wanted.window(found)]
        return {"data": data, "meta": {"pagination": wanted.pagination(len(found), len(data))}}

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
            try:
                for index, raw in enumerate(customers):
                    customer = self._seeded(index, raw, allow_duplicates=allow_duplicates)
                    self._index(customer)
                    created.append(customer)
            finally:  # one transaction for the lot; those before a bad item stay, as in memory
                self._persist(created)
            return [c.to_v3() for c in created]

    def _seeded(self, index: int, raw: Mapping[str, Any], *, allow_duplicates: bool) -> Customer:
        """Build seed item ``index`` (not yet stored); raise the 422 or 409 the API would."""
        item = dict(raw) if isinstance(raw, Mapping) else raw
        dates = {
            k: item.pop(k) for k in ("date_created", "date_modified") if isinstance(item, dict) and k in item
        }
        ((model, errors),) = parse_v3_items([item], V3CustomerPost)
        if not isinstance(model, V3CustomerPost):
            raise v3_error(422, V3_VALIDATION_TITLE, {f"{index}{k[1:]}": v for k, v in errors.items()})
        problems = self._inline_problems(index, model)
        if problems:
            raise v3_error(422, V3_VALIDATION_TITLE, problems)
        if not allow_duplicates and self._email_taken(model.email, model.channel_ids):
            raise v3_error(409, f"The email address {model.email} is already in use.")
        try:
            moments = {k: parse_when(str(v)) for k, v in dates.items()}
        except (ValueError, OverflowError, OSError):
            raise v3_error(422, V3_VALIDATION_TITLE, {f"{index}.date_created": "bad date"}) from None
        moment = moments.get("date_created", self._now())
        customer = customer_from_v3(model, moment, self._next)
        customer.date_modified = moments.get("date_modified", moment)
        return customer

    def all_customers(self) -> list[dict[str, Any]]:
        """Return every customer as V3 ``customer_Full`` with sub-resources, ordered by id."""
        with self.lock:
            return [c.to_v3() for c in self._sorted()]

    def find_by_email(self, email: str) -> list[dict[str, Any]]:
        """Return the customers whose e-mail matches case-insensitively."""
        key = normalize_email(email)
        with self.lock:
            return [c.to_v3() for c in self._customers.values() if normalize_email(c.email) == key]


def _refuse_subresources(body: Any) -> None:
    """Refuse ``addresses``/``attributes`` in ``PUT /v3/customers``, as BigCommerce does."""
    if not isinstance(body, list):
        return
    errors = {
        f"{index}.{name}": "Subresource updates are not supported; use the addresses or attribute-values API."
        for index, item in enumerate(body)
        if isinstance(item, dict)
        for name in _SUBRESOURCES
        if name in item
    }
    if errors:
        raise v3_error(422, "Subresource updates are not supported.", errors)
