"""
CRM cell values -> store credit, metafield values, form field values and segment names.

Each rule returns ``None`` (or no names) for a blank value, so the caller decides by ``empty_values``
(:mod:`.empty_values`) what a blank means, and raises ``ValueError(reason)`` never echoing the value.

Spec choices (customers.v3.yml, segments.v3.yml, SOURCE.md):

- Store credit, ``store_credit_amounts: [{amount}]``: a non-negative number. Money is kept to the cent:
  an amount with more than two decimal places is refused rather than rounded (a CRM that sends
  ``12.345`` has a bug the sync should not hide); ``12.5`` becomes ``12.50``.
- A metafield value is text of 1..65535 characters; a form field value is text (a number or a list of
  texts on the wire too; the sync sends text), held to 255 characters.
- Segment names come from one column: a list of names or one comma-separated text; trimmed, inner
  spaces collapsed, each name once by :func:`~airflow_bigcommerce.sync.store_context.name_key`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from airflow_bigcommerce.api import (
    FORM_FIELD_VALUE_MAX_LENGTH,
    METAFIELD_VALUE_MAX_LENGTH,
    STORE_CREDIT_PLACES,
)
from airflow_bigcommerce.models.fields import parse_store_credit
from airflow_bigcommerce.models.values import cell_text, collapse_spaces, is_blank
from airflow_bigcommerce.sync.store_context import name_key

__all__ = [
    "form_field_value",
    "metafield_value",
    "segment_names",
    "store_credit_amounts",
    "store_credit_value",
]


def store_credit_value(value: object) -> Decimal | None:
    """
    Read a store-credit cell: ``None`` when blank, else the amount to the cent.

    The rule is :func:`~airflow_bigcommerce.models.fields.parse_store_credit`'s, with two places.

    :raises ValueError: not a plain non-negative amount, more than two decimal places, a flag.
    """
    if is_blank(value):
        return None
    return parse_store_credit(value, places=STORE_CREDIT_PLACES)


def store_credit_amounts(amount: Decimal) -> list[dict[str, float]]:
    """Return the wire form of a credit amount (``store_credit_amounts`` of ``customer_Post``/``Put``)."""
    return [{"amount": float(amount)}]


def metafield_value(value: object) -> str | None:
    """
    Turn a cell into a metafield value (text of 1..65535 characters), ``None`` when blank.

    :raises ValueError: another type, a control character, or too long.
    """
    return cell_text(value, METAFIELD_VALUE_MAX_LENGTH)


def form_field_value(value: object) -> str | None:
    """
    Turn a cell into a sign-up form field value (text, at most 255 characters), ``None`` when blank.

    :raises ValueError: another type, a control character, or too long.
    """
    return cell_text(value, FORM_FIELD_VALUE_MAX_LENGTH)


def segment_names(value: object) -> tuple[str, ...]:
    """
    Read the segment names of one cell: a list (tuple, set) of names or a comma-separated text.

    :return: each name trimmed with inner spaces collapsed, once per :func:`name_key`, in the order
        given (a set sorted); ``()`` for a blank cell or one holding only blanks.
    :raises ValueError: a list item that is not text.
    """
    if is_blank(value):
        return ()
    items: Iterable[object]
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, set | frozenset):
        items = sorted(value, key=str)
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise ValueError("must be a list of segment names or a comma-separated text")
    names: dict[str, str] = {}
    for item in items:
        if is_blank(item):
            continue
        if not isinstance(item, str):
            raise ValueError("each segment name must be text")
        name = collapse_spaces(item)
        names.setdefault(name_key(name), name)
    return tuple(names.values())
