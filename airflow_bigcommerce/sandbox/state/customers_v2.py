"""The V2 customer operations of the sandbox store (one customer per call; 409 for an e-mail in use)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_bigcommerce.sandbox.state.addresses import refuse_unfiltered_delete
from airflow_bigcommerce.sandbox.state.customer import (
    customer_from_v2,
    v2_updated,
)
from airflow_bigcommerce.sandbox.state.customers import CustomerState
from airflow_bigcommerce.sandbox.state.errors import v2_error
from airflow_bigcommerce.sandbox.state.query import int_set, path_id, v2_list_query
from airflow_bigcommerce.sandbox.state.schemas import (
    V2CustomerUpdate,
    check_v2_passwords,
    parse_v2_body,
    parse_v2_create,
)


class V2Customers(CustomerState):
    """``/v2/store`` and ``/v2/customers``: create, list, get, update and delete."""

    def store_info(self) -> dict[str, Any]:
        """Return the V2 store information object."""
        return {
            "id": self.store_hash,
            "domain": f"{self.store_hash}.sandbox.invalid",
            "secure_url": f"https://{self.store_hash}.sandbox.invalid",
            "name": self.config.store_name,
            "first_name": "Sandbox",
            "last_name": "Owner",
            "address": "",
            "country": "United States",
            "country_code": "US",
            "phone": "",
            "admin_email": "owner@sandbox.invalid",
            "order_email": "orders@sandbox.invalid",
            "timezone": {"name": "Etc/UTC", "raw_offset": 0, "dst_offset": 0, "dst_correction": False},
            "language": "en",
            "currency": "USD",
            "currency_symbol": "$",
            "decimal_separator": ".",
            "thousands_separator": ",",
            "decimal_places": 2,
            "dimension_units": "Centimeters",
            "weight_units": "KGS",
            "plan_name": "Sandbox",
            "plan_level": "Sandbox",
            "status": "live",
            "is_price_entered_with_tax": False,
            "store_id": 1,
            "default_channel_id": 1,
            "features": {"stencil_enabled": False, "multi_storefront_enabled": False},
        }

    def v2_create_customer(self, body: Any) -> dict[str, Any]:
        """Create one customer from a V2 ``customer_Base`` body; 409 if the e-mail is in use."""
        payload = parse_v2_create(body)
        check_v2_passwords(payload.authentication)
        with self.lock:
            if self._email_taken(payload.email, None):
                raise v2_error(
                    409,
                    f"The email address '{payload.email}' is already in use by another customer.",
                    conflict_reason="Another customer with the same email address already exists.",
                )
            moment = self._now()
            customer = customer_from_v2(self._next("customer"), payload, moment)
            self._commit([customer])
            return customer.to_v2(self.store_hash)

    def v2_list_customers(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """List customers by id (``email`` exact and case-insensitive, ``page``, ``limit`` ≤ 250)."""
        wanted = v2_list_query(query)
        with self.lock:
            return [c.to_v2(self.store_hash) for c in wanted.window(self._sorted(wanted.keep))]

    def v2_get_customer(self, customer_id: str) -> dict[str, Any]:
        """Return one V2 customer; 404 if there is none with that id."""
        with self.lock:
            customer = self._customers.get(path_id(customer_id) or 0)
            if customer is None:
                raise v2_error(404, "The requested resource was not found.")
            return customer.to_v2(self.store_hash)

    def v2_update_customer(self, customer_id: str, body: Any) -> dict[str, Any]:
        """Apply a V2 ``customer_Put`` to one customer; 404 if unknown, 409 if the new e-mail is in use."""
        payload = parse_v2_body(body, V2CustomerUpdate)
        check_v2_passwords(payload.authentication)
        with self.lock:
            current = self._customers.get(path_id(customer_id) or 0)
            if current is None:
                raise v2_error(404, "The requested resource was not found.")
            if payload.email is not None and self._email_taken(
                payload.email, current.channel_ids, current.id
            ):
                raise v2_error(
                    409,
                    f"The email address '{payload.email}' is already in use by another customer.",
                    conflict_reason="Another customer with the same email address already exists.",
                )
            customer = v2_updated(current, payload, self._now())
            self._commit([customer])
            return customer.to_v2(self.store_hash)

    def v2_delete_customer(self, customer_id: str) -> None:
        """Delete one customer (and its addresses and attribute values); 404 if unknown."""
        with self.lock:
            customer = self._customers.get(path_id(customer_id) or 0)
            if customer is None:
                raise v2_error(404, "The requested resource was not found.")
            self._remove([customer.id])

    def v2_delete_customers(self, query: Mapping[str, str]) -> None:
        """Delete the customers named by ``id:in``; refuse the unfiltered delete (it empties the store)."""
        ids = int_set(query, "id:in") if "id:in" in query else None
        if not ids:
            raise refuse_unfiltered_delete("customers", "v2")
        with self.lock:
            self._remove([i for i in ids if i in self._customers])
