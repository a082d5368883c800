"""
The sandbox store in process: the store client the sync engine calls, over the sandbox's own state.

No HTTP and no threads of its own: each call is one operation of a
:class:`~airflow_bigcommerce.sandbox.SandboxStore`, so unit tests (the project's and users') meet the
same V3 rules as the sandbox server, with one fake store in the code base. How an answer or a fault
of the sandbox's traffic control maps to the engine's errors: :mod:`.sandbox_calls`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

from airflow_bigcommerce.api import MAX_PAGE_SIZE
from airflow_bigcommerce.sandbox.config import SandboxConfig
from airflow_bigcommerce.sandbox.state.customer import normalize_email
from airflow_bigcommerce.sandbox.store import RowRule, SandboxStore
from airflow_bigcommerce.testing.in_process_parts import PartCalls
from airflow_bigcommerce.testing.sandbox_calls import StoreFailure, data_of

__all__ = ["CallKind", "Fault", "InProcessStore", "StoreFailure", "sandbox_client"]

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
CallKind = Literal["find", "find_ids", "create", "update", "count", "list"]

#: The sandbox fault kind each scripted :data:`Fault` queues.
SANDBOX_KIND: dict[str, str] = {
    "reject_before_write": "reject_before_write",
    "unknown_before_write": "error_before_write",
    "commit_then_unknown": "commit_then_500",
    "non_atomic": "non_atomic",
    "error": "fatal",
    "unavailable": "outage",
}
_READ_KINDS = ("find", "find_ids", "count", "list")


class InProcessStore(PartCalls):
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
        super().__init__(store or SandboxStore(config=SandboxConfig(non_atomic_batches=not atomic)))
        self.max_lookup_size = 0
        self.reject_emails = {normalize_email(e) for e in reject_emails}
        self.validator = validator
        self.store.rules.append(self._rule)
        if stats is not None:
            self.stats = dict(stats)
        for customer in customers:
            self.add(customer)

    #: What error messages name; a hook's connection id.
    bigcommerce_conn_id = "in_process"

    def check_access(self, *, quick: bool = True) -> None:
        """Pass, as a hook's access check does on a store that takes its token (there is none here)."""

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

    def find_customers_by_id(self, ids: Sequence[int], include: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Return the customers whose id is in ``ids`` (ids the store lacks are left out)."""
        query = {"id:in": ",".join(str(i) for i in ids), "limit": str(MAX_PAGE_SIZE)}
        if include:
            query["include"] = ",".join(include)
        return self._read(
            "find_ids", "customers.find_ids", lambda: self._pages(self.store.v3_list_customers, query)
        )

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
        return lambda: data_of(self.store.v3_list_customers(query))


def sandbox_client(customers: Iterable[Mapping[str, Any]] = (), **options: Any) -> InProcessStore:
    """Return an :class:`InProcessStore` over a fresh sandbox store (``options`` as its parameters)."""
    return InProcessStore(customers, **options)
