"""
The two records a CRM row passes through in a sync, shared by every step of the engine.

An :class:`Item` is a valid row on its way to the store; a :class:`Line` is how a row settled. Both
are internal: results, report and logs only ever see a line's key, e-mail, outcome and reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from airflow_bigcommerce.sync.result import Outcome

if TYPE_CHECKING:
    from airflow_bigcommerce.models.parts import ContactParts
    from airflow_bigcommerce.sync.parts import PartPlan

#: Row keys, e-mails and reasons are clipped to this many characters in results, report and logs.
CLIP = 320


def clip(text: str, limit: int = CLIP) -> str:
    """Bound a text that reaches results, report or logs (a CRM cell can be megabytes)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failure_reason(what: str, exc: BaseException) -> str:
    """Say why a row was not delivered (``what`` failed, and the client's message, never a payload)."""
    return clip(f"{what}: {exc}" if str(exc) else f"{what}: {type(exc).__name__}")


def as_id(value: object) -> int | None:
    """Return a customer id the store gave, or ``None`` (``bool`` is an ``int`` but never an id)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def changed_reason(body: Mapping[str, Any]) -> str:
    """Name the fields an update sends, for the report (values may be personal: never shown)."""
    return clip("changed: " + ", ".join(sorted(k for k in body if k != "id")))


class Line(NamedTuple):
    """The settled outcome of one input row (report line, counters, rejection entry)."""

    pos: int  # 1-based row number: the report is written in input order
    key: str
    email: str | None
    outcome: Outcome
    reason: str | None = None
    customer_id: int | None = None
    parts: Mapping[str, str] | None = None  # part -> outcome, when field_map maps parts


@dataclass(slots=True)
class Item:
    """A valid, de-duplicated row on its way to the store; owned by one batch at a time."""

    index: int
    key: str
    email: str
    mk: str
    target: Mapping[str, Any]  # the mapped payload: may hold a password, never leaves the engine
    body: Mapping[str, Any]  # what is sent: the payload (create) or {"id", **changed} (update)
    customer_id: int | None = None
    unknown: int = 0  # sends whose outcome stayed unknown
    parts: ContactParts | None = None  # the contact's mapped parts, when field_map maps any
    plan: PartPlan | None = None  # what its parts need beyond the customer write
    created: Mapping[str, Any] | None = None  # the customer as the create answered (its address ids)

    def line(self, outcome: Outcome, reason: str | None = None, customer_id: int | None = None) -> Line:
        """Settle this row."""
        cid = customer_id if customer_id is not None else self.customer_id
        return Line(self.index, self.key, clip(self.email), outcome, reason, cid)

    def exists(self, customer_id: int | None) -> Line:
        """Settle this row as skipped: the store already holds a customer with its e-mail."""
        return self.line("skipped", f"exists in store (id {customer_id})", customer_id)
