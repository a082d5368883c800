"""
Decide, for one contact, what each part needs: pure comparisons, no requests.

A new customer carries its address and attribute values inline in its create request; the only
follow-ups are recording its address's id and its newsletter consent. An existing customer is
compared part by part, so an unchanged contact costs no write and one changed part costs only that
part's write.

**Which address is the sync's.** BigCommerce has no field to mark an address as written by an
integration, and customers add addresses of their own. The sync records the id of the address it
manages in the customer attribute ``crm_sync_address_id`` (created once per store). Per customer:

1. the address with the recorded id is the sync's: it is compared with the CRM's and updated in
   place (PUT by id) only when it differs; in ``insert`` mode it is never changed;
2. without a record (or when that address was deleted), an address equal to the CRM's after
   normalisation is adopted (its id recorded; no address write);
3. otherwise the CRM's address is added and its id recorded.

Every other address (a shopper's own) is never touched or deleted. A shopper who edits the sync's
address sees the CRM's version come back on the next run where the CRM's differs: the CRM is the
source of truth for the one address it manages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_bigcommerce.api import INLINE_ATTRIBUTES_MAX
from airflow_bigcommerce.models.address import address_changes, address_key
from airflow_bigcommerce.models.contact_parts import ContactParts
from airflow_bigcommerce.sync.outcome import PartOutcome, Status, data, part, store
from airflow_bigcommerce.sync.plan_fields import FieldPlan, plan_fields
from airflow_bigcommerce.sync.rows import as_id
from airflow_bigcommerce.sync.store_context import StoreContext

#: V3 ``customer_Post`` takes at most this many attribute values inline.
MAX_INLINE_ATTRIBUTES = INLINE_ATTRIBUTES_MAX

Mode = Literal["insert", "upsert"]
_INSERT_MODE_ADDRESS = store("insert mode changes no stored address")
_INSERT_MODE_VALUE = store("insert mode changes no stored value")


@dataclass
class PartPlan:
    """
    The part writes one contact needs beyond its customer write, and the parts already settled.

    :param address_post: the address to add (without ``customer_id``).
    :param address_put: ``(address id, changed fields)`` of the sync's address.
    :param address_record: an address id to record in ``crm_sync_address_id``.
    :param attribute_values: attribute id -> value to write (``PUT /attribute-values``).
    :param newsletter: the consent wanted (compared with the subscriber at delivery), or ``None``.
    :param fields: the metafield and segment writes (:mod:`.plan_fields`), or ``None``.
    :param outcomes: part -> outcome, for the parts settled without a request.
    """

    address_post: dict[str, str] | None = None
    address_put: tuple[int, dict[str, str]] | None = None
    address_record: int | None = None
    attribute_values: dict[int, str] = field(default_factory=dict)
    newsletter: bool | None = None
    outcomes: dict[str, PartOutcome] = field(default_factory=dict)
    fields: FieldPlan | None = None
    #: the address written inline with a new customer: its id is recorded after the create
    inline_address: dict[str, str] | None = None

    def writes(self) -> bool:
        """Whether a part needs a write (the newsletter is decided later, against the subscriber)."""
        return bool(
            self.address_post
            or self.address_put
            or self.address_record is not None
            or self.attribute_values
            or self.inline_address
            or self.fields is not None
        )

    def pending(self) -> bool:
        """Whether anything is left for the part delivery (a write, or the newsletter to compare)."""
        return self.writes() or self.newsletter is not None


def stored_attribute_values(customer: Mapping[str, Any]) -> dict[int, str]:
    """Return attribute id -> value of a customer read with ``include=attributes``."""
    values: dict[int, str] = {}
    for item in customer.get("attributes") or ():
        if isinstance(item, Mapping):
            aid = as_id(item.get("attribute_id"))
            value = item.get("attribute_value", item.get("value"))
            if aid is not None and value is not None:
                values[aid] = str(value)
    return values


def _recorded_address_id(values: Mapping[int, str], context: StoreContext) -> int | None:
    if context.address_attribute_id is None:
        return None
    raw = values.get(context.address_attribute_id, "").strip()
    return int(raw) if raw.isdigit() else None


def find_sync_address(
    addresses: Sequence[Mapping[str, Any]], recorded: int | None, wanted: Mapping[str, str]
) -> tuple[Literal["recorded", "match", "none"], Mapping[str, Any] | None]:
    """Return which stored address is the sync's: the recorded one, else an equal one, else none."""
    if recorded is not None:
        for address in addresses:
            if as_id(address.get("id")) == recorded:
                return "recorded", address
    key = address_key(wanted)
    for address in sorted(addresses, key=lambda a: as_id(a.get("id")) or 0):
        if address_key(address) == key:
            return "match", address
    return "none", None


def plan_new(parts: ContactParts, context: StoreContext) -> tuple[dict[str, Any], PartPlan]:
    """
    Plan a contact whose customer the run creates.

    :return: the fields its create request carries inline (``addresses``, ``attributes``) and the
        follow-ups (recording the address id, attribute values beyond 10, the newsletter).
    """
    inline: dict[str, Any] = {}
    plan = PartPlan(newsletter=parts.newsletter)
    _address_skipped(parts, plan)
    if parts.address is not None:
        inline["addresses"] = [dict(parts.address)]
        plan.inline_address = parts.address
    values = [(context.attribute_ids[name], value) for name, value in parts.attributes.items()]
    sendable = [(aid, value) for aid, value in values if aid > 0]  # < 0: a dry run's would-be attribute
    if sendable:
        inline["attributes"] = [
            {"attribute_id": aid, "attribute_value": value} for aid, value in sendable[:MAX_INLINE_ATTRIBUTES]
        ]
        plan.attribute_values = dict(sendable[MAX_INLINE_ATTRIBUTES:])
    plan.fields = plan_fields(parts.fields, None, context, upsert=False, outcomes=plan.outcomes)
    return inline, plan


def plan_existing(
    parts: ContactParts, customer: Mapping[str, Any], context: StoreContext, mode: Mode
) -> PartPlan:
    """
    Plan a contact whose customer exists: compare each part with the store's copy.

    ``upsert`` writes what differs; ``insert`` only adds what is missing (an address when the sync
    has none, a value the customer lacks, a subscriber), so a retry completes a contact whose
    parts failed after its customer was created, and nothing the store holds is changed.
    """
    plan = PartPlan(newsletter=parts.newsletter)
    values = stored_attribute_values(customer)
    _address_skipped(parts, plan)
    if parts.address is not None:
        addresses = [a for a in customer.get("addresses") or () if isinstance(a, Mapping)]
        kind, address = find_sync_address(addresses, _recorded_address_id(values, context), parts.address)
        if kind == "recorded" and address is not None:
            changes = address_changes(parts.address, address)
            if not changes:
                plan.outcomes["address"] = part(Status.UNCHANGED)
            elif mode == "upsert":
                plan.address_put = (int(address["id"]), changes)
            else:
                plan.outcomes["address"] = part(Status.SKIPPED, _INSERT_MODE_ADDRESS)
        elif kind == "match" and address is not None:
            plan.address_record = int(address["id"])
        else:
            plan.address_post = dict(parts.address)
    for name, value in parts.attributes.items():
        aid = context.attribute_ids[name]
        current = values.get(aid)
        if current is not None and current.strip() == value:
            continue
        if current is not None and mode == "insert":
            plan.outcomes.setdefault("attributes", part(Status.SKIPPED, _INSERT_MODE_VALUE))
            continue
        plan.attribute_values[aid] = value
    if parts.attributes and not plan.attribute_values:
        plan.outcomes.setdefault("attributes", part(Status.UNCHANGED))
    plan.fields = plan_fields(
        parts.fields, customer, context, upsert=mode != "insert", outcomes=plan.outcomes
    )
    return plan


def _address_skipped(parts: ContactParts, plan: PartPlan) -> None:
    if parts.address_skipped:
        why = parts.address_skipped.removeprefix("address skipped: ")
        plan.outcomes["address"] = part(Status.SKIPPED, data(why))
