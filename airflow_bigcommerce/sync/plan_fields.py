"""
Decide what one contact's metafields and segments need: pure comparisons, no requests.

**Segments.** The customer look-up carries ``shopper_profile_id`` and ``segment_ids`` (asked for when
``segment`` is mapped), so memberships are compared here: the customer joins each named segment it
is not in; in ``upsert`` it leaves the managed segments (``managed_segments``) the row does not name.
A segment outside ``managed_segments`` is never left. An empty cell under ``clear`` leaves every
managed segment; under ``keep`` nothing is planned. ``insert`` only joins (a customer the store
holds keeps every membership it has).

**Metafields** are not in the customer look-up: they are compared at delivery
(:mod:`.deliver_fields`), after one look-up of the batch's customers' metafields. A customer this
run creates has none, so its metafields are created without a look-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_bigcommerce.models.field_targets import FieldValues, MetafieldKey
from airflow_bigcommerce.sync.outcome import PartOutcome, Status, part, store
from airflow_bigcommerce.sync.store_context import StoreContext

__all__ = ["METAFIELDS_PART", "SEGMENTS_PART", "FieldPlan", "plan_fields"]

#: The part names of the report and the XCom summary.
METAFIELDS_PART = "metafields"
SEGMENTS_PART = "segments"
_INSERT_MODE_SEGMENTS = store("insert mode leaves no segment")


@dataclass
class FieldPlan:
    """
    The metafield and segment writes one contact needs.

    :param metafields: ``(namespace, key)`` -> text, or ``None`` to delete it, compared at delivery.
    :param new_customer: the run creates the customer: it has no metafields to look up.
    :param upsert: stored metafields that differ may be changed or deleted (not in ``insert``).
    :param profile_id: the customer's shopper profile, when it has one.
    :param join: segment ids to add the customer to.
    :param leave: managed segment ids to take it out of.
    :param segment_change: what joining and leaving changes, by segment name (for the report).
    """

    metafields: dict[MetafieldKey, str | None] = field(default_factory=dict)
    new_customer: bool = False
    upsert: bool = False
    profile_id: str | None = None
    join: tuple[str, ...] = ()
    leave: tuple[str, ...] = ()
    segment_change: str = ""

    def pending(self) -> bool:
        """Whether a request is needed (metafields are compared at delivery, so any counts)."""
        creates = any(v is not None for v in self.metafields.values())
        return bool((self.metafields and (creates or not self.new_customer)) or self.join or self.leave)


def plan_fields(
    values: FieldValues,
    customer: Mapping[str, Any] | None,
    context: StoreContext,
    *,
    upsert: bool,
    outcomes: dict[str, PartOutcome],
) -> FieldPlan | None:
    """
    Plan a contact's metafields and segments against its stored customer (``None``: the run creates it).

    Parts settled without a request go to ``outcomes``. Return ``None`` when there is nothing to do.
    """
    new = customer is None
    plan = FieldPlan(
        metafields={k: v for k, v in values.metafields.items() if v is not None or not new},
        new_customer=new,
        upsert=upsert,
    )
    if values.segments is not None:
        current = set() if customer is None else {str(s) for s in customer.get("segment_ids") or ()}
        profile = None if customer is None else customer.get("shopper_profile_id")
        plan.profile_id = str(profile) if profile else None
        wanted = values.segment_ids
        plan.join = tuple(s for s in wanted if s not in current)
        managed = context.segments.managed_ids if context.segments is not None else frozenset()
        leave = tuple(sorted((managed & current) - set(wanted)))
        if leave and not upsert:
            if not plan.join:
                outcomes[SEGMENTS_PART] = part(Status.SKIPPED, _INSERT_MODE_SEGMENTS)
        else:
            plan.leave = leave
        names = dict(zip(wanted, values.segments, strict=False))
        said = [f"joined {', '.join(names[s] for s in plan.join)}"] if plan.join else []
        if plan.leave and context.segments is not None:
            said.append(f"left {', '.join(context.segments.name_of(s) for s in plan.leave)}")
        plan.segment_change = "; ".join(said)
        if not plan.join and not plan.leave and SEGMENTS_PART not in outcomes:
            outcomes[SEGMENTS_PART] = part(Status.UNCHANGED)
    if new and values.metafields and not plan.metafields:
        outcomes[METAFIELDS_PART] = part(Status.UNCHANGED)
    return plan if plan.pending() else None
