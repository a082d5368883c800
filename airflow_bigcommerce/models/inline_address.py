"""
The ``addresses`` a new V3 customer carries inline (``customerAddresses_CustomerPost``).

Used by ``CreateCustomerOperator(api_version="v3")``, where an invalid address fails the task (the
sync, by contrast, skips a bad address and still syncs the customer). Values are checked as given:
country codes must already be ISO 3166-1 alpha-2 and states full names, because BigCommerce refuses
state codes and this module keeps no country tables. Errors name the address and the field, never
the value (addresses are personal data).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_bigcommerce.models.customer import MISSING_REASON, normalize_phone, normalize_text

__all__ = ["ADDRESS_FIELDS", "MAX_ADDRESSES", "v3_addresses"]

#: ``customer_Post.addresses`` has ``maxItems: 10``.
MAX_ADDRESSES = 10
#: The fields of ``customerAddresses_CustomerPost`` we accept, with their ``maxLength`` (None: unlimited
#: in the spec; 255 is what the store keeps for the street lines).
ADDRESS_FIELDS: dict[str, int | None] = {
    "first_name": 255,
    "last_name": 255,
    "company": 255,
    "address1": 255,
    "address2": 255,
    "city": 100,
    "state_or_province": 100,
    "postal_code": 30,
    "country_code": 2,
    "phone": 50,
    "address_type": None,
}
_REQUIRED = ("address1", "city", "country_code")
#: Always sent, "" where the country has none: the address endpoints require them, the store stores "".
_ALWAYS_SENT = ("state_or_province", "postal_code")
_ADDRESS_TYPES = ("residential", "commercial")
_COUNTRY_RE = re.compile(r"[A-Za-z]{2}")
#: Countries whose subdivision codes people type instead of names (TX, ON, NSW).
_STATE_CODE_COUNTRIES = {"US": r"[A-Za-z]{2}", "CA": r"[A-Za-z]{2}", "AU": r"[A-Za-z]{2}|[A-Z]{3}"}
#: An ISO 3166-2 code such as ``US-TX`` or ``GB-ENG``, in any country.
_ISO_3166_2_RE = re.compile(r"[A-Za-z]{2}-[A-Za-z0-9]{1,3}")


def v3_addresses(addresses: Any, *, first_name: str, last_name: str) -> list[dict[str, str]]:
    """
    Check the operator's ``addresses`` and return them as ``customer_Post.addresses`` items.

    Each address needs ``address1``, ``city`` and ``country_code``; its first and last name default
    to the customer's. Checking one address is a self-contained step with the same inputs (the
    address and the customer's names) as the sync's address normaliser, so it can take that
    normaliser's place, adding country names and state codes, without changing this function.

    :param addresses: a list of dicts with the V3 address fields, or ``None``.
    :param first_name: the customer's first name, the default of each address's.
    :param last_name: the customer's last name, the default of each address's.
    :return: the addresses, trimmed, with ``state_or_province`` and ``postal_code`` always present.
    :raises ValueError: naming the address index and the field, e.g. ``address 1, field 'city': missing``.
    """
    if addresses is None:
        return []
    if isinstance(addresses, Mapping):
        addresses = [addresses]
    if not isinstance(addresses, Sequence) or isinstance(addresses, str | bytes):
        raise ValueError(f"addresses must be a list of dicts, got {type(addresses).__name__}")
    if len(addresses) > MAX_ADDRESSES:
        raise ValueError(f"addresses: at most {MAX_ADDRESSES} per customer, got {len(addresses)}")
    return [
        _one_address(index, values, first_name=first_name, last_name=last_name)
        for index, values in enumerate(addresses)
    ]


def _one_address(index: int, values: Any, *, first_name: str, last_name: str) -> dict[str, str]:
    """Check one address; raise ValueError naming ``index`` and the field."""
    if not isinstance(values, Mapping):
        raise ValueError(f"address {index}: must be a dict of address fields, got {type(values).__name__}")
    unknown = sorted(str(key)[:40] for key in values if key not in ADDRESS_FIELDS)
    if unknown:
        raise ValueError(
            f"address {index}, field {unknown[0]!r}: unknown field; "
            f"the fields are {', '.join(ADDRESS_FIELDS)}"
        )
    address: dict[str, str] = {}
    for name, max_length in ADDRESS_FIELDS.items():
        try:
            cleaned = _field(name, values.get(name), max_length)
        except ValueError as exc:
            raise ValueError(f"address {index}, field {name!r}: {exc}") from None
        if cleaned:
            address[name] = cleaned
    address.setdefault("first_name", first_name)
    address.setdefault("last_name", last_name)
    for name in _REQUIRED:
        if name not in address:
            raise ValueError(f"address {index}, field {name!r}: {MISSING_REASON}")
    state = address.get("state_or_province", "")
    code_form = _STATE_CODE_COUNTRIES.get(address["country_code"])
    if (code_form and re.fullmatch(code_form, state)) or _ISO_3166_2_RE.fullmatch(state):
        raise ValueError(
            f"address {index}, field 'state_or_province': a state or province code; give the full name "
            "(e.g. Texas, not TX): BigCommerce refuses codes"
        )
    for name in _ALWAYS_SENT:
        address.setdefault(name, "")
    return address


def _field(name: str, value: Any, max_length: int | None) -> str:
    """Return one field's value trimmed and checked ("" when missing); raise ValueError(reason)."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and name in ("postal_code", "phone"):
        value = str(value)  # CRMs export numeric postal codes and phone numbers as numbers
    if not isinstance(value, str):
        raise ValueError(f"must be text, got {type(value).__name__}")
    if name == "phone":
        return normalize_phone(value)
    cleaned = normalize_text(value, max_length=None if name == "country_code" else max_length)
    if name == "country_code" and cleaned:
        if _COUNTRY_RE.fullmatch(cleaned) is None:
            raise ValueError("must be an ISO 3166-1 alpha-2 country code such as US or DE")
        return cleaned.upper()
    if name == "address_type" and cleaned:
        if cleaned.lower() not in _ADDRESS_TYPES:
            raise ValueError(f"must be one of {', '.join(_ADDRESS_TYPES)}")
        return cleaned.lower()
    return cleaned
