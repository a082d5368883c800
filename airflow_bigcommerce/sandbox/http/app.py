"""HTTP layer of the sandbox: FastAPI routes that parse, make one store call and serialise.

Cross-cutting behaviour lives in one ASGI middleware in front of the API routes (``/stores/...``):
staged outages (503), per-endpoint concurrency limits (429 with requests left), latency, the shared
fixed-window quota with its headers (spent by a competing app too), and injected faults; the store's
``traffic.py`` decides, the middleware answers. Admin routes live under ``/__sandbox/``, spend no
quota, need no token and never suffer outages, limits or faults.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airflow_bigcommerce.api import HEADER_RETRY_AFTER
from airflow_bigcommerce.sandbox.http.dependencies import Store, read_json
from airflow_bigcommerce.sandbox.http.nested_routes import add_nested_routes
from airflow_bigcommerce.sandbox.state.errors import ApiError, v3_error, version_of_path
from airflow_bigcommerce.sandbox.store import SandboxStore
from airflow_bigcommerce.sandbox.traffic.concurrency import endpoint_key
from airflow_bigcommerce.sandbox.traffic.faults import FAULT_KINDS, operation_of, spread_rate
from airflow_bigcommerce.sandbox.traffic.ratelimit import RateDecision

ADMIN_PREFIX = "/__sandbox"
API_PREFIX = "/stores/"
MALFORMED_BODY = b"<html><body><h1>502 Bad Gateway</h1>upstream sent an invalid response"


#: What a staged outage answers: platform trouble sits in front of the API, so one V3-shaped body.
OUTAGE_ERROR = v3_error(503, "Service Unavailable")
#: What the scripted-only faults answer (nothing is applied; ``non_atomic`` serves the request).
SCRIPTED_ANSWERS = {
    "reject_before_write": v3_error(422, "Injected rejection.", {"0": "injected rejection"}),
    "outage": OUTAGE_ERROR,
    "fatal": v3_error(401, "You are not authorized to access this resource."),
}


def _api_router() -> APIRouter:
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


def _admin_router() -> APIRouter:
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


def _json_message(status: int, body: Any, headers: dict[str, str] | None = None) -> tuple[Message, Message]:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return (
        {"type": "http.response.start", "status": status, "headers": raw_headers},
        {"type": "http.response.body", "body": payload},
    )


class TrafficMiddleware:
    """Apply outages, concurrency limits, latency, the shared quota and faults to API calls, in that order."""

    def __init__(self, app: ASGIApp, store: SandboxStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request; admin and non-HTTP traffic pass straight through."""
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        store = self.store
        version = version_of_path(scope["path"])
        key = endpoint_key(scope["method"], scope["path"])
        store.record_request(key)
        outage = store.outage_answer(scope["method"])
        if outage is not None:
            await self._send(send, 503, OUTAGE_ERROR.body(), outage)
            return
        refused = store.enter(key)
        if refused is not None:
            await self._refuse(send, version, refused)
            return
        try:
            await self._serve(scope, receive, send, version)
        finally:
            store.leave(key)

    async def _refuse(self, send: Send, version: str, decision: RateDecision) -> None:
        """Answer a request beyond its endpoint's cap: 429 with requests left and no X-Retry-After."""
        if not decision.allowed:
            await self._quota_429(send, version, decision)
            return
        error = ApiError(
            429, "Too many concurrent requests to this endpoint; retry shortly.", version=version
        )
        await self._send(send, 429, error.body(), decision.headers())

    async def _quota_429(self, send: Send, version: str, decision: RateDecision) -> None:
        error = ApiError(
            429, "You have exceeded your request quota; wait for the window to reset.", version=version
        )
        await self._send(send, 429, error.body(), self._throttled(decision))

    async def _serve(self, scope: Scope, receive: Receive, send: Send, version: str) -> None:
        """Serve an admitted request: service time, the quota, then the route or an injected fault."""
        store = self.store
        if store.config.latency_ms > 0:
            await asyncio.sleep(store.config.latency_ms / 1000)
        decision = store.take_request()
        if not decision.allowed:
            await self._quota_429(send, version, decision)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        fault = store.draw_fault(scope["method"], operation_of(scope["method"], scope["path"], query))
        if fault == "non_atomic":
            scope.setdefault("state", {})["non_atomic"] = True
            fault = None
        if fault is None:
            await self.app(scope, receive, self._with_headers(send, decision.headers()))
        elif fault in SCRIPTED_ANSWERS:
            error = SCRIPTED_ANSWERS[fault]
            error = ApiError(error.status, error.message, version=version, errors=error.errors)
            await self._send(send, error.status, error.body(), decision.headers())
        elif fault == "error_before_write":
            status = store.faults.error_status()
            error = ApiError(status, "Internal Server Error", version=version)
            await self._send(send, status, error.body(), decision.headers())
        elif fault == "rate_limit_429":
            throttled = RateDecision(False, decision.quota, 0, decision.reset_ms, decision.window_ms)
            error = ApiError(429, "You have exceeded your request quota.", version=version)
            await self._send(send, 429, error.body(), self._throttled(throttled))
        elif fault == "rate_limit_429_bare":
            error = ApiError(429, "Too Many Requests", version=version)
            await self._send(send, 429, error.body(), None)
        elif fault == "malformed":
            await self._send(send, 200, MALFORMED_BODY, decision.headers())
        else:
            await self._after_commit(fault, scope, receive, send, decision)

    @staticmethod
    def _throttled(decision: RateDecision) -> dict[str, str]:
        return {**decision.headers(), HEADER_RETRY_AFTER: str(decision.retry_after_s)}

    @staticmethod
    async def _send(send: Send, status: int, body: Any, headers: dict[str, str] | None) -> None:
        for message in _json_message(status, body, headers):
            await send(message)

    @staticmethod
    def _with_headers(send: Send, headers: dict[str, str]) -> Send:
        extra = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        return wrapped

    async def _after_commit(
        self, fault: str, scope: Scope, receive: Receive, send: Send, decision: RateDecision
    ) -> None:
        """Run the request to completion (the write commits), then delay, replace or drop the answer."""
        buffered: list[Message] = []

        async def keep(message: Message) -> None:
            buffered.append(message)

        await self.app(scope, receive, self._with_headers(keep, decision.headers()))
        if fault == "slow":
            await asyncio.sleep(self.store.config.slow_s)
            for message in buffered:
                await send(message)
        elif fault == "commit_then_500":
            error = ApiError(500, "Internal Server Error", version=version_of_path(scope["path"]))
            await self._send(send, 500, error.body(), decision.headers())
        else:
            await _drop_connection(receive, send)


async def _drop_connection(receive: Receive, send: Send) -> None:
    """Close the client connection without any response (uvicorn: through the cycle's transport)."""
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is not None:
        transport.close()
        for _ in range(3):  # let uvicorn see the disconnect, so it does not try to answer 500
            await asyncio.sleep(0)
        return
    # Other servers: start a response, then fail mid-body so the server aborts the connection.
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
    raise ConnectionAbortedError("sandbox fault commit_then_drop")


def create_app(store: SandboxStore | None = None) -> FastAPI:
    """Build the sandbox app around ``store`` (a fresh in-memory store by default)."""
    store = store or SandboxStore()
    app = FastAPI(
        title="BigCommerce sandbox",
        docs_url=f"{ADMIN_PREFIX}/docs",
        openapi_url=f"{ADMIN_PREFIX}/openapi.json",
        redoc_url=None,
    )
    app.state.store = store
    app.include_router(_api_router())
    app.include_router(_admin_router())
    app.add_middleware(TrafficMiddleware, store=store)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if not request.url.path.startswith(API_PREFIX):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        error = ApiError(exc.status_code, str(exc.detail), version=version_of_path(request.url.path))
        return JSONResponse(error.body(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        version = version_of_path(request.url.path)
        status = 400 if version == "v2" or not request.url.path.startswith(API_PREFIX) else 422
        error = ApiError(status, "The request is invalid.", version=version, errors={"request": "invalid"})
        return JSONResponse(error.body(), status_code=status)

    return app
