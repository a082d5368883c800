"""
Customer attributes and groups given by NAME, checked and turned into the ids BigCommerce wants.

People know their store's attributes ("crm_id") and groups ("Wholesale") by name; ``customer_Post``
takes ``attribute_id`` and ``customer_group_id``. The checks on the values run before any request;
the look-ups take the store's lists (read once by the caller) and fail with the names the store has,
so a typo is fixed from the error message alone. Names match under the one rule of
``sync.store_context`` (trimmed, inner whitespace collapsed, case-insensitive); two records that
match one name fail naming both ids. Pure functions, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from airflow_bigcommerce.api import ATTRIBUTE_VALUE_MAX_LENGTH, MAX_STORE_ATTRIBUTES
from airflow_bigcommerce.api import INLINE_ATTRIBUTES_MAX as MAX_ATTRIBUTES
from airflow_bigcommerce.sync.store_context import AmbiguousNameError, id_for, ids_by_name

__all__ = ["MAX_ATTRIBUTES", "attribute_items", "attribute_texts", "customer_group_id_for"]

#: Names listed in an "unknown name" message (a store has at most 50 attributes).
_NAMES_IN_MESSAGE = MAX_STORE_ATTRIBUTES


def attribute_text(value: Any) -> str:
    """
    Write an attribute value as the string V3 wants: text trimmed, numbers plainly, dates ISO 8601.

    :raises ValueError: for other types (true/false included: say "yes"/"no" or 1/0 explicitly).
    """
    if isinstance(value, bool):
        raise ValueError("must be text, a number or a date, not true/false")
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float | Decimal):
        finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
        if not finite:
            raise ValueError("must be a finite number")
        text = repr(value) if isinstance(value, float) else f"{value.normalize():f}"
    elif isinstance(value, date):  # datetime included: ISO 8601 with its offset, if any
        text = value.isoformat()
    else:
        raise ValueError(f"must be text, a number or a date, got {type(value).__name__}")
    if len(text) > ATTRIBUTE_VALUE_MAX_LENGTH:
        raise ValueError(f"longer than {ATTRIBUTE_VALUE_MAX_LENGTH} characters")
    return text


def attribute_texts(attributes: Any) -> dict[str, str]:
    """
    Check ``{attribute name: value}`` and return the values as strings, before any request.

    :raises ValueError: naming the attribute, never its value.
    """
    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        raise ValueError(
            f"attributes must be a dict of attribute name -> value, got {type(attributes).__name__}"
        )
    if len(attributes) > MAX_ATTRIBUTES:
        raise ValueError(f"attributes: at most {MAX_ATTRIBUTES} per customer, got {len(attributes)}")
    texts: dict[str, str] = {}
    for name, value in attributes.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError("attributes: every name must be a non-empty string")
        try:
            texts[name.strip()] = attribute_text(value)
        except ValueError as exc:
            raise ValueError(f"attribute {name.strip()[:80]!r}: {exc}") from None
    return texts


def attribute_items(texts: Mapping[str, str], known: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """
    Turn ``{name: text}`` into ``[{attribute_id, attribute_value}]`` with the store's attributes.

    A value must also fit its attribute's type (``number``, ``date``), as the store checks it.

    :param texts: the values from :func:`attribute_texts`.
    :param known: the store's attributes (``GET /v3/customers/attributes``: ``id``, ``name``, ``type``).
    :raises ValueError: an unknown name (the message lists the store's names) or a value of the wrong type.
    """
    by_id = {a.get("id"): a for a in known}
    index = ids_by_name(known)
    ids: dict[str, int | None] = {}
    for name in texts:
        try:
            ids[name] = id_for("customer attribute", name, index)
        except AmbiguousNameError as exc:
            raise ValueError(str(exc)) from None
    unknown = [name for name, aid in ids.items() if aid is None]
    if unknown:
        names = sorted(str(a.get("name", "")) for a in known)
        listed = ", ".join(repr(n) for n in names[:_NAMES_IN_MESSAGE]) or "none"
        raise ValueError(
            f"Unknown customer attribute{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(n[:80]) for n in unknown)}: the store's attributes are {listed}. "
            "Create it in the store first (Customers > Customer attributes) or fix the name."
        )
    items = []
    for name, text in texts.items():
        attribute = by_id[ids[name]]
        problem = _type_problem(str(attribute.get("type", "string")), text)
        if problem:
            raise ValueError(f"attribute {name!r}: {problem}")
        items.append({"attribute_id": int(attribute["id"]), "attribute_value": text})
    return items


def customer_group_id_for(name: str, groups: Sequence[Mapping[str, Any]]) -> int:
    """
    Return the id of the customer group called ``name`` (the rule for names: ``name_key``).

    :param groups: the store's groups (``GET /v2/customer_groups``: ``id``, ``name``).
    :raises ValueError: no group of that name (the message lists the store's), or several (naming their ids).
    """
    try:
        gid = id_for("customer group", name, ids_by_name(groups))
    except AmbiguousNameError as exc:
        raise ValueError(f"{exc}; use customer_group_id") from None
    if gid is not None:
        return gid
    names = ", ".join(repr(str(g.get("name", ""))) for g in groups[:_NAMES_IN_MESSAGE]) or "none"
    raise ValueError(f"Unknown customer group {name[:80]!r}: the store's groups are {names}")


def _type_problem(kind: str, text: str) -> str | None:
    """Return why ``text`` does not fit an attribute of type ``kind``, else None."""
    if kind == "number":
        try:
            if not Decimal(text).is_finite():
                return "must be a finite number for an attribute of type number"
        except InvalidOperation:
            return "must be a number for an attribute of type number"
    elif kind == "date":
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return "must be an ISO 8601 date for an attribute of type date"
    return None
