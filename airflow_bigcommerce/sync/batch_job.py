"""
One write batch as a pool worker delivers it: the customer write, then the parts of the rows it settled.

**Threads.** A :class:`BatchJob` is made once per run (after the store is opened) and never changes;
pool workers call it at the same time. It keeps no state of its own: what it calls is thread-safe
(the counting client, the subscriber book, the deliverers), and each :class:`~.rows.Item` belongs to
one job at a time: the calling thread hands the items over with the job and takes them back with the
lines (:class:`Job`). Everything else of a run (counters, report order, waiting rows) is the calling
thread's (``engine._Run``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

from airflow_bigcommerce.models.contact_parts import GROUP_TARGET
from airflow_bigcommerce.sync.deliver_customers import Deliverer, WriteKind
from airflow_bigcommerce.sync.deliver_parts import PartDeliverer
from airflow_bigcommerce.sync.outcome import PartOutcome, Status, combine, part
from airflow_bigcommerce.sync.rows import Item, Line

#: The jobs a batch can be: a customer write (and its parts after it), or only the parts.
JobKind = Literal["create", "update", "parts"]


class Job(NamedTuple):
    """A batch handed to a worker: its kind, its items, and (parts-only) their customers' lines."""

    kind: JobKind
    items: list[Item]
    bases: list[Line]


@dataclass(frozen=True)
class BatchJob:
    """
    Deliver a :class:`Job` and settle every row of it, parts folded in.

    :param deliver: the customer write of each kind.
    :param parts: the part delivery, when ``field_map`` maps parts.
    :param dry_run: parts settled without a request say what they *would* do.
    """

    deliver: Mapping[WriteKind, Deliverer]
    parts: PartDeliverer | None
    dry_run: bool

    def __call__(self, job: Job) -> tuple[list[Line], int]:
        """Return the batch's settled lines and how many rows a look-up resolved after an unknown outcome."""
        if job.kind == "parts":
            lines, resolved = list(job.bases), 0
        else:
            lines, resolved = self.deliver[job.kind](job.items)
        if self.parts is None:
            return lines, resolved
        by_index = {item.index: item for item in job.items}
        ready: list[Item] = []
        for line in lines:
            item = by_index[line.pos]
            # a create answered "skipped" (the e-mail was taken meanwhile): not ours, parts left alone
            settled = line.outcome in (Status.CREATED, Status.UPDATED) or (
                line.outcome is Status.SKIPPED and job.kind == "parts"
            )
            if item.plan is not None and settled and line.customer_id:
                item.customer_id = line.customer_id
                ready.append(item)
        outcomes = self.parts(ready) if ready else {}
        return [self.finish(by_index[line.pos], line, outcomes.get(line.pos, {})) for line in lines], resolved

    def finish(self, item: Item, line: Line, delivered: Mapping[str, PartOutcome]) -> Line:
        """Return a row's line with its parts folded in: settled by the plan, then delivered."""
        if item.parts is None:
            return line
        combined = combine(line, {**self._settled_parts(item, line), **delivered}, dry_run=self.dry_run)
        address_id = item.plan.sync_address() if item.plan is not None else None
        return combined if address_id is None else combined._replace(address_id=address_id)

    def _settled_parts(self, item: Item, line: Line) -> dict[str, PartOutcome]:
        """Return the parts settled without a request: the plan's, and group and attributes on a create."""
        if item.parts is None:
            return {}
        settled = dict(item.plan.outcomes) if item.plan is not None else {}
        if line.outcome not in (Status.CREATED, Status.UPDATED, Status.SKIPPED):
            return {}
        created = line.outcome is Status.CREATED
        if item.parts.group is not None or GROUP_TARGET in item.parts.cleared:
            if created and item.parts.group is not None:
                settled["group"] = part(Status.CREATED if not self.dry_run else Status.WOULD_SET)
            elif "customer_group_id" in item.body and item.body is not item.target:
                settled["group"] = part(Status.UPDATED if not self.dry_run else Status.WOULD_UPDATE)
            else:
                settled.setdefault("group", part(Status.UNCHANGED))
        if created and item.parts.attributes:
            settled["attributes"] = part(Status.CREATED if not self.dry_run else Status.WOULD_CREATE)
        for name, key, mapped in (
            ("form_fields", "form_fields", bool(item.parts.form_fields)),
            ("store_credit", "store_credit_amounts", item.parts.store_credit is not None),
        ):
            if not mapped:
                continue
            if key in item.body and created:
                settled[name] = part(Status.CREATED if not self.dry_run else Status.WOULD_SET)
            elif key in item.body and line.outcome is Status.UPDATED:
                settled[name] = part(Status.UPDATED if not self.dry_run else Status.WOULD_UPDATE)
            else:
                settled.setdefault(name, part(Status.UNCHANGED))
        return settled
