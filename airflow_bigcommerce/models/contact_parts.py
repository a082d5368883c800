"""
Map the parts of a CRM contact beyond the customer's own fields.

Address, attributes, group, newsletter, form fields and store credit.

``field_map`` targets (CRM column -> target):

- ``address.<field>``: one sync-managed address per contact (:mod:`.address` normalises it);
- ``attribute.<name>``: the value of the store's customer attribute of that name;
- ``customer_group``: a customer group *name*, resolved to its id once per run;
- ``newsletter``: a true/false-ish opt-in (empty: consent left alone);
- ``form_field.<name>``: the value of the store's sign-up form field of that name (text);
- ``store_credit``: the customer's store credit, a non-negative amount to the cent.
- ``metafield.<namespace>.<key>`` and ``segment``: see :mod:`.field_targets`.

An empty value follows ``empty_values`` (:mod:`.empty_values`): ``keep`` leaves the store's value
alone (the part is not mapped for that row), ``clear`` wants the cleared value (``""``, 0), which
a new customer does not need (:attr:`ContactParts.cleared`).

A bad value for an attribute, the group, the newsletter, a form field or the store credit rejects
the row (its data must change);
an incomplete address does not: the customer still syncs and the report says why the address was
skipped. Errors name the target, never the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from airflow_bigcommerce.api import ATTRIBUTE_NAME_MAX_LENGTH as ATTRIBUTE_NAME_MAX
from airflow_bigcommerce.api import FORM_FIELD_NAME_MAX_LENGTH
from airflow_bigcommerce.models.address import ADDRESS_FIELDS, AddressSkipped, normalize_address
from airflow_bigcommerce.models.empty_values import EmptyValues, on_empty
from airflow_bigcommerce.models.field_targets import (
    FieldMap,
    FieldRejected,
    FieldValues,
    check_field_target,
    is_field_target,
    map_fields,
)
from airflow_bigcommerce.models.field_values import form_field_value, store_credit_value
from airflow_bigcommerce.models.values import is_blank, normalize_attribute_value, parse_newsletter

ADDRESS_PREFIX = "address."
ATTRIBUTE_PREFIX = "attribute."
FORM_FIELD_PREFIX = "form_field."
GROUP_TARGET = "customer_group"
NEWSLETTER_TARGET = "newsletter"
STORE_CREDIT_TARGET = "store_credit"


def is_part_target(target: str) -> bool:
    """Whether a ``field_map`` target names a part rather than a customer field."""
    return (
        target.startswith((ADDRESS_PREFIX, ATTRIBUTE_PREFIX, FORM_FIELD_PREFIX))
        or target in (GROUP_TARGET, NEWSLETTER_TARGET, STORE_CREDIT_TARGET)
        or is_field_target(target)
    )


def check_part_target(column: str, target: str) -> None:
    """
    Refuse a part target that cannot work, before any row is read.

    :raises ValueError: an unknown address field, an attribute without a usable name, or a
        metafield without a usable namespace and key.
    """
    check_field_target(column, target)
    if target.startswith(ADDRESS_PREFIX):
        name = target[len(ADDRESS_PREFIX) :]
        if name not in ADDRESS_FIELDS:
            raise ValueError(
                f"field_map: column {column!r} maps to unknown address field {name!r};"
                f" expected one of {', '.join(ADDRESS_FIELDS)}"
            )
    elif target.startswith(ATTRIBUTE_PREFIX):
        name = target[len(ATTRIBUTE_PREFIX) :]
        if not name.strip() or len(name) > ATTRIBUTE_NAME_MAX or name != name.strip():
            raise ValueError(
                f"field_map: column {column!r} maps to {target!r}: an attribute name must be 1 to"
                f" {ATTRIBUTE_NAME_MAX} characters without surrounding spaces"
            )
    elif target.startswith(FORM_FIELD_PREFIX):
        name = target[len(FORM_FIELD_PREFIX) :]
        if not name.strip() or len(name) > FORM_FIELD_NAME_MAX_LENGTH or name != name.strip():
            raise ValueError(
                f"field_map: column {column!r} maps to {target!r}: a form field name must be 1 to"
                f" {FORM_FIELD_NAME_MAX_LENGTH} characters without surrounding spaces"
            )


@dataclass(frozen=True)
class PartMap:
    """Where each part's values come from: CRM column -> address field / attribute / form field name."""

    address: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    group: str | None = None
    newsletter: str | None = None
    form_fields: dict[str, str] = field(default_factory=dict)
    store_credit: str | None = None
    fields: FieldMap = field(default_factory=FieldMap)

    @classmethod
    def from_field_map(cls, field_map: Mapping[str, str]) -> PartMap:
        """Pick the part targets out of a validated ``field_map``."""
        address: dict[str, str] = {}
        attributes: dict[str, str] = {}
        form_fields: dict[str, str] = {}
        group = newsletter = store_credit = None
        for column, target in field_map.items():
            if target.startswith(ADDRESS_PREFIX):
                address[column] = target[len(ADDRESS_PREFIX) :]
            elif target.startswith(ATTRIBUTE_PREFIX):
                attributes[column] = target[len(ATTRIBUTE_PREFIX) :]
            elif target == GROUP_TARGET:
                group = column
            elif target == NEWSLETTER_TARGET:
                newsletter = column
            elif target.startswith(FORM_FIELD_PREFIX):
                form_fields[column] = target[len(FORM_FIELD_PREFIX) :]
            elif target == STORE_CREDIT_TARGET:
                store_credit = column
        fields = FieldMap.from_field_map(field_map)
        return cls(address, attributes, group, newsletter, form_fields, store_credit, fields)

    @property
    def needs_store_parts(self) -> bool:
        """Whether look-ups must include the customers' addresses and attributes."""
        return bool(self.address or self.attributes)

    @property
    def includes(self) -> tuple[str, ...]:
        """Return the sub-resources a look-up must include to compare these parts (``include=``)."""
        wanted: tuple[str, ...] = ("addresses", "attributes") if self.needs_store_parts else ()
        if self.form_fields:
            wanted += ("formfields",)
        if self.store_credit is not None:
            wanted += ("storecredit",)
        if self.fields.segment is not None:
            wanted += ("shopper_profile_id", "segment_ids")
        return wanted

    def __bool__(self) -> bool:
        return bool(
            self.address
            or self.attributes
            or self.group
            or self.newsletter
            or self.form_fields
            or self.store_credit is not None
            or self.fields
        )


@dataclass
class ContactParts:
    """
    One contact's parts, mapped and normalised (what the store should hold).

    :param address: the V3 address payload (without ``customer_id``), or ``None``.
    :param address_skipped: why the CRM's address cannot be sent (the customer still syncs).
    :param attributes: attribute name -> value (strings; dates ISO 8601).
    :param group: the customer group name as given (trimmed), resolved per run.
    :param newsletter: ``True`` subscribe, ``False`` remove the newsletter consent, ``None`` leave it.
    :param form_fields: form field name -> value (text).
    :param store_credit: the store credit wanted (two places), or ``None`` (left alone).
    :param delete_address: every address column is empty and ``empty_values="clear"``: the sync's
        own address (never a shopper's) is to be deleted.
    :param cleared: the targets whose value is the cleared value of an empty cell (``clear``): an
        existing customer's is written when it differs; a new customer has it already.
    :param fields: the metafields and segments (:class:`~.field_targets.FieldValues`).
    """

    address: dict[str, str] | None = None
    address_skipped: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    group: str | None = None
    newsletter: bool | None = None
    form_fields: dict[str, str] = field(default_factory=dict)
    store_credit: Decimal | None = None
    cleared: set[str] = field(default_factory=set)
    delete_address: bool = False
    fields: FieldValues = field(default_factory=FieldValues)


class PartRejected(ValueError):
    """
    A part's value is unusable: ``target`` names it (``attribute.crm_id``, ``newsletter``).

    :param store_side: the store lacks what the value names (a customer group): the row may go
        through once the store has it, without a change in the CRM (a ledger retries it).
    """

    def __init__(self, target: str, reason: str, *, store_side: bool = False) -> None:
        super().__init__(target, reason)
        self.target = target
        self.reason = reason
        self.store_side = store_side

    def __str__(self) -> str:
        return f"{self.target}: {self.reason}"


def map_parts(
    row: Mapping[str, Any],
    part_map: PartMap,
    *,
    first_name: str,
    last_name: str,
    empty_values: EmptyValues = "keep",
) -> ContactParts:
    """
    Map one row's parts.

    :param first_name: the customer's, the address's default.
    :param empty_values: what an empty attribute, form field, store credit, metafield or segment
        cell means (:mod:`.empty_values`).
    :raises PartRejected: an attribute, group, newsletter, form field, store credit, metafield or
        segment value that cannot be used.
    """
    parts = ContactParts()
    if part_map.address:
        values = {name: row.get(column) for column, name in part_map.address.items()}
        try:
            parts.address = normalize_address(values, first_name=first_name, last_name=last_name)
        except AddressSkipped as exc:
            parts.address_skipped = str(exc)
        else:
            wanted = on_empty("address", empty_values).kind
            parts.delete_address = parts.address is None and wanted == "delete_own_address"
    _map_values(row, part_map, parts, empty_values)
    if part_map.group is not None:
        raw = row.get(part_map.group)
        if not is_blank(raw):
            if not isinstance(raw, str):
                raise PartRejected(GROUP_TARGET, f"must be a group name, got {type(raw).__name__}")
            parts.group = " ".join(raw.split())
        else:
            _clear(parts, GROUP_TARGET, empty_values)  # the customer's group_id 0: sync.prepare sets it
    if part_map.newsletter is not None:
        try:
            parts.newsletter = parse_newsletter(row.get(part_map.newsletter))
        except ValueError as exc:
            raise PartRejected(NEWSLETTER_TARGET, str(exc)) from None
    if part_map.fields:
        try:
            parts.fields = map_fields(row, part_map.fields, empty_values)
        except FieldRejected as exc:
            raise PartRejected(exc.target, exc.reason) from None
    return parts


def _clear(parts: ContactParts, target: str, empty_values: EmptyValues) -> str | int | Decimal | None:
    """Return the value an empty cell of ``target`` sets (noted in ``parts.cleared``), or ``None``: keep."""
    action = on_empty(target, empty_values)
    if action.kind != "set":
        return None
    parts.cleared.add(target)
    return action.value


def _map_values(
    row: Mapping[str, Any], part_map: PartMap, parts: ContactParts, empty_values: EmptyValues
) -> None:
    """Map the attribute values, form field values and store credit (an empty cell per ``empty_values``)."""
    named = (
        (ATTRIBUTE_PREFIX, part_map.attributes, normalize_attribute_value, parts.attributes),
        (FORM_FIELD_PREFIX, part_map.form_fields, form_field_value, parts.form_fields),
    )
    for prefix, columns, as_text, into in named:
        for column, name in columns.items():
            try:
                text = as_text(row.get(column))
            except ValueError as exc:
                raise PartRejected(prefix + name, str(exc)) from None
            if text is not None:
                into[name] = text
            elif _clear(parts, prefix + name, empty_values) is not None:
                into[name] = ""
    if part_map.store_credit is not None:
        try:
            parts.store_credit = store_credit_value(row.get(part_map.store_credit))
        except ValueError as exc:
            raise PartRejected(STORE_CREDIT_TARGET, str(exc)) from None
        if parts.store_credit is None:
            cleared = _clear(parts, STORE_CREDIT_TARGET, empty_values)
            if isinstance(cleared, Decimal):
                parts.store_credit = cleared
