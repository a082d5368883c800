"""
The ``field_map`` targets ``metafield.<namespace>.<key>`` and ``segment``: their names and one row's values.

A metafield target names the namespace up to its first dot and the key after it
(``metafield.crm.lifetime_value``: namespace ``crm``, key ``lifetime_value``), each 1..64 characters
(``MetafieldBase_Post``). ``segment`` is one column holding the contact's segment names (a list, or a
comma-separated text; :func:`~.field_values.segment_names`).

What an empty value does follows ``empty_values`` (:mod:`.empty_values`): with ``keep`` an empty
metafield or segment cell is left out (the store's values stay); with ``clear`` it is kept as a clear
instruction (a metafield ``None``: delete it; segments ``()``: leave the managed segments).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_bigcommerce.api import METAFIELD_KEY_MAX_LENGTH, METAFIELD_NAMESPACE_MAX_LENGTH
from airflow_bigcommerce.models.empty_values import EmptyValues, on_empty
from airflow_bigcommerce.models.field_values import metafield_value, segment_names

__all__ = [
    "METAFIELD_PREFIX",
    "SEGMENT_TARGET",
    "FieldMap",
    "FieldValues",
    "MetafieldKey",
    "check_field_target",
    "is_field_target",
    "map_fields",
    "metafield_key",
]

METAFIELD_PREFIX = "metafield."
SEGMENT_TARGET = "segment"

#: A metafield as the sync addresses it: ``(namespace, key)``.
MetafieldKey = tuple[str, str]


class FieldRejected(ValueError):
    """A metafield or segment value is unusable: ``target`` names it, the message never the value."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(target, reason)
        self.target = target
        self.reason = reason


def is_field_target(target: str) -> bool:
    """Whether a ``field_map`` target is a metafield or the segments."""
    return target.startswith(METAFIELD_PREFIX) or target == SEGMENT_TARGET


def metafield_key(target: str) -> MetafieldKey:
    """
    Return ``(namespace, key)`` of a ``metafield.<namespace>.<key>`` target.

    :raises ValueError: no namespace or key, or one longer than 64 characters or with spaces around it.
    """
    rest = target[len(METAFIELD_PREFIX) :]
    namespace, dot, key = rest.partition(".")
    ok = (
        dot
        and 0 < len(namespace) <= METAFIELD_NAMESPACE_MAX_LENGTH
        and 0 < len(key) <= METAFIELD_KEY_MAX_LENGTH
        and namespace == namespace.strip()
        and key == key.strip()
    )
    if not ok:
        raise ValueError(
            f"{target!r} must be metafield.<namespace>.<key>, the namespace 1 to"
            f" {METAFIELD_NAMESPACE_MAX_LENGTH} and the key 1 to {METAFIELD_KEY_MAX_LENGTH} characters"
            " without surrounding spaces"
        )
    return namespace, key


def check_field_target(column: str, target: str) -> None:
    """Refuse a metafield target without a usable namespace and key, before any row is read."""
    if target.startswith(METAFIELD_PREFIX):
        try:
            metafield_key(target)
        except ValueError as exc:
            raise ValueError(f"field_map: column {column!r} maps to {exc}") from None


@dataclass(frozen=True)
class FieldMap:
    """Where metafields and segments come from: CRM column -> ``(namespace, key)``, the segment column."""

    metafields: dict[str, MetafieldKey] = field(default_factory=dict)
    segment: str | None = None

    @classmethod
    def from_field_map(cls, field_map: Mapping[str, str]) -> FieldMap:
        """Pick the metafield and segment targets out of a validated ``field_map``."""
        metafields = {c: metafield_key(t) for c, t in field_map.items() if t.startswith(METAFIELD_PREFIX)}
        segment = next((c for c, t in field_map.items() if t == SEGMENT_TARGET), None)
        return cls(metafields, segment)

    def __bool__(self) -> bool:
        return bool(self.metafields or self.segment)


@dataclass
class FieldValues:
    """
    One contact's metafields and segments, as the store should hold them.

    :param metafields: ``(namespace, key)`` -> text, or ``None``: delete it (an empty value, ``clear``).
    :param segments: the segment names, ``()`` for an empty value under ``clear`` (leave the managed
        segments), ``None`` when not mapped or empty under ``keep`` (memberships left alone).
    :param segment_ids: the ids of ``segments``, resolved per run (``sync.segments``).
    """

    metafields: dict[MetafieldKey, str | None] = field(default_factory=dict)
    segments: tuple[str, ...] | None = None
    segment_ids: tuple[str, ...] = ()


def map_fields(row: Mapping[str, Any], field_map: FieldMap, empty_values: EmptyValues) -> FieldValues:
    """
    Map one row's metafields and segments.

    :raises FieldRejected: a value that cannot be text, or a segment list holding something else.
    """
    values = FieldValues()
    for column, (namespace, key) in field_map.metafields.items():
        target = f"{METAFIELD_PREFIX}{namespace}.{key}"
        try:
            text = metafield_value(row.get(column))
        except ValueError as exc:
            raise FieldRejected(target, str(exc)) from None
        if text is not None:
            values.metafields[(namespace, key)] = text
        elif on_empty(target, empty_values).kind == "delete":
            values.metafields[(namespace, key)] = None
    if field_map.segment is not None:
        try:
            names = segment_names(row.get(field_map.segment))
        except ValueError as exc:
            raise FieldRejected(SEGMENT_TARGET, str(exc)) from None
        if names:
            values.segments = names
        elif on_empty(SEGMENT_TARGET, empty_values).kind == "leave_managed_segments":
            values.segments = ()
    return values
