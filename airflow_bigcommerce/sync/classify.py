"""
Decide what a looked-up row needs against what the store holds: a create, an update, only parts, or nothing.

Pure (no requests), run by the calling thread for each row of a looked-up chunk. Insert mode skips
a customer the store holds; upsert and update skip it when unchanged. Either way its parts may still
need writes (a parts-only job). Update mode creates nothing: a row without a customer is skipped.
The plan of each part comes from :mod:`.plan`; the customer fields an empty cell clears
(``Item.cleared``, ``empty_values="clear"``) are compared like the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from airflow_bigcommerce.models.contact import customer_differs
from airflow_bigcommerce.sync.counting import AMBIGUOUS
from airflow_bigcommerce.sync.outcome import Status, data, part, store
from airflow_bigcommerce.sync.plan import Mode, plan_existing, plan_new
from airflow_bigcommerce.sync.rows import Item, Line, as_id
from airflow_bigcommerce.sync.store_context import StoreContext

#: ``create``/``update``: queue the customer write; ``parts``: only parts (``line`` is the customer's);
#: ``settled``: nothing to write (``line`` still gets its plan's parts folded in); ``done``: final.
Need = Literal["create", "update", "parts", "settled", "done"]
#: Why update mode skips a row the store has no customer for.
NOT_IN_STORE = store("not in the store (update mode creates nothing)")


class Classified(NamedTuple):
    """What a row needs, and its line when it needs no customer write."""

    need: Need
    line: Line | None = None


def classify(item: Item, existing: Mapping[str, Any] | None, context: StoreContext, mode: Mode) -> Classified:
    """Classify a row against its stored customer (``None``: none); set its body, plan and customer id."""
    channel = context.channel_id
    if existing is None:
        return _classify_new(item, context, mode)
    if AMBIGUOUS in existing:
        ids = ", ".join(str(i) for i in existing[AMBIGUOUS])
        reason = store(f"ambiguous: customers {ids} can all log in on channel {channel} with this e-mail")
        return Classified("done", item.line(Status.REJECTED, reason))
    cid = as_id(existing.get("id"))
    if item.cleared:
        item.target = {**item.target, **item.cleared}
    try:
        plan = (
            None
            if item.parts is None
            else plan_existing(item.parts, existing, context, mode, recorded=item.address_id)
        )
        group_mapped = item.parts is not None and item.parts.group is not None
        differs = customer_differs(item.target, existing) if mode != "insert" or group_mapped else {}
    except Exception as exc:
        reason = data(f"could not compare with the stored customer: {type(exc).__name__}")
        return Classified("done", item.line(Status.REJECTED, reason, cid))
    changed = {} if mode == "insert" else differs
    if plan is not None:
        changed = {**changed, **plan.customer_fields}
    if plan is not None and group_mapped and mode == "insert" and "customer_group_id" in differs:
        plan.outcomes["group"] = part(Status.SKIPPED, store("insert mode changes no stored customer"))
    item.plan = plan
    item.customer_id = cid
    if changed:
        item.body = {"id": cid, **changed}
        return Classified("update")
    base = item.exists(cid) if mode == "insert" else item.line(Status.SKIPPED, store("unchanged"), cid)
    if plan is not None and plan.pending(context):
        return Classified("parts", base)
    return Classified("settled", base)


def _classify_new(item: Item, context: StoreContext, mode: Mode) -> Classified:
    """Classify a row the store has no customer for: a create, or (update mode) skipped."""
    if mode == "update":
        return Classified("done", item.line(Status.SKIPPED, NOT_IN_STORE))
    if item.parts is not None:
        inline, item.plan = plan_new(item.parts, context)
        item.body = {**item.target, **inline, **channel_fields(context)}
    elif context.channel_id is not None:
        item.body = {**item.target, **channel_fields(context)}
    return Classified("create")


def channel_fields(context: StoreContext) -> dict[str, Any]:
    """Return what a new customer carries on a channel: where it signed up, and where it may log in."""
    if context.channel_id is None:
        return {}
    fields: dict[str, Any] = {"origin_channel_id": context.channel_id}
    if not context.global_logins:
        fields["channel_ids"] = [context.channel_id]
    return fields
