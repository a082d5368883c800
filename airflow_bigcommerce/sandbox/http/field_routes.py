"""The sandbox's routes for customer metafields and the Customer Segmentation API.

Each parses, makes one store call and serialises, as in ``nested_routes.py``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from airflow_bigcommerce.sandbox.http.dependencies import Store, read_json
from airflow_bigcommerce.sandbox.store import SandboxStore


def add_field_routes(router: APIRouter) -> None:
    """Add ``/v3/customers/metafields``, ``/v3/customers/{id}/metafields``, segments and shopper profiles."""
    _metafields(router)
    _segments(router)


def _query(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def _metafields(router: APIRouter) -> None:
    @router.get("/v3/customers/metafields")
    async def metafields(store: Store, request: Request) -> dict[str, Any]:
        return store.metafields.search(_query(request))

    @router.post("/v3/customers/metafields")
    async def create_metafields(store: Store, request: Request) -> dict[str, Any]:
        return store.metafields.create(await read_json(request, "v3"))

    @router.put("/v3/customers/metafields")
    async def update_metafields(store: Store, request: Request) -> dict[str, Any]:
        return store.metafields.update(await read_json(request, "v3"))

    @router.delete("/v3/customers/metafields")
    async def delete_metafields(store: Store, request: Request) -> dict[str, Any]:
        return store.metafields.delete(await read_json(request, "v3"))

    @router.get("/v3/customers/{customer_id}/metafields")
    async def customer_metafields(store: Store, customer_id: str, request: Request) -> dict[str, Any]:
        return store.metafields.for_customer(customer_id, _query(request))

    @router.post("/v3/customers/{customer_id}/metafields")
    async def create_customer_metafield(store: Store, customer_id: str, request: Request) -> dict[str, Any]:
        return store.metafields.create_for(customer_id, await read_json(request, "v3"))

    @router.get("/v3/customers/{customer_id}/metafields/{metafield_id}")
    async def customer_metafield(store: Store, customer_id: str, metafield_id: str) -> dict[str, Any]:
        return store.metafields.get(customer_id, metafield_id)

    @router.delete("/v3/customers/{customer_id}/metafields/{metafield_id}", status_code=204)
    async def delete_customer_metafield(store: Store, customer_id: str, metafield_id: str) -> Response:
        store.metafields.delete_one(customer_id, metafield_id)
        return Response(status_code=204)


async def _segment_body(store: SandboxStore, request: Request) -> Any:
    """Read a segmentation body after the plan check: below Enterprise every request answers 403."""
    store.segments.check_plan()
    return await read_json(request, "v3")


def _segments(router: APIRouter) -> None:
    @router.get("/v3/segments")
    async def segments(store: Store, request: Request) -> dict[str, Any]:
        return store.segments.search(_query(request))

    @router.post("/v3/segments", status_code=201)
    async def create_segments(store: Store, request: Request) -> dict[str, Any]:
        return store.segments.create(await _segment_body(store, request))

    @router.put("/v3/segments", status_code=201)
    async def update_segments(store: Store, request: Request) -> dict[str, Any]:
        return store.segments.update(await _segment_body(store, request))

    @router.delete("/v3/segments", status_code=204)
    async def delete_segments(store: Store, request: Request) -> Response:
        store.segments.delete(_query(request))
        return Response(status_code=204)

    @router.get("/v3/segments/{segment_id}/shopper-profiles")
    async def segment_profiles(store: Store, segment_id: str, request: Request) -> dict[str, Any]:
        return store.segments.profiles_of(segment_id, _query(request))

    @router.post("/v3/segments/{segment_id}/shopper-profiles", status_code=201)
    async def add_profiles(store: Store, segment_id: str, request: Request) -> JSONResponse:
        added = store.segments.add(segment_id, await _segment_body(store, request))
        return JSONResponse(added, status_code=201)

    @router.delete("/v3/segments/{segment_id}/shopper-profiles", status_code=204)
    async def remove_profiles(store: Store, segment_id: str, request: Request) -> Response:
        store.segments.remove(segment_id, _query(request))
        return Response(status_code=204)

    @router.get("/v3/shopper-profiles")
    async def profiles(store: Store, request: Request) -> dict[str, Any]:
        return store.segments.profiles(_query(request))

    @router.post("/v3/shopper-profiles", status_code=201)
    async def create_profiles(store: Store, request: Request) -> dict[str, Any]:
        return store.segments.create_profiles(await _segment_body(store, request))

    @router.delete("/v3/shopper-profiles", status_code=204)
    async def delete_profiles(store: Store, request: Request) -> Response:
        store.segments.delete_profiles(_query(request))
        return Response(status_code=204)

    @router.get("/v3/shopper-profiles/{profile_id}/segments")
    async def profile_segments(store: Store, profile_id: str, request: Request) -> dict[str, Any]:
        return store.segments.segments_of(profile_id, _query(request))
