"""What every API route shares: the authorised store as a dependency and the JSON body reader."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from airflow_bigcommerce.sandbox.state.errors import ApiError, version_of_path
from airflow_bigcommerce.sandbox.store import SandboxStore


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def read_json(request: Request, version: str) -> Any:
    """Read and decode the JSON body, refusing bodies over the configured size (413) and bad JSON."""
    limit = request.app.state.store.config.max_body_bytes
    declared = request.headers.get("content-length", "")
    too_large = ApiError(413, "The request payload is too large.", version=version)
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    try:
        return json.loads(bytes(body), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        if version == "v2":
            raise ApiError(400, "The request body is not valid JSON.", version="v2") from None
        raise ApiError(
            422,
            "JSON data is missing or invalid",
            version="v3",
            errors={"body": "The body is not valid JSON."},
        ) from None


async def authorized(
    request: Request, store_hash: str, x_auth_token: Annotated[str | None, Header()] = None
) -> SandboxStore:
    """Check the store hash and the ``X-Auth-Token`` in one place; return the store."""
    store: SandboxStore = request.app.state.store
    store.authorize(store_hash, x_auth_token, version_of_path(request.url.path))
    return store


Store = Annotated[SandboxStore, Depends(authorized)]
