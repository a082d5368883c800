"""Staged outages: a span of time in which the store answers writes, reads or every API request 503.

Platform trouble at BigCommerce (deploys, failovers) shows as a 503 or 500 without rate-limit headers
and can last minutes, often with reads still working (see SOURCE.md of the specs). The sandbox stages
it on demand so that a client's backoff, retry budget and circuit breaker can be tested:

- ``outage_kind``: ``"writes"`` (every method but GET/HEAD/OPTIONS), ``"reads"`` (GET/HEAD/OPTIONS) or
  ``"all"``.
- ``outage_headers``: false answers a bare 503 (platform trouble); true adds the normal rate-limit
  headers, showing the current window without counting the request.

An outage answer is immediate (no ``latency_ms``: the front end fails, not the API), spends no quota,
writes nothing and is counted in the stats (``outage_answers``). Admin routes never suffer outages.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from airflow_bigcommerce.api import READ_METHODS

OUTAGE_KINDS = ("writes", "reads", "all")
#: RFC 9110 safe methods: what an outage of kind "reads" hits; every other method is a write.


def affects(kind: str, method: str) -> bool:
    """Return whether an outage of ``kind`` hits a request with ``method``."""
    if kind == "all":
        return True
    is_read = method.upper() in READ_METHODS
    return is_read if kind == "reads" else not is_read


class OutageWindow:
    """When the current outage starts and ends, on an injected clock (``[start, end)``; none by default)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._start = self._end = -math.inf

    def schedule(self, length_s: float, delay_s: float = 0.0) -> None:
        """Start an outage of ``length_s`` seconds ``delay_s`` from now; 0 ends any outage at once."""
        if length_s <= 0:
            self._start = self._end = -math.inf
            return
        self._start = self._clock() + max(0.0, delay_s)
        self._end = self._start + length_s

    def active(self) -> bool:
        """Return whether the outage is on now."""
        return self._start <= self._clock() < self._end

    def starts_in_s(self) -> float:
        """Return the seconds until a scheduled outage begins (0 when it is on, over or none)."""
        return max(0.0, self._start - self._clock()) if self._end > self._clock() else 0.0

    def remaining_s(self) -> float:
        """Return how much of the outage is still to come: its length if pending, 0 when over or none."""
        now = self._clock()
        if now >= self._end:
            return 0.0
        return self._end - max(now, self._start)
