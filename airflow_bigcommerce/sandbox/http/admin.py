"""The sandbox's admin routes under ``/__sandbox/``: reset, seed, inspect, configure and script faults.

They spend no quota, need no token and never suffer outages, limits or faults.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from airflow_bigcommerce.sandbox.state.errors import ApiError
from airflow_bigcommerce.sandbox.store import SandboxStore
from airflow_bigcommerce.sandbox.traffic.faults import FAULT_KINDS, spread_rate

ADMIN_PREFIX = "/__sandbox"


def admin_router() -> APIRouter:
    """Return the router of ``/__sandbox/...``."""
    router = APIRouter(prefix=ADMIN_PREFIX)

    def store_of(request: Request) -> SandboxStore:
        return request.app.state.store  # type: ignore[no-any-return]

    @router.post("/reset")
    async def reset(request: Request) -> dict[str, bool]:
        store_of(request).reset()
        return {"reset": True}

    @router.post("/seed")
    async def seed(request: Request, payload: Annotated[Any, Body()]) -> dict[str, Any]:
        options = payload if isinstance(payload, dict) else {"customers": payload}
        customers = options.get("customers")
        if not isinstance(customers, list):
            raise ApiError(400, "Send a list of customers or {'customers': [...]}.", version="v3")
        created = store_of(request).seed(customers, allow_duplicates=bool(options.get("allow_duplicates")))
        return {"data": created}

    @router.post("/attributes")
    async def seed_attributes(request: Request, payload: Annotated[Any, Body()]) -> dict[str, Any]:
        return {"data": store_of(request).seed_attributes(_listed(payload, "attributes"))}

    @router.get("/attributes")
    async def list_attributes(request: Request) -> dict[str, Any]:
        return {"data": store_of(request).attributes.everything()}

    @router.post("/groups")
    async def seed_groups(request: Request, payload: Annotated[Any, Body()]) -> dict[str, Any]:
        return {"data": store_of(request).seed_groups(_listed(payload, "groups"))}

    @router.get("/groups")
    async def list_groups(request: Request) -> dict[str, Any]:
        return {"data": store_of(request).groups.everything()}

    @router.post("/form-fields")
    async def define_form_fields(request: Request, payload: Annotated[Any, Body()]) -> dict[str, Any]:
        fields = _listed(payload, "form_fields")
        if not all(isinstance(f.get("name"), str) and f["name"] for f in fields):
            raise ApiError(400, "Each form field needs a non-empty 'name'.", version="v3")
        names = store_of(request).define_form_fields(f["name"] for f in fields)
        return {"data": [{"name": name} for name in names]}

    @router.get("/form-fields")
    async def list_form_fields(request: Request) -> dict[str, Any]:
        return {"data": [{"name": name} for name in store_of(request).form_field_names]}

    @router.get("/metafields")
    async def list_metafields(request: Request) -> dict[str, Any]:
        return {"data": store_of(request).metafields.everything()}

    @router.get("/segments")
    async def list_segments(request: Request) -> dict[str, Any]:
        return {"data": store_of(request).segments.everything()}

    @router.get("/subscribers")
    async def list_subscribers(request: Request) -> dict[str, Any]:
        return {"data": store_of(request).subscribers.everything()}

    @router.get("/customers")
    async def customers(request: Request) -> dict[str, Any]:
        return {"data": store_of(request).all_customers()}

    @router.get("/stats")
    async def stats(request: Request) -> dict[str, Any]:
        return store_of(request).stats()

    @router.get("/config")
    async def get_config(request: Request) -> dict[str, Any]:
        return store_of(request).settings()

    @router.put("/config")
    async def put_config(request: Request, payload: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        store = store_of(request)
        changes = dict(payload)
        force = changes.pop("force", None)
        script = changes.pop("script", None) or {}
        try:
            if "fault_rate" in changes or "fault_kinds" in changes:
                kinds = changes.pop("fault_kinds", None)
                if isinstance(kinds, str):
                    kinds = [k for k in kinds.split(",") if k]
                changes["faults"] = spread_rate(float(changes.pop("fault_rate", 0.0)), kinds or FAULT_KINDS)
            store.configure(**changes)
            if force:
                store.faults.force(*force)
            if not isinstance(script, dict):
                raise ValueError("script must map an operation to a list of fault kinds")
            for operation, kinds in script.items():
                store.script_faults(str(operation), [kinds] if isinstance(kinds, str) else list(kinds))
        except (TypeError, ValueError) as exc:
            raise ApiError(400, str(exc), version="v3") from None
        return store.settings()

    return router


def _listed(payload: Any, name: str) -> list[dict[str, Any]]:
    """Accept ``[...]`` or ``{name: [...]}`` of objects from an admin seed route; 400 otherwise."""
    items = payload.get(name) if isinstance(payload, dict) else payload
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ApiError(400, f"Send a list of {name} or {{'{name}': [...]}}.", version="v3")
    return items
