"""Seeding the sandbox store directly (admin routes, tests): no quota, no faults, the API's checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_bigcommerce.sandbox.state.customer import (
    Customer,
    customer_from_v3,
)
from airflow_bigcommerce.sandbox.state.customers import CustomerState
from airflow_bigcommerce.sandbox.state.errors import v3_error
from airflow_bigcommerce.sandbox.state.query import parse_when
from airflow_bigcommerce.sandbox.state.schemas import (
    V3_VALIDATION_TITLE,
    V3CustomerPost,
    parse_v3_items,
)


class Seeding(CustomerState):
    """Customers, attribute definitions and groups added as if they were there before."""

    def seed_attributes(self, attributes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create attribute definitions (``[{"name", "type"}]``) directly: no quota, no faults."""
        return self.attributes.create(attributes)

    def seed_groups(self, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create customer groups (``[{"name", ...}]``) directly, even with groups disabled."""
        with self.lock:
            return [self.groups.create(group, admin=True) for group in groups]

    def seed(
        self, customers: Iterable[Mapping[str, Any]], *, allow_duplicates: bool = False
    ) -> list[dict[str, Any]]:
        """Add customers directly (e.g. earlier storefront sign-ups): no quota, no faults.

        Each item is a V3 ``customer_Post``, optionally with ``date_created`` / ``date_modified`` (ISO).
        ``allow_duplicates`` lets a test plant duplicate e-mails that the API itself would refuse.
        """
        with self.lock:
            created: list[Customer] = []
            try:
                for index, raw in enumerate(customers):
                    customer = self._seeded(index, raw, allow_duplicates=allow_duplicates)
                    self._index(customer)
                    created.append(customer)
            finally:  # one transaction for the lot; those before a bad item stay, as in memory
                self._persist(created)
            return [c.to_v3() for c in created]

    def _seeded(self, index: int, raw: Mapping[str, Any], *, allow_duplicates: bool) -> Customer:
        """Build seed item ``index`` (not yet stored); raise the 422 or 409 the API would."""
        item = dict(raw) if isinstance(raw, Mapping) else raw
        dates = {
            k: item.pop(k) for k in ("date_created", "date_modified") if isinstance(item, dict) and k in item
        }
        ((model, errors),) = parse_v3_items([item], V3CustomerPost)
        if not isinstance(model, V3CustomerPost):
            raise v3_error(422, V3_VALIDATION_TITLE, {f"{index}{k[1:]}": v for k, v in errors.items()})
        problems = self._inline_problems(index, model)
        if problems:
            raise v3_error(422, V3_VALIDATION_TITLE, problems)
        if not allow_duplicates and self._email_taken(model.email, model.channel_ids):
            raise v3_error(409, f"The email address {model.email} is already in use.")
        try:
            moments = {k: parse_when(str(v)) for k, v in dates.items()}
        except (ValueError, OverflowError, OSError):
            raise v3_error(422, V3_VALIDATION_TITLE, {f"{index}.date_created": "bad date"}) from None
        moment = moments.get("date_created", self._now())
        customer = customer_from_v3(model, moment, self._next)
        customer.date_modified = moments.get("date_modified", moment)
        return customer
