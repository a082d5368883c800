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

import numbers
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from airflow_bigcommerce.api import (
    FORM_FIELD_VALUE_MAX_LENGTH,
    METAFIELD_VALUE_MAX_LENGTH,
    STORE_CREDIT_PLACES,
)
from airflow_bigcommerce.models.values import cell_text, collapse_spaces, is_blank
from airflow_bigcommerce.sync.store_context import name_key

__all__ = [
    "form_field_value",
    "metafield_value",
    "parse_store_credit",
    "segment_names",
    "store_credit_amounts",
]

#: The smallest step of a store credit amount (one cent).
_CENT = Decimal(1).scaleb(-STORE_CREDIT_PLACES)
#: Amounts beyond this are no CRM's credit; refusing them keeps the arithmetic exact.
_MAX_CREDIT = Decimal(10) ** 12
_CREDIT_REASON = "must be a non-negative amount with at most two decimal places"


def parse_store_credit(value: object) -> Decimal | None:
    """
    Read a store-credit cell: ``None`` when blank, else the amount as a two-place ``Decimal``.

    :raises ValueError: not a number, negative, NaN or infinite, more than two decimal places, a flag,
        or beyond a trillion.
    """
    if is_blank(value):
        return None
    if isinstance(value, bool) or not isinstance(value, str | numbers.Number):
        raise ValueError(_CREDIT_REASON)
    try:
        if isinstance(value, str):
            amount = Decimal(value.strip())
        elif isinstance(value, Decimal):
            amount = value
        elif isinstance(value, numbers.Integral):
            amount = Decimal(int(value))
        elif isinstance(value, numbers.Real):
            amount = Decimal(repr(float(value)))  # 0.1 from a float column is 0.1, not 0.1000000000000000055
        else:
            raise ValueError(_CREDIT_REASON)
    except InvalidOperation:
        raise ValueError(_CREDIT_REASON) from None
    if not amount.is_finite() or amount < 0 or amount >= _MAX_CREDIT:
        raise ValueError(_CREDIT_REASON)
    cents = amount.quantize(_CENT)
    if cents != amount:
        raise ValueError(_CREDIT_REASON)
    return cents


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
