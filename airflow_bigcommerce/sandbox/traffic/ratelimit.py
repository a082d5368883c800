"""The store's fixed-window request quota and the BigCommerce rate-limit headers it reports."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from airflow_bigcommerce.api import (
    HEADER_REQUESTS_LEFT,
    HEADER_REQUESTS_QUOTA,
    HEADER_TIME_RESET_MS,
    HEADER_TIME_WINDOW_MS,
)

UNLIMITED = 1_000_000_000
"""Quota and requests-left reported when the quota is switched off (``quota=0``)."""


@dataclass(frozen=True)
class RateDecision:
    """Outcome of counting one request against the store's fixed window."""

    allowed: bool
    quota: int
    left: int
    reset_ms: int
    window_ms: int

    def headers(self) -> dict[str, str]:
        """Return the BigCommerce rate-limit headers (sent on every API response)."""
        return {
            HEADER_TIME_WINDOW_MS: str(self.window_ms),
            HEADER_TIME_RESET_MS: str(self.reset_ms),
            HEADER_REQUESTS_QUOTA: str(self.quota),
            HEADER_REQUESTS_LEFT: str(self.left),
        }

    @property
    def retry_after_s(self) -> int:
        """Seconds until the window resets, rounded up (the ``X-Retry-After`` header)."""
        return max(1, math.ceil(self.reset_ms / 1000))


class RateLimiter:
    """One fixed-window request counter; the window opens at the first request after the last expired.

    Every method takes an optional ``at`` (a time on the injected clock), so requests that happened
    earlier, such as a simulated competing app's, can be charged to the window they fell in.
    """

    def __init__(self, quota: int, window_ms: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.quota = quota
        self.window_ms = window_ms
        self._clock = clock
        self._start: float | None = None
        self._used = 0

    def reset(self) -> None:
        """Forget the current window."""
        self._start, self._used = None, 0

    def window_end(self, at: float | None = None) -> float:
        """Return when the window holding a request at ``at`` ends, opening it if the last one expired."""
        now = self._clock() if at is None else at
        if self._start is None or now >= self._start + self.window_ms / 1000:
            self._start, self._used = now, 0
        return self._start + self.window_ms / 1000

    def spend(self, count: int, at: float | None = None) -> int:
        """Count up to ``count`` requests arriving at ``at``; return how many fit (the rest are refused)."""
        self.window_end(at)
        fit = count if self.quota <= 0 else max(0, min(count, self.quota - self._used))
        self._used += fit
        return fit

    def take(self, at: float | None = None) -> RateDecision:
        """Count one request; a request beyond the quota is refused and not counted."""
        now = self._clock() if at is None else at
        allowed = self.spend(1, now) == 1
        return self._decision(allowed, now)

    def peek(self, at: float | None = None) -> RateDecision:
        """Return the window's state as a request at ``at`` would see it, without counting one."""
        now = self._clock() if at is None else at
        if self._start is None or now >= self._start + self.window_ms / 1000:
            quota = UNLIMITED if self.quota <= 0 else self.quota
            return RateDecision(True, quota, quota, self.window_ms, self.window_ms)
        return self._decision(True, now)

    def _decision(self, allowed: bool, now: float) -> RateDecision:
        start = self._start if self._start is not None else now
        reset_ms = max(1, math.ceil((start + self.window_ms / 1000 - now) * 1000))
        if self.quota <= 0:
            return RateDecision(allowed, UNLIMITED, UNLIMITED - self._used, reset_ms, self.window_ms)
        return RateDecision(allowed, self.quota, max(0, self.quota - self._used), reset_ms, self.window_ms)
