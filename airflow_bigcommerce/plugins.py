"""API-server plugin: the "BigCommerce sync" task-instance view, and a fix for the 3.3.0-3.3.2 Test button.

The view (:mod:`airflow_bigcommerce.view`) is a FastAPI app mounted at ``/bigcommerce`` and, on
Airflow 3.1+, an external view with destination ``task_instance`` (a tab of every task instance; the
page says so when a task has no sync summary). The app is built on its first request, so loading
the plugin imports no FastAPI. On Airflow 3.0, which has no such tab, the operators' "BigCommerce
sync" extra link opens the same page.

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

from airflow_bigcommerce.view import PAGE_PATH, VIEW_PREFIX

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


class LazyViewApp:
    """ASGI app building the view's FastAPI app (``view.app.create_app``) at its first call."""

    def __init__(self) -> None:
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request (or lifespan event) to the view's app, building it first if needed."""
        if self._app is None:
            from airflow_bigcommerce.view.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


#: The tab's page of a task instance (``{...}``: filled in by the UI).
VIEW_HREF = PAGE_PATH.format(
    dag_id="{DAG_ID}", run_id="{RUN_ID}", task_id="{TASK_ID}", map_index="{MAP_INDEX}"
)


class BigCommerceApiServerPlugin(AirflowPlugin):
    """Serves the sync view and registers :class:`EmptyPortTestConnectionMiddleware` in the API server."""

    name = "bigcommerce"
    fastapi_root_middlewares = [
        {"middleware": EmptyPortTestConnectionMiddleware, "name": "BigCommerce: empty port on Test"}
    ]
    fastapi_apps = [{"app": LazyViewApp(), "url_prefix": VIEW_PREFIX, "name": "BigCommerce sync view"}]
    external_views = [
        {
            "name": "BigCommerce sync",
            "href": VIEW_HREF,
            "destination": "task_instance",
            "url_route": "bigcommerce-sync",
        }
    ]
