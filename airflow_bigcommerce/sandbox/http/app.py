"""The sandbox's FastAPI app: ``create_app(store)`` puts the routes behind the traffic middleware.

Routes (``routes.py``, ``nested_routes.py``, ``admin.py``, ``control_panel.py``) parse, make one
store call and serialise; the state's :class:`~airflow_bigcommerce.sandbox.state.errors.ApiError`
is rendered by the one exception handler here, so no route needs a try/except (the moto pattern).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_bigcommerce.sandbox.http.admin import ADMIN_PREFIX, admin_router
from airflow_bigcommerce.sandbox.http.control_panel import control_panel_router
from airflow_bigcommerce.sandbox.http.middleware import API_PREFIX, TrafficMiddleware
from airflow_bigcommerce.sandbox.http.routes import api_router
from airflow_bigcommerce.sandbox.state.errors import ApiError, version_of_path
from airflow_bigcommerce.sandbox.store import SandboxStore

__all__ = ["ADMIN_PREFIX", "API_PREFIX", "TrafficMiddleware", "create_app"]


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
    app.include_router(api_router())
    app.include_router(admin_router())
    app.include_router(control_panel_router())
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
