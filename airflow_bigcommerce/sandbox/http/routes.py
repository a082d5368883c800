"""The sandbox's API routes for customers (V2 and V3): each parses, makes one store call and serialises.

The nested resources (addresses, groups, attributes, subscribers, channels) are in ``nested_routes.py``.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airflow_bigcommerce.sandbox.http.dependencies import Store, read_json
from airflow_bigcommerce.sandbox.http.field_routes import add_field_routes
from airflow_bigcommerce.sandbox.http.nested_routes import add_nested_routes


def api_router() -> APIRouter:
    """Return the router of ``/stores/{store_hash}/...`` (auth through the ``Store`` dependency)."""
    router = APIRouter(prefix="/stores/{store_hash}")

    @router.get("/v2/time")
    async def v2_time(store: Store) -> dict[str, int]:
        return {"time": int(time.time())}

    @router.get("/v2/store")
    async def v2_store(store: Store) -> dict[str, Any]:
        return store.store_info()

    @router.get("/v2/customers/count")
    async def v2_count(store: Store) -> dict[str, int]:
        return {"count": store.count()}

    @router.get("/v2/customers", response_model=None)
    async def v2_list(store: Store, request: Request) -> Any:
        found = store.v2_list_customers(dict(request.query_params))
        return found if found else Response(status_code=204)

    @router.get("/v2/customers/{customer_id}")
    async def v2_get(store: Store, customer_id: str) -> dict[str, Any]:
        return store.v2_get_customer(customer_id)

    @router.post("/v2/customers", status_code=201)
    async def v2_create(store: Store, request: Request) -> dict[str, Any]:
        return store.v2_create_customer(await read_json(request, "v2"))

    @router.put("/v2/customers/{customer_id}")
    async def v2_update(store: Store, customer_id: str, request: Request) -> dict[str, Any]:
        return store.v2_update_customer(customer_id, await read_json(request, "v2"))

    @router.delete("/v2/customers/{customer_id}", status_code=204)
    async def v2_delete(store: Store, customer_id: str) -> Response:
        store.v2_delete_customer(customer_id)
        return Response(status_code=204)

    @router.delete("/v2/customers", status_code=204)
    async def v2_delete_many(store: Store, request: Request) -> Response:
        store.v2_delete_customers(dict(request.query_params))
        return Response(status_code=204)

    add_nested_routes(router)
    add_field_routes(router)

    @router.get("/v3/customers")
    async def v3_list(store: Store, request: Request) -> dict[str, Any]:
        return store.v3_list_customers(dict(request.query_params))

    @router.post("/v3/customers")
    async def v3_create(store: Store, request: Request) -> dict[str, Any]:
        body = await read_json(request, "v3")
        return {"data": store.v3_create_customers(body, non_atomic=_non_atomic(request)), "meta": {}}

    @router.put("/v3/customers")
    async def v3_update(store: Store, request: Request) -> dict[str, Any]:
        body = await read_json(request, "v3")
        return {"data": store.v3_update_customers(body, non_atomic=_non_atomic(request)), "meta": {}}

    return router


def _non_atomic(request: Request) -> bool:
    """Whether a scripted ``non_atomic`` fault makes this batch commit its good head if refused."""
    return bool(getattr(request.state, "non_atomic", False))
