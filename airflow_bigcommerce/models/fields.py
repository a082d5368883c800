"""
The customer field rules: limits from the specs and pure checks that raise ``ValueError(reason)``.

Shared by the pydantic models (:mod:`.customer`) and the per-row hot path (:mod:`.contact`), so both
accept exactly the same values. A reason never echoes the value (it may be personal, or a password).
Standard library only.
"""

from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal, InvalidOperation

# --- limits (V3 customer_Post unless noted; see the module docstring) ------------------------------
EMAIL_MIN_LENGTH = 3
EMAIL_MAX_LENGTH = 250
#: ``customer_Put.email`` allows 255 where ``customer_Post.email`` allows 250.
EMAIL_MAX_LENGTH_PUT = 255
NAME_MAX_LENGTH = 100
COMPANY_MAX_LENGTH = 255
PHONE_MAX_LENGTH = 50
TAX_EXEMPT_CATEGORY_MAX_LENGTH = 255
#: From ``customer_Put`` / ``customer_Full`` (V2 gives no limit).
REGISTRATION_IP_MAX_LENGTH = 30
#: ``customer_group_id`` is ``format: int32``.
CUSTOMER_GROUP_ID_MAX = 2**31 - 1
#: No documented bound: no store holds a trillion of credit, and the bound keeps Decimal arithmetic exact.
STORE_CREDIT_MAX = Decimal(10) ** 12
#: BigCommerce stores money with four decimals (V2 answers ``"store_credit": "0.0000"``).
STORE_CREDIT_DECIMALS = 4

#: The fields V2 documents as read-only: sending them is refused, so refuse them first.
V2_READ_ONLY_FIELDS = ("id", "date_created", "date_modified", "accepts_marketing", "addresses", "form_fields")

# C0/C1 control characters and lone surrogates (the latter cannot be encoded to UTF-8 for sending).
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same, but tab and newline are fine in multi-line notes.
_NOTES_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# Deliberately simple: one @, no whitespace or address-list punctuation, a dot inside the domain.
# Unicode (IDN, internationalised local parts) is allowed; the store is the final judge.
_EMAIL_ATOM = r"[^@\s<>()\[\]\\,;:\"]"
_EMAIL_LABEL = r"[^@\s<>()\[\]\\,;:\".]"
_EMAIL_RE = re.compile(rf"{_EMAIL_ATOM}+@{_EMAIL_LABEL}+(?:\.{_EMAIL_LABEL}+)+")
_PHONE_RE = re.compile(r"[0-9+().\- xX]*")
_STORE_CREDIT_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
_TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "off"})

MISSING_REASON = "missing (required)"
CONTROL_REASON = "contains a control or invalid character"
EMAIL_REASON = "not a valid e-mail address"
PHONE_REASON = "contains characters other than digits, spaces and + ( ) - . x"


# --- field rules shared with contact.py: pure, raise ValueError(reason), never echo the value --------
def normalize_text(value: str, *, max_length: int | None) -> str:
    """Trim a single-line text value and check its length and characters; ``""`` means missing."""
    value = value.strip()
    if max_length is not None and len(value) > max_length:
        raise ValueError(f"longer than {max_length} characters")
    if not value.isprintable() and _CONTROL_RE.search(value):
        raise ValueError(CONTROL_REASON)
    return value


def normalize_line_breaks(value: str) -> str:
    """Turn CR/CRLF into LF (how notes are sent, and so how they are compared with the store's)."""
    if "\r" in value:
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def normalize_notes(value: str) -> str:
    """Trim multi-line notes and turn CR/CRLF into LF, so CRM exports from Windows are not refused."""
    value = value.strip()
    if not value.isprintable():
        value = normalize_line_breaks(value)
        if _NOTES_CONTROL_RE.search(value):
            raise ValueError(CONTROL_REASON)
    return value


def normalize_email(value: str, *, max_length: int = EMAIL_MAX_LENGTH) -> str:
    """Trim an e-mail address (case kept: the match key lower-cases, the payload does not) and check it."""
    value = value.strip()
    if not value:
        return value
    if len(value) > max_length:
        raise ValueError(f"longer than {max_length} characters")
    if len(value) < EMAIL_MIN_LENGTH:
        raise ValueError(f"shorter than {EMAIL_MIN_LENGTH} characters")
    if not value.isprintable():  # also invisible format characters (zero-width space, BOM): paste junk
        raise ValueError(CONTROL_REASON)
    if _EMAIL_RE.fullmatch(value) is None:
        raise ValueError(EMAIL_REASON)
    return value


def normalize_phone(value: str) -> str:
    """Trim a phone number, collapse inner whitespace and allow only dialling characters."""
    value = " ".join(value.split())
    if not value.isprintable() and _CONTROL_RE.search(value):
        raise ValueError(CONTROL_REASON)
    if _PHONE_RE.fullmatch(value) is None:
        raise ValueError(PHONE_REASON)
    if len(value) > PHONE_MAX_LENGTH:
        raise ValueError(f"longer than {PHONE_MAX_LENGTH} characters")
    return value


def normalize_password(value: str) -> str:
    """Check a password kept exactly as given; ``""`` (blank) means missing."""
    if not value.strip():
        return ""
    if not value.isprintable() and _CONTROL_RE.search(value):
        raise ValueError(CONTROL_REASON)
    return value


def parse_customer_group_id(value: object) -> int:
    """Read a customer group id: an int, an integral float or a string of ASCII digits, 0..int32 max."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true/false")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            raise ValueError("must be a whole number >= 0")
        if len(text.lstrip("0")) > len(str(CUSTOMER_GROUP_ID_MAX)):
            raise ValueError(f"larger than {CUSTOMER_GROUP_ID_MAX}")
        number = int(text)
    elif isinstance(value, float | Decimal):
        finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
        if not finite or value < 0:
            raise ValueError("must be a whole number >= 0")
        if value > CUSTOMER_GROUP_ID_MAX:
            raise ValueError(f"larger than {CUSTOMER_GROUP_ID_MAX}")
        if value != int(value):
            raise ValueError("must be a whole number >= 0")
        number = int(value)
    else:
        raise ValueError(f"must be a whole number, got {type(value).__name__}")
    if number < 0:
        raise ValueError("must be a whole number >= 0")
    if number > CUSTOMER_GROUP_ID_MAX:
        raise ValueError(f"larger than {CUSTOMER_GROUP_ID_MAX}")
    return number


def parse_bool(value: object) -> bool:
    """Read a CRM flag: a bool, 0/1, or true/false, yes/no, y/n, t/f, on/off in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise ValueError("must be true or false")


def parse_store_credit(value: object, *, places: int = STORE_CREDIT_DECIMALS) -> Decimal:
    """
    Read a store credit amount: the one rule for every store credit (V2, V3 create, the sync's).

    An int, a float (its shortest digits: ``0.1`` is ``0.1``), a ``Decimal`` or a plain decimal
    string (``"10.50"``; not ``"1e3"``, ``"1,5"``, ``"-1"``); ``>= 0`` and below
    :data:`STORE_CREDIT_MAX`. Money is kept exactly: an amount with more than ``places`` decimal
    places is refused rather than rounded (a CRM that sends ``12.345`` for cents has a bug the sync
    should not hide); trailing zeros are fine.

    :param places: the decimal places allowed: 4 for V2 (BigCommerce's money), 2 for the sync.
    :return: the amount with exactly ``places`` decimal places.
    """
    reason = f"must be a non-negative amount with at most {places} decimal places, such as 10.50"
    if isinstance(value, bool):
        raise ValueError(reason)
    try:
        if isinstance(value, str):
            text = value.strip()
            if _STORE_CREDIT_RE.fullmatch(text) is None:
                raise ValueError(reason)
            amount = Decimal(text)
        elif isinstance(value, Decimal):
            amount = value
        elif isinstance(value, numbers.Integral):
            amount = Decimal(int(value))
        elif isinstance(value, numbers.Real):
            amount = Decimal(repr(float(value)))  # shortest round-tripping digits: 0.1 -> "0.1"
        else:
            raise ValueError(reason)
        if not amount.is_finite() or amount < 0 or amount >= STORE_CREDIT_MAX:
            raise ValueError(reason)
        exact = amount.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        raise ValueError(reason) from None
    if exact != amount:
        raise ValueError(reason)
    return exact


def format_store_credit(amount: Decimal) -> str:
    """Write a store credit as a fixed-point string with at least two decimals: ``10`` -> ``"10.00"``."""
    if amount == amount.quantize(Decimal("0.01")):
        return f"{amount:.2f}"
    return f"{amount.normalize():f}"
