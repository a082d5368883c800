"""
How the metafields or the segments of each contact of a batch ended: one part outcome per contact.

Shared by :mod:`.deliver_fields` and :mod:`.deliver_segments`: each write records a failure or a
refusal (a failure outranks a refusal), what it wrote, or that ``insert`` mode skipped a change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from airflow_bigcommerce.sync.outcome import PartOutcome, Status, data, part, store
from airflow_bigcommerce.sync.plan_fields import FieldPlan
from airflow_bigcommerce.sync.rows import Item

__all__ = ["FieldSettle", "Outcomes", "field_plan"]

Outcomes = dict[str, PartOutcome]
_INSERT_MODE_VALUE = store("insert mode changes no stored value")


def field_plan(item: Item) -> FieldPlan:
    """Return an item's field plan (every item handed to the field deliveries has one)."""
    assert item.plan is not None
    assert item.plan.fields is not None
    return item.plan.fields


@dataclass
class FieldSettle:
    """How a part of each contact went: its worst outcome so far, what was written, what was skipped."""

    part: str
    bad: dict[int, PartOutcome] = field(default_factory=dict)
    wrote: dict[int, list[str]] = field(default_factory=dict)
    skipped: set[int] = field(default_factory=set)

    def worse(self, item: Item, outcome: PartOutcome) -> None:
        """Record a failure or refusal (a failure outranks a refusal)."""
        current = self.bad.get(item.index)
        if current is None or (current.status is Status.REJECTED and outcome.status is Status.FAILED):
            self.bad[item.index] = outcome

    def did(self, item: Item, what: str) -> None:
        """Record that a write of ``item`` landed (``what``: the metafield or membership change)."""
        self.wrote.setdefault(item.index, []).append(what)

    def finish(self, items: Iterable[Item], out: dict[int, Outcomes], *, dry_run: bool) -> None:
        """Settle each item's part: failed or rejected, else created or updated, else unchanged."""
        for item in items:
            if item.index in self.bad:
                out[item.index][self.part] = self.bad[item.index]
                continue
            wrote = self.wrote.get(item.index)
            if wrote:
                new = field_plan(item).new_customer
                status = (
                    (Status.WOULD_CREATE if new else Status.WOULD_UPDATE)
                    if dry_run
                    else (Status.CREATED if new else Status.UPDATED)
                )
                out[item.index][self.part] = part(status, None if new else data(", ".join(wrote)))
            elif item.index in self.skipped:
                out[item.index][self.part] = part(Status.SKIPPED, _INSERT_MODE_VALUE)
            else:
                out[item.index].setdefault(self.part, part(Status.UNCHANGED))
