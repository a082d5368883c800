from __future__ import annotations

import asyncio
import json
from typing import Any

from airflow_bigcommerce.plugins import EmptyPortTestConnectionMiddleware, empty_port_as_none

TYPES = frozenset({"bigcommerce"})


def test_port_zero_becomes_null_for_our_type_only() -> None:
    body = json.dumps(
        {"connection_id": "x", "conn_type": "bigcommerce", "port": 0, "password": "***"}
    ).encode()
    fixed = empty_port_as_none(body, TYPES)
    assert fixed is not None
    assert json.loads(fixed)["port"] is None
    assert json.loads(fixed)["password"] == "***"
    other = json.dumps({"conn_type": "http", "port": 0}).encode()
    assert empty_port_as_none(other, TYPES) is None


def test_other_bodies_are_left_alone() -> None:
    for body in [
        b"not json",
        b"[]",
        json.dumps({"conn_type": "bigcommerce", "port": 443}).encode(),
        json.dumps({"conn_type": "bigcommerce", "port": False}).encode(),
        json.dumps({"conn_type": "bigcommerce"}).encode(),
    ]:
        assert empty_port_as_none(body, TYPES) is None


def run_middleware(path: str, body: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        seen["body"] = message["body"]
        seen["headers"] = dict(scope["headers"])

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        return None

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(b"content-length", str(len(body)).encode())],
    }
    asyncio.run(EmptyPortTestConnectionMiddleware(app)(scope, receive, send))
    return seen["body"], seen["headers"]


def test_middleware_rewrites_only_the_test_route() -> None:
    body = json.dumps({"conn_type": "bigcommerce", "port": 0}).encode()
    fixed, headers = run_middleware("/api/v2/connections/test", body)
    assert json.loads(fixed)["port"] is None
    assert headers[b"content-length"] == str(len(fixed)).encode()
    untouched, _ = run_middleware("/api/v2/connections", body)
    assert untouched == body


def test_the_sync_view_is_a_task_instance_tab_served_by_the_plugin() -> None:
    from airflow_bigcommerce.plugins import VIEW_PREFIX, BigCommerceApiServerPlugin, LazyViewApp

    (view,) = BigCommerceApiServerPlugin.external_views
    assert view["destination"] == "task_instance"
    assert view["href"].startswith(VIEW_PREFIX + "/dags/{DAG_ID}/runs/{RUN_ID}/tasks/{TASK_ID}")
    assert "{MAP_INDEX}" in view["href"]
    (app,) = BigCommerceApiServerPlugin.fastapi_apps
    assert app["url_prefix"] == VIEW_PREFIX
    assert isinstance(app["app"], LazyViewApp)


def test_the_view_app_is_built_at_its_first_request_only() -> None:
    from airflow_bigcommerce.plugins import LazyViewApp

    lazy = LazyViewApp()
    assert lazy._app is None
    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/nowhere",
        "raw_path": b"/nowhere",
        "query_string": b"",
        "headers": [],
        "root_path": "",
        "scheme": "http",
        "server": ("testserver", 80),
    }
    asyncio.run(lazy(scope, receive, send))
    assert lazy._app is not None
    assert sent[0]["status"] == 404
