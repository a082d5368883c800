"""Customer addresses: V3 ``/v3/customers/addresses`` and V2 ``/v2/customers/{id}/addresses``.

Addresses live on their customer's record (so they persist with it). BigCommerce's rules kept here:
``state_or_province`` must be the full name (codes such as ``TX`` are refused), an address identical
in all fields to one the customer already has is not created again (200 without it), and deleting
needs ``id:in`` (without it the sandbox refuses, never deleting everything).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from airflow_bigcommerce.sandbox.state.book import CustomerBook
from airflow_bigcommerce.sandbox.state.customer import COUNTRIES, Customer
from airflow_bigcommerce.sandbox.state.errors import ApiError, v2_error, v3_error
from airflow_bigcommerce.sandbox.state.query import int_param, int_set, path_id, v3_page
from airflow_bigcommerce.sandbox.state.schemas import (
    V3_VALIDATION_TITLE,
    V2AddressCreate,
    V2AddressUpdate,
    V3AddressCreate,
    V3AddressUpdate,
    parse_v2_body,
    parse_v3_batch,
)

#: The fields that make two addresses "identical" (BigCommerce folds exact duplicates).
ADDRESS_FIELDS = (
    "customer_id",
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
#: A subdivision code instead of a name: ``TX``, ``tx``, ``NSW``, ``US-TX``, ``GB-ENG`` (not ``Goa``).
_STATE_CODE = re.compile(r"^(?:[A-Za-z]{2}|[A-Z]{3}|[A-Za-z]{2}-[A-Za-z0-9]{1,3})$")
_STATE_MESSAGE = "state_or_province must be the full state or province name, not a code."


def state_problem(state: str | None) -> str | None:
    """Return why ``state`` is refused (a subdivision code rather than a full name), else None."""
    if state and _STATE_CODE.match(state.strip()):
        return _STATE_MESSAGE
    return None


def address_record(address_id: int, customer_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Build a stored V3 ``address_Full`` from validated fields, with the defaults the API fills in."""
    data = {
        k: v for k, v in fields.items() if v is not None and k not in ("form_fields", "customer_id", "id")
    }
    for name in ("address2", "company", "phone", "state_or_province", "postal_code"):
        data.setdefault(name, "")
    data.setdefault("address_type", "residential")
    data["country_code"] = str(data["country_code"]).upper()
    data["country"] = COUNTRIES.get(data["country_code"], data["country_code"])
    return {"id": address_id, "customer_id": customer_id, **data}


def _text_set(query: Mapping[str, str], name: str) -> set[str] | None:
    """Return the lower-cased values of a comma-list text filter, or None if absent."""
    if name not in query:
        return None
    return {part.strip().lower() for part in query[name].split(",") if part.strip()}


def _identity(address: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(address.get(name, "") for name in ADDRESS_FIELDS)


def to_v2(address: Mapping[str, Any]) -> dict[str, Any]:
    """Render a stored address in V2's ``customerAddress_Full`` shape (street_1, zip, state, country)."""
    return {
        "id": address["id"],
        "customer_id": address["customer_id"],
        "first_name": address["first_name"],
        "last_name": address["last_name"],
        "company": address["company"],
        "street_1": address["address1"],
        "street_2": address["address2"],
        "city": address["city"],
        "state": address["state_or_province"],
        "zip": address["postal_code"],
        "country": address["country"],
        "country_iso2": address["country_code"],
        "phone": address["phone"],
        "address_type": address["address_type"],
    }


def _v2_fields(body: V2AddressCreate | V2AddressUpdate) -> dict[str, Any]:
    """Translate V2 address names to the stored V3 ones (``country`` is a full name in V2)."""
    names = {
        "street_1": "address1",
        "street_2": "address2",
        "state": "state_or_province",
        "zip": "postal_code",
    }
    fields: dict[str, Any] = {}
    for name, value in body.model_dump(exclude_unset=True).items():
        if name == "country":
            codes = [code for code, full in COUNTRIES.items() if full.lower() == str(value).strip().lower()]
            if not codes:
                raise v2_error(400, "The field 'country' is invalid.", invalid_reason="unknown country name")
            fields["country_code"] = codes[0]
        else:
            fields[names.get(name, name)] = value
    return fields


def _with_addresses(customer: Customer, addresses: list[dict[str, Any]], book: CustomerBook) -> Customer:
    return dataclasses.replace(customer, addresses=addresses, date_modified=book.now())


class Addresses:
    """The address operations of one store, over its customer book."""

    def __init__(self, book: CustomerBook) -> None:
        self.book = book

    # -- V3 --------------------------------------------------------------------------------------------
    def search(self, query: Mapping[str, str]) -> dict[str, Any]:
        """List addresses by ``customer_id:in``, ``id:in``, ``company:in``, ``name:in`` ("first last")."""
        window = v3_page(query)
        customer_ids = int_set(query, "customer_id:in")
        ids = int_set(query, "id:in")
        texts = {name: _text_set(query, name) for name in ("company:in", "name:in")}

        def keep(a: Mapping[str, Any]) -> bool:
            company, name = texts["company:in"], texts["name:in"]
            return (
                (ids is None or a["id"] in ids)
                and (company is None or a["company"].lower() in company)
                and (name is None or f"{a['first_name']} {a['last_name']}".lower() in name)
            )

        with self.book.lock:
            found = [
                dict(a)
                for c in self.book.customers()
                if customer_ids is None or c.id in customer_ids
                for a in c.addresses
                if keep(a)
            ]
        return window.answer(found)

    def create(self, body: Any) -> list[dict[str, Any]]:
        """Create a batch of ``address_Post``; exact duplicates of existing addresses are left out."""
        items = parse_v3_batch(body, V3AddressCreate)
        with self.book.lock:
            errors: dict[str, str] = {}
            for index, item in enumerate(items):
                problem = state_problem(item.state_or_province)
                if problem:
                    errors[f"{index}.state_or_province"] = problem
                if self.book.customer(item.customer_id) is None:
                    errors[f"{index}.customer_id"] = f"Customer with id {item.customer_id} was not found."
            if errors:
                raise v3_error(422, V3_VALIDATION_TITLE, errors)
            changed: dict[int, Customer] = {}
            created: list[dict[str, Any]] = []
            for item in items:
                current = changed.get(item.customer_id) or self.book.customer(item.customer_id)
                assert current is not None  # vetted above
                candidate = address_record(0, item.customer_id, item.model_dump())
                if any(_identity(a) == _identity(candidate) for a in current.addresses):
                    continue
                candidate["id"] = self.book.next_id("address")
                changed[item.customer_id] = _with_addresses(
                    current, [*current.addresses, candidate], self.book
                )
                created.append(candidate)
            self.book.commit(changed.values())
            return [dict(a) for a in created]

    def update(self, body: Any) -> list[dict[str, Any]]:
        """Update a batch of ``address_Put`` by id; 422 naming unknown ids or refused state codes."""
        items = parse_v3_batch(body, V3AddressUpdate)
        with self.book.lock:
            owners = self._owners()
            errors: dict[str, str] = {}
            for index, item in enumerate(items):
                if item.id not in owners:
                    errors[f"{index}.id"] = f"Address with id {item.id} was not found."
                problem = state_problem(item.state_or_province)
                if problem:
                    errors[f"{index}.state_or_province"] = problem
            if errors:
                raise v3_error(422, V3_VALIDATION_TITLE, errors)
            return self._apply_updates(
                [(owners[i.id], i.id, i.model_dump(exclude_unset=True)) for i in items]
            )

    def delete(self, query: Mapping[str, str]) -> None:
        """Delete the addresses named by the required ``id:in``; refuse a request without it."""
        ids = int_set(query, "id:in")
        if not ids:
            raise v3_error(
                422, "The filter(s) are invalid", {"id:in": "id:in is required to delete addresses."}
            )
        with self.book.lock:
            changed = [
                _with_addresses(c, [a for a in c.addresses if a["id"] not in ids], self.book)
                for c in self.book.customers()
                if any(a["id"] in ids for a in c.addresses)
            ]
            self.book.commit(changed)

    def _owners(self) -> dict[int, int]:
        return {a["id"]: c.id for c in self.book.customers() for a in c.addresses}

    def _apply_updates(self, updates: list[tuple[int, int, dict[str, Any]]]) -> list[dict[str, Any]]:
        changed: dict[int, Customer] = {}
        result: list[dict[str, Any]] = []
        for customer_id, address_id, fields in updates:
            current = changed.get(customer_id) or self.book.customer(customer_id)
            assert current is not None  # owners come from the book
            addresses = []
            for address in current.addresses:
                kept = address
                if address["id"] == address_id:
                    merged = {**address, **{k: v for k, v in fields.items() if v is not None}}
                    kept = address_record(address_id, customer_id, merged)
                    result.append(kept)
                addresses.append(kept)
            changed[customer_id] = _with_addresses(current, addresses, self.book)
        self.book.commit(changed.values())
        return [dict(a) for a in result]

    # -- V2 --------------------------------------------------------------------------------------------
    def _v2_customer(self, customer_id: str) -> Customer:
        number = path_id(customer_id)
        customer = None if number is None else self.book.customer(number)
        if customer is None:
            raise v2_error(404, "The requested resource was not found.")
        return customer

    def _v2_address(self, customer: Customer, address_id: str) -> dict[str, Any]:
        for address in customer.addresses:
            if address["id"] == path_id(address_id):
                return address
        raise v2_error(404, "The requested resource was not found.")

    def v2_list(self, customer_id: str, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """List one customer's addresses in V2 shape (``page``, ``limit``; [] past the last page)."""
        page = int_param(query, "page", 1, 1, None, "v2")
        limit = int_param(query, "limit", 50, 1, 250, "v2")
        with self.book.lock:
            addresses = self._v2_customer(customer_id).addresses
            return [to_v2(a) for a in addresses[(page - 1) * limit : page * limit]]

    def v2_get(self, customer_id: str, address_id: str) -> dict[str, Any]:
        """Return one address of one customer in V2 shape; 404 if either is unknown."""
        with self.book.lock:
            return to_v2(self._v2_address(self._v2_customer(customer_id), address_id))

    def v2_create(self, customer_id: str, body: Any) -> dict[str, Any]:
        """Create one V2 address (``customerAddress_Base``) for the customer."""
        payload = parse_v2_body(body, V2AddressCreate)
        fields = _v2_fields(payload)
        _v2_state(fields)
        with self.book.lock:
            customer = self._v2_customer(customer_id)
            record = address_record(self.book.next_id("address"), customer.id, fields)
            self.book.commit([_with_addresses(customer, [*customer.addresses, record], self.book)])
            return to_v2(record)

    def v2_update(self, customer_id: str, address_id: str, body: Any) -> dict[str, Any]:
        """Change the given fields of one V2 address."""
        fields = _v2_fields(parse_v2_body(body, V2AddressUpdate))
        _v2_state(fields)
        with self.book.lock:
            customer = self._v2_customer(customer_id)
            address = self._v2_address(customer, address_id)
            (updated,) = self._apply_updates([(customer.id, address["id"], fields)])
            return to_v2(updated)

    def v2_delete(self, customer_id: str, address_id: str) -> None:
        """Delete one V2 address (the collection delete, which empties the book, is refused)."""
        with self.book.lock:
            customer = self._v2_customer(customer_id)
            address = self._v2_address(customer, address_id)
            kept = [a for a in customer.addresses if a["id"] != address["id"]]
            self.book.commit([_with_addresses(customer, kept, self.book)])


def _v2_state(fields: Mapping[str, Any]) -> None:
    problem = state_problem(fields.get("state_or_province"))
    if problem:
        raise v2_error(400, "The field 'state' is invalid.", invalid_reason=problem)


def refuse_unfiltered_delete(what: str, version: str) -> ApiError:
    """Build the sandbox's answer to a DELETE that would empty a whole collection (the real API obeys)."""
    message = (
        f"The sandbox refuses DELETE of all {what} without a filter (BigCommerce would delete every one)."
    )
    return ApiError(400, message, version=version)
