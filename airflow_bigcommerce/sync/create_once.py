"""
Write records at most once: the one path for ``CreateCustomerOperator`` (V2 and V3) and the sync.

A write is never resent blindly. :func:`deliver_once` sends a batch; after an unknown outcome
(timeout, dropped connection, 5xx), or a 2xx that leaves rows out, it looks the rows up, settles
what is found and resends only the rest, at most :data:`MAX_UNKNOWN_SENDS` times (a safety net:
the client's retry budget, in time, ends sooner and raises a transient error, which settles the
unsettled rows as failed). A definitive refusal (4xx) of several rows is split by
:func:`split_refused`: an endpoint whose refused batch may have written rows (customers) looks them
up and settles what it finds; the rest is resent one by one, and a refused single row is refused.
An endpoint (customer batches, address ``POST``s) plugs in as a :class:`BatchEndpoint`;
:func:`create_once` is its one-record case (single customers, attributes, subscribers). Who
created a record a look-up finds is decided by :func:`attribute_found`: after a definitive refusal,
nobody in this run (``skipped``); after an unknown outcome, this run if it holds what was sent.
An idempotent write (``PUT``, upsert) is not looked
up: :func:`resend_idempotent` sends it once more.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from airflow_bigcommerce.api import FATAL_STATUSES, email_in_use_text
from airflow_bigcommerce.models.contact import customer_differs
from airflow_bigcommerce.sync.client import OutcomeUnknownError, RequestRejectedError, TransientFailureError

#: Sends of one write whose outcome stayed unknown before it is given up (reported failed, or the
#: task fails). A safety net for clients without a time budget: the hook's retry budget ends sooner.
MAX_UNKNOWN_SENDS = 50
#: Sends of an idempotent write (a ``PUT``, an upsert) whose answer was lost, in all: sending it
#: again cannot write twice, so no look-up is needed.
IDEMPOTENT_SENDS = 2

_R = TypeVar("_R")
_T = TypeVar("_T")
_A = TypeVar("_A")


class BatchEndpoint(ABC, Generic[_T, _A]):
    """
    How :func:`deliver_once` writes, looks up and settles one endpoint's rows (``_A``: the answer).

    Subclasses settle rows into their own state. The defaults: a refused batch is resent
    whole, one by one; an unknown outcome is only looked up; a transient failure propagates.
    """

    @abstractmethod
    def send(self, rows: list[_T]) -> _A:
        """Send one write of ``rows``; raise the client's errors."""

    @abstractmethod
    def accepted(self, rows: list[_T], answer: _A) -> list[_T]:
        """Settle the rows the store's answer lists; return those it leaves out."""

    @abstractmethod
    def look_up(self, rows: list[_T]) -> list[_T]:
        """After a send that may have written ``rows``: settle those found; return those not written."""

    def settle_refused(self, rows: list[_T], exc: RequestRejectedError) -> list[_T]:
        """Settle what a refused batch (of several rows) is known to hold; return the rows to resend."""
        return rows

    @abstractmethod
    def refuse_one(self, row: _T, exc: RequestRejectedError) -> None:
        """Settle one row the store refused."""

    @abstractmethod
    def give_up(self, row: _T, sends: int) -> None:
        """Settle a row whose outcome stayed unknown after ``sends`` sends."""

    def on_unknown(self, exc: OutcomeUnknownError) -> None:
        """Note an unknown outcome before its look-up (for logging)."""

    def fail(self, rows: list[_T], exc: TransientFailureError, *, looking: bool) -> None:
        """Settle the unsettled ``rows`` after the client gave up (``looking``: in a look-up)."""
        raise exc


class LookUpRefused(BatchEndpoint[_T, _A]):
    """
    An endpoint whose refusal may hide a write: an earlier send whose answer was lost landed.

    A refused batch, and a row refused alone, are looked up first; only what the store lacks is
    resent (a batch) or refused (a row, through :meth:`refused`).
    """

    @abstractmethod
    def refused(self, row: _T, exc: RequestRejectedError) -> None:
        """Settle one row the store refused and does not hold."""

    def settle_refused(self, rows: list[_T], exc: RequestRejectedError) -> list[_T]:
        """Look up what a refused batch holds; return only the others, to resend one by one."""
        try:
            return self.look_up(rows)
        except TransientFailureError as lookup_exc:
            self.fail(rows, lookup_exc, looking=True)
            return []

    def refuse_one(self, row: _T, exc: RequestRejectedError) -> None:
        """Refused alone: unless the store holds it after all (written by an earlier, lost send)."""
        try:
            if not self.look_up([row]):
                return
        except TransientFailureError as lookup_exc:
            self.fail([row], lookup_exc, looking=True)
            return
        self.refused(row, exc)


def deliver_once(
    rows: Sequence[_T], endpoint: BatchEndpoint[_T, Any], *, max_sends: int = MAX_UNKNOWN_SENDS
) -> int:
    """
    Write ``rows`` and settle each of them exactly once; return how many rows a look-up resolved.

    Batches wait in one queue: the rows to resend after a look-up go back as one batch, the rows of
    a refused batch one by one (:func:`split_refused`). A transient failure (the client's retry
    budget spent) settles the unsettled rows of that batch through :meth:`BatchEndpoint.fail`.
    """
    looked_up = 0
    queue: deque[tuple[list[_T], int]] = deque([(list(rows), 0)])
    while queue:
        batch, unknown = queue.popleft()
        rest, looking = batch, False
        try:
            try:
                answer = endpoint.send(batch)
            except TransientFailureError:
                raise
            except RequestRejectedError as exc:
                split_refused(
                    exc,
                    batch,
                    resend_one=functools.partial(_requeue, queue, unknown),
                    refuse_one=endpoint.refuse_one,
                    settle=endpoint.settle_refused,
                )
                continue
            except OutcomeUnknownError as exc:
                endpoint.on_unknown(exc)
            else:
                rest = endpoint.accepted(batch, answer)
                if not rest:
                    continue
            # an unknown outcome, or a 2xx that leaves rows out: look up before any resend
            looking, unknown = True, unknown + 1
            again: list[_T] = []
            for row in endpoint.look_up(rest):
                if unknown >= max_sends:
                    endpoint.give_up(row, unknown)
                else:
                    again.append(row)
            looked_up += len(rest)
            if again:
                queue.append((again, unknown))
        except TransientFailureError as exc:
            endpoint.fail(rest, exc, looking=looking)
    return looked_up


def _requeue(queue: deque[tuple[list[_T], int]], unknown: int, row: _T) -> None:
    queue.append(([row], unknown))


class Settled(Enum):
    """How a create-once ended."""

    CREATED = "created"  # this run's send wrote it (its answer, or a look-up after an unknown outcome)
    EXISTS = "exists"  # the store refused it as in use: someone else's record (``record`` if found)
    UNKNOWN = "unknown"  # every send's outcome stayed unknown and no look-up found it


@dataclass(frozen=True)
class CreateResult(Generic[_R]):
    """The end of :func:`create_once`: how it settled, the record, and whether a look-up decided it."""

    settled: Settled
    record: _R | None = None
    looked_up: bool = False
    refusal: RequestRejectedError | None = None  # the "in use" refusal, when it settled on one


def create_once(
    create: Callable[[], _R],
    find: Callable[[], _R | None],
    *,
    in_use: Callable[[RequestRejectedError], bool],
    is_ours: Callable[[_R], bool] = lambda _: True,
    confirm: Callable[[], None] = lambda: None,
    on_unknown: Callable[[OutcomeUnknownError], None] = lambda _: None,
    max_sends: int = MAX_UNKNOWN_SENDS,
) -> CreateResult[_R]:
    """
    Send ``create`` until its outcome is known; look up with ``find`` before every resend.

    :param in_use: whether a refusal says the record already exists (then it is looked up, and
        is someone else's unless an earlier send's outcome was unknown and ``is_ours`` holds).
        Other refusals, and transient failures, propagate.
    :param is_ours: whether a found record holds what was sent (a sign-up meanwhile does not).
    :param confirm: called when a look-up finds a write whose answer was lost (the write landed).
    :param on_unknown: called on each unknown outcome, before the look-up (for logging).
    """
    single = _Single(create, find, in_use, is_ours, confirm, on_unknown)
    if max_sends < 1:  # no send allowed: nothing is known
        return single.result
    deliver_once([None], single, max_sends=max_sends)
    return single.result


class _Single(BatchEndpoint[None, _R]):
    """:func:`create_once` as a one-row endpoint: every settlement is its one result."""

    def __init__(
        self,
        create: Callable[[], _R],
        find: Callable[[], _R | None],
        in_use: Callable[[RequestRejectedError], bool],
        is_ours: Callable[[_R], bool],
        confirm: Callable[[], None],
        on_unknown: Callable[[OutcomeUnknownError], None],
    ) -> None:
        self.create, self.find, self.in_use, self.is_ours = create, find, in_use, is_ours
        self.confirm, self.log_unknown = confirm, on_unknown
        self.unknown = False
        self.result: CreateResult[_R] = CreateResult(Settled.UNKNOWN)

    def send(self, rows: list[None]) -> _R:
        return self.create()

    def accepted(self, rows: list[None], answer: _R) -> list[None]:
        self.result = CreateResult(Settled.CREATED, answer)
        return []

    def on_unknown(self, exc: OutcomeUnknownError) -> None:
        self.log_unknown(exc)
        self.unknown = True

    def look_up(self, rows: list[None]) -> list[None]:
        found = self.find()
        if found is None:
            return rows
        if not self.is_ours(found):
            self.result = CreateResult(Settled.EXISTS, found, looked_up=True)
        else:
            self.confirm()
            self.result = CreateResult(Settled.CREATED, found, looked_up=True)
        return []

    def refuse_one(self, row: None, exc: RequestRejectedError) -> None:
        if not self.in_use(exc):
            raise exc
        found = self.find()
        if found is not None and self.unknown and self.is_ours(found):
            self.confirm()  # an earlier send whose answer was lost got there after all
            self.result = CreateResult(Settled.CREATED, found, looked_up=True)
        else:
            self.result = CreateResult(Settled.EXISTS, found, looked_up=True, refusal=exc)

    def give_up(self, row: None, sends: int) -> None:
        self.result = CreateResult(Settled.UNKNOWN)


def resend_idempotent(send: Callable[[], _R], *, sends: int = IDEMPOTENT_SENDS) -> _R:
    """
    Send an idempotent write; after a lost answer send it again, up to ``sends`` times in all.

    The last send's unknown outcome, and every other error, propagate.
    """
    for _send in range(sends - 1):
        try:
            return send()
        except OutcomeUnknownError:
            continue
    return send()


def split_refused(
    exc: RequestRejectedError,
    batch: Sequence[_T],
    *,
    resend_one: Callable[[_T], None],
    refuse_one: Callable[[_T, RequestRejectedError], None],
    settle: Callable[[list[_T], RequestRejectedError], list[_T]] | None = None,
) -> None:
    """
    Settle a refused batch: one item is refused; several are sent again one by one.

    A refused batch may hold a single bad item; sent alone, the others go through. A status about
    the whole run (:data:`FATAL_STATUSES`) is raised instead. Endpoints whose refused batch may
    have written some items (customers) pass ``settle``: it looks them up, settles what it finds
    (as someone else's, :func:`attribute_found`) and returns the items still to send.
    """
    if exc.status in FATAL_STATUSES:
        raise exc
    if len(batch) == 1:
        refuse_one(batch[0], exc)
        return
    for item in settle(list(batch), exc) if settle is not None else batch:
        resend_one(item)


def attribute_found(target: Mapping[str, Any], current: Mapping[str, Any], *, committed: bool) -> bool:
    """
    Whether a customer found by the look-up after a send was created by that send (this run).

    Only a send whose outcome was unknown may have written the row (``committed``); after a
    definitive refusal (4xx) a found customer is someone else's (another run, a sign-up), even on
    a store that wrote part of a refused batch: it said no. Even after an unknown outcome the
    customer must hold what was sent (``target``): one whose fields differ signed up meanwhile.
    """
    if not committed:
        return False
    try:
        return not customer_differs(target, current)
    except Exception:
        return True


def in_use_text(exc: RequestRejectedError) -> str:
    """Return the lower-cased messages of ``exc`` saying an e-mail is already taken, or ``""``."""
    return email_in_use_text(exc.status, [exc.title, *map(str, exc.errors.values())])
