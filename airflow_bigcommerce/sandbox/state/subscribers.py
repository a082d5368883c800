"""Newsletter subscribers (``/v3/customers/subscribers``, subscribers.v3.yml).

One subscriber per e-mail (409 on a duplicate); ``consents`` holds ``marketing_newsletter`` and/or
``abandoned_cart``. Deliberate difference: BigCommerce deletes every subscriber on a ``DELETE`` without
a filter; the sandbox refuses it (400) so a test catches the client that would send it. ``GET``
filters by one exact ``email``; ``email:in`` does not exist on this endpoint and gets a 422 here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from airflow_bigcommerce.sandbox.state.addresses import refuse_unfiltered_delete
from airflow_bigcommerce.sandbox.state.customer import iso, normalize_email
from airflow_bigcommerce.sandbox.state.errors import v3_error
from airflow_bigcommerce.sandbox.state.query import int_param, int_set, parse_when, path_id, v3_page
from airflow_bigcommerce.sandbox.state.schemas import V3SubscriberPost, V3SubscriberPut, parse_v3_body

_TEXT_FILTERS = ("first_name", "last_name", "source")
_DELETE_FILTERS = (
    "email",
    "first_name",
    "last_name",
    "source",
    "order_id",
    "date_created",
    "date_modified",
    "id:in",
)


class Subscribers:
    """The store's subscribers, keyed by id."""

    def __init__(
        self,
        lock: threading.RLock,
        next_id: Callable[[str], int],
        now: Callable[[], datetime],
        save: Callable[[list[dict[str, Any]]], None],
    ) -> None:
        self.lock = lock
        self._next_id = next_id
        self._now = now
        self._save = save
        self._items: dict[int, dict[str, Any]] = {}

    def load(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Replace the subscribers with persisted ones."""
        self._items = {int(r["id"]): dict(r) for r in records}

    def clear(self) -> None:
        """Forget every subscriber (a store reset)."""
        self._items.clear()

    def _changed(self) -> None:
        self._save([dict(s) for s in self._items.values()])

    def _matcher(self, query: Mapping[str, str]) -> Callable[[Mapping[str, Any]], bool]:
        if "email:in" in query:
            raise v3_error(
                422, "The filter(s) are invalid", {"email:in": "Filter by one exact email instead."}
            )
        email = query.get("email")
        ids = int_set(query, "id:in")
        one = int_param(query, "id", 0, 1, None, "v3") if "id" in query else None
        order = int_param(query, "order_id", 0, 1, None, "v3") if "order_id" in query else None
        bounds: dict[str, datetime] = {}
        for name in ("date_created", "date_modified"):
            for suffix in ("", ":min", ":max"):
                if name + suffix in query:
                    try:
                        bounds[name + suffix] = parse_when(query[name + suffix])
                    except (ValueError, OverflowError, OSError):
                        raise v3_error(
                            422, "The filter(s) are invalid", {name + suffix: "must be a date"}
                        ) from None

        def keep(item: Mapping[str, Any]) -> bool:
            if email is not None and normalize_email(item["email"]) != normalize_email(email):
                return False
            if (ids is not None and item["id"] not in ids) or one not in (None, item["id"]):
                return False
            if order not in (None, item["order_id"]) or any(
                name in query and item[name] != query[name] for name in _TEXT_FILTERS
            ):
                return False
            return within(item)

        def within(item: Mapping[str, Any]) -> bool:
            for name, bound in bounds.items():
                value = parse_when(item[name.split(":")[0]])
                if (name.endswith(":min") and value < bound) or (name.endswith(":max") and value > bound):
                    return False
                if ":" not in name and value.date() != bound.date():
                    return False
            return True

        return keep

    def search(self, query: Mapping[str, str]) -> dict[str, Any]:
        """List subscribers by id with the spec's filters, paged as V3 lists are."""
        window = v3_page(query)
        keep = self._matcher(query)
        with self.lock:
            found = [dict(s) for _, s in sorted(self._items.items()) if keep(s)]
        return window.answer(found)

    def everything(self) -> list[dict[str, Any]]:
        """Return every subscriber by id (admin view)."""
        with self.lock:
            return [dict(s) for _, s in sorted(self._items.items())]

    def _taken(self, email: str, other_than: int | None = None) -> bool:
        key = normalize_email(email)
        return any(normalize_email(s["email"]) == key and i != other_than for i, s in self._items.items())

    def create(self, body: Any) -> dict[str, Any]:
        """Create one subscriber; 409 if the e-mail already subscribes."""
        payload = parse_v3_body(body, V3SubscriberPost)
        with self.lock:
            if self._taken(payload.email):
                raise v3_error(409, f"A subscriber with the email {payload.email} already exists.")
            moment = iso(self._now())
            new_id = self._next_id("subscriber")
            self._items[new_id] = {
                "id": new_id,
                "email": payload.email,
                "first_name": payload.first_name or "",
                "last_name": payload.last_name or "",
                "source": payload.source or "custom",
                "order_id": payload.order_id,
                "channel_id": payload.channel_id or 1,
                "consents": list(dict.fromkeys(payload.consents or [])),
                "date_created": moment,
                "date_modified": moment,
            }
            self._changed()
            return {"data": dict(self._items[new_id]), "meta": {}}

    def _find(self, subscriber_id: str) -> dict[str, Any]:
        item = self._items.get(path_id(subscriber_id) or 0)
        if item is None:
            raise v3_error(404, "The subscriber was not found.")
        return item

    def get(self, subscriber_id: str) -> dict[str, Any]:
        """Return one subscriber; 404 if unknown."""
        with self.lock:
            return {"data": dict(self._find(subscriber_id)), "meta": {}}

    def update(self, subscriber_id: str, body: Any) -> dict[str, Any]:
        """Change the given fields of one subscriber; 409 if its new e-mail belongs to another."""
        payload = parse_v3_body(body, V3SubscriberPut)
        with self.lock:
            item = self._find(subscriber_id)
            if payload.email is not None and self._taken(payload.email, other_than=item["id"]):
                raise v3_error(409, f"A subscriber with the email {payload.email} already exists.")
            changes = payload.model_dump(exclude_unset=True)
            if "consents" in changes:
                changes["consents"] = list(dict.fromkeys(changes["consents"] or []))
            item.update({k: v for k, v in changes.items() if v is not None or k == "order_id"})
            item["date_modified"] = iso(self._now())
            self._changed()
            return {"data": dict(item), "meta": {}}

    def delete_one(self, subscriber_id: str) -> None:
        """Delete one subscriber by id (204 even if it is already gone, as the spec lists only 204)."""
        with self.lock:
            if self._items.pop(path_id(subscriber_id) or 0, None) is not None:
                self._changed()

    def delete(self, query: Mapping[str, str]) -> None:
        """Delete the subscribers a filter selects; refuse a request without any filter."""
        if not any(name in query for name in _DELETE_FILTERS):
            raise refuse_unfiltered_delete("subscribers", "v3")
        keep = self._matcher(query)
        with self.lock:
            for subscriber_id in [i for i, s in self._items.items() if keep(s)]:
                del self._items[subscriber_id]
            self._changed()
