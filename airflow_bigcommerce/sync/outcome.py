"""
Outcomes are values: a status, and a reason that carries its kind; counters read the status only.

A row ends as one of five statuses (``created``, ``updated``, ``skipped``, ``rejected``, ``failed``);
each mapped part of it as one of those or ``unchanged``, ``subscribed``, ``unsubscribed``,
``deleted`` (the sync's own address, ``empty_values="clear"``) or a dry run's ``would ...``. A
reason says why, and of which kind it is: the row's data (the CRM must change it), the store's state
(already there, ambiguous) or transient (a later run can deliver it).
The texts users see (report lines, XCom summary) are rendered from these values at the edge
(:mod:`.report`, :mod:`.result`); nothing parses them back.

One row's outcome from its parts' outcomes: a row is ``failed`` when any part failed (transient),
else ``rejected`` when the store refused a part, else its customer's outcome, except that an
existing customer whose parts were written counts as ``updated``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_bigcommerce.sync.client import RequestRejectedError
    from airflow_bigcommerce.sync.rows import Line

#: Row keys, e-mails and reasons are clipped to this many characters in results, report and logs.
CLIP = 320


def clip(text: str, limit: int = CLIP) -> str:
    """Bound a text that reaches results, report or logs (a CRM cell can be megabytes)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Status(str, Enum):
    """What happened to a row or to one of its parts; the value is the word users read."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    REJECTED = "rejected"
    FAILED = "failed"
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    DELETED = "deleted"
    WOULD_CREATE = "would create"
    WOULD_UPDATE = "would update"
    WOULD_SET = "would set"
    WOULD_WRITE = "would write"
    WOULD_SUBSCRIBE = "would subscribe"
    WOULD_UNSUBSCRIBE = "would unsubscribe"
    WOULD_DELETE = "would delete"

    @property
    def wrote(self) -> bool:
        """Whether this outcome wrote to the store (or, in a dry run, would have)."""
        return self in _WROTE or self in _WOULD


#: The five statuses a row ends with: they add up to the rows read.
ROW_STATUSES = (Status.CREATED, Status.UPDATED, Status.SKIPPED, Status.REJECTED, Status.FAILED)
_WROTE = frozenset({Status.CREATED, Status.UPDATED, Status.SUBSCRIBED, Status.UNSUBSCRIBED, Status.DELETED})
#: A dry run's statuses: what would have been written.
_WOULD = frozenset(
    {
        Status.WOULD_CREATE,
        Status.WOULD_UPDATE,
        Status.WOULD_SET,
        Status.WOULD_WRITE,
        Status.WOULD_SUBSCRIBE,
        Status.WOULD_UNSUBSCRIBE,
        Status.WOULD_DELETE,
    }
)


class Kind(Enum):
    """Whose matter a reason is: what decides between "retry later" and "the CRM must change"."""

    DATA = "the row's data"
    STORE = "the store's state"
    TRANSIENT = "transient"


@dataclass(frozen=True)
class Reason:
    """Why a row or part ended as it did: the text users read, its kind, and the field it is about."""

    text: str
    kind: Kind
    field: str | None = None  # the target field (``email``, ``attribute.tier``) a data problem is about

    def __str__(self) -> str:
        return self.text


def data(text: str, field: str | None = None) -> Reason:
    """Return a reason about the row's data (a rejection the CRM must fix, what an update changed)."""
    return Reason(text, Kind.DATA, field)


def store(text: str, field: str | None = None) -> Reason:
    """Return a reason about the store's state (the customer exists, is unchanged, is ambiguous)."""
    return Reason(text, Kind.STORE, field)


def transient(text: str) -> Reason:
    """Return a transient reason: the store could not be used; a later run can deliver the row."""
    return Reason(text, Kind.TRANSIENT)


def failure_reason(what: str, exc: BaseException, limit: int = CLIP) -> Reason:
    """Say why a row was not delivered (``what`` failed, and the client's message, never a payload)."""
    return transient(clip(f"{what}: {exc}" if str(exc) else f"{what}: {type(exc).__name__}", limit))


@dataclass(frozen=True)
class PartOutcome:
    """
    One part's outcome: its status, and a reason (``status: reason``) or a note (``status note``).

    A note is not a cause but a detail: ``unchanged (its id recorded)``, ``would write 3``.
    """

    status: Status
    reason: Reason | None = None
    note: str | None = None

    def __str__(self) -> str:
        text = self.status.value
        if self.note:
            text += " " + self.note
        if self.reason is not None:
            text += ": " + self.reason.text
        return text


def part(status: Status, reason: Reason | None = None) -> PartOutcome:
    """Return a part outcome (a shorthand)."""
    return PartOutcome(status, reason)


def refused_part(exc: RequestRejectedError, prefix: str = "") -> PartOutcome:
    """Return a part the store refused (4xx): its data must change; the reason quotes the store."""
    said = [f"{k}: {v}" for k, v in exc.errors.items()] or [exc.title or str(exc) or "refused"]
    return part(Status.REJECTED, data(prefix + clip(f"{'; '.join(said)} (HTTP {exc.status})", 500)))


def failed_part(what: str, exc: BaseException) -> PartOutcome:
    """Return a part not delivered for a transient reason (its text clipped as one, ``failed: ...``)."""
    return part(Status.FAILED, failure_reason(what, exc, CLIP - len("failed: ")))


def failed_part_because(text: str) -> PartOutcome:
    """Return a part not delivered for a transient reason given as text."""
    return part(Status.FAILED, transient(text))


def rendered(parts: Mapping[str, PartOutcome]) -> dict[str, str]:
    """Return part -> outcome text, as the report shows it."""
    return {name: str(outcome) for name, outcome in parts.items()}


def part_status(outcome: str) -> str:
    """
    Return the status word of a part outcome as a report file spells it (``would create``, ...).

    For readers of a written report (the demo, tests); the engine counts by :class:`Status`.
    """
    words = outcome.split(":", 1)[0].split(" ", 2)
    return " ".join(words[:2]) if words[0] == "would" and len(words) > 1 else words[0]


def combine(base: Line, parts: Mapping[str, PartOutcome], *, dry_run: bool = False) -> Line:
    """Return the row's line: ``base`` (its customer's outcome) with ``parts`` folded in."""
    every = {"customer": PartOutcome(base.outcome, base.reason), **parts}
    if base.outcome in (Status.REJECTED, Status.FAILED) or not parts:
        return base._replace(parts=every)
    for worst, kind in ((Status.FAILED, Kind.TRANSIENT), (Status.REJECTED, Kind.DATA)):
        bad = [name for name, outcome in parts.items() if outcome.status is worst]
        if bad:
            detail = "; ".join(f"{name} {parts[name]}" for name in bad)
            done = f" (customer {base.outcome.value})" if base.outcome in _WROTE else ""
            first = parts[bad[0]].reason
            reason = Reason(clip(detail + done, 1000), first.kind if first is not None else kind)
            return base._replace(outcome=worst, reason=reason, parts=every)
    written = [name for name, outcome in parts.items() if outcome.status.wrote]
    if base.outcome is Status.SKIPPED and written:
        said = "dry run: would change " if dry_run else "changed: "
        return base._replace(outcome=Status.UPDATED, reason=data(said + ", ".join(written)), parts=every)
    return base._replace(parts=every)
