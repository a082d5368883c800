"""
The two records a CRM row passes through in a sync, shared by every step of the engine.

An :class:`Item` is a valid row on its way to the store; a :class:`Line` is how a row settled (a
typed outcome, see :mod:`.outcome`). Both are internal: results, report and logs only ever see a
line's key, e-mail, and its outcome and reason rendered as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from airflow_bigcommerce.sync.outcome import (
    CLIP,
    PartOutcome,
    Reason,
    Status,
    clip,
    data,
    failure_reason,
    store,
)

if TYPE_CHECKING:
    from airflow_bigcommerce.models.contact_parts import ContactParts
    from airflow_bigcommerce.sync.plan import PartPlan

__all__ = ["CLIP", "Item", "Line", "as_id", "changed_reason", "clip", "failure_reason"]


def as_id(value: object) -> int | None:
    """Return a customer id the store gave, or ``None`` (``bool`` is an ``int`` but never an id)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def changed_reason(body: Mapping[str, Any]) -> Reason:
    """Name the fields an update sends, for the report (values may be personal: never shown)."""
    return data(clip("changed: " + ", ".join(sorted(k for k in body if k != "id"))))


class Line(NamedTuple):
    """The settled outcome of one input row (report line, counters, rejection entry)."""

    pos: int  # 1-based row number: the report is written in input order
    key: str
    email: str | None
    outcome: Status  # one of outcome.ROW_STATUSES
    reason: Reason | None = None
    customer_id: int | None = None
    parts: Mapping[str, PartOutcome] | None = None  # part -> outcome, when field_map maps parts
    duplicate_of: int | None = None  # a duplicate whose first row is not settled yet: that row's pos
    address_id: int | None = None  # the sync's address of the customer, when known (the ledger keeps it)


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
    address_id: int | None = None  # the sync's address as the ledger recorded it for this customer
    cleared: Mapping[str, Any] = field(default_factory=dict)  # customer fields an empty cell clears

    def line(self, outcome: Status, reason: Reason | None = None, customer_id: int | None = None) -> Line:
        """Settle this row."""
        cid = customer_id if customer_id is not None else self.customer_id
        return Line(self.index, self.key, clip(self.email), outcome, reason, cid)

    def exists(self, customer_id: int | None) -> Line:
        """Settle this row as skipped: the store already holds a customer with its e-mail."""
        return self.line(Status.SKIPPED, store(f"exists in store (id {customer_id})"), customer_id)
