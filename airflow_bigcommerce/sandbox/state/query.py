"""List queries: validate ``page``/``limit`` and the filters, then select and paginate customers.

Bad values fail the way each API does: V2 with a 400, V3 with a 422 naming the filter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

from airflow_bigcommerce.api import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from airflow_bigcommerce.sandbox.state.customer import Customer, normalize_email
from airflow_bigcommerce.sandbox.state.errors import v2_error, v3_error

MAX_LIMIT = MAX_PAGE_SIZE
DEFAULT_LIMIT = DEFAULT_PAGE_SIZE
_DATE_FILTERS = ("date_created:min", "date_created:max", "date_modified:min", "date_modified:max")

T = TypeVar("T")


def parse_when(value: str) -> datetime:
    """Parse an ISO date or datetime filter value; naive values are UTC. Raise ValueError if bad."""
    text = value.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), timezone.utc)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def int_param(
    query: Mapping[str, str], name: str, default: int, low: int, high: int | None, version: str
) -> int:
    """Return an integer query parameter within ``low..high``; raise the API's error if it is not."""
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        message = f"The query parameter '{name}' must be an integer within {bounds}."
        if version == "v2":
            raise v2_error(400, message)
        raise v3_error(422, "The filter(s) are invalid", {name: message})
    return value


@dataclass(frozen=True)
class ListQuery:
    """A validated list request: which customers to keep, which page of them, and V3's ``include``."""

    page: int
    limit: int
    keep: Callable[[Customer], bool]
    include: frozenset[str] = field(default_factory=frozenset)

    def window(self, found: list[T]) -> list[T]:
        """Return the requested page of ``found``."""
        start = (self.page - 1) * self.limit
        return found[start : start + self.limit]

    def answer(self, found: list[T]) -> dict[str, Any]:
        """Return the V3 list answer: the requested page of ``found`` and its ``meta.pagination``."""
        data = self.window(found)
        return {"data": data, "meta": {"pagination": self.pagination(len(found), len(data))}}

    def pagination(self, total: int, count: int) -> dict[str, Any]:
        """Return V3 ``meta.pagination`` for ``count`` items shown out of ``total``."""
        page, limit = self.page, self.limit
        total_pages = math.ceil(total / limit)
        links: dict[str, str] = {"current": f"?page={page}&limit={limit}"}
        if page > 1:
            links["previous"] = f"?page={page - 1}&limit={limit}"
        if page < total_pages:
            links["next"] = f"?page={page + 1}&limit={limit}"
        return {
            "total": total,
            "count": count,
            "per_page": limit,
            "current_page": page,
            "total_pages": total_pages,
            "links": links,
        }


def v3_page(query: Mapping[str, str]) -> ListQuery:
    """Parse V3 ``page`` and ``limit`` (default 50, at most 250) of a list that filters by itself."""
    page = int_param(query, "page", 1, 1, None, "v3")
    limit = int_param(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, "v3")
    return ListQuery(page, limit, lambda _: True)


def v2_list_query(query: Mapping[str, str]) -> ListQuery:
    """Parse V2 ``page``, ``limit`` (≤ 250), ``min_id``, ``max_id`` and ``email`` (case-insensitive)."""
    page = int_param(query, "page", 1, 1, None, "v2")
    limit = int_param(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, "v2")
    min_id = int_param(query, "min_id", 0, 0, None, "v2")
    max_id = int_param(query, "max_id", 2**63, 0, None, "v2")
    email = query.get("email")
    key = None if email is None else normalize_email(email)

    def keep(c: Customer) -> bool:
        return min_id <= c.id <= max_id and (key is None or normalize_email(c.email) == key)

    return ListQuery(page, limit, keep)


def v3_list_query(query: Mapping[str, str]) -> ListQuery:
    """Parse V3 ``email:in``, ``id:in``, ``date_*:min|max``, ``include``, ``page`` and ``limit``."""
    page = int_param(query, "page", 1, 1, None, "v3")
    limit = int_param(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, "v3")
    emails = {normalize_email(e) for e in query.get("email:in", "").split(",") if e.strip()}
    try:
        ids = {int(i) for i in query.get("id:in", "").split(",") if i.strip()}
    except ValueError:
        raise v3_error(422, "The filter(s) are invalid", {"id:in": "must be a list of integers"}) from None
    bounds: dict[str, datetime] = {}
    for name in _DATE_FILTERS:
        if name in query:
            try:
                bounds[name] = parse_when(query[name])
            except (ValueError, OverflowError, OSError):
                raise v3_error(
                    422, "The filter(s) are invalid", {name: "must be an ISO 8601 date or date-time"}
                ) from None
    include = frozenset(part.strip() for part in query.get("include", "").split(",") if part.strip())
    by_email, by_id = "email:in" in query, "id:in" in query

    def keep(c: Customer) -> bool:
        if by_email and normalize_email(c.email) not in emails:
            return False
        if by_id and c.id not in ids:
            return False
        for name, bound in bounds.items():
            value = c.date_created if name.startswith("date_created") else c.date_modified
            if (name.endswith(":min") and value < bound) or (name.endswith(":max") and value > bound):
                return False
        return True

    return ListQuery(page, limit, keep, include)


def int_set(query: Mapping[str, str], name: str) -> set[int] | None:
    """Return the integers of a V3 ``<field>:in`` filter (None if absent); 422 naming it if not integers."""
    if name not in query:
        return None
    try:
        return {int(part) for part in query[name].split(",") if part.strip()}
    except ValueError:
        raise v3_error(422, "The filter(s) are invalid", {name: "must be a list of integers"}) from None


def path_id(text: str) -> int | None:
    """Return a path segment as an id, or None unless it is ASCII digits ("²" is a digit to Python)."""
    return int(text) if text.isascii() and text.isdigit() else None
