"""Customer attributes (``/v3/customers/attributes``) and their values (``/attribute-values``).

An attribute is a store-wide definition (at most 50 per store, type ``string|number|date`` fixed once
created); a value belongs to one customer, is always sent as a string, and must parse as its
attribute's type. Values live on their customer's record, as ``customer_Full.attributes`` shows them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from airflow_bigcommerce.api import MAX_STORE_ATTRIBUTES
from airflow_bigcommerce.sandbox.state.book import CustomerBook
from airflow_bigcommerce.sandbox.state.customer import Customer, iso
from airflow_bigcommerce.sandbox.state.errors import v3_error
from airflow_bigcommerce.sandbox.state.query import int_set, parse_when, v3_page
from airflow_bigcommerce.sandbox.state.schemas import (
    V3_VALIDATION_TITLE,
    V3Attribute,
    V3AttributePost,
    V3AttributePut,
    V3AttributeValue,
    parse_v3_batch,
)

#: BigCommerce allows at most 50 customer attributes per store.
MAX_ATTRIBUTES = MAX_STORE_ATTRIBUTES


def value_problem(kind: str, value: str) -> str | None:
    """Return why ``value`` does not fit an attribute of type ``kind``, else None."""
    if kind == "number":
        try:
            if not Decimal(value.strip()).is_finite():
                return "must be a finite number"
        except InvalidOperation:
            return "must be a number for an attribute of type number"
    elif kind == "date":
        try:
            parse_when(value)
        except (ValueError, OverflowError, OSError):
            return "must be an ISO 8601 date for an attribute of type date"
    return None


def _missing(attribute_id: int) -> str:
    return f"Attribute with id {attribute_id} was not found."


class Attributes:
    """The store's attribute definitions and the customers' values of them."""

    def __init__(self, book: CustomerBook, save: Callable[[list[dict[str, Any]]], None]) -> None:
        self.book = book
        self._save = save
        self._defs: dict[int, dict[str, Any]] = {}

    # -- state -----------------------------------------------------------------------------------------
    def load(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Replace the definitions with persisted ones."""
        self._defs = {int(r["id"]): dict(r) for r in records}

    def clear(self) -> None:
        """Forget every definition (a store reset)."""
        self._defs.clear()

    def _changed(self) -> None:
        self._save([dict(d) for d in self._defs.values()])

    def everything(self) -> list[dict[str, Any]]:
        """Return every attribute definition by id (admin view)."""
        with self.book.lock:
            return [dict(d) for _, d in sorted(self._defs.items())]

    def kind_of(self, attribute_id: int) -> str | None:
        """Return the type of an attribute, or None if the store has no such attribute."""
        definition = self._defs.get(attribute_id)
        return None if definition is None else str(definition["type"])

    def inline_problems(self, prefix: str, attributes: Iterable[V3Attribute]) -> dict[str, str]:
        """Return the errors of a new customer's inline ``attributes`` (unknown ids, bad values)."""
        errors: dict[str, str] = {}
        for index, item in enumerate(attributes):
            kind = self.kind_of(item.attribute_id)
            if kind is None:
                errors[f"{prefix}.{index}.attribute_id"] = (
                    f"Attribute with id {item.attribute_id} was not found."
                )
            elif problem := value_problem(kind, item.attribute_value):
                errors[f"{prefix}.{index}.attribute_value"] = problem
        return errors

    # -- definitions -------------------------------------------------------------------------------------
    def search(self, query: Mapping[str, str]) -> dict[str, Any]:
        """List definitions by id, filtered by exact ``name``, ``name:like`` and ``type``."""
        window = v3_page(query)
        name, like, kind = query.get("name"), query.get("name:like", "").lower(), query.get("type")
        with self.book.lock:
            found = [
                dict(d)
                for _, d in sorted(self._defs.items())
                if (name is None or d["name"] == name)
                and like in d["name"].lower()
                and kind in (None, d["type"])
            ]
        return window.answer(found)

    def create(self, body: Any) -> list[dict[str, Any]]:
        """Create a batch of ``attribute_Post``; 422 beyond 50 per store or for a name in use."""
        items = parse_v3_batch(body, V3AttributePost)
        with self.book.lock:
            names = {d["name"].lower() for d in self._defs.values()}
            errors: dict[str, str] = {}
            for index, item in enumerate(items):
                if item.name.lower() in names:
                    errors[f"{index}.name"] = f"An attribute named {item.name!r} already exists."
                names.add(item.name.lower())
            if len(self._defs) + len(items) > MAX_ATTRIBUTES:
                errors["body"] = f"A store can have at most {MAX_ATTRIBUTES} customer attributes."
            if errors:
                raise v3_error(422, V3_VALIDATION_TITLE, errors)
            moment = iso(self.book.now())
            created = []
            for item in items:
                new_id = self.book.next_id("attribute_definition")
                self._defs[new_id] = {
                    "id": new_id,
                    "name": item.name,
                    "type": item.type,
                    "date_created": moment,
                    "date_modified": moment,
                }
                created.append(dict(self._defs[new_id]))
            self._changed()
            return created

    def rename(self, body: Any) -> list[dict[str, Any]]:
        """Apply ``attribute_Put`` (name only: a ``type`` is refused, it is fixed once created)."""
        if isinstance(body, list) and any(isinstance(i, dict) and "type" in i for i in body):
            raise v3_error(
                422,
                V3_VALIDATION_TITLE,
                {"type": "An attribute's type cannot be changed once it is created."},
            )
        items = parse_v3_batch(body, V3AttributePut)
        with self.book.lock:
            unknown = {
                f"{i}.id": f"Attribute with id {item.id} was not found."
                for i, item in enumerate(items)
                if item.id not in self._defs
            }
            if unknown:
                raise v3_error(422, V3_VALIDATION_TITLE, unknown)
            moment = iso(self.book.now())
            for item in items:
                self._defs[item.id] = {**self._defs[item.id], "name": item.name, "date_modified": moment}
            self._changed()
            return [dict(self._defs[item.id]) for item in items]

    def delete(self, query: Mapping[str, str]) -> None:
        """Delete the definitions named by the required ``id:in``, and every customer's values of them."""
        ids = int_set(query, "id:in")
        if not ids:
            raise v3_error(422, "The filter(s) are invalid", {"id:in": "id:in is required."})
        with self.book.lock:
            for attribute_id in ids:
                self._defs.pop(attribute_id, None)
            self._drop_values(lambda value: value["attribute_id"] in ids)
            self._changed()

    # -- values ------------------------------------------------------------------------------------------
    def values(self, query: Mapping[str, str]) -> dict[str, Any]:
        """List values filtered by ``customer_id:in``, ``attribute_id:in`` and the attribute's ``name``."""
        window = v3_page(query)
        customer_ids, attribute_ids = int_set(query, "customer_id:in"), int_set(query, "attribute_id:in")
        name = query.get("name")
        with self.book.lock:
            found = [
                dict(value)
                for c in self.book.customers()
                if customer_ids is None or c.id in customer_ids
                for value in c.attributes
                if (attribute_ids is None or value["attribute_id"] in attribute_ids)
                and (name is None or self._defs.get(value["attribute_id"], {}).get("name") == name)
            ]
        return window.answer(found)

    def upsert_values(self, body: Any) -> list[dict[str, Any]]:
        """Upsert up to 10 ``{attribute_id, value, customer_id}``: one value per customer and attribute."""
        items = parse_v3_batch(body, V3AttributeValue)
        with self.book.lock:
            errors: dict[str, str] = {}
            for index, item in enumerate(items):
                kind = self.kind_of(item.attribute_id)
                if kind is None:
                    errors[f"{index}.attribute_id"] = _missing(item.attribute_id)
                elif problem := value_problem(kind, item.value):
                    errors[f"{index}.value"] = problem
                if self.book.customer(item.customer_id) is None:
                    errors[f"{index}.customer_id"] = f"Customer with id {item.customer_id} was not found."
            if errors:
                raise v3_error(422, V3_VALIDATION_TITLE, errors)
            moment = self.book.now()
            changed: dict[int, Customer] = {}
            result = []
            for item in items:
                current = changed.get(item.customer_id) or self.book.customer(item.customer_id)
                assert current is not None  # vetted above
                value, values = self._upserted(current, item, moment)
                changed[item.customer_id] = dataclasses.replace(
                    current, attributes=values, date_modified=moment
                )
                result.append(value)
            self.book.commit(changed.values())
            return result

    def _upserted(
        self, customer: Customer, item: V3AttributeValue, moment: datetime
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        values = [dict(v) for v in customer.attributes]
        for value in values:
            if value["attribute_id"] == item.attribute_id:
                value.update(attribute_value=item.value, date_modified=iso(moment))
                return dict(value), values
        value = {
            "id": self.book.next_id("attribute"),
            "customer_id": customer.id,
            "attribute_id": item.attribute_id,
            "attribute_value": item.value,
            "date_created": iso(moment),
            "date_modified": iso(moment),
        }
        return dict(value), [*values, value]

    def delete_values(self, query: Mapping[str, str]) -> None:
        """Delete the values named by the required ``id:in``."""
        ids = int_set(query, "id:in")
        if not ids:
            raise v3_error(422, "The filter(s) are invalid", {"id:in": "id:in is required."})
        with self.book.lock:
            self._drop_values(lambda value: value["id"] in ids)

    def _drop_values(self, drop: Callable[[Mapping[str, Any]], bool]) -> None:
        changed = [
            dataclasses.replace(c, attributes=[v for v in c.attributes if not drop(v)])
            for c in self.book.customers()
            if any(drop(v) for v in c.attributes)
        ]
        self.book.commit(changed)
