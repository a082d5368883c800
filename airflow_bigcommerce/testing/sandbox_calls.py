"""
One call of the in-process store client: the sandbox's traffic control decides, the answer is mapped.

What the sandbox answers becomes what the sync engine sees from ``BigCommerceHook`` once the hook's
retries are spent:

- a 4xx :class:`~airflow_bigcommerce.sandbox.state.errors.ApiError` -> :class:`RequestRejectedError`
  (``status``, ``errors`` and ``title`` as the hook's ``BigCommerceAPIError`` carries them);
- a fault from the sandbox's traffic control (scripted per operation, drawn at random, or a staged
  outage) -> :class:`OutcomeUnknownError` for a write that may have landed (5xx after send, commit then
  500, dropped connection, or no answer at all), :class:`TransientFailureError` when nothing was
  applied (outage, 429s, a read that kept failing), :class:`StoreFailure` for ``fatal`` (a failure no
  retry fixes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from airflow_bigcommerce.sandbox.state.errors import ApiError, v3_error
from airflow_bigcommerce.sandbox.store import SandboxStore
from airflow_bigcommerce.sync.client import OutcomeUnknownError, RequestRejectedError, TransientFailureError

__all__ = ["SandboxCalls", "StoreFailure", "data_of"]

T = TypeVar("T")

#: Sandbox faults after which a write has been committed (its answer delayed, replaced or dropped).
_AFTER_COMMIT = frozenset({"slow", "commit_then_500", "commit_then_drop"})
#: Sandbox faults that apply nothing and say so (the hook retries them, then gives up).
_NOTHING_APPLIED = frozenset({"outage", "rate_limit_429", "rate_limit_429_bare"})


class StoreFailure(Exception):
    """A failure no retry fixed (what the hook raises after giving up), from a ``fatal`` fault."""


def _rejected(error: ApiError) -> RequestRejectedError:
    """Map a sandbox 4xx to the engine's refusal, with the fields the hook's error carries."""
    errors: dict[str, str] = {}
    if error.errors:
        errors = {str(k): str(v) for k, v in error.errors.items()}
    elif error.details:
        errors = {str(k): str(v) for k, v in error.details.items()}
    return RequestRejectedError(
        f"{error.status} {error.message}", status=error.status, errors=errors, title=error.message
    )


def data_of(body: Any) -> list[dict[str, Any]]:
    """Return an answer's items: a V3 body's ``data`` (a list or one object), or a V2 list."""
    data = body.get("data") if isinstance(body, Mapping) else body
    if isinstance(data, Mapping):
        return [dict(data)]
    return [dict(item) for item in data or () if isinstance(item, Mapping)]


class SandboxCalls:
    """The store behind the calls, the calls counted by kind, and how one call runs."""

    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self.calls: Counter[str] = Counter()

    def _call(self, kind: str, operation: str, method: str, run: Callable[[bool], T]) -> T:
        """Count a call, let the store's traffic control decide its fault, run it and map the answer."""
        self.calls[kind] += 1
        fault = (self.store.outage_answer(method) is not None and "outage") or None
        fault = fault or self.store.draw_fault(method, operation)
        write = method != "GET"
        if fault == "fatal":
            raise StoreFailure(f"injected failure of {kind}")
        if fault in _NOTHING_APPLIED or (not write and fault is not None):
            raise TransientFailureError(f"injected: {kind} unavailable beyond the retry budget")
        if fault in ("error_before_write", "malformed"):
            raise OutcomeUnknownError(f"injected {fault}: no answer, nothing written")
        try:
            if fault == "reject_before_write":
                raise v3_error(422, "Injected rejection.", {"0": "injected rejection"})
            answer = run(fault == "non_atomic")
        except ApiError as error:
            if error.status >= 500:
                raise OutcomeUnknownError(f"{error.status} {error.message}") from None
            raise _rejected(error) from None
        if fault in _AFTER_COMMIT:
            raise OutcomeUnknownError(f"injected {fault}: committed, answer lost")
        return answer

    def _read(self, kind: str, operation: str, run: Callable[[], T]) -> T:
        return self._call(kind, operation, "GET", lambda _: run())

    @staticmethod
    def _pages(
        search: Callable[[Mapping[str, str]], Mapping[str, Any]], query: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """Read every page of a V3 search at once (one call of the client)."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            body = search({**query, "page": str(page)})
            items = data_of(body)
            found.extend(items)
            total_pages = body.get("meta", {}).get("pagination", {}).get("total_pages", 1)
            if page >= int(total_pages or 1) or not items:
                return found
            page += 1
