"""
CRM cell values -> the strings and flags nested customer data is sent as.

CRMs and SQL drivers hand over ``str``, ``int``, ``float`` (pandas' NaN for an empty cell), ``Decimal``,
dates and flags; the store wants strings. These rules write each out the way a person would read it
(postal code ``2000.0`` -> ``"2000"``) and raise ``ValueError(reason)``, never echoing the value.
"""

from __future__ import annotations

import datetime
import math
import numbers
from decimal import Decimal

from airflow_bigcommerce.api import ATTRIBUTE_VALUE_MAX_LENGTH
from airflow_bigcommerce.models.fields import normalize_text, parse_bool

__all__ = [
    "ATTRIBUTE_VALUE_MAX_LENGTH",
    "collapse_spaces",
    "is_blank",
    "normalize_attribute_value",
    "number_text",
    "parse_newsletter",
]

#: Integers this large are written out by no CRM; refusing them keeps str() cheap and bounded.
_HUGE = 10**30
_CELL_TYPE_REASON = "must be text, a number or a date"


def is_blank(value: object) -> bool:
    """Tell whether a CRM value means "nothing here": ``None``, blank text or NaN."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Decimal):
        return value.is_nan()
    return isinstance(value, float) and math.isnan(value)


def collapse_spaces(text: str) -> str:
    """Trim and turn each inner run of whitespace into one space (how CRM exports differ most)."""
    return " ".join(text.split())


def number_text(value: numbers.Number | Decimal) -> str:
    """
    Write a number as a CRM shows it: integral values without ``.0``, NaN as ``""``.

    :raises ValueError: infinite, absurdly large, or not a real number.
    """
    if isinstance(value, numbers.Integral):
        number = int(value)
        _check_size(number)
        return str(number)
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if not isinstance(value, numbers.Real):  # complex and other exotic numbers
        raise ValueError(f"not a real number ({type(value).__name__})")
    real = float(value)
    if math.isnan(real):
        return ""
    _check_size(real)
    if real.is_integer():
        return str(int(real))  # 2000.0 from a float column -> "2000"
    return repr(real)


def _decimal_text(value: Decimal) -> str:
    if value.is_nan():
        return ""
    _check_size(value)
    if value == value.to_integral_value():
        return str(int(value))
    return f"{value:f}"  # the scale the database gave ("1.50"), never exponent notation ("1E-3")


def _check_size(number: int | float | Decimal) -> None:
    finite = number.is_finite() if isinstance(number, Decimal) else math.isfinite(number)
    if not finite:
        raise ValueError("an infinite number")
    if not -_HUGE < number < _HUGE:
        raise ValueError("a number too large to write out")


def cell_text(value: object, max_length: int) -> str | None:
    """
    Write a CRM cell as single-line text, the way the store's text values take it.

    :return: ``None`` for a blank value (leave the stored value alone); text trimmed; ``"true"`` /
        ``"false"``; numbers written out; a date as ``YYYY-MM-DD``, a datetime in ISO 8601.
    :raises ValueError: another type, a control character, or longer than ``max_length``.
    """
    if is_blank(value):
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime.date):  # a datetime too: its isoformat() gives the time
        text = value.isoformat()
    elif isinstance(value, numbers.Number):
        try:
            text = number_text(value)
        except ValueError:
            raise ValueError(_CELL_TYPE_REASON) from None
    else:
        raise ValueError(_CELL_TYPE_REASON)
    return normalize_text(text, max_length=max_length) or None


def normalize_attribute_value(value: object) -> str | None:
    """
    Turn a CRM value into a customer attribute value (always a string, whatever the attribute's type).

    :return: as :func:`cell_text`, at most 255 characters.
    :raises ValueError: another type, a control character, or longer than 255 characters.
    """
    return cell_text(value, ATTRIBUTE_VALUE_MAX_LENGTH)


def parse_newsletter(value: object) -> bool | None:
    """
    Read a newsletter-consent column: ``None`` when blank (leave consent as it is), else a flag.

    Accepts what :func:`~airflow_bigcommerce.models.customer.parse_bool` does (true/false, yes/no, y/n,
    t/f, on/off, 1/0, any case) and also ``1.0`` / ``0.0``: a 0/1 column with empty cells arrives as floats.

    :raises ValueError: anything else.
    """
    if is_blank(value):
        return None
    if isinstance(value, float | Decimal) and value in (0, 1):
        value = int(value)
    elif isinstance(value, numbers.Integral) and not isinstance(value, int):
        value = int(value)  # numpy integers
    return parse_bool(value)
