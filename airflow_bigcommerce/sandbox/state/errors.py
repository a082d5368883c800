"""Domain errors of the sandbox store, each carrying its HTTP status and BigCommerce wire shape."""

from __future__ import annotations

from typing import Any

STATUS_DOCS = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"


class ApiError(Exception):
    """Fail a request with a BigCommerce-shaped error body (V2: a list, V3: an object).

    The store raises these; the app's single exception handler renders them, so route handlers need
    no try/except (the moto pattern).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        version: str = "v3",
        errors: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.version = version
        self.errors = errors
        self.details = details
        self.headers = headers or {}

    def body(self) -> Any:
        """Return the JSON body in the wire shape of the error's API version."""
        if self.version == "v2":
            item: dict[str, Any] = {"status": self.status, "message": self.message}
            if self.details:
                item["details"] = self.details
            return [item]
        obj: dict[str, Any] = {"status": self.status, "title": self.message, "type": STATUS_DOCS}
        if self.errors is not None:
            obj["errors"] = self.errors
        return obj


def v2_error(status: int, message: str, **details: Any) -> ApiError:
    """Build a V2 error (``[{"status", "message", "details"}]``)."""
    return ApiError(status, message, version="v2", details=details or None)


def v3_error(status: int, title: str, errors: dict[str, str] | None = None) -> ApiError:
    """Build a V3 error (``{"status", "title", "type", "errors"}``)."""
    return ApiError(status, title, version="v3", errors=errors)


def version_of_path(path: str) -> str:
    """Return ``"v2"`` for a V2 API path, else ``"v3"`` (the shape used for everything else)."""
    return "v2" if "/v2/" in path or path.endswith("/v2") else "v3"


class BatchError(ApiError):
    """A batch answer with failed items (metafields, segment profiles): ``{data, errors, meta}``.

    The Metafields batch endpoints answer 422 with the items they did write in ``data`` and one error
    per failed item; ``POST /v3/segments/{id}/shopper-profiles`` answers 409 the same way.
    """

    def __init__(
        self, status: int, title: str, data: list[Any], item_errors: dict[str, str], total: int, failed: int
    ) -> None:
        super().__init__(status, title, version="v3", errors=item_errors)
        self.data = data
        self.total = total
        self.failed = failed

    def body(self) -> Any:
        """Return ``{data, errors: [{status, title, type, errors}], meta: {total, success, failed}}``."""
        error = {
            "status": self.status,
            "title": self.message,
            "type": STATUS_DOCS,
            "errors": self.errors or {},
        }
        return {
            "data": self.data,
            "errors": [error],
            "meta": {"total": self.total, "success": self.total - self.failed, "failed": self.failed},
        }
