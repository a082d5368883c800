"""Routes of the nested customer resources, each parsing, making one store call and serialising.

V2: customer addresses and customer groups. V3: addresses, attributes and their values,
subscribers and channel settings.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airflow_bigcommerce.sandbox.http.dependencies import Store, read_json
from airflow_bigcommerce.sandbox.state.addresses import refuse_unfiltered_delete


def add_nested_routes(router: APIRouter) -> None:
    """Add every nested-resource route to the store's API router."""
    _v2_addresses(router)
    _v2_groups(router)
    _v3_nested(router)


def _v2_addresses(router: APIRouter) -> None:
    """V2 ``/customers/{id}/addresses``: what the ``bigcommerce`` client's ``addresses()`` calls.

    POST answers 200, as customers.v2.yml lists for addresses and groups (customers answer 201).
    """

    @router.get("/v2/customers/{customer_id}/addresses", response_model=None)
    async def list_(store: Store, customer_id: str, request: Request) -> Any:
        found = store.addresses.v2_list(customer_id, dict(request.query_params))
        return found if found else Response(status_code=204)

    @router.get("/v2/customers/{customer_id}/addresses/{address_id}")
    async def get(store: Store, customer_id: str, address_id: str) -> dict[str, Any]:
        return store.addresses.v2_get(customer_id, address_id)

    @router.post("/v2/customers/{customer_id}/addresses")
    async def create(store: Store, customer_id: str, request: Request) -> dict[str, Any]:
        return store.addresses.v2_create(customer_id, await read_json(request, "v2"))

    @router.put("/v2/customers/{customer_id}/addresses/{address_id}")
    async def update(store: Store, customer_id: str, address_id: str, request: Request) -> dict[str, Any]:
        return store.addresses.v2_update(customer_id, address_id, await read_json(request, "v2"))

    @router.delete("/v2/customers/{customer_id}/addresses/{address_id}", status_code=204)
    async def delete(store: Store, customer_id: str, address_id: str) -> Response:
        store.addresses.v2_delete(customer_id, address_id)
        return Response(status_code=204)

    @router.delete("/v2/customers/{customer_id}/addresses", status_code=204)
    async def delete_all(store: Store, customer_id: str) -> Response:
        raise refuse_unfiltered_delete("addresses of the customer", "v2")


def _v2_groups(router: APIRouter) -> None:
    """V2 ``/customer_groups`` (bare arrays, 204 past the last page; 403 without the feature)."""

    @router.get("/v2/customer_groups/count")
    async def count(store: Store) -> dict[str, int]:
        return {"count": store.groups.count()}

    @router.get("/v2/customer_groups", response_model=None)
    async def list_(store: Store, request: Request) -> Any:
        found = store.groups.search(dict(request.query_params))
        return found if found else Response(status_code=204)

    @router.get("/v2/customer_groups/{group_id}")
    async def get(store: Store, group_id: str) -> dict[str, Any]:
        return store.groups.get(group_id)

    @router.post("/v2/customer_groups")
    async def create(store: Store, request: Request) -> dict[str, Any]:
        return store.groups.create(await read_json(request, "v2"))


def _v3_nested(router: APIRouter) -> None:
    """V3 addresses, attributes, attribute values, subscribers and channel settings."""

    def query(request: Request) -> dict[str, str]:
        return dict(request.query_params)

    def wrap(data: Any) -> dict[str, Any]:
        return {"data": data, "meta": {}}

    @router.get("/v3/customers/addresses")
    async def addresses(store: Store, request: Request) -> dict[str, Any]:
        return store.addresses.search(query(request))

    @router.post("/v3/customers/addresses")
    async def add_addresses(store: Store, request: Request) -> dict[str, Any]:
        return wrap(store.addresses.create(await read_json(request, "v3")))

    @router.put("/v3/customers/addresses")
    async def put_addresses(store: Store, request: Request) -> dict[str, Any]:
        return wrap(store.addresses.update(await read_json(request, "v3")))

    @router.delete("/v3/customers/addresses", status_code=204)
    async def delete_addresses(store: Store, request: Request) -> Response:
        store.addresses.delete(query(request))
        return Response(status_code=204)

    @router.get("/v3/customers/attributes")
    async def attributes(store: Store, request: Request) -> dict[str, Any]:
        return store.attributes.search(query(request))

    @router.post("/v3/customers/attributes")
    async def add_attributes(store: Store, request: Request) -> dict[str, Any]:
        return wrap(store.attributes.create(await read_json(request, "v3")))

    @router.put("/v3/customers/attributes")
    async def put_attributes(store: Store, request: Request) -> dict[str, Any]:
        return wrap(store.attributes.rename(await read_json(request, "v3")))

    @router.delete("/v3/customers/attributes", status_code=204)
    async def delete_attributes(store: Store, request: Request) -> Response:
        store.attributes.delete(query(request))
        return Response(status_code=204)

    @router.get("/v3/customers/attribute-values")
    async def values(store: Store, request: Request) -> dict[str, Any]:
        return store.attributes.values(query(request))

    @router.put("/v3/customers/attribute-values")
    async def put_values(store: Store, request: Request) -> dict[str, Any]:
        return wrap(store.attributes.upsert_values(await read_json(request, "v3")))

    @router.delete("/v3/customers/attribute-values", status_code=204)
    async def delete_values(store: Store, request: Request) -> Response:
        store.attributes.delete_values(query(request))
        return Response(status_code=204)

    @router.get("/v3/customers/subscribers")
    async def subscribers(store: Store, request: Request) -> dict[str, Any]:
        return store.subscribers.search(query(request))

    @router.post("/v3/customers/subscribers")
    async def subscribe(store: Store, request: Request) -> dict[str, Any]:
        return store.subscribers.create(await read_json(request, "v3"))

    @router.delete("/v3/customers/subscribers", status_code=204)
    async def unsubscribe_many(store: Store, request: Request) -> Response:
        store.subscribers.delete(query(request))
        return Response(status_code=204)

    @router.get("/v3/customers/subscribers/{subscriber_id}")
    async def subscriber(store: Store, subscriber_id: str) -> dict[str, Any]:
        return store.subscribers.get(subscriber_id)

    @router.put("/v3/customers/subscribers/{subscriber_id}")
    async def put_subscriber(store: Store, subscriber_id: str, request: Request) -> dict[str, Any]:
        return store.subscribers.update(subscriber_id, await read_json(request, "v3"))

    @router.delete("/v3/customers/subscribers/{subscriber_id}", status_code=204)
    async def unsubscribe(store: Store, subscriber_id: str) -> Response:
        store.subscribers.delete_one(subscriber_id)
        return Response(status_code=204)

    @router.get("/v3/customers/settings/channels/{channel_id}")
    async def channel(store: Store, channel_id: str) -> dict[str, Any]:
        return store.channels.get(channel_id)

    @router.put("/v3/customers/settings/channels/{channel_id}")
    async def put_channel(store: Store, channel_id: str, request: Request) -> dict[str, Any]:
        return store.channels.put(channel_id, await read_json(request, "v3"))
