"""Per-endpoint concurrency limits: BigCommerce answers 429 to requests beyond N in flight per store.

The caps are per store and per endpoint (``PUT /v3/customers``: 3 at once, documented in the official
spec; addresses and attribute values in SOURCE.md), and a request beyond one "will fail with 429" while
the window still has requests left. The sandbox answers such a request at once with the rate-limit
headers (requests left > 0) and no ``X-Retry-After``: BigCommerce says only an exhausted quota
justifies waiting for the reset, so a client should back off briefly instead. The refused request is
counted against the quota (BigCommerce does not say; counting is the conservative model), and when
the quota is spent as well it gets the ordinary quota 429 instead.

Limits are keyed ``"METHOD /path"`` with ``{id}`` for numeric path segments, e.g. ``PUT /v3/customers``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

from airflow_bigcommerce.api import CONCURRENCY_CAPS, PATH_ID_PATTERN

_ID = re.compile(rf"(?:{PATH_ID_PATTERN})")

#: BigCommerce's documented caps; every other endpoint is unlimited unless configured.
DEFAULT_CONCURRENCY_LIMITS: Mapping[str, int] = CONCURRENCY_CAPS
METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})


def endpoint_key(method: str, path: str) -> str:
    """Return the key of an API request, e.g. ``PUT /v3/customers`` for ``/stores/{hash}/v3/customers``."""
    parts = [part for part in path.split("/")[3:] if part]
    return f"{method.upper()} /" + "/".join("{id}" if _ID.fullmatch(part) else part for part in parts)


def normalize_key(key: str) -> str:
    """Return ``key`` as ``"METHOD /path"`` (method upper-cased, no trailing slash); raise ValueError."""
    method, _, path = key.strip().partition(" ")
    path = path.strip().rstrip("/")
    if method.upper() not in METHODS or not path.startswith("/"):
        raise ValueError(f"concurrency limit key {key!r} must look like 'PUT /v3/customers'")
    return f"{method.upper()} {path}"


def checked_limits(limits: object) -> dict[str, int]:
    """Return ``limits`` with normalised keys and the 0 (unlimited) entries dropped; raise ValueError."""
    if limits is None:
        return {}
    if not isinstance(limits, Mapping):
        raise ValueError("concurrency_limits must be an object such as {'PUT /v3/customers': 3}")
    clean: dict[str, int] = {}
    for key, value in limits.items():
        if not isinstance(key, str):
            raise ValueError("concurrency limit keys must be strings such as 'PUT /v3/customers'")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"concurrency limit for {key!r} must be a non-negative integer")
        if value:
            clean[normalize_key(key)] = value
    return clean


def parse_limit(text: str) -> tuple[str, int]:
    """Parse a CLI value such as ``"PUT /v3/customers=3"`` into its key and cap; raise ValueError."""
    key, sep, value = text.rpartition("=")
    if not sep or not value.strip().isdigit():
        raise ValueError(f"--concurrency-limit {text!r} must look like 'PUT /v3/customers=3'")
    return normalize_key(key), int(value)


class ConcurrencyGate:
    """Count requests in flight per endpoint key and refuse those beyond the key's cap (no locking here).

    Every key is counted, limited or not, so a cap set while requests are in flight sees them, and
    ``peaks`` shows the most requests in flight per key (what a client actually achieved).
    """

    def __init__(self, limits: Mapping[str, int] | None = None) -> None:
        self.limits = dict(limits or {})
        self._in_flight: Counter[str] = Counter()
        self.peaks: Counter[str] = Counter()

    def enter(self, key: str) -> bool:
        """Admit one request for ``key`` unless its cap is reached; an admitted one must ``leave``."""
        cap = self.limits.get(key, 0)
        if cap and self._in_flight[key] >= cap:
            return False
        self._in_flight[key] += 1
        self.peaks[key] = max(self.peaks[key], self._in_flight[key])
        return True

    def leave(self, key: str) -> None:
        """Count one admitted request for ``key`` as answered."""
        self._in_flight[key] -= 1
        if self._in_flight[key] <= 0:
            del self._in_flight[key]

    def in_flight(self) -> dict[str, int]:
        """Return the requests in flight now, by key."""
        return dict(self._in_flight)

    def reset_peaks(self) -> None:
        """Start counting peaks afresh from what is in flight now (a store reset)."""
        self.peaks = Counter(self._in_flight)
