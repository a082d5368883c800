"""A competing app on the store: it spends ``competitor_rps`` requests per second of the same quota.

BigCommerce's quota is shared by every app on a store (ERP, shipping, reviews), so a sync that takes a
whole window starves them. The competitor's requests fall evenly over time, one every ``1/rps``
seconds after it starts; they are charged lazily: before the store counts a request (or reports its
stats), every competitor request due since the last charge is counted against the window it fell in.
No background thread is needed and fake clocks work. A competitor request that finds its window spent
is refused (``competitor_429s``); it is not retried. Outages and concurrency limits do not touch it.
"""

from __future__ import annotations

import math

from airflow_bigcommerce.sandbox.traffic.ratelimit import RateLimiter


class Competitor:
    """The other app's request times, ``origin + i / rps`` for i = 1, 2, ..., and how far they are charged."""

    def __init__(self, rps: float, origin: float) -> None:
        self.rps = rps
        self._origin = origin
        self._next = 1

    def _at(self, index: int) -> float:
        return self._origin + index / self.rps

    def catch_up(self, limiter: RateLimiter, now: float) -> tuple[int, int]:
        """Charge every request due by ``now`` to its window; return (requests sent, requests refused).

        One step per window, not per request: the requests that fall in one window are counted together.
        """
        sent = refused = 0
        if self.rps <= 0:
            return sent, refused
        while (first := self._at(self._next)) <= now:
            end = limiter.window_end(first)

            def due(index: int, end: float = end) -> bool:
                at = self._at(index)
                return at <= now and at < end

            last = max(self._next, math.floor((min(now, end) - self._origin) * self.rps))
            while last > self._next and not due(last):
                last -= 1
            while due(last + 1):
                last += 1
            count = last - self._next + 1
            fit = limiter.spend(count, first)
            sent, refused = sent + count, refused + count - fit
            self._next = last + 1
        return sent, refused
