"""V2 customer groups (``/v2/customer_groups``): only on Plus plans and above.

A store whose config has ``customer_groups_enabled: false`` models a plan without the feature: every
group endpoint answers 403 with a message saying so (the answer BigCommerce gives to a feature the
store's plan lacks; the provider must fail at start with a clear message).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from airflow_bigcommerce.sandbox.state.errors import v2_error
from airflow_bigcommerce.sandbox.state.query import DEFAULT_LIMIT, MAX_LIMIT, int_param, path_id
from airflow_bigcommerce.sandbox.state.schemas import V2GroupCreate, parse_v2_body

NOT_ON_PLAN = "Customer groups are not available on this store's plan (they need Plus or higher)."


class Groups:
    """The store's customer groups, in V2 ``customerGroup_Full`` shape."""

    def __init__(
        self,
        lock: threading.RLock,
        next_id: Callable[[str], int],
        enabled: Callable[[], bool],
        save: Callable[[list[dict[str, Any]]], None],
    ) -> None:
        self.lock = lock
        self._next_id = next_id
        self._enabled = enabled
        self._save = save
        self._groups: dict[int, dict[str, Any]] = {}

    def load(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Replace the groups with persisted ones."""
        self._groups = {int(r["id"]): dict(r) for r in records}

    def clear(self) -> None:
        """Forget every group (a store reset)."""
        self._groups.clear()

    def _check_plan(self) -> None:
        if not self._enabled():
            raise v2_error(403, NOT_ON_PLAN)

    def search(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """List groups by id: ``name`` (exact, case-insensitive), ``name:like``, ``is_default``, paged."""
        self._check_plan()
        page = int_param(query, "page", 1, 1, None, "v2")
        limit = int_param(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, "v2")
        name, like = query.get("name"), query.get("name:like", "").strip().lower()
        default = query.get("is_default", "").strip().lower()
        if default not in ("", "true", "false", "1", "0"):
            raise v2_error(400, "The query parameter 'is_default' must be true or false.")

        def keep(group: Mapping[str, Any]) -> bool:
            if name is not None and group["name"].lower() != name.strip().lower():
                return False
            if default and group["is_default"] != (default in ("true", "1")):
                return False
            return like in group["name"].lower()

        with self.lock:
            found = [dict(g) for _, g in sorted(self._groups.items()) if keep(g)]
        return found[(page - 1) * limit : page * limit]

    def get(self, group_id: str) -> dict[str, Any]:
        """Return one group; 404 if there is none with that id."""
        self._check_plan()
        with self.lock:
            group = self._groups.get(path_id(group_id) or 0)
            if group is None:
                raise v2_error(404, "The requested resource was not found.")
            return dict(group)

    def everything(self) -> list[dict[str, Any]]:
        """Return every group by id (admin view: also on a store without the feature)."""
        with self.lock:
            return [dict(g) for _, g in sorted(self._groups.items())]

    def create(self, body: Any, *, admin: bool = False) -> dict[str, Any]:
        """Create a group from ``customerGroup_Post_Put``; 409 if the name is taken.

        ``admin`` (seeding) skips the plan check, so a demo can prepare groups before enabling them.
        """
        if not admin:
            self._check_plan()
        payload = parse_v2_body(body, V2GroupCreate)
        with self.lock:
            if any(g["name"].lower() == payload.name.lower() for g in self._groups.values()):
                raise v2_error(409, f"The customer group name '{payload.name}' is already in use.")
            group_id = self._next_id("group")
            if payload.is_default:
                for group in self._groups.values():
                    group["is_default"] = False
            self._groups[group_id] = {
                "id": group_id,
                "name": payload.name,
                "is_default": bool(payload.is_default),
                "category_access": payload.category_access or {"type": "all"},
                "discount_rules": payload.discount_rules or [],
            }
            self._save([dict(g) for g in self._groups.values()])
            return dict(self._groups[group_id])

    def count(self) -> int:
        """Return the number of groups."""
        self._check_plan()
        with self.lock:
            return len(self._groups)
