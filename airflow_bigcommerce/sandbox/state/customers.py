"""The customer book of the sandbox store: records, e-mail index, ids, persistence and the registries.

Plain Python guarded by one lock, no HTTP and no traffic rules: the V2 and V3 operations
(``customers_v2.py``, ``customers_v3.py``) and seeding (``seeding.py``) build on it, and the nested
resources (addresses, attributes, ...) see it through the narrow ``book.CustomerBook`` protocol.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from airflow_bigcommerce.sandbox.config import SandboxConfig
from airflow_bigcommerce.sandbox.state.addresses import Addresses, state_problem
from airflow_bigcommerce.sandbox.state.attributes import Attributes
from airflow_bigcommerce.sandbox.state.channels import Channels
from airflow_bigcommerce.sandbox.state.customer import (
    Customer,
    normalize_email,
    utcnow,
)
from airflow_bigcommerce.sandbox.state.groups import Groups
from airflow_bigcommerce.sandbox.state.metafields import Metafields
from airflow_bigcommerce.sandbox.state.persistence import SqliteState
from airflow_bigcommerce.sandbox.state.schemas import (
    V3CustomerPost,
    V3CustomerPut,
)
from airflow_bigcommerce.sandbox.state.segments import Segments
from airflow_bigcommerce.sandbox.state.subscribers import Subscribers

#: An extra refusal rule (a test's, like a store app validating rows): a customer as it would be
#: stored -> ``{field: message}`` to refuse it with a 422, or ``None``/``{}`` to accept it.
RowRule = Callable[[Mapping[str, Any]], Mapping[str, str] | None]

#: The id sequences: customers, and the addresses and attributes created with them.
_ID_KINDS = (
    "customer",
    "address",
    "attribute",
    "attribute_definition",
    "group",
    "subscriber",
    "metafield",
    "segment",
    "shopper_profile",
)


class CustomerState:
    """The state of one store: customers, ids, the nested-resource registries and the SQLite file."""

    def __init__(
        self,
        *,
        store_hash: str,
        config: SandboxConfig,
        db_path: str | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store_hash = store_hash
        self.config = config
        self.lock = threading.RLock()
        self._now = now
        self._db = SqliteState(db_path) if db_path else None
        self._customers: dict[int, Customer] = {}
        self._by_email: dict[str, int] = {}
        self._counters = dict.fromkeys(_ID_KINDS, 0)
        #: E-mails a refused, non-atomic batch committed before its bad row (for tests: who wrote what).
        self.refused_batch_commits: list[str] = []
        #: Extra refusal rules checked on every V3 create and update item, see :data:`RowRule`.
        self.rules: list[RowRule] = []
        self.addresses = Addresses(self)
        self.attributes = Attributes(self, self._saver("attributes"))
        self.groups = Groups(
            self.lock, self.next_id, lambda: self.config.customer_groups_enabled, self._saver("groups")
        )
        self.channels = Channels(self.lock, self._saver("channels"))
        self.subscribers = Subscribers(self.lock, self.next_id, self.now, self._saver("subscribers"))
        self.metafields = Metafields(self, self._saver("metafields"))
        self.segments = Segments(self, lambda: self.config.segments_enabled, self._saver("segments"))
        #: The sign-up form fields the store defines (the control panel's, set through the admin route).
        self.form_field_names: list[str] = []
        #: Account-created e-mails sent (``trigger_account_created_notification`` on a create).
        self.account_created_emails = 0
        if self._db is not None:
            customers, counters = self._db.load()
            self._counters.update(counters)
            for customer in customers:
                self._index(customer)
            self.attributes.load(self._db.load_extra("attributes"))
            self.groups.load(self._db.load_extra("groups"))
            self.channels.load(self._db.load_extra("channels"))
            self.subscribers.load(self._db.load_extra("subscribers"))
            self.metafields.load(self._db.load_extra("metafields"))
            self.segments.load(self._db.load_extra("segments"))
            self.form_field_names = [r["name"] for r in self._db.load_extra("form_fields")]

    def clear(self) -> None:
        """Forget every customer, id and registry entry (and the SQLite file's content)."""
        with self.lock:
            self._customers.clear()
            self._by_email.clear()
            self._counters = dict.fromkeys(_ID_KINDS, 0)
            self.refused_batch_commits.clear()
            for registry in (
                self.attributes,
                self.groups,
                self.channels,
                self.subscribers,
                self.metafields,
                self.segments,
            ):
                registry.clear()
            self.form_field_names = []
            self.account_created_emails = 0
            if self._db is not None:
                self._db.clear()

    def close(self) -> None:
        """Close the SQLite file, if any."""
        if self._db is not None:
            self._db.close()

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

    def define_form_fields(self, names: Iterable[str]) -> list[str]:
        """Add sign-up form fields by name (the store owner's control panel; the API cannot)."""
        with self.lock:
            for name in names:
                if name not in self.form_field_names:
                    self.form_field_names.append(name)
            self._saver("form_fields")([{"name": n} for n in self.form_field_names])
            return list(self.form_field_names)

    def _form_field_problems(self, index: int, item: V3CustomerPost | V3CustomerPut) -> dict[str, str]:
        """Errors of form fields the store does not define (422, as BigCommerce refuses them)."""
        return {
            f"{index}.form_fields.{number}.name": f"The form field '{field.name}' does not exist."
            for number, field in enumerate(item.form_fields or [])
            if field.name not in self.form_field_names
        }

    def _rule_problems(self, index: int, customer: Mapping[str, Any]) -> dict[str, str]:
        """Errors the extra :attr:`rules` find in a customer, keyed ``index.field``."""
        return {
            f"{index}.{field}": message
            for rule in self.rules
            for field, message in (rule(customer) or {}).items()
        }

    def _sorted(self, keep: Callable[[Customer], bool] = lambda _: True) -> list[Customer]:
        return [c for c in sorted(self._customers.values(), key=lambda c: c.id) if keep(c)]

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
        self.metafields.forget_customers(ids)
        self.segments.forget_customers(ids)

    def count(self) -> int:
        """Return the number of customers."""
        with self.lock:
            return len(self._customers)

    def all_customers(self) -> list[dict[str, Any]]:
        """Return every customer as V3 ``customer_Full`` with sub-resources, ordered by id."""
        with self.lock:
            return [c.to_v3() for c in self._sorted()]

    def find_by_email(self, email: str) -> list[dict[str, Any]]:
        """Return the customers whose e-mail matches case-insensitively."""
        key = normalize_email(email)
        with self.lock:
            return [c.to_v3() for c in self._customers.values() if normalize_email(c.email) == key]
