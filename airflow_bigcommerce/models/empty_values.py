"""
What an empty CRM value does to a ``field_map`` target: the ``empty_values`` rule, in one place.

``keep`` (the default, the behaviour before issue 21): an empty value leaves the store's value alone.
``clear``: an empty value clears the store's optional value, in the way the API allows it:

- customer text fields (company, phone, notes, tax_exempt_category) and a form field: set to ``""``;
- a customer attribute value: set to ``""`` (``attributeValue_Base.value`` allows 0 characters);
- a metafield: deleted by its id (``MetafieldBase_Put.value`` needs at least 1 character);
- the customer group: set to none (``customer_group_id`` 0); the store credit: set to 0;
- segments: the customer leaves the operator's ``managed_segments`` (never another segment);
- the address (only when every address column is empty): the sync's own address deleted by its id
  (never a shopper's address, never an unfiltered delete).

A required field (e-mail, first or last name) that is empty rejects the row naming it, in either mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

__all__ = [
    "EMPTY_VALUES",
    "REQUIRED_TARGETS",
    "EmptyAction",
    "EmptyValues",
    "check_empty_values",
    "on_empty",
]

EmptyValues = Literal["keep", "clear"]
#: The values ``empty_values`` takes; the first is the default.
EMPTY_VALUES: tuple[EmptyValues, ...] = ("keep", "clear")
#: Targets no customer can be without (``customer_Post.required``).
REQUIRED_TARGETS = frozenset({"email", "first_name", "last_name"})
#: Customer text fields that may be empty (``customer_Put``: ``minLength: 0``).
CLEARABLE_TEXT_TARGETS = frozenset({"company", "phone", "notes", "tax_exempt_category"})

ActionKind = Literal["keep", "set", "delete", "leave_managed_segments", "delete_own_address", "reject"]


@dataclass(frozen=True)
class EmptyAction:
    """What to do with an empty value: ``kind``, and for ``set`` the ``value`` to write."""

    kind: ActionKind
    value: str | int | Decimal | None = None


KEEP = EmptyAction("keep")
REJECT = EmptyAction("reject")


def check_empty_values(mode: str) -> EmptyValues:
    """Return ``mode`` if it is an ``empty_values`` setting; raise ``ValueError`` naming the choices."""
    for choice in EMPTY_VALUES:
        if mode == choice:
            return choice
    raise ValueError(f"empty_values must be one of {', '.join(EMPTY_VALUES)}, got {mode!r}")


def on_empty(target: str, mode: EmptyValues) -> EmptyAction:
    """
    Return what an empty value of ``target`` does under ``mode``.

    :param target: a ``field_map`` target: a customer field, ``attribute.<name>``,
        ``form_field.<name>``, ``metafield.<namespace>.<key>``, ``customer_group``, ``store_credit``,
        ``segment``, ``newsletter``, or ``address`` (every address column empty).
    :raises ValueError: an unknown target or mode.
    """
    check_empty_values(mode)
    if target in REQUIRED_TARGETS:
        return REJECT
    action = _cleared(target)
    return KEEP if mode == "keep" else action


#: What ``clear`` does to each target named exactly, and to each target family by its prefix.
_CLEARED: dict[str, EmptyAction] = {
    **dict.fromkeys(CLEARABLE_TEXT_TARGETS, EmptyAction("set", "")),
    "customer_group": EmptyAction("set", 0),
    "store_credit": EmptyAction("set", Decimal("0.00")),
    "segment": EmptyAction("leave_managed_segments"),
    "address": EmptyAction("delete_own_address"),
    "newsletter": KEEP,  # consent is withdrawn by a "no", never by a blank cell
}
_CLEARED_BY_PREFIX: dict[str, EmptyAction] = {
    "attribute.": EmptyAction("set", ""),
    "form_field.": EmptyAction("set", ""),
    "metafield.": EmptyAction("delete"),
}


def _cleared(target: str) -> EmptyAction:
    if target in _CLEARED:
        return _CLEARED[target]
    for prefix, action in _CLEARED_BY_PREFIX.items():
        if target.startswith(prefix):
            return action
    raise ValueError(f"no empty-value rule for target {target!r}")
