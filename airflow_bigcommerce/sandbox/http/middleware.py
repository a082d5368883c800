"""The one ASGI middleware in front of the API routes (``/stores/...``): traffic control, answered.

Staged outages (503), per-endpoint concurrency limits (429 with requests left), latency, the shared
fixed-window quota with its headers (spent by a competing app too), and faults (scripted per
operation, or drawn at random); ``traffic/`` decides, the middleware answers.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airflow_bigcommerce.api import HEADER_RETRY_AFTER
from airflow_bigcommerce.sandbox.state.errors import ApiError, v3_error, version_of_path
from airflow_bigcommerce.sandbox.store import SandboxStore
from airflow_bigcommerce.sandbox.traffic.concurrency import endpoint_key
from airflow_bigcommerce.sandbox.traffic.faults import operation_of
from airflow_bigcommerce.sandbox.traffic.ratelimit import RateDecision

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
