"""Customer metafields (``/v3/customers/metafields`` and ``/v3/customers/{id}/metafields``).

Keyed values of any number per customer. A key is unique per (customer, namespace, key) (the owning
app is the sandbox's one API account): a second one answers 409 on the single create and fails that
item of a batch. The batch endpoints may partly succeed: 422 with the written items in ``data`` and one
error per failed item (customers.v3.yml ``MetaFieldCollectionResponsePartialSuccess_POST_PUT``).
Filters: ``key``, ``key:in``, ``namespace``, ``namespace:in`` and, beyond the spec, ``resource_id:in``
(the customers' ids) so one request reads the metafields of a batch of customers; never by value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from airflow_bigcommerce.api import METAFIELD_BATCH_SIZE
from airflow_bigcommerce.sandbox.state.book import CustomerBook
from airflow_bigcommerce.sandbox.state.customer import iso
from airflow_bigcommerce.sandbox.state.errors import BatchError, v3_error
from airflow_bigcommerce.sandbox.state.query import int_set, path_id, v3_page
from airflow_bigcommerce.sandbox.state.schemas import (
    V3_VALIDATION_TITLE,
    V3MetafieldPost,
    V3MetafieldPut,
    item_errors,
    parse_v3_body,
)

_TITLE = "Some metafields could not be written."


def _batch(body: Any) -> list[Any]:
    """Check a batch body: a non-empty array (422) of at most the batch size (413)."""
    if not isinstance(body, list) or not body:
        raise v3_error(422, V3_VALIDATION_TITLE, {"body": "The request body must be a non-empty JSON array."})
    if len(body) > METAFIELD_BATCH_SIZE:
        raise v3_error(
            413,
            "The request payload is too large. "
            f"The maximum number of items allowed in the array is {METAFIELD_BATCH_SIZE}.",
        )
    return body


def _names(query: Mapping[str, str], one: str) -> set[str] | None:
    """Return the values of ``<one>`` and ``<one>:in`` together, or None when neither is given."""
    values: set[str] = set()
    if one in query:
        values.add(query[one])
    if f"{one}:in" in query:
        values.update(part for part in query[f"{one}:in"].split(",") if part)
    return values if one in query or f"{one}:in" in query else None


class Metafields:
    """The customers' metafields, keyed by id."""

    def __init__(self, book: CustomerBook, save: Callable[[list[dict[str, Any]]], None]) -> None:
        self.book = book
        self._save = save
        self._items: dict[int, dict[str, Any]] = {}

    def load(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Replace the metafields with persisted ones."""
        self._items = {int(r["id"]): dict(r) for r in records}

    def clear(self) -> None:
        """Forget every metafield (a store reset)."""
        self._items.clear()

    def _changed(self) -> None:
        self._save([dict(m) for m in self._items.values()])

    def everything(self) -> list[dict[str, Any]]:
        """Return every metafield by id (admin view)."""
        with self.book.lock:
            return [dict(m) for _, m in sorted(self._items.items())]

    # -- reads -------------------------------------------------------------------------------------
    def search(self, query: Mapping[str, str], customer_id: int | None = None) -> dict[str, Any]:
        """List metafields by id, filtered by ``key[:in]``, ``namespace[:in]``, ``resource_id:in``; paged."""
        page = v3_page(query)
        keys, namespaces = _names(query, "key"), _names(query, "namespace")
        owners = {customer_id} if customer_id is not None else int_set(query, "resource_id:in")
        with self.book.lock:
            found = [
                dict(m)
                for _, m in sorted(self._items.items())
                if (owners is None or m["resource_id"] in owners)
                and (keys is None or m["key"] in keys)
                and (namespaces is None or m["namespace"] in namespaces)
            ]
        return page.answer(found)

    def for_customer(self, customer_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        """``GET /v3/customers/{id}/metafields``; 404 for an unknown customer."""
        return self.search(query, self._customer_id(customer_id))

    def get(self, customer_id: str, metafield_id: str) -> dict[str, Any]:
        """``GET /v3/customers/{id}/metafields/{metafield_id}``; 404 if the customer has no such one."""
        owner = self._customer_id(customer_id)
        with self.book.lock:
            found = self._items.get(path_id(metafield_id) or 0)
            if found is None or found["resource_id"] != owner:
                raise v3_error(404, "A metafield was not found with this query.")
            return {"data": dict(found), "meta": {}}

    # -- writes ------------------------------------------------------------------------------------
    def create_for(self, customer_id: str, body: Any) -> dict[str, Any]:
        """``POST /v3/customers/{id}/metafields``: one metafield; 409 if its namespace and key are taken."""
        owner = self._customer_id(customer_id)
        item = parse_v3_body(body, V3MetafieldPost)
        with self.book.lock:
            problem = self._conflict(owner, item.namespace, item.key)
            if problem:
                raise v3_error(409, problem, {"key": problem})
            created = self._add(owner, item)
            self._changed()
        return {"data": created, "meta": {}}

    def create(self, body: Any) -> dict[str, Any]:
        """``POST /v3/customers/metafields``: each item with ``resource_id``; the good ones are written."""
        raw_items = _batch(body)
        written: list[dict[str, Any]] = []
        errors: dict[str, str] = {}
        with self.book.lock:
            for index, raw in enumerate(raw_items):
                item, problems = item_errors(V3MetafieldPost, raw, index)
                if item is not None and item.resource_id is None:
                    problems = {f"{index}.resource_id": "This field is required."}
                elif item is not None and self.book.customer(int(item.resource_id or 0)) is None:
                    problems = {f"{index}.resource_id": f"Customer {item.resource_id} does not exist."}
                elif item is not None:
                    conflict = self._conflict(int(item.resource_id or 0), item.namespace, item.key)
                    problems = {f"{index}.key": conflict} if conflict else {}
                if item is None or problems:
                    errors.update(problems)
                    continue
                written.append(self._add(int(item.resource_id or 0), item))
            if written:
                self._changed()
        return self._answer(written, errors, len(raw_items))

    def update(self, body: Any) -> dict[str, Any]:
        """``PUT /v3/customers/metafields``: each item by ``id``; the good ones are written."""
        raw_items = _batch(body)
        written: list[dict[str, Any]] = []
        errors: dict[str, str] = {}
        with self.book.lock:
            for index, raw in enumerate(raw_items):
                item, problems = item_errors(V3MetafieldPut, raw, index)
                current = self._items.get(item.id) if item is not None else None
                if item is not None and current is None:
                    problems = {f"{index}.id": f"Metafield {item.id} does not exist."}
                elif item is not None and current is not None:
                    namespace = item.namespace or current["namespace"]
                    key = item.key or current["key"]
                    conflict = self._conflict(current["resource_id"], namespace, key, other_than=item.id)
                    problems = {f"{index}.key": conflict} if conflict else {}
                if item is None or current is None or problems:
                    errors.update(problems)
                    continue
                changes = item.model_dump(exclude_unset=True, exclude={"id"}, exclude_none=True)
                current.update(changes, date_modified=iso(self.book.now()))
                written.append(dict(current))
            if written:
                self._changed()
        return self._answer(written, errors, len(raw_items))

    def delete(self, body: Any) -> dict[str, Any]:
        """``DELETE /v3/customers/metafields`` with an array of ids; unknown ids fail (422)."""
        raw_items = _batch(body)
        deleted: list[int] = []
        errors: dict[str, str] = {}
        with self.book.lock:
            for index, raw in enumerate(raw_items):
                if isinstance(raw, bool) or not isinstance(raw, int) or raw not in self._items:
                    errors[str(index)] = f"Metafield {raw!r} does not exist."
                    continue
                del self._items[raw]
                deleted.append(raw)
            if deleted:
                self._changed()
        return self._answer(deleted, errors, len(raw_items))

    def delete_one(self, customer_id: str, metafield_id: str) -> None:
        """``DELETE /v3/customers/{id}/metafields/{metafield_id}``; 404 if the customer has no such one."""
        self.get(customer_id, metafield_id)
        with self.book.lock:
            del self._items[path_id(metafield_id) or 0]
            self._changed()

    def forget_customers(self, customer_ids: Iterable[int]) -> None:
        """Drop the metafields of deleted customers."""
        gone = set(customer_ids)
        with self.book.lock:
            doomed = [i for i, m in self._items.items() if m["resource_id"] in gone]
            for metafield_id in doomed:
                del self._items[metafield_id]
            if doomed:
                self._changed()

    # -- helpers -----------------------------------------------------------------------------------
    def _customer_id(self, text: str) -> int:
        customer_id = path_id(text)
        if customer_id is None or self.book.customer(customer_id) is None:
            raise v3_error(404, "The customer was not found.")
        return customer_id

    def _conflict(self, owner: int, namespace: str, key: str, other_than: int | None = None) -> str:
        for metafield_id, item in self._items.items():
            same = item["resource_id"] == owner and item["namespace"] == namespace and item["key"] == key
            if same and metafield_id != other_than:
                return (
                    f"A metafield with namespace {namespace!r} and key {key!r} exists for customer {owner}."
                )
        return ""

    def _add(self, owner: int, item: V3MetafieldPost) -> dict[str, Any]:
        moment = iso(self.book.now())
        metafield_id = self.book.next_id("metafield")
        record = {
            "id": metafield_id,
            "key": item.key,
            "value": item.value,
            "namespace": item.namespace,
            "permission_set": item.permission_set,
            "resource_type": "customer",
            "resource_id": owner,
            "description": item.description or "",
            "date_created": moment,
            "date_modified": moment,
        }
        self._items[metafield_id] = record
        return dict(record)

    @staticmethod
    def _answer(written: list[Any], errors: dict[str, str], total: int) -> dict[str, Any]:
        if errors:
            raise BatchError(422, _TITLE, written, errors, total, total - len(written))
        return {"data": written, "errors": [], "meta": {"total": total, "success": total, "failed": 0}}
