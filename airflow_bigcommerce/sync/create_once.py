"""
Create a record at most once: the one path for ``CreateCustomerOperator`` (V2 and V3) and the sync.

A write is never resent blindly. After an unknown outcome (timeout, dropped connection, 5xx) the
record is looked up first; only when the look-up does not find it is the write sent again, at most
:data:`MAX_UNKNOWN_SENDS` times (a safety net: the client's retry budget, in time, ends sooner and
raises a transient error). A definitive refusal (4xx) writes nothing: a record found after it was
not created by this send. Who created a record a look-up finds is decided by :func:`attribute_found`
(single records) and :func:`committed_prefix` (a refused batch); the sync's batch delivery
(:mod:`.deliver_customers`) and part delivery (:mod:`.deliver_parts`) follow the same rules and bound.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from airflow_bigcommerce.api import FATAL_STATUSES, email_in_use_text
from airflow_bigcommerce.models.contact import customer_differs
from airflow_bigcommerce.sync.client import OutcomeUnknownError, RequestRejectedError

#: Sends of one write whose outcome stayed unknown before it is given up (reported failed, or the
#: task fails). A safety net for clients without a time budget: the hook's retry budget ends sooner.
MAX_UNKNOWN_SENDS = 50

_R = TypeVar("_R")
_T = TypeVar("_T")


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
    unknown = False
    for _send in range(max_sends):
        try:
            return CreateResult(Settled.CREATED, create())
        except OutcomeUnknownError as exc:
            on_unknown(exc)
            unknown = True
            found = find()
            if found is None:
                continue
            if not is_ours(found):
                return CreateResult(Settled.EXISTS, found, looked_up=True)
            confirm()
            return CreateResult(Settled.CREATED, found, looked_up=True)
        except RequestRejectedError as exc:
            if not in_use(exc):
                raise
            found = find()
            if found is not None and unknown and is_ours(found):
                confirm()  # an earlier send whose answer was lost got there after all
                return CreateResult(Settled.CREATED, found, looked_up=True)
            return CreateResult(Settled.EXISTS, found, looked_up=True, refusal=exc)
    return CreateResult(Settled.UNKNOWN)


def split_refused(
    exc: RequestRejectedError,
    batch: Sequence[_T],
    *,
    resend_one: Callable[[_T], None],
    refuse_one: Callable[[_T, RequestRejectedError], None],
) -> None:
    """
    Settle a refused batch: one item is refused; several are sent again one by one.

    A refused batch may hold a single bad item; sent alone, the others go through. A status about
    the whole run (:data:`FATAL_STATUSES`) is raised instead. Endpoints whose refused batch may
    have written some items (customer creates) look those up first (:func:`committed_prefix`).
    """
    if exc.status in FATAL_STATUSES:
        raise exc
    if len(batch) == 1:
        refuse_one(batch[0], exc)
        return
    for item in batch:
        resend_one(item)


def attribute_found(target: Mapping[str, Any], current: Mapping[str, Any], *, committed: bool) -> bool:
    """
    Whether a customer found by the look-up after a send was created by that send (this run).

    Only a send that may have written the row counts (``committed``: an unknown outcome, or a
    refused batch that a store committed in part before its first refused row); a definitive
    refusal of the row itself writes nothing. Even then the customer must hold what was sent
    (``target``): one whose fields differ was created by someone else meanwhile (a sign-up).
    """
    if not committed:
        return False
    try:
        return not customer_differs(target, current)
    except Exception:
        return True


def committed_prefix(exc: RequestRejectedError, match_keys: Sequence[str], found: Mapping[str, Any]) -> int:
    """
    Return how many leading rows of a refused batch its request may have written (usually 0).

    A store that commits a refused batch at all commits it in order up to the first row it refuses
    (:func:`first_refused_row`), so every row before that one is then in the store. If only some
    are, the request wrote none of them: those found were created by someone else meanwhile.

    The one case no look-up can tell apart: another writer creating that whole prefix, with the
    data this run sent, between the refusal and the look-up. :class:`RefusalEvidence` narrows it.
    """
    first = first_refused_row(exc, match_keys)
    return first if all(mk in found for mk in match_keys[:first]) else 0


class RefusalEvidence:
    """
    What a run's refused batches have shown about the store; thread-safe (pool workers share it).

    Once a refused batch's prefix is missing from the store, the store is known to refuse batches
    whole: from then on no found row of a refused batch is this run's (another run racing over
    the same contacts creates them), so :meth:`committed_prefix` returns 0.
    """

    def __init__(self) -> None:
        self._whole = threading.Event()

    @property
    def refuses_whole(self) -> bool:
        """Whether a refused batch has shown that the store writes nothing of a refused batch."""
        return self._whole.is_set()

    def committed_prefix(
        self, exc: RequestRejectedError, match_keys: Sequence[str], found: Mapping[str, Any]
    ) -> int:
        """Return :func:`committed_prefix`, 0 once the store is known to refuse batches whole."""
        if self._whole.is_set():
            return 0
        first = first_refused_row(exc, match_keys)
        committed = committed_prefix(exc, match_keys, found)
        if first and not committed:
            self._whole.set()
        return committed


def first_refused_row(exc: RequestRejectedError, match_keys: Sequence[str]) -> int:
    """
    Return the position of the first row of a batch that a refusal names, or 0 if it names none.

    Rows are named by the index of a V3 error key (``3.email``) or by an e-mail the store says is
    in use. A refusal naming no row wrote nothing.
    """
    positions = [len(match_keys)]
    for key in exc.errors:
        head = str(key).partition(".")[0]
        if head.isdigit() and int(head) < len(match_keys):
            positions.append(int(head))
    text = in_use_text(exc)
    if text:
        positions += [i for i, mk in enumerate(match_keys) if _names(text, mk)]
    first = min(positions)
    return 0 if first == len(match_keys) else first


def in_use_text(exc: RequestRejectedError) -> str:
    """Return the lower-cased messages of ``exc`` saying an e-mail is already taken, or ``""``."""
    return email_in_use_text(exc.status, [exc.title, *map(str, exc.errors.values())])


def _names(text: str, match_key: str) -> bool:
    """Whether lower-cased ``text`` names the e-mail ``match_key`` (not merely a longer one)."""
    return re.search(rf"(?<![\w.+-]){re.escape(match_key)}(?![\w-])", text) is not None
