"""
Map CRM rows to V3 ``customer_Post`` payloads: the per-row hot path of the sync engine.

Hand-written checks rather than a pydantic model per row: they run about twice as fast and use the
very rules of :mod:`airflow_bigcommerce.models.customer` (``normalize_*``, ``parse_*``), so every
payload :func:`map_contact` returns is one :class:`~airflow_bigcommerce.models.customer.CustomerV3Create`
accepts. A bad row raises :class:`ContactRejected` naming the target field and a reason, never the value.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from airflow_bigcommerce.models.fields import (
    COMPANY_MAX_LENGTH,
    MISSING_REASON,
    NAME_MAX_LENGTH,
    TAX_EXEMPT_CATEGORY_MAX_LENGTH,
    normalize_email,
    normalize_line_breaks,
    normalize_notes,
    normalize_password,
    normalize_phone,
    normalize_text,
    parse_bool,
    parse_customer_group_id,
)
from airflow_bigcommerce.models.values import is_blank, number_text

__all__ = [
    "COMPARABLE_FIELDS",
    "REQUIRED_FIELDS",
    "TARGET_FIELDS",
    "ContactRejected",
    "customer_differs",
    "map_contact",
    "match_key",
    "validate_field_map",
]

#: Customer fields a CRM column may map to, in the order rows are checked.
_TARGET_ORDER = (
    "email",
    "first_name",
    "last_name",
    "company",
    "phone",
    "notes",
    "tax_exempt_category",
    "customer_group_id",
    "password",
    "force_password_reset",
    "accepts_product_review_abandoned_cart_emails",
)
#: customer fields a CRM column may map to
TARGET_FIELDS: frozenset[str] = frozenset(_TARGET_ORDER)
#: ``customer_Post`` requires these; a row without one of them is rejected.
REQUIRED_FIELDS: tuple[str, ...] = ("email", "first_name", "last_name")
#: The fields an upsert compares with the store's copy (secrets and the match key excluded).
COMPARABLE_FIELDS: tuple[str, ...] = tuple(
    target for target in _TARGET_ORDER if target not in ("email", "password", "force_password_reset")
)


class ContactRejected(Exception):
    """
    A CRM row that cannot become a customer: ``field`` is the target field, ``reason`` says why.

    The message is ``"{field}: {reason}"`` and never contains the row's values.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)  # both in args, so the exception pickles across processes
        self.field = field
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


def validate_field_map(field_map: Mapping[str, str] | None) -> dict[str, str]:
    """
    Check a CRM-column -> customer-field map once, before any row is read.

    :param field_map: CRM column -> target field; ``None`` maps each target field from the column of
        the same name. Besides :data:`TARGET_FIELDS`, the targets of a contact's parts
        (:mod:`airflow_bigcommerce.models.contact_parts`: ``address.<field>``, ``attribute.<name>``,
        ``customer_group``, ``newsletter``, ``form_field.<name>``, ``store_credit``) are accepted.
    :return: the map ordered by target field (so rows report problems in a stable order), the
        parts' targets last, in the order given.
    :raises ValueError: an unknown target, two columns on one target, no e-mail.
    """
    from airflow_bigcommerce.models.contact_parts import check_part_target, is_part_target

    if field_map is None:
        return {target: target for target in _TARGET_ORDER}
    if not isinstance(field_map, Mapping):
        raise ValueError(
            f"field_map must be a mapping of CRM column to customer field, got {type(field_map).__name__}"
        )
    column_of: dict[str, str] = {}
    for column, target in field_map.items():
        if not isinstance(column, str) or not column:
            raise ValueError(f"field_map: CRM column names must be non-empty strings, got {column!r}")
        if isinstance(target, str) and is_part_target(target):
            check_part_target(column, target)
        elif not isinstance(target, str) or target not in TARGET_FIELDS:
            raise ValueError(
                f"field_map: column {column!r} maps to unknown customer field {target!r};"
                f" expected one of {', '.join(_TARGET_ORDER)}, or address.<field>, attribute.<name>,"
                " customer_group, newsletter, form_field.<name>, store_credit"
            )
        if target in column_of:
            raise ValueError(
                f"field_map: columns {column_of[target]!r} and {column!r} both map to"
                f" customer field {target!r}"
            )
        column_of[target] = column
    if "email" not in column_of:
        raise ValueError("field_map: no column maps to 'email' (required: it is the match key)")
    if "customer_group" in column_of and "customer_group_id" in column_of:
        raise ValueError(
            f"field_map: columns {column_of['customer_group_id']!r} and {column_of['customer_group']!r}"
            " both set the customer group (map customer_group_id or customer_group, not both)"
        )
    ordered = {column_of[target]: target for target in _TARGET_ORDER if target in column_of}
    ordered.update((column, target) for target, column in column_of.items() if is_part_target(target))
    return ordered


def match_key(email: str) -> str:
    """Return the key customers are matched on: the e-mail trimmed and lower-cased."""
    return email.strip().lower()


# --- per-field converters: value (not None) -> cleaned value, "" / None for missing, or ValueError ----
def _as_text(value: object) -> str:
    """Accept text, and numbers written out (a CRM may type a phone column as a number)."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise ValueError(f"must be text, got {type(value).__name__}")
    try:
        return number_text(value)  # 5551234.0 from a float column -> "5551234"; NaN -> "" (missing)
    except ValueError as exc:
        raise ValueError(f"must be text, got {exc}") from None


def _email(value: object) -> str:
    return normalize_email(value if type(value) is str else _as_text(value))


def _name(value: object) -> str:
    return normalize_text(value if type(value) is str else _as_text(value), max_length=NAME_MAX_LENGTH)


def _company(value: object) -> str:
    return normalize_text(value if type(value) is str else _as_text(value), max_length=COMPANY_MAX_LENGTH)


def _tax_exempt_category(value: object) -> str:
    return normalize_text(
        value if type(value) is str else _as_text(value), max_length=TAX_EXEMPT_CATEGORY_MAX_LENGTH
    )


def _phone(value: object) -> str:
    return normalize_phone(value if type(value) is str else _as_text(value))


def _notes(value: object) -> str:
    return normalize_notes(value if type(value) is str else _as_text(value))


def _password(value: object) -> str:
    return normalize_password(value if type(value) is str else _as_text(value))


def _customer_group_id(value: object) -> int | None:
    if is_blank(value):
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, int | bool):
        value = int(value)  # numpy integers
    return parse_customer_group_id(value)


def _flag(value: object) -> bool | None:
    if is_blank(value):
        return None
    return parse_bool(value)


_CONVERTERS: dict[str, Callable[[object], object]] = {
    "email": _email,
    "first_name": _name,
    "last_name": _name,
    "company": _company,
    "phone": _phone,
    "notes": _notes,
    "tax_exempt_category": _tax_exempt_category,
    "customer_group_id": _customer_group_id,
    "password": _password,
    "force_password_reset": _flag,
    "accepts_product_review_abandoned_cart_emails": _flag,
}


def map_contact(row: Mapping[str, Any], field_map: Mapping[str, str]) -> dict[str, Any]:
    """
    Turn one CRM row into a V3 ``customer_Post`` dict ready to send.

    Strings are trimmed; ``None``, blank strings and NaN count as missing; a missing column is missing.

    :param row: the CRM row, column -> value.
    :param field_map: the result of :func:`validate_field_map` (CRM column -> target field).
    :return: the payload; a password becomes ``authentication.new_password`` (with
        ``force_password_reset``, default ``False``).
    :raises ContactRejected: for the first problem found, naming the target field.
    """
    payload: dict[str, Any] = {}
    for column, target in field_map.items():
        converter = _CONVERTERS.get(target)
        if converter is None:  # a part's target (models.contact_parts maps those)
            continue
        value = row.get(column)
        if value is None:
            continue
        try:
            cleaned = converter(value)
        except ValueError as exc:
            raise ContactRejected(target, str(exc)) from None
        if cleaned is not None and cleaned != "":
            payload[target] = cleaned
    for required in REQUIRED_FIELDS:
        if required not in payload:
            raise ContactRejected(required, MISSING_REASON)
    password = payload.pop("password", None)
    force_reset = payload.pop("force_password_reset", None)
    if password is not None:
        payload["authentication"] = {"new_password": password, "force_password_reset": bool(force_reset)}
    elif force_reset is not None:
        payload["authentication"] = {"force_password_reset": force_reset}
    return payload


def _comparable(field: str, value: object) -> object:
    """Bring a payload or store value to the form both are compared in."""
    if value is None:
        return 0 if field == "customer_group_id" else ""
    if field == "customer_group_id":
        try:
            return parse_customer_group_id(value)
        except ValueError:
            return value
    if isinstance(value, str):
        value = value.strip()
        if field == "notes":
            value = normalize_line_breaks(value)
    return value


def customer_differs(payload: Mapping[str, Any], existing: Mapping[str, Any]) -> dict[str, Any]:
    """
    Return the comparable fields of ``payload`` whose value differs from the store's copy.

    :param payload: a dict from :func:`map_contact`; fields it lacks are not compared (not cleared).
    :param existing: the store's ``customer_Full``.
    :return: field -> payload value for each difference; empty when an update would change nothing.
    """
    changed: dict[str, Any] = {}
    for field in COMPARABLE_FIELDS:
        if field in payload:
            new = payload[field]
            if _comparable(field, new) != _comparable(field, existing.get(field)):
                changed[field] = new
    return changed
