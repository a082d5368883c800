"""
The sandbox store in process: the store client the sync engine calls, over the sandbox's own state.

No HTTP and no threads of its own: each call is one operation of a
:class:`~airflow_bigcommerce.sandbox.SandboxStore`, so unit tests (the project's and users') meet the
same V3 rules as the sandbox server, with one fake store in the code base. What the sandbox answers
becomes what the engine sees from ``BigCommerceHook`` once the hook's retries are spent:

- a 4xx :class:`~airflow_bigcommerce.sandbox.errors.ApiError` -> :class:`RequestRejectedError`
  (``status``, ``errors`` and ``title`` as the hook's ``BigCommerceAPIError`` carries them);
- a fault from the sandbox's traffic control (scripted per operation, drawn at random, or a staged
  outage) -> :class:`OutcomeUnknownError` for a write that may have landed (5xx after send, commit then
  500, dropped connection), :class:`TransientFailureError` when nothing was applied (outage, 429s,
  a read that kept failing), :class:`StoreFailure` for ``fatal`` (a failure no retry fixes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeVar

from airflow_bigcommerce.api import MAX_PAGE_SIZE
from airflow_bigcommerce.sandbox.config import SandboxConfig
from airflow_bigcommerce.sandbox.state.customer import normalize_email
from airflow_bigcommerce.sandbox.state.errors import ApiError, v3_error
from airflow_bigcommerce.sandbox.store import RowRule, SandboxStore
from airflow_bigcommerce.sync.client import OutcomeUnknownError, RequestRejectedError, TransientFailureError

__all__ = ["CallKind", "Fault", "InProcessStore", "StoreFailure", "sandbox_client"]

T = TypeVar("T")

#: A scripted outcome for the next call of a kind, in the engine's terms:
#: ``reject_before_write``: 422 and nothing written; ``unknown_before_write``: OutcomeUnknownError and
#: nothing written; ``commit_then_unknown``: everything written, then OutcomeUnknownError;
#: ``non_atomic``: if the batch has a bad row, the rows before it are written before the 422;
#: ``error``: :class:`StoreFailure` (a failure the client gave up on);
#: ``unavailable``: :class:`TransientFailureError`, nothing written (an outage beyond the retry budget).
#: Reads take only ``error`` and ``unavailable``.
Fault = Literal[
    "reject_before_write", "unknown_before_write", "commit_then_unknown", "non_atomic", "error", "unavailable"
]
#: Call kinds as counted in :attr:`InProcessStore.calls`; ``customers.<kind>`` is the sandbox operation.
CallKind = Literal["find", "create", "update", "count", "list"]

#: The sandbox fault kind each scripted :data:`Fault` queues.
SANDBOX_KIND: dict[str, str] = {
    "reject_before_write": "reject_before_write",
    "unknown_before_write": "error_before_write",
    "commit_then_unknown": "commit_then_500",
    "non_atomic": "non_atomic",
    "error": "fatal",
    "unavailable": "outage",
}
_READ_KINDS = ("find", "count", "list")
#: Sandbox faults after which a write has been committed (its answer delayed, replaced or dropped).
_AFTER_COMMIT = frozenset({"slow", "commit_then_500", "commit_then_drop"})
#: Sandbox faults that apply nothing and say so (the hook retries them, then gives up).
_NOTHING_APPLIED = frozenset({"outage", "rate_limit_429", "rate_limit_429_bare"})


class StoreFailure(Exception):
    """A failure no retry fixed (what the hook raises after giving up), from a ``fatal`` fault."""


def _rejected(error: ApiError) -> RequestRejectedError:
    """Map a sandbox 4xx to the engine's refusal, with the fields the hook's error carries."""
    errors: dict[str, str] = {}
    if error.errors:
        errors = {str(k): str(v) for k, v in error.errors.items()}
    elif error.details:
        errors = {str(k): str(v) for k, v in error.details.items()}
    return RequestRejectedError(
        f"{error.status} {error.message}", status=error.status, errors=errors, title=error.message
    )


def _data(body: Any) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, Mapping) else body
    if isinstance(data, Mapping):
        return [dict(data)]
    return [dict(item) for item in data or () if isinstance(item, Mapping)]


class InProcessStore:
    """
    A store client (``CustomerClient`` and the part calls) answered by a sandbox store in process.

    :param customers: customers to seed (V3 ``customer_Post``; missing names become ``"-"``).
    :param reject_emails: e-mails (any case) the store refuses with ``422 {"N.email": ...}``.
    :param validator: an extra refusal rule, see :data:`~airflow_bigcommerce.sandbox.store.RowRule`.
    :param atomic: when ``False``, every refused batch writes the rows before the first bad one.
    :param stats: optional counters exposed as ``stats`` (as a real hook exposes 429s and retries).
    :param store: the sandbox store to use (default: a fresh one in memory).
    """

    def __init__(
        self,
        customers: Iterable[Mapping[str, Any]] = (),
        *,
        reject_emails: Iterable[str] = (),
        validator: RowRule | None = None,
        atomic: bool = True,
        stats: Mapping[str, int] | None = None,
        store: SandboxStore | None = None,
    ) -> None:
        self.store = store or SandboxStore(config=SandboxConfig(non_atomic_batches=not atomic))
        self.calls: Counter[str] = Counter()
        self.max_lookup_size = 0
        self.reject_emails = {normalize_email(e) for e in reject_emails}
        self.validator = validator
        self.store.rules.append(self._rule)
        if stats is not None:
            self.stats = dict(stats)
        for customer in customers:
            self.add(customer)

    # ----------------------------------------------------------------- test helpers

    def _rule(self, customer: Mapping[str, Any]) -> Mapping[str, str] | None:
        errors: dict[str, str] = {}
        email = customer.get("email")
        if isinstance(email, str) and normalize_email(email) in self.reject_emails:
            errors["email"] = "The email is not valid."
        if self.validator is not None:
            errors.update(self.validator(customer) or {})
        return errors

    @property
    def customers(self) -> dict[int, dict[str, Any]]:
        """Every customer of the store by id (V3 ``customer_Full`` copies, with sub-resources)."""
        return {c["id"]: c for c in self.store.all_customers()}

    def add(self, customer: Mapping[str, Any]) -> dict[str, Any]:
        """Seed one customer without the client's checks, call counts or faults; return it as stored."""
        item = {k: v for k, v in customer.items() if k not in ("id", "authentication")}
        item.setdefault("first_name", "-")
        item.setdefault("last_name", "-")
        (stored,) = self.store.seed([item], allow_duplicates=True)
        return stored

    def fail_next(self, kind: CallKind, fault: Fault = "error", times: int = 1) -> None:
        """Make the next ``times`` calls of ``kind`` behave as ``fault`` (queued after earlier plans)."""
        self.plan(kind, [fault] * times)

    def plan(self, kind: CallKind, faults: Iterable[Fault]) -> None:
        """Queue faults for the next calls of ``kind``, one per call, in order (the sandbox's script)."""
        chosen = list(faults)
        for fault in chosen:
            if fault not in SANDBOX_KIND:
                raise ValueError(f"unknown fault {fault!r}")
            if kind in _READ_KINDS and fault not in ("error", "unavailable"):
                raise ValueError(
                    f"{kind} calls only take the 'error' and 'unavailable' faults, not {fault!r}"
                )
        self.store.script_faults(f"customers.{kind}", [SANDBOX_KIND[f] for f in chosen])

    def pending_faults(self, kind: CallKind) -> int:
        """Return how many scripted faults for ``kind`` are still unused."""
        return self.store.pending_faults(f"customers.{kind}")

    def by_email(self, email: str) -> dict[str, Any] | None:
        """Return the customer with this e-mail (any case; the lowest id), or ``None``."""
        found = self.store.find_by_email(email)
        return min(found, key=lambda c: c["id"]) if found else None

    def reset(self) -> None:
        """Forget all customers, faults and counters (the store's rules stay)."""
        self.store.reset()
        self.calls.clear()
        self.max_lookup_size = 0

    # ----------------------------------------------------------------- one call

    def _call(self, kind: str, operation: str, method: str, run: Callable[[bool], T]) -> T:
        """Count a call, let the store's traffic control decide its fault, run it and map the answer."""
        self.calls[kind] += 1
        fault = (self.store.outage_answer(method) is not None and "outage") or None
        fault = fault or self.store.draw_fault(method, operation)
        write = method != "GET"
        if fault == "fatal":
            raise StoreFailure(f"injected failure of {kind}")
        if fault in _NOTHING_APPLIED or (not write and fault is not None):
            raise TransientFailureError(f"injected: {kind} unavailable beyond the retry budget")
        if fault in ("error_before_write", "malformed"):
            raise OutcomeUnknownError(f"injected {fault}: no answer, nothing written")
        try:
            if fault == "reject_before_write":
                raise v3_error(422, "Injected rejection.", {"0": "injected rejection"})
            answer = run(fault == "non_atomic")
        except ApiError as error:
            if error.status >= 500:
                raise OutcomeUnknownError(f"{error.status} {error.message}") from None
            raise _rejected(error) from None
        if fault in _AFTER_COMMIT:
            raise OutcomeUnknownError(f"injected {fault}: committed, answer lost")
        return answer

    def _read(self, kind: str, operation: str, run: Callable[[], T]) -> T:
        return self._call(kind, operation, "GET", lambda _: run())

    # ----------------------------------------------------------------- customers

    def find_customers_by_email(
        self, emails: Sequence[str], include: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Return the customers whose e-mail is in ``emails``, compared case-insensitively."""
        self.max_lookup_size = max(self.max_lookup_size, len(emails))
        query = {"email:in": ",".join(emails), "limit": str(MAX_PAGE_SIZE)}
        if include:
            query["include"] = ",".join(include)
        return self._read("find", "customers.find", lambda: self._pages(self.store.v3_list_customers, query))

    def create_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Create up to 10 customers, or refuse the batch as the V3 API does."""
        body = [dict(c) for c in customers]
        return self._call(
            "create", "customers.create", "POST", lambda n: self.store.v3_create_customers(body, non_atomic=n)
        )

    def update_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Update up to 10 customers by ``id``, or refuse the batch as the V3 API does."""
        body = [dict(c) for c in customers]
        return self._call(
            "update", "customers.update", "PUT", lambda n: self.store.v3_update_customers(body, non_atomic=n)
        )

    def count_customers(self) -> int:
        """Return how many customers the store holds."""
        return self._read("count", "customers.count", self.store.count)

    def iter_customers(
        self, page_size: int = MAX_PAGE_SIZE, params: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield every customer, one page (one ``list`` call) at a time."""
        page_number = 1
        while True:
            query = {k: str(v) for k, v in (params or {}).items()}
            query.update(page=str(page_number), limit=str(page_size))
            page = self._read("list", "customers.list", self._lister(query))
            yield from page
            if len(page) < page_size:
                return
            page_number += 1

    def _lister(self, query: Mapping[str, str]) -> Callable[[], list[dict[str, Any]]]:
        return lambda: _data(self.store.v3_list_customers(query))

    @staticmethod
    def _pages(
        search: Callable[[Mapping[str, str]], Mapping[str, Any]], query: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """Read every page of a V3 search at once (one call of the client)."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            body = search({**query, "page": str(page)})
            items = _data(body)
            found.extend(items)
            total_pages = body.get("meta", {}).get("pagination", {}).get("total_pages", 1)
            if page >= int(total_pages or 1) or not items:
                return found
            page += 1

    # ----------------------------------------------------------------- parts

    def create_addresses(self, addresses: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Add addresses (``POST /v3/customers/addresses``)."""
        body = [dict(a) for a in addresses]
        return self._call(
            "address_create",
            "POST /v3/customers/addresses",
            "POST",
            lambda _: self.store.addresses.create(body),
        )

    def update_addresses(self, addresses: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Change addresses (``PUT /v3/customers/addresses``)."""
        body = [dict(a) for a in addresses]
        return self._call(
            "address_update",
            "PUT /v3/customers/addresses",
            "PUT",
            lambda _: self.store.addresses.update(body),
        )

    def find_addresses(self, customer_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Return the addresses of these customers."""
        query = {"customer_id:in": ",".join(str(i) for i in sorted(set(customer_ids))), "limit": "250"}
        return self._read(
            "address_lookup",
            "GET /v3/customers/addresses",
            lambda: self._pages(self.store.addresses.search, query),
        )

    def list_customer_attributes(self) -> list[dict[str, Any]]:
        """Return the store's customer attributes."""
        return self._read(
            "attribute_list",
            "GET /v3/customers/attributes",
            lambda: self._pages(self.store.attributes.search, {"limit": "250"}),
        )

    def create_customer_attribute(self, name: str, attribute_type: str = "string") -> dict[str, Any]:
        """Create one customer attribute; return it with its id."""
        body = [{"name": name, "type": attribute_type}]
        created = self._call(
            "attribute_create",
            "POST /v3/customers/attributes",
            "POST",
            lambda _: self.store.attributes.create(body),
        )
        return created[0]

    def upsert_attribute_values(self, values: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Write attribute values (an upsert)."""
        body = [dict(v) for v in values]
        return self._call(
            "attribute_values",
            "PUT /v3/customers/attribute-values",
            "PUT",
            lambda _: self.store.attributes.upsert_values(body),
        )

    def list_customer_groups(self) -> list[dict[str, Any]]:
        """Return the store's customer groups (403 on a plan without them)."""

        def every_page() -> list[dict[str, Any]]:
            groups: list[dict[str, Any]] = []
            page = 1
            while True:
                items = self.store.groups.search({"page": str(page), "limit": "250"})
                groups.extend(items)
                if len(items) < MAX_PAGE_SIZE:
                    return groups
                page += 1

        return self._read("group_list", "GET /v2/customer_groups", every_page)

    def find_subscriber(self, email: str) -> dict[str, Any] | None:
        """Return the subscriber with this e-mail (any case), or ``None``."""
        key = email.strip().lower()

        def search() -> dict[str, Any] | None:
            for value in dict.fromkeys((email.strip(), key)):
                for subscriber in _data(self.store.subscribers.search({"email": value, "limit": "5"})):
                    if str(subscriber.get("email", "")).strip().lower() == key:
                        return subscriber
            return None

        return self._read("subscriber_lookup", "GET /v3/customers/subscribers", search)

    def count_subscribers(self) -> int:
        """Return how many subscribers the store has."""

        def count() -> int:
            body = self.store.subscribers.search({"limit": "1"})
            return int(body.get("meta", {}).get("pagination", {}).get("total", 0))

        return self._read("subscriber_count", "GET /v3/customers/subscribers", count)

    def iter_subscribers(self) -> Iterator[dict[str, Any]]:
        """Yield every subscriber."""
        yield from self._read(
            "subscriber_list",
            "GET /v3/customers/subscribers",
            lambda: self._pages(self.store.subscribers.search, {"limit": "250"}),
        )

    def create_subscriber(self, subscriber: Mapping[str, Any]) -> dict[str, Any]:
        """Create one subscriber (409 when the e-mail is already one)."""
        body = dict(subscriber)
        created = self._call(
            "subscriber_create",
            "POST /v3/customers/subscribers",
            "POST",
            lambda _: _data(self.store.subscribers.create(body)),
        )
        return created[0] if created else {}

    def update_subscriber(self, subscriber_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change one subscriber, e.g. its ``consents``."""
        body = dict(changes)
        updated = self._call(
            "subscriber_update",
            "PUT /v3/customers/subscribers/{id}",
            "PUT",
            lambda _: _data(self.store.subscribers.update(str(int(subscriber_id)), body)),
        )
        return updated[0] if updated else {}

    def get_channel_settings(self, channel_id: int) -> dict[str, Any]:
        """Return a channel's customer settings."""
        found = self._read(
            "channel_settings",
            "GET /v3/customers/settings/channels/{id}",
            lambda: _data(self.store.channels.get(str(int(channel_id)))),
        )
        return found[0] if found else {}


def sandbox_client(customers: Iterable[Mapping[str, Any]] = (), **options: Any) -> InProcessStore:
    """Return an :class:`InProcessStore` over a fresh sandbox store (``options`` as its parameters)."""
    return InProcessStore(customers, **options)
