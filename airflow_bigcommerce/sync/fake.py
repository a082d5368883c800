"""
An in-memory :class:`~airflow_bigcommerce.sync.client.CustomerClient` with faults on demand.

It behaves like the V3 customers API where the engine cares: e-mails are unique whatever their case
(a duplicate refuses the whole batch with a 422 naming ``.customer_create``), bad rows give
``{"N.field": message}``, batches over 10 give 413. Faults can be scripted per call kind to test
what a real store only does on a bad day: a batch refused before writing, a write committed but
its answer lost, a batch that commits the rows before the bad one. Thread-safe (one lock).
"""

from __future__ import annotations

import copy
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

from airflow_bigcommerce.sync.client import (
    MAX_BATCH_SIZE,
    OutcomeUnknownError,
    RequestRejectedError,
    TransientFailureError,
)

#: A scripted outcome for the next call of a kind:
#: ``reject_before_write``: 422 and nothing written; ``unknown_before_write``: OutcomeUnknownError and
#: nothing written; ``commit_then_unknown``: everything written, then OutcomeUnknownError;
#: ``non_atomic``: if the batch has a bad row, the rows before it are written before the 422;
#: ``error``: :class:`FakeStoreError` (a failure the client gave up on);
#: ``unavailable``: :class:`TransientFailureError`, nothing written (an outage beyond the retry budget).
#: Reads take only ``error`` and ``unavailable``.
Fault = Literal[
    "reject_before_write", "unknown_before_write", "commit_then_unknown", "non_atomic", "error", "unavailable"
]
#: Call kinds as counted in :attr:`FakeCustomerClient.calls`.
CallKind = Literal["find", "create", "update", "count", "list"]
#: Per-row validation hook: return ``{field: message}`` to refuse a row, or ``None``/``{}`` to accept it.
Validator = Callable[[Mapping[str, Any]], Mapping[str, str] | None]

_READ_KINDS = ("find", "count", "list")
_WRITE_FAULTS = ("reject_before_write", "unknown_before_write", "commit_then_unknown", "non_atomic")


class FakeStoreError(Exception):
    """A scripted failure that no retry fixed (what the hook raises after giving up)."""


def _key(email: object) -> str:
    return email.strip().lower() if isinstance(email, str) else ""


class FakeCustomerClient:
    """
    In-memory store of V3 customers implementing the ``CustomerClient`` protocol.

    :param customers: customers to seed (kept as given; an ``id`` is assigned if missing).
    :param reject_emails: e-mails (any case) the store refuses with ``422 {"N.email": ...}``.
    :param validator: extra per-row validation, see :data:`Validator`.
    :param atomic: when ``False``, every refused batch writes the rows before the first bad one.
    :param stats: optional counters exposed as ``stats`` (as a real hook exposes 429s and retries).
    """

    def __init__(
        self,
        customers: Iterable[Mapping[str, Any]] = (),
        *,
        reject_emails: Iterable[str] = (),
        validator: Validator | None = None,
        atomic: bool = True,
        stats: Mapping[str, int] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self.customers: dict[int, dict[str, Any]] = {}
        self._by_email: dict[str, int] = {}
        self._next_id = 1
        self._faults: dict[str, deque[Fault]] = {}
        self.calls: Counter[str] = Counter()
        self.max_lookup_size = 0
        self.reject_emails = {_key(e) for e in reject_emails}
        self.validator = validator
        self.atomic = atomic
        if stats is not None:
            self.stats = dict(stats)
        for customer in customers:
            self.add(customer)

    # ----------------------------------------------------------------- test helpers

    def add(self, customer: Mapping[str, Any]) -> dict[str, Any]:
        """Seed one customer without validation or call counting; return the stored copy."""
        with self._lock:
            return copy.deepcopy(self._insert(customer))

    def fail_next(self, kind: CallKind, fault: Fault = "error", times: int = 1) -> None:
        """Make the next ``times`` calls of ``kind`` behave as ``fault`` (queued after earlier plans)."""
        self.plan(kind, [fault] * times)

    def plan(self, kind: CallKind, faults: Iterable[Fault]) -> None:
        """Queue faults for the next calls of ``kind``, one per call, in order."""
        faults = list(faults)
        for fault in faults:
            if kind in _READ_KINDS and fault not in ("error", "unavailable"):
                raise ValueError(
                    f"{kind} calls only take the 'error' and 'unavailable' faults, not {fault!r}"
                )
            if fault not in (*_WRITE_FAULTS, "error", "unavailable"):
                raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self._faults.setdefault(kind, deque()).extend(faults)

    def pending_faults(self, kind: CallKind) -> int:
        """Return how many scripted faults for ``kind`` are still unused."""
        with self._lock:
            return len(self._faults.get(kind, ()))

    def by_email(self, email: str) -> dict[str, Any] | None:
        """Return a copy of the customer with this e-mail (any case), or ``None``."""
        with self._lock:
            cid = self._by_email.get(_key(email))
            return None if cid is None else copy.deepcopy(self.customers[cid])

    def reset(self) -> None:
        """Forget all customers, faults and counters."""
        with self._lock:
            self.customers.clear()
            self._by_email.clear()
            self._faults.clear()
            self.calls.clear()
            self._next_id = 1
            self.max_lookup_size = 0

    # ----------------------------------------------------------------- protocol

    def find_customers_by_email(self, emails: Sequence[str]) -> list[dict[str, Any]]:
        """Return the customers whose e-mail is in ``emails``, compared case-insensitively."""
        with self._lock:
            self._call("find")
            self.max_lookup_size = max(self.max_lookup_size, len(emails))
            ids = {self._by_email[k] for k in map(_key, emails) if k in self._by_email}
            return [copy.deepcopy(self.customers[i]) for i in sorted(ids)]

    def create_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Create up to 10 customers, or refuse the batch as the V3 API does."""
        return self._write("create", customers, self._check_create, self._insert)

    def update_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Update up to 10 customers by ``id``, or refuse the batch as the V3 API does."""
        return self._write("update", customers, self._check_update, self._apply_update)

    def count_customers(self) -> int:
        """Return how many customers the store holds."""
        with self._lock:
            self._call("count")
            return len(self.customers)

    def iter_customers(self, page_size: int = 250) -> Iterator[dict[str, Any]]:
        """Yield every customer, one locked page at a time (one ``list`` call per page)."""
        offset = 0
        while True:
            with self._lock:
                self._call("list")
                ids = sorted(self.customers)[offset : offset + page_size]
                page = [copy.deepcopy(self.customers[i]) for i in ids]
            yield from page
            if len(page) < page_size:
                return
            offset += page_size

    # ----------------------------------------------------------------- internals

    def _call(self, kind: str) -> Fault | None:
        """Count a call and apply its scripted fault; return a write fault the caller must honour."""
        self.calls[kind] += 1
        queue = self._faults.get(kind)
        fault = queue.popleft() if queue else None
        if fault == "error":
            raise FakeStoreError(f"injected failure of {kind}")
        if fault == "unavailable":
            raise TransientFailureError(f"injected: {kind} unavailable beyond the retry budget")
        if fault == "unknown_before_write":
            raise OutcomeUnknownError("injected: no answer, nothing written")
        if fault == "reject_before_write":
            raise RequestRejectedError(
                "422 injected rejection", status=422, errors={"0": "injected rejection"}, title="Injected"
            )
        return fault

    def _write(
        self,
        kind: Literal["create", "update"],
        customers: Sequence[Mapping[str, Any]],
        check: Callable[[Sequence[Mapping[str, Any]]], tuple[dict[str, str], int]],
        apply: Callable[[Mapping[str, Any]], dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """Check a batch, then write it, refuse it (non-atomic: after its good head) or lose the answer."""
        with self._lock:
            fault = self._call(kind)
            self._check_size(customers)
            errors, first_bad = check(customers)
            if errors:
                if not self.atomic or fault == "non_atomic":
                    for item in customers[:first_bad]:
                        apply(item)
                raise RequestRejectedError(
                    "422 The request payload is not valid.",
                    status=422,
                    errors=errors,
                    title="The request payload is not valid.",
                )
            written = [copy.deepcopy(apply(item)) for item in customers]
            if fault == "commit_then_unknown":
                raise OutcomeUnknownError("injected: committed, answer lost")
            return written

    @staticmethod
    def _check_size(customers: Sequence[Mapping[str, Any]]) -> None:
        if len(customers) > MAX_BATCH_SIZE:
            raise RequestRejectedError(
                "413 Request Entity Too Large", status=413, title="Request Entity Too Large"
            )

    def _row_errors(self, index: int, customer: Mapping[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        email = customer.get("email")
        if _key(email) in self.reject_emails:
            errors[f"{index}.email"] = "The email is not valid."
        if self.validator is not None:
            for field, message in (self.validator(customer) or {}).items():
                errors[f"{index}.{field}"] = message
        return errors

    def _check_create(self, customers: Sequence[Mapping[str, Any]]) -> tuple[dict[str, str], int]:
        errors: dict[str, str] = {}
        bad: list[int] = []
        in_use: list[str] = []
        seen: set[str] = set()
        for i, customer in enumerate(customers):
            email = customer.get("email")
            row = self._row_errors(i, customer)
            if not isinstance(email, str) or not email.strip():
                row[f"{i}.email"] = "The email is required."
            elif _key(email) in self._by_email or _key(email) in seen:
                in_use.append(f"The email {email} is already in use.")
                bad.append(i)
            seen.add(_key(email))
            if row:
                errors.update(row)
                bad.append(i)
        if in_use:
            errors[".customer_create"] = " ".join(in_use)
        return errors, min(bad, default=len(customers))

    def _check_update(self, customers: Sequence[Mapping[str, Any]]) -> tuple[dict[str, str], int]:
        errors: dict[str, str] = {}
        bad: list[int] = []
        for i, item in enumerate(customers):
            cid = item.get("id")
            if not isinstance(cid, int) or cid not in self.customers:
                errors[f"{i}.id"] = f"Customer with id {cid} not found."
                bad.append(i)
                continue
            merged = {**self.customers[cid], **item}
            row = self._row_errors(i, merged)
            other = self._by_email.get(_key(merged.get("email")))
            if other is not None and other != cid:
                errors[".customer_update"] = f"The email {merged.get('email')} is already in use."
                bad.append(i)
            if row:
                errors.update(row)
                bad.append(i)
        return errors, min(bad, default=len(customers))

    def _insert(self, customer: Mapping[str, Any]) -> dict[str, Any]:
        stored = {k: copy.deepcopy(v) for k, v in customer.items() if k != "authentication"}
        cid = stored.get("id")
        if not isinstance(cid, int) or cid in self.customers:
            cid = self._next_id
        self._next_id = max(self._next_id, cid + 1)
        stored["id"] = cid
        self.customers[cid] = stored
        self._by_email[_key(stored.get("email"))] = cid
        return stored

    def _apply_update(self, item: Mapping[str, Any]) -> dict[str, Any]:
        cid = item["id"]
        stored = self.customers[cid]
        self._by_email.pop(_key(stored.get("email")), None)
        stored.update({k: copy.deepcopy(v) for k, v in item.items() if k not in ("id", "authentication")})
        self._by_email[_key(stored.get("email"))] = cid
        return stored
