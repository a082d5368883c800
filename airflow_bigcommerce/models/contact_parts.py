"""
Map the parts of a CRM contact beyond the customer record: address, attributes, group, newsletter.

``field_map`` targets (CRM column -> target):

- ``address.<field>``: one sync-managed address per contact (:mod:`.address` normalises it);
- ``attribute.<name>``: the value of the store's customer attribute of that name;
- ``customer_group``: a customer group *name*, resolved to its id once per run;
- ``newsletter``: a true/false-ish opt-in (empty: consent left alone);
- ``metafield.<namespace>.<key>`` and ``segment``: see :mod:`.field_targets`.

A bad value for an attribute, the group or the newsletter rejects the row (its data must change);
an incomplete address does not: the customer still syncs and the report says why the address was
skipped. Errors name the target, never the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_bigcommerce.api import ATTRIBUTE_NAME_MAX_LENGTH as ATTRIBUTE_NAME_MAX
from airflow_bigcommerce.models.address import ADDRESS_FIELDS, AddressSkipped, normalize_address
from airflow_bigcommerce.models.empty_values import EmptyValues
from airflow_bigcommerce.models.field_targets import (
    FieldMap,
    FieldRejected,
    FieldValues,
    check_field_target,
    is_field_target,
    map_fields,
)
from airflow_bigcommerce.models.values import is_blank, normalize_attribute_value, parse_newsletter

ADDRESS_PREFIX = "address."
ATTRIBUTE_PREFIX = "attribute."
GROUP_TARGET = "customer_group"
NEWSLETTER_TARGET = "newsletter"


def is_part_target(target: str) -> bool:
    """Whether a ``field_map`` target names a part rather than a customer field."""
    return (
        target.startswith((ADDRESS_PREFIX, ATTRIBUTE_PREFIX))
        or target in (GROUP_TARGET, NEWSLETTER_TARGET)
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


@dataclass(frozen=True)
class PartMap:
    """Where each part's values come from: CRM column -> address field / attribute name, and columns."""

    address: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    group: str | None = None
    newsletter: str | None = None
    fields: FieldMap = field(default_factory=FieldMap)

    @classmethod
    def from_field_map(cls, field_map: Mapping[str, str]) -> PartMap:
        """Pick the part targets out of a validated ``field_map``."""
        address: dict[str, str] = {}
        attributes: dict[str, str] = {}
        group = newsletter = None
        for column, target in field_map.items():
            if target.startswith(ADDRESS_PREFIX):
                address[column] = target[len(ADDRESS_PREFIX) :]
            elif target.startswith(ATTRIBUTE_PREFIX):
                attributes[column] = target[len(ATTRIBUTE_PREFIX) :]
            elif target == GROUP_TARGET:
                group = column
            elif target == NEWSLETTER_TARGET:
                newsletter = column
        return cls(address, attributes, group, newsletter, FieldMap.from_field_map(field_map))

    @property
    def needs_store_parts(self) -> bool:
        """Whether look-ups must include the customers' addresses and attributes."""
        return bool(self.address or self.attributes)

    @property
    def includes(self) -> tuple[str, ...]:
        """What customer look-ups must include for the parts to be compared with the store's."""
        found = ("addresses", "attributes") if self.needs_store_parts else ()
        return (*found, "shopper_profile_id", "segment_ids") if self.fields.segment is not None else found

    def __bool__(self) -> bool:
        return bool(self.address or self.attributes or self.group or self.newsletter or self.fields)


@dataclass
class ContactParts:
    """
    One contact's parts, mapped and normalised (what the store should hold).

    :param address: the V3 address payload (without ``customer_id``), or ``None``.
    :param address_skipped: why the CRM's address cannot be sent (the customer still syncs).
    :param attributes: attribute name -> value (strings; dates ISO 8601).
    :param group: the customer group name as given (trimmed), resolved per run.
    :param newsletter: ``True`` subscribe, ``False`` remove the newsletter consent, ``None`` leave it.
    :param fields: the metafields and segments (:class:`~.field_targets.FieldValues`).
    """

    address: dict[str, str] | None = None
    address_skipped: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    group: str | None = None
    newsletter: bool | None = None
    fields: FieldValues = field(default_factory=FieldValues)


class PartRejected(ValueError):
    """A part's value is unusable: ``target`` names it (``attribute.crm_id``, ``newsletter``)."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(target, reason)
        self.target = target
        self.reason = reason

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
    :param empty_values: what an empty metafield or segment cell means (:mod:`.empty_values`).
    :raises PartRejected: an attribute, group, newsletter, metafield or segment value that cannot be used.
    """
    parts = ContactParts()
    if part_map.address:
        values = {name: row.get(column) for column, name in part_map.address.items()}
        try:
            parts.address = normalize_address(values, first_name=first_name, last_name=last_name)
        except AddressSkipped as exc:
            parts.address_skipped = str(exc)
    for column, name in part_map.attributes.items():
        try:
            value = normalize_attribute_value(row.get(column))
        except ValueError as exc:
            raise PartRejected(ATTRIBUTE_PREFIX + name, str(exc)) from None
        if value is not None:
            parts.attributes[name] = value
    if part_map.group is not None:
        raw = row.get(part_map.group)
        if not is_blank(raw):
            if not isinstance(raw, str):
                raise PartRejected(GROUP_TARGET, f"must be a group name, got {type(raw).__name__}")
            parts.group = " ".join(raw.split())
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
