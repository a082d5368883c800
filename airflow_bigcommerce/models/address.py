"""
CRM address columns -> V3 customer address payloads, and the comparison that keeps them single.

An address problem never costs the customer: :func:`normalize_address` raises :class:`AddressSkipped`
and the sync sends the customer without it. BigCommerce folds only *exact* duplicates, so the sync
compares :func:`address_key` values before writing, and updates by id with :func:`address_changes`.

Spec choices (``address_Post`` / ``address_Put`` / ``customerAddresses_CustomerPost`` of customers.v3.yml):

* Limits: first/last name and company <= 255, city and state <= 100, postal code <= 30, phone <= 50.
  ``address1`` / ``address2`` have none in the spec; we cap them at 255 like the other free-text fields
  (a refused inline address would fail the whole customer create, a skipped one does not).
* ``state_or_province`` is sent as the full name (the store refuses codes); whether a country needs a
  state or a postal code comes from Google's address data (:mod:`~airflow_bigcommerce.models.regions`).
* The phone is only trimmed and length-checked: the spec sets no format, and a format we guessed wrong
  would drop good addresses.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Mapping

from airflow_bigcommerce.models.fields import MISSING_REASON, normalize_text
from airflow_bigcommerce.models.regions import (
    UnknownSubdivisionCode,
    country_code,
    requires_postal_code,
    requires_state,
    subdivision_name,
)
from airflow_bigcommerce.models.values import (
    collapse_spaces,
    normalize_attribute_value,
    number_text,
    parse_newsletter,
)

__all__ = [
    "ADDRESS_FIELDS",
    "ADDRESS_MAX_LENGTHS",
    "ADDRESS_TYPES",
    "AddressSkipped",
    "address_changes",
    "address_key",
    "normalize_address",
    # Re-exported: the sync engine takes every nested-data rule from this module.
    "normalize_attribute_value",
    "parse_newsletter",
]

#: The address fields a CRM column may map to (``address.<field>``), in the order they are checked.
ADDRESS_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "company",
    "address1",
    "address2",
    "city",
    "state_or_province",
    "postal_code",
    "country_code",
    "phone",
    "address_type",
)
ADDRESS_MAX_LENGTHS: dict[str, int] = {
    "first_name": 255,
    "last_name": 255,
    "company": 255,
    "address1": 255,
    "address2": 255,
    "city": 100,
    "state_or_province": 100,
    "postal_code": 30,
    "phone": 50,
}
ADDRESS_TYPES: tuple[str, ...] = ("residential", "commercial")
_DEFAULT_TYPE = ADDRESS_TYPES[0]
#: Required whatever the country (``customerAddresses_Base.required``).
_ALWAYS_REQUIRED = frozenset({"first_name", "last_name", "address1", "city", "country_code"})
#: A country change is sent with these: the store checks them against the new country.
_COUNTRY_BOUND = ("state_or_province", "postal_code")


class AddressSkipped(Exception):
    """
    The CRM's address cannot be sent; the customer still syncs. ``field`` and ``reason`` say why.

    ``str(exc)`` is ``"address skipped: no city"`` or ``"address skipped: country_code: unknown
    country"``: it names the field, never the value.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)  # both in args, so the exception pickles across processes
        self.field = field
        self.reason = reason

    def __str__(self) -> str:
        if self.reason == MISSING_REASON:
            return f"address skipped: no {self.field}"
        return f"address skipped: {self.field}: {self.reason}"


def _text(value: object) -> str:
    """Write a CRM value as address text: numbers as a CRM shows them, NaN and ``None`` as ``""``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return collapse_spaces(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise ValueError(f"must be text or a number, got {type(value).__name__}")
    try:
        return number_text(value)
    except ValueError as exc:
        raise ValueError(f"must be text, got {exc}") from None


def _field_text(field: str, value: object) -> str:
    try:
        text = _text(value)
        return normalize_text(text, max_length=None) if text else text
    except ValueError as exc:
        raise AddressSkipped(field, str(exc)) from None


def _check_length(field: str, text: str) -> None:
    limit = ADDRESS_MAX_LENGTHS.get(field)
    if limit is not None and len(text) > limit:
        raise AddressSkipped(field, f"longer than {limit} characters")


def _required(field: str, country: str) -> bool:
    if field in _ALWAYS_REQUIRED:
        return True
    if not country:  # reported as a missing country_code, which comes later in ADDRESS_FIELDS
        return False
    if field == "state_or_province":
        return requires_state(country)
    if field == "postal_code":
        return requires_postal_code(country)
    return False


def normalize_address(
    values: Mapping[str, object], *, first_name: str, last_name: str
) -> dict[str, str] | None:
    """
    Turn a contact's mapped address columns into a V3 address payload (without ``customer_id``).

    :param values: address field (of :data:`ADDRESS_FIELDS`) -> raw CRM value.
    :param first_name: the customer's first name: the address's when the CRM gives none.
    :param last_name: the customer's last name, likewise.
    :return: all 11 fields as strings (``""`` where not given), or ``None`` when the contact has no
        address (every value blank; an ``address_type`` alone is no address).
    :raises AddressSkipped: the first problem found, naming the field.
    :raises ValueError: ``values`` holds a key that is no address field (a mapping bug, not bad data).
    """
    unknown = sorted(str(key) for key in values if key not in ADDRESS_FIELDS)
    if unknown:
        raise ValueError(f"not address fields: {', '.join(unknown)}")
    address = {field: _field_text(field, values.get(field)) for field in ADDRESS_FIELDS}
    if not any(text for field, text in address.items() if field != "address_type"):
        return None
    address["first_name"] = address["first_name"] or collapse_spaces(first_name)
    address["last_name"] = address["last_name"] or collapse_spaces(last_name)

    country = address["country_code"]
    if country:
        code = country_code(country)
        if code is None:
            raise AddressSkipped("country_code", "unknown country")
        address["country_code"] = country = code
        state = address["state_or_province"]
        if state:
            try:
                address["state_or_province"] = subdivision_name(state, country) or state
            except UnknownSubdivisionCode as exc:
                raise AddressSkipped("state_or_province", str(exc)) from None

    kind = address["address_type"].lower() or _DEFAULT_TYPE
    if kind not in ADDRESS_TYPES:
        raise AddressSkipped("address_type", "must be residential or commercial")
    address["address_type"] = kind

    for field, text in address.items():
        if text:
            _check_length(field, text)
        elif _required(field, country):
            raise AddressSkipped(field, MISSING_REASON)
    return address


# --- comparison ------------------------------------------------------------------------------------
def _lenient_text(value: object) -> str:
    """Like :func:`_text`, but never raises: a stored value we cannot read compares as written."""
    try:
        return _text(value)
    except ValueError:
        return collapse_spaces(str(value))


def _comparable_country(address: Mapping[str, object]) -> str:
    text = _lenient_text(address.get("country_code"))
    if len(text) != 2:
        return country_code(text) or text.upper()
    return text.upper()


def _comparable(field: str, value: object, country: str) -> str:
    """Bring one payload or store value to the form both are compared in."""
    text = _lenient_text(value)
    if field == "country_code":
        return country
    if field == "state_or_province":
        if text and len(country) == 2:
            with contextlib.suppress(UnknownSubdivisionCode):  # compared as written
                text = subdivision_name(text, country) or text
        return text.casefold()  # the store may have re-cased a name it knows
    if field == "postal_code":
        return text.casefold()
    if field == "address_type":
        return text.lower() or _DEFAULT_TYPE
    return text


def address_key(address: Mapping[str, object]) -> tuple[str, ...]:
    """
    Return the comparable form of an address: equal keys mean "the same address".

    :param address: a payload of :func:`normalize_address`, or an address as the store returns it
        (extra keys such as ``id`` and ``country`` are ignored, ``None`` counts as ``""``).
    :return: one string per field of :data:`ADDRESS_FIELDS`: whitespace collapsed, country code upper
        case, state as its full name and, like the postal code, case-folded; ``address_type`` defaults
        to residential; the other fields compare case-sensitively.
    """
    country = _comparable_country(address)
    return tuple(_comparable(field, address.get(field), country) for field in ADDRESS_FIELDS)


def address_changes(payload: Mapping[str, str], stored: Mapping[str, object]) -> dict[str, str]:
    """
    Return the fields of ``payload`` that differ from the store's copy: the body of a PUT by id.

    A changed country brings the payload's state and postal code along, the store checks them together.

    :param payload: a payload of :func:`normalize_address`; fields it lacks are not compared.
    :param stored: the store's address (``address_Full``).
    :return: field -> payload value; empty when the stored address is already the same.
    """
    new_country = _comparable_country(payload)
    old_country = _comparable_country(stored)
    changes = {
        field: payload[field]
        for field in ADDRESS_FIELDS
        if field in payload
        and _comparable(field, payload[field], new_country)
        != _comparable(field, stored.get(field), old_country)
    }
    if "country_code" in changes:
        changes.update({field: payload[field] for field in _COUNTRY_BOUND if field in payload})
    return changes
