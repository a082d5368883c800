"""API-server plugin: let the Airflow 3.3.0-3.3.2 Test button work for connections without a port.

The connection list's Test button sends ``port: 0`` for an empty port (``Number(null)`` in the UI);
the API then sees a port that differs from the stored ``NULL`` and answers 400 before the hook runs
(fixed upstream by apache/airflow#73298, which treats 0 as "no port"). This middleware does the
same, for ``bigcommerce`` connections only: port 0 addresses nothing, so it never lets a test reuse
stored credentials against another destination.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from airflow.plugins_manager import AirflowPlugin

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The route the Test button posts to (after any ``[api] base_url`` prefix).
TEST_CONNECTION_PATH = "/api/v2/connections/test"
#: Bodies larger than this are passed on untouched (a connection body is a few KB at most).
MAX_BODY_BYTES = 1_000_000


def empty_port_as_none(body: bytes, conn_types: frozenset[str]) -> bytes | None:
    """Return ``body`` with ``"port": 0`` turned into ``null`` for ``conn_types``, or ``None`` to keep it."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("conn_type") not in conn_types:
        return None
    port = data.get("port")
    if port != 0 or isinstance(port, bool):
        return None
    data["port"] = None
    return json.dumps(data).encode()


class EmptyPortTestConnectionMiddleware:
    """ASGI middleware applying :func:`empty_port_as_none` to ``POST .../api/v2/connections/test``."""

    def __init__(self, app: ASGIApp, conn_types: tuple[str, ...] = ("bigcommerce",)) -> None:
        self.app = app
        self.conn_types = frozenset(conn_types)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite the matching request body, pass everything else through unchanged."""
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].endswith(TEST_CONNECTION_PATH)
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # client went away: let the app see it
                await self.app(scope, _replay([*_as_messages(chunks), message], receive), send)
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if not message.get("more_body", False) or size > MAX_BODY_BYTES:
                break
        body = b"".join(chunks)
        more = size > MAX_BODY_BYTES  # stopped reading early: the rest still comes from ``receive``
        fixed = None if more else empty_port_as_none(body, self.conn_types)
        if fixed is not None:
            body = fixed
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
            scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        first: Message = {"type": "http.request", "body": body, "more_body": more}
        await self.app(scope, _replay([first], receive), send)


def _as_messages(chunks: list[bytes]) -> list[Message]:
    return [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


class BigCommerceApiServerPlugin(AirflowPlugin):
    """Registers :class:`EmptyPortTestConnectionMiddleware` in the API server."""

    name = "bigcommerce"
    fastapi_root_middlewares = [
        {"middleware": EmptyPortTestConnectionMiddleware, "name": "BigCommerce: empty port on Test"}
    ]
