"""
One family of errors, rooted at :class:`BigCommerceError`.

An API error keeps the status, method, path and the store's parsed error body, never the request
body (it may hold passwords). The classes also derive from the sync engine's three plain failure
types, so the engine can tell a refusal (the row must change) from an unknown outcome (look it up)
and from a transient failure (try again later) without importing Airflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_bigcommerce.api import email_in_use_text
from airflow_bigcommerce.sync.client import OutcomeUnknownError, RequestRejectedError, TransientFailureError

try:
    from airflow.sdk.exceptions import AirflowException
except ImportError:  # Airflow 3.0
    from airflow.exceptions import AirflowException  # type: ignore[attr-defined,no-redef]


class BigCommerceError(AirflowException):
    """Base class of every error this provider raises."""


class BigCommerceConfigError(BigCommerceError, ValueError):
    """The connection or an argument is unusable (bad store hash, plain http to a remote host, ...)."""


class BigCommerceAuthError(BigCommerceConfigError):
    """
    The store refused the connection itself: a wrong token, a missing scope or an unknown store hash.

    A 401, a 403 or a 404 for the whole store (:mod:`airflow_bigcommerce.hooks.access`): no later
    request can succeed and retrying cannot help, so it stops a run; it is neither a row's refusal
    nor a transient failure. The message is the fix, naming the connection.

    :param problem: what is wrong and how to fix it (``access.access_problem``).
    :param connection: the Airflow connection id.
    :param status: the store's HTTP status.
    :param request: the refused request, e.g. ``"GET v3/customers/attributes"`` (``""``: the access check).
    """

    def __init__(self, problem: str, *, connection: str, status: int, request: str = "") -> None:
        self.problem = problem
        self.connection = connection
        self.status = status
        self.request = request
        refused = f" Refused request: {request}." if request else ""
        super().__init__(f"{on_connection(connection)}{problem}{refused}")


class BigCommerceTransientError(BigCommerceError, TransientFailureError):
    """
    The store could not be used for a while (outage, overload): nothing was applied by the last try.

    Raised once the retry budget is spent; retrying the task later is safe and can succeed.
    """


class BigCommerceConnectionError(BigCommerceTransientError):
    """The API host could not be reached, after the retries the policy allows."""


class BigCommerceUnavailableError(BigCommerceTransientError):
    """Requests of one kind (reads or writes) kept failing for longer than the run's retry budget."""


class BigCommerceAPIError(BigCommerceError, RequestRejectedError):
    """
    The store answered with an error status.

    :param status: HTTP status code.
    :param method: HTTP method of the request.
    :param path: request path below ``/stores/{store_hash}/``.
    :param body: the parsed error body: a V2 list or a V3 object (``None`` when not JSON).
    """

    def __init__(
        self,
        *,
        status: int,
        method: str,
        path: str,
        body: Any = None,
        detail: str = "",
        connection: str = "",
    ):
        self.method = method
        self.path = path
        self.body = body
        self.connection = connection
        title, errors = _summarise_body(body)
        message = f"{on_connection(connection)}{method} {path} answered {status}"
        if title or detail:
            message += f": {title or detail}"
        if errors:
            message += " (" + "; ".join(f"{key}: {value}" for key, value in errors.items()) + ")"
        super().__init__(message, status=status, errors=errors, title=title)


class BigCommerceDuplicateCustomerError(BigCommerceAPIError):
    """A customer with this e-mail address already exists in the store."""


class BigCommerceServerError(BigCommerceAPIError, TransientFailureError):
    """A read kept answering 5xx until the retries ran out: the store's trouble, not the request's."""


class BigCommerceRateLimitError(BigCommerceAPIError, TransientFailureError):
    """The store kept answering 429 beyond the retry budget; ``wait_seconds`` is its last asked wait."""

    def __init__(self, *, wait_seconds: float, **kwargs: Any):
        super().__init__(**kwargs)
        self.wait_seconds = wait_seconds


class BigCommerceOutcomeUnknownError(BigCommerceError, OutcomeUnknownError):
    """A write was sent and no definite answer came back; look the customer up before sending again."""

    def __init__(self, message: str, *, method: str, path: str):
        super().__init__(message)
        self.method = method
        self.path = path


def refusal_error(
    *, status: int, method: str, path: str, body: Any = None, detail: str = "", connection: str = ""
) -> BigCommerceAPIError:
    """
    Return the error for a store's definite refusal (a 4xx other than 429).

    :class:`BigCommerceDuplicateCustomerError` when its messages say the e-mail is in use
    (:func:`~airflow_bigcommerce.api.email_in_use_text`), else :class:`BigCommerceAPIError`.
    """
    title, errors = _summarise_body(body)
    in_use = email_in_use_text(status, [title, *errors.values()])
    error_cls = BigCommerceDuplicateCustomerError if in_use else BigCommerceAPIError
    return error_cls(status=status, method=method, path=path, body=body, detail=detail, connection=connection)


def on_connection(connection: str) -> str:
    """Return the prefix that names the Airflow connection in a store error (``""`` without one)."""
    return f"Connection {connection!r}: " if connection else ""


def store_messages(body: Any) -> list[str]:
    """Return the texts of a V2 (list) or V3 (object) error body: its title or messages, then its errors."""
    title, errors = _summarise_body(body)
    return [title, *errors.values()]


def _summarise_body(body: Any) -> tuple[str, dict[str, str]]:
    """Return a title and ``{key: message}`` from a V2 (list) or V3 (object) error body."""
    if isinstance(body, list):
        messages = [item.get("message", "") for item in body if isinstance(item, Mapping)]
        errors: dict[str, str] = {}
        for index, item in enumerate(body):
            if isinstance(item, Mapping) and isinstance(item.get("details"), Mapping):
                for key, value in item["details"].items():
                    errors[f"{index}.{key}"] = str(value)
        return "; ".join(m for m in messages if m), errors
    if isinstance(body, Mapping):
        title = str(body.get("title") or body.get("message") or "")
        raw = body.get("errors")
        errors = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
        if isinstance(raw, list):  # a batch that partly failed: {data, errors: [{title, errors}], meta}
            for item in raw:
                if isinstance(item, Mapping):
                    title = title or str(item.get("title") or "")
                    if isinstance(item.get("errors"), Mapping):
                        errors.update({str(k): str(v) for k, v in item["errors"].items()})
        return title, errors
    return "", {}
