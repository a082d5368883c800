"""
Decide, for one contact, what each part needs: pure comparisons, no requests.

A new customer carries its address and attribute values inline in its create request; the only
follow-ups are recording its address's id and its newsletter consent. An existing customer is
compared part by part, so an unchanged contact costs no write and one changed part costs only that
part's write.

**Which address is the sync's.** BigCommerce has no field to mark an address as written by an
integration, and customers add addresses of their own. The sync records the id of the address it
manages: in the sync's ledger when it has one, else in the customer attribute ``crm_sync_address_id``
(created once per store; with a ledger only read, for customers whose ledger row has no address id
yet). Per customer:

1. the address with the recorded id is the sync's: it is compared with the CRM's and updated in
   place (PUT by id) only when it differs; in ``insert`` mode it is never changed;
2. without a record (or when that address was deleted), an address equal to the CRM's after
   normalisation is adopted (its id recorded; no address write);
3. otherwise the CRM's address is added and its id recorded.

With ``empty_values="clear"`` and every address column empty, the address with the recorded id (and
only that one: never an address merely equal to the CRM's, never a shopper's) is deleted by its id.
Every other address (a shopper's own) is never touched or deleted. A shopper who edits the sync's
address sees the CRM's version come back on the next run where the CRM's differs: the CRM is the
source of truth for the one address it manages.

**Form fields and store credit** travel in the customer's own ``POST``/``PUT`` (``form_fields``,
``store_credit_amounts``): a new customer carries them; an existing one gets them in its update only
when they differ from the store's (:attr:`PartPlan.customer_fields`), so they cost no request of
their own. The ``PUT`` carries the customer's whole list of form field values (the store's, with the
CRM's in place), so a store that replaces the list on update keeps the values the CRM does not map.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from airflow_bigcommerce.api import INLINE_ATTRIBUTES_MAX
from airflow_bigcommerce.models.address import address_changes, address_key
from airflow_bigcommerce.models.contact_parts import (
    ATTRIBUTE_PREFIX,
    FORM_FIELD_PREFIX,
    STORE_CREDIT_TARGET,
    ContactParts,
)
from airflow_bigcommerce.models.field_values import store_credit_amounts
from airflow_bigcommerce.sync.option_checks import SyncMode
from airflow_bigcommerce.sync.outcome import PartOutcome, Status, data, part, store
from airflow_bigcommerce.sync.plan_fields import FieldPlan, plan_fields
from airflow_bigcommerce.sync.rows import as_id
from airflow_bigcommerce.sync.store_context import StoreContext

#: The sync's modes (``insert``, ``upsert``, ``update``), named once in :mod:`.option_checks`.
Mode = SyncMode
#: V3 ``customer_Post`` takes at most this many attribute values inline.
MAX_INLINE_ATTRIBUTES = INLINE_ATTRIBUTES_MAX

_INSERT_MODE_ADDRESS = store("insert mode changes no stored address")
_INSERT_MODE_VALUE = store("insert mode changes no stored value")
#: An address adopted or created: its id is recorded (in the attribute, or by the ledger).
ID_RECORDED = PartOutcome(Status.UNCHANGED, note="(its id recorded)")


@dataclass
class PartPlan:
    """
    The part writes one contact needs beyond its customer write, and the parts already settled.

    :param address_post: the address to add (without ``customer_id``).
    :param address_put: ``(address id, changed fields)`` of the sync's address.
    :param address_record: an address id to record (in ``crm_sync_address_id``, or the ledger).
    :param address_id: the sync's address as recorded before the run (kept by a ledger row that lacks it).
    :param address_delete: the id of the sync's own address to delete (``empty_values="clear"``).
    :param attribute_values: attribute id -> value to write (``PUT /attribute-values``).
    :param newsletter: the consent wanted (compared with the subscriber at delivery), or ``None``.
    :param fields: the metafield and segment writes (:mod:`.plan_fields`), or ``None``.
    :param outcomes: part -> outcome, for the parts settled without a request.
    :param customer_fields: what the customer's update must carry for its parts (``form_fields``,
        ``store_credit_amounts``): sent with the customer write, not as a part request.
    """

    address_post: dict[str, str] | None = None
    address_put: tuple[int, dict[str, str]] | None = None
    address_record: int | None = None
    address_delete: int | None = None
    attribute_values: dict[int, str] = field(default_factory=dict)
    newsletter: bool | None = None
    outcomes: dict[str, PartOutcome] = field(default_factory=dict)
    address_id: int | None = None
    fields: FieldPlan | None = None
    #: the address written inline with a new customer: its id is recorded after the create
    inline_address: dict[str, str] | None = None
    customer_fields: dict[str, Any] = field(default_factory=dict)

    def writes(self, context: StoreContext | None = None) -> bool:
        """Whether a part needs a write (the newsletter is decided later, against the subscriber)."""
        records = self.address_record is not None and not (context and context.address_ids_in_ledger)
        return bool(
            self.address_post
            or self.address_put
            or records
            or self.address_delete is not None
            or self.attribute_values
            or self.inline_address
            or self.fields is not None
        )

    def sync_address(self) -> int | None:
        """Return the id of the sync's address once the parts are delivered (``None``: none known)."""
        return self.address_record if self.address_record is not None else self.address_id

    def pending(self, context: StoreContext | None = None) -> bool:
        """Whether anything is left for the part delivery (a write, or the newsletter to compare)."""
        return self.writes(context) or self.newsletter is not None


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
    values = [
        (context.attribute_ids[name], value)
        for name, value in parts.attributes.items()
        if ATTRIBUTE_PREFIX + name not in parts.cleared
    ]
    sendable = [(aid, value) for aid, value in values if aid > 0]  # < 0: a dry run's would-be attribute
    if sendable:
        inline["attributes"] = [
            {"attribute_id": aid, "attribute_value": value} for aid, value in sendable[:MAX_INLINE_ATTRIBUTES]
        ]
        plan.attribute_values = dict(sendable[MAX_INLINE_ATTRIBUTES:])
    forms = [
        {"name": name, "value": value}
        for name, value in parts.form_fields.items()
        if FORM_FIELD_PREFIX + name not in parts.cleared
    ]
    if forms:
        inline["form_fields"] = forms
    if parts.store_credit is not None and STORE_CREDIT_TARGET not in parts.cleared:
        inline["store_credit_amounts"] = store_credit_amounts(parts.store_credit)
    plan.fields = plan_fields(parts.fields, None, context, upsert=False, outcomes=plan.outcomes)
    return inline, plan


def plan_existing(
    parts: ContactParts,
    customer: Mapping[str, Any],
    context: StoreContext,
    mode: Mode,
    recorded: int | None = None,
) -> PartPlan:
    """
    Plan a contact whose customer exists: compare each part with the store's copy.

    ``upsert`` and ``update`` write what differs; ``insert`` only adds what is missing (an address
    when the sync has none, a value the customer lacks, a subscriber), so a retry completes a
    contact whose parts failed after its customer was created, and nothing the store holds is
    changed. A cleared value (``empty_values="clear"``) is written only where the store has one.

    :param recorded: the sync's address id as the ledger keeps it; ``None``: the attribute's record.
    """
    plan = PartPlan(newsletter=parts.newsletter)
    values = stored_attribute_values(customer)
    _address_skipped(parts, plan)
    if parts.address is not None:
        if recorded is None:
            recorded = _recorded_address_id(values, context)
        _plan_address(parts.address, customer, recorded, context, mode, plan)
    elif parts.delete_address:
        if recorded is None:
            recorded = _recorded_address_id(values, context)
        _plan_address_delete(customer, recorded, mode, plan)
    for name, value in parts.attributes.items():
        aid = context.attribute_ids[name]
        current = values.get(aid)
        if (current or "").strip() == value and (current is not None or not value):
            continue
        if current is not None and mode == "insert":
            plan.outcomes.setdefault("attributes", part(Status.SKIPPED, _INSERT_MODE_VALUE))
            continue
        plan.attribute_values[aid] = value
    if parts.attributes and not plan.attribute_values:
        plan.outcomes.setdefault("attributes", part(Status.UNCHANGED))
    _plan_form_fields(parts, customer, mode, plan)
    _plan_store_credit(parts, customer, mode, plan)
    plan.fields = plan_fields(
        parts.fields, customer, context, upsert=mode != "insert", outcomes=plan.outcomes
    )
    return plan


def _plan_address(
    wanted: Mapping[str, str],
    customer: Mapping[str, Any],
    recorded: int | None,
    context: StoreContext,
    mode: Mode,
    plan: PartPlan,
) -> None:
    """Plan the sync's address of an existing customer: update it, adopt an equal one, or add it."""
    addresses = [a for a in customer.get("addresses") or () if isinstance(a, Mapping)]
    kind, address = find_sync_address(addresses, recorded, wanted)
    if kind == "recorded" and address is not None:
        plan.address_id = int(address["id"])
        changes = address_changes(wanted, address)
        if not changes:
            plan.outcomes["address"] = part(Status.UNCHANGED)
        elif mode != "insert":
            plan.address_put = (int(address["id"]), changes)
        else:
            plan.outcomes["address"] = part(Status.SKIPPED, _INSERT_MODE_ADDRESS)
    elif kind == "match" and address is not None:
        plan.address_record = int(address["id"])
        if context.address_ids_in_ledger:  # no write: the ledger records it with the row
            plan.outcomes["address"] = ID_RECORDED
    else:
        plan.address_post = dict(wanted)


def _plan_address_delete(
    customer: Mapping[str, Any], recorded: int | None, mode: Mode, plan: PartPlan
) -> None:
    """Delete the sync's own address (the recorded id, if the customer still has it); insert mode keeps it."""
    ids = {as_id(a.get("id")) for a in customer.get("addresses") or () if isinstance(a, Mapping)}
    if recorded is None or recorded not in ids:
        plan.outcomes["address"] = part(Status.UNCHANGED)
    elif mode == "insert":
        plan.outcomes["address"] = part(Status.SKIPPED, _INSERT_MODE_ADDRESS)
    else:
        plan.address_delete = recorded


def stored_form_fields(customer: Mapping[str, Any]) -> dict[str, str]:
    """Return form field name -> value as text, of a customer read with ``include=formfields``."""
    values: dict[str, str] = {}
    for item in customer.get("form_fields") or ():
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            value = item.get("value")
            if isinstance(value, list | tuple):
                text = ", ".join(str(v) for v in value)
            else:
                text = "" if value is None else str(value)
            values[item["name"]] = text.strip()
    return values


def stored_store_credit(customer: Mapping[str, Any]) -> Decimal:
    """Return a customer's store credit (the sum of ``store_credit_amounts``; none: 0)."""
    total = Decimal(0)
    for item in customer.get("store_credit_amounts") or ():
        amount = item.get("amount") if isinstance(item, Mapping) else None
        if isinstance(amount, int | float | str) and not isinstance(amount, bool):
            try:
                total += Decimal(repr(amount) if isinstance(amount, float) else str(amount))
            except InvalidOperation:
                continue
    return total


def customer_fields_differ(fields: Mapping[str, Any], customer: Mapping[str, Any]) -> bool:
    """
    Whether a customer (read with ``include=formfields,storecredit``) lacks what ``fields`` sets.

    ``fields`` is an update body's (``form_fields``, ``store_credit_amounts``): after a write whose
    answer was lost, the look-up decides by this whether it landed (the customer's own fields are
    compared by ``models.contact.customer_differs``).
    """
    if "form_fields" in fields:
        current = stored_form_fields(customer)
        for item in fields["form_fields"]:
            value = item.get("value")
            text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value or "")
            if current.get(item.get("name"), "") != text.strip():
                return True
    if "store_credit_amounts" in fields:
        wanted = stored_store_credit({"store_credit_amounts": fields["store_credit_amounts"]})
        if stored_store_credit(customer) != wanted:
            return True
    return False


def _plan_form_fields(parts: ContactParts, customer: Mapping[str, Any], mode: Mode, plan: PartPlan) -> None:
    """Put the customer's form field values in its update when one differs (insert: only missing ones)."""
    if not parts.form_fields:
        return
    current = stored_form_fields(customer)
    changed = {
        name: value for name, value in parts.form_fields.items() if current.get(name, "") != value.strip()
    }
    if mode == "insert":
        held = {name for name in changed if current.get(name)}
        if held:
            plan.outcomes["form_fields"] = part(Status.SKIPPED, _INSERT_MODE_VALUE)
        changed = {name: value for name, value in changed.items() if name not in held}
    if not changed:
        plan.outcomes.setdefault("form_fields", part(Status.UNCHANGED))
        return
    every = {**{name: _raw_form_value(customer, name) for name in current}, **changed}
    plan.customer_fields["form_fields"] = [{"name": name, "value": value} for name, value in every.items()]


def _raw_form_value(customer: Mapping[str, Any], name: str) -> Any:
    """Return the store's own value of a form field (sent back as it is: text, number or list)."""
    for item in customer.get("form_fields") or ():
        if isinstance(item, Mapping) and item.get("name") == name:
            return item.get("value")
    return ""


def _plan_store_credit(parts: ContactParts, customer: Mapping[str, Any], mode: Mode, plan: PartPlan) -> None:
    """Put the store credit in the customer's update when it differs (never in insert mode)."""
    if parts.store_credit is None:
        return
    if stored_store_credit(customer) == parts.store_credit:
        plan.outcomes["store_credit"] = part(Status.UNCHANGED)
    elif mode == "insert":
        plan.outcomes["store_credit"] = part(Status.SKIPPED, _INSERT_MODE_VALUE)
    else:
        plan.customer_fields["store_credit_amounts"] = store_credit_amounts(parts.store_credit)


def _address_skipped(parts: ContactParts, plan: PartPlan) -> None:
    if parts.address_skipped:
        why = parts.address_skipped.removeprefix("address skipped: ")
        plan.outcomes["address"] = part(Status.SKIPPED, data(why))
