"""The stored customer record: built from validated V2/V3 bodies, rendered in each API's wire shape."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

from airflow_bigcommerce.sandbox.state.schemas import (
    V2CustomerCreate,
    V2CustomerUpdate,
    V3AddressPost,
    V3Attribute,
    V3CustomerPost,
    V3CustomerPut,
)

COUNTRIES = {
    "US": "United States",
    "GB": "United Kingdom",
    "CA": "Canada",
    "AU": "Australia",
    "DE": "Germany",
}


def normalize_email(email: str) -> str:
    """Return the match key of an e-mail: trimmed and lower-cased (uniqueness is case-insensitive)."""
    return email.strip().lower()


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """Format a V3 timestamp (ISO 8601, UTC, seconds)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


@dataclass
class Customer:
    """One stored customer; the password is kept only as a digest and never rendered."""

    id: int
    email: str
    first_name: str
    last_name: str
    date_created: datetime
    date_modified: datetime
    company: str = ""
    phone: str = ""
    notes: str = ""
    tax_exempt_category: str = ""
    customer_group_id: int = 0
    registration_ip_address: str = ""
    store_credit: float = 0.0
    force_password_reset: bool = False
    password_digest: str | None = None
    accepts_product_review_abandoned_cart_emails: bool = False
    origin_channel_id: int = 1
    channel_ids: list[int] | None = None
    addresses: list[dict[str, Any]] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)
    form_fields: list[dict[str, Any]] = field(default_factory=list)

    def to_v3(self, *, include: Iterable[str] = ("addresses", "attributes")) -> dict[str, Any]:
        """Render V3 ``customer_Full``; sub-resources only when included (as ``include=`` does)."""
        wanted = set(include)
        data: dict[str, Any] = {
            "id": self.id,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "company": self.company,
            "phone": self.phone,
            "registration_ip_address": self.registration_ip_address,
            "notes": self.notes,
            "tax_exempt_category": self.tax_exempt_category,
            "customer_group_id": self.customer_group_id,
            "date_created": iso(self.date_created),
            "date_modified": iso(self.date_modified),
            "address_count": len(self.addresses),
            "attribute_count": len(self.attributes),
            "authentication": {"force_password_reset": self.force_password_reset},
            "store_credit_amounts": [{"amount": self.store_credit}],
            "accepts_product_review_abandoned_cart_emails": self.accepts_product_review_abandoned_cart_emails,
            "origin_channel_id": self.origin_channel_id,
            "channel_ids": self.channel_ids,
        }
        if "addresses" in wanted:
            data["addresses"] = [dict(address) for address in self.addresses]
        if "attributes" in wanted:
            data["attributes"] = [dict(attribute) for attribute in self.attributes]
        if "formfields" in wanted:
            data["form_fields"] = [dict(form_field) for form_field in self.form_fields]
        return data

    def to_v2(self, store_hash: str) -> dict[str, Any]:
        """Render V2 ``customer_Full`` (dates in RFC 2822, as V2 does; no password)."""
        return {
            "id": self.id,
            "company": self.company,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone,
            "form_fields": None,
            "date_created": format_datetime(self.date_created.replace(microsecond=0)),
            "date_modified": format_datetime(self.date_modified.replace(microsecond=0)),
            "store_credit": f"{self.store_credit:.4f}",
            "registration_ip_address": self.registration_ip_address,
            "customer_group_id": self.customer_group_id,
            "notes": self.notes,
            "tax_exempt_category": self.tax_exempt_category,
            "reset_pass_on_login": self.force_password_reset,
            "accepts_marketing": self.accepts_product_review_abandoned_cart_emails,
            "addresses": {
                "url": f"/stores/{store_hash}/v2/customers/{self.id}/addresses",
                "resource": f"/customers/{self.id}/addresses",
            },
        }

    def to_record(self) -> dict[str, Any]:
        """Return JSON-safe data for persistence."""
        data = dataclasses.asdict(self)
        data["date_created"] = self.date_created.isoformat()
        data["date_modified"] = self.date_modified.isoformat()
        return data

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Customer:
        """Rebuild a customer from :meth:`to_record` data."""
        values = dict(data)
        values["date_created"] = datetime.fromisoformat(values["date_created"])
        values["date_modified"] = datetime.fromisoformat(values["date_modified"])
        return cls(**values)


def _new(customer_id: int, item: V2CustomerCreate | V3CustomerPost, moment: datetime) -> Customer:
    """Start a customer from the fields every create body requires, created and modified at ``moment``."""
    return Customer(
        id=customer_id,
        email=item.email,
        first_name=item.first_name,
        last_name=item.last_name,
        date_created=moment,
        date_modified=moment,
    )


def customer_from_v2(customer_id: int, payload: V2CustomerCreate, moment: datetime) -> Customer:
    """Build a customer from a validated V2 ``customer_Base`` body."""
    auth = payload.authentication
    return dataclasses.replace(
        _new(customer_id, payload, moment),
        company=payload.company or "",
        phone=payload.phone or "",
        notes=payload.notes or "",
        tax_exempt_category=payload.tax_exempt_category or "",
        customer_group_id=payload.customer_group_id or 0,
        registration_ip_address=payload.registration_ip_address or "",
        store_credit=float(payload.store_credit or 0),
        force_password_reset=bool(payload.reset_pass_on_login or (auth and auth.force_reset)),
        password_digest=_digest(auth.password) if auth and auth.password else None,
    )


def customer_from_v3(item: V3CustomerPost, moment: datetime, next_id: Callable[[str], int]) -> Customer:
    """Build a customer from a validated V3 ``customer_Post``; ``next_id(kind)`` hands out the ids."""
    customer_id = next_id("customer")
    customer = _new(customer_id, item, moment)
    customer.origin_channel_id = item.origin_channel_id or 1
    _apply(customer, item)
    customer.addresses = [_address(next_id("address"), customer_id, a) for a in item.addresses or []]
    customer.attributes = [
        _attribute(next_id("attribute"), customer_id, a, moment) for a in item.attributes or []
    ]
    return customer


def v2_updated(current: Customer, payload: V2CustomerUpdate, now: datetime) -> Customer:
    """Return a copy of ``current`` with a V2 ``customer_Put`` applied (only the fields it sets)."""
    changes: dict[str, Any] = {}
    for name in ("email", "first_name", "last_name", "company", "phone", "notes", "tax_exempt_category"):
        value = getattr(payload, name)
        if value is not None:
            changes[name] = value
    if payload.customer_group_id is not None:
        changes["customer_group_id"] = payload.customer_group_id
    if payload.registration_ip_address is not None:
        changes["registration_ip_address"] = payload.registration_ip_address
    if payload.store_credit is not None:
        changes["store_credit"] = float(payload.store_credit)
    auth = payload.authentication
    if payload.reset_pass_on_login is not None:
        changes["force_password_reset"] = payload.reset_pass_on_login
    if auth is not None and auth.force_reset is not None:
        changes["force_password_reset"] = auth.force_reset
    if auth is not None and auth.password:
        changes["password_digest"] = _digest(auth.password)
    changes["date_modified"] = max(now, current.date_modified + timedelta(microseconds=1))
    return dataclasses.replace(current, **changes)


def customer_updated(current: Customer, item: V3CustomerPut, now: datetime) -> Customer:
    """Return a copy of ``current`` with a ``customer_Put`` applied; ``date_modified`` always moves on."""
    customer = dataclasses.replace(
        current,
        addresses=list(current.addresses),
        attributes=list(current.attributes),
        form_fields=list(current.form_fields),
    )
    _apply(customer, item)
    customer.date_modified = max(now, current.date_modified + timedelta(microseconds=1))
    return customer


def _address(address_id: int, customer_id: int, address: V3AddressPost) -> dict[str, Any]:
    data = address.model_dump(exclude_none=True)
    data.setdefault("address_type", "residential")
    data.setdefault("address2", "")
    data.setdefault("company", "")
    data.setdefault("phone", "")
    data.setdefault("state_or_province", "")
    data.setdefault("postal_code", "")
    data.pop("form_fields", None)
    data["country_code"] = address.country_code.upper()
    data["country"] = COUNTRIES.get(data["country_code"], data["country_code"])
    return {"id": address_id, "customer_id": customer_id, **data}


def _attribute(
    attribute_id: int, customer_id: int, attribute: V3Attribute, moment: datetime
) -> dict[str, Any]:
    return {
        "id": attribute_id,
        "customer_id": customer_id,
        "attribute_id": attribute.attribute_id,
        "attribute_value": attribute.attribute_value,
        "date_created": iso(moment),
        "date_modified": iso(moment),
    }


_PLAIN_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "company",
    "phone",
    "notes",
    "tax_exempt_category",
    "customer_group_id",
    "accepts_product_review_abandoned_cart_emails",
)


def _apply(customer: Customer, item: V3CustomerPost | V3CustomerPut) -> None:
    """Copy the fields the body set; ``origin_channel_id`` is fixed at creation and never updated."""
    given = item.model_fields_set
    for name in _PLAIN_FIELDS:
        value = getattr(item, name)
        if name in given and value is not None:
            setattr(customer, name, value)
    if "registration_ip_address" in given and getattr(item, "registration_ip_address", None) is not None:
        customer.registration_ip_address = getattr(item, "registration_ip_address", "")
    if "channel_ids" in given:
        customer.channel_ids = item.channel_ids
    if item.store_credit_amounts is not None:
        customer.store_credit = sum(credit.amount for credit in item.store_credit_amounts)
    if item.form_fields is not None:
        # customer_Full's form_fields items require customer_id.
        customer.form_fields = [{**f.model_dump(), "customer_id": customer.id} for f in item.form_fields]
    if item.authentication is not None:
        if item.authentication.force_password_reset is not None:
            customer.force_password_reset = item.authentication.force_password_reset
        if item.authentication.new_password:
            customer.password_digest = _digest(item.authentication.new_password)
