"""
The ``addresses`` a new V3 customer carries inline (``customerAddresses_CustomerPost``).

Used by ``CreateCustomerOperator(api_version="v3")``, where an invalid address fails the task (the
sync, by contrast, skips a bad address and still syncs the customer). Each address goes through the
sync's own normaliser (:func:`airflow_bigcommerce.models.address.normalize_address`): country names
or ISO codes become ISO 3166-1 alpha-2, state codes become the full names BigCommerce requires.
Errors name the address and the field, never the value (addresses are personal data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_bigcommerce.api import INLINE_ADDRESSES_MAX as MAX_ADDRESSES
from airflow_bigcommerce.models.address import ADDRESS_FIELDS, AddressSkipped, normalize_address
from airflow_bigcommerce.models.fields import MISSING_REASON

__all__ = ["ADDRESS_FIELDS", "MAX_ADDRESSES", "v3_addresses"]


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
    try:
        address = normalize_address(values, first_name=first_name, last_name=last_name)
    except AddressSkipped as exc:
        raise ValueError(f"address {index}, field {exc.field!r}: {exc.reason}") from None
    if address is None:  # every field blank
        raise ValueError(f"address {index}, field 'address1': {MISSING_REASON}")
    return address
