"""
Rate-limit pacing and retry decisions, as pure logic (no HTTP) so they are tested without a network.

BigCommerce counts requests per store in fixed windows shared by every app. Each response says how
many requests are left and when the window resets; a 429 may add ``X-Retry-After``. A 429 without
those headers means platform load. See
https://developer.bigcommerce.com/docs/start/best-practices/api-rate-limits
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: Methods whose repetition has the same effect as one request (RFC 9110, section 9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

HEADER_LEFT = "x-rate-limit-requests-left"
HEADER_RESET_MS = "x-rate-limit-time-reset-ms"
HEADER_WINDOW_MS = "x-rate-limit-time-window-ms"
HEADER_QUOTA = "x-rate-limit-requests-quota"
HEADER_RETRY_AFTER = "x-retry-after"

#: Added to every computed wait: our clock reads the reset time a little after the store did.
RESET_MARGIN_S = 0.005
#: Two answers' reset times closer than this belong to one window, when the window's length is unknown.
WINDOW_JITTER_S = 0.05
#: Fewest requests left at which the fair-share rule applies (several senders' requests in flight).
FAIR_SHARE_MIN = 16
#: Our last answers over which :attr:`RateLimitPacer.others_per_own` counts the others' requests.
OTHERS_SAMPLES = 16


@dataclass(frozen=True)
class RateLimitHeaders:
    """The rate-limit headers of one response; ``None`` where absent or unreadable."""

    left: int | None = None
    reset_ms: int | None = None
    window_ms: int | None = None
    quota: int | None = None
    retry_after_s: float | None = None

    @classmethod
    def parse(cls, headers: Mapping[str, str]) -> RateLimitHeaders:
        """Read the headers case-insensitively; a malformed value counts as absent."""
        lowered = {key.lower(): value for key, value in headers.items()}

        def number(name: str) -> float | None:
            try:
                value = float(lowered[name])
            except (KeyError, TypeError, ValueError):
                return None
            return value if value >= 0 else None

        def integer(name: str) -> int | None:
            value = number(name)
            return None if value is None else int(value)

        return cls(
            left=integer(HEADER_LEFT),
            reset_ms=integer(HEADER_RESET_MS),
            window_ms=integer(HEADER_WINDOW_MS),
            quota=integer(HEADER_QUOTA),
            retry_after_s=number(HEADER_RETRY_AFTER),
        )

    @property
    def present(self) -> bool:
        """Whether the response carried any rate-limit information."""
        return self.left is not None or self.reset_ms is not None or self.retry_after_s is not None


def backoff_seconds(
    attempt: int, *, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None
) -> float:
    """Return a full-jitter exponential backoff for the 1-based ``attempt`` (AWS architecture blog)."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)


def wait_after_429(headers: RateLimitHeaders, attempt: int, *, rng: random.Random | None = None) -> float:
    """
    Return how long to wait after a 429.

    The longer of ``X-Rate-Limit-Time-Reset-Ms`` and ``X-Retry-After``; with neither (platform
    load), exponential backoff with jitter.
    """
    candidates = []
    if headers.reset_ms is not None:
        candidates.append(headers.reset_ms / 1000)
    if headers.retry_after_s is not None:
        candidates.append(headers.retry_after_s)
    if not candidates:
        return backoff_seconds(attempt, base=1.0, cap=60.0, rng=rng)
    return max(candidates) + RESET_MARGIN_S


class RateLimitPacer:
    """
    Keep a client within the store's quota using the rate-limit headers, across threads.

    ``acquire()`` before each request blocks while the known quota is spent; ``release()`` after
    each response refreshes what is known. Requests still in flight are subtracted from what the
    store reported, so concurrent senders do not overrun the window.

    Other tasks and apps spend the same quota, and the headers are the only shared state. So the
    pacer never takes the window's last ``reserve`` requests (left to the store's other apps), and
    near a window's end it claims only its fair share of what is left: the part of the window's
    spent requests that were its own (estimated from how ``X-Rate-Limit-Requests-Left`` fell
    compared with its own requests). Several syncs on one store then share the last requests of a
    window instead of racing for them and collecting 429s.

    :param reserve: requests per window left unused for the store's other apps.
    """

    def __init__(
        self,
        *,
        reserve: int = 0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if reserve < 0:
            raise ValueError(f"the quota reserve must not be negative, got {reserve}")
        self.reserve = reserve
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._left: int | None = None
        self._reset_at = 0.0
        #: Whether ``_reset_at`` is our guess (the window rolled over here), not the store's word.
        self._guessed = False
        self._quota: int | None = None
        self._window_s: float | None = None
        self._in_flight = 0
        self._answered_in_window = 0
        #: The lowest requests-left the store reported in this window: its latest count we know of.
        self._window_low: int | None = None
        #: Until then nobody sends, whatever answers say (after a 429 that spent the quota).
        self._blocked_until = 0.0
        #: Our part of the window's spent requests (1.0 when we are alone on the store).
        self.share = 1.0
        self.waited_s = 0.0
        #: Per answer of ours: how far requests-left fell beyond our own request (others' requests).
        self._others: deque[int] = deque(maxlen=OTHERS_SAMPLES)
        self._last_left: int | None = None

    def acquire(self) -> None:
        """Wait until a request may be sent, then count it as in flight."""
        while True:
            with self._lock:
                now = self._clock()
                if self._left is not None and now >= self._reset_at:
                    # The window has rolled over: assume a full quota until a response says more.
                    self._left = self._quota
                    self._window_low = self._quota
                    self._answered_in_window = 0
                    if self._window_s is not None:
                        self._reset_at = now + self._window_s
                        self._guessed = True
                if self._left is None or self._left > self.reserve:
                    if self._left is not None:
                        self._left -= 1
                    self._in_flight += 1
                    return
                wait = max(self._reset_at - now, 0.001)
            self.waited_s += wait
            self._sleep(wait)

    def release(self, headers: RateLimitHeaders | None) -> None:
        """
        Mark a request as answered (or failed) and learn from its headers, if any.

        What we may still send is the store's latest count minus our requests in flight. Alone on
        the store that never overshoots: every answered request of ours is in the latest count, and
        any in flight that the store has counted already is subtracted once more, so the estimate
        errs low while requests are in flight and is exact once none are (then the window's last
        requests, held back while their answers were on the way, are ours again). With others on
        the store the latest count lags what they sent since, so the estimate only ever falls.
        """
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            if headers is None or headers.left is None or headers.reset_ms is None:
                return
            now = self._clock()
            reset_at = now + headers.reset_ms / 1000 + RESET_MARGIN_S
            if self._stale(reset_at):
                # An answer from the previous window, overtaken by the new one's: it says nothing of
                # this window, but it is no longer in flight.
                if self._window_low is not None and now >= self._blocked_until:
                    self._left = self._fair_estimate(self._window_low)
                return
            if headers.quota is not None:
                self._quota = headers.quota
            if headers.window_ms is not None:
                self._window_s = headers.window_ms / 1000
            new_window = self._left is None or self._guessed or reset_at > self._reset_at + self._tolerance()
            self._guessed = False
            if new_window:
                self._answered_in_window = 0
            elif self._last_left is not None:
                self._others.append(self._last_left - headers.left - 1)
            low = (
                headers.left
                if new_window or self._window_low is None
                else min(self._window_low, headers.left)
            )
            self._window_low = low
            self._last_left = headers.left
            self._answered_in_window += 1
            estimate = self._fair_estimate(low)
            if now < self._blocked_until and self._left is not None:
                self._left = min(self._left, estimate)
                self._reset_at = max(self._reset_at, reset_at)
                return
            if new_window or self._left is None or self._alone():
                self._left = estimate
            else:
                # Others spend this window too, and the store's count lags what they sent since:
                # never take back requests an earlier answer said were gone.
                self._left = min(self._left, estimate)
            # Each answer's reset time is the store's, read late by its transit: the earliest is
            # the closest (a later window starts later, and every late start delays the next).
            self._reset_at = reset_at if new_window else min(self._reset_at, reset_at)

    def _alone(self) -> bool:
        """Whether our last answers show no one else spending the window (lock held)."""
        return self.share >= 1.0 and self._others_mean() == 0.0

    def _tolerance(self) -> float:
        """
        Return how far two answers' reset times may differ within one window (lock held).

        A window's reset is fixed, but each answer reads it late by its own transit and service
        time, which on a slow store vary by far more than milliseconds; the next window's reset is a
        whole window later.
        """
        return WINDOW_JITTER_S if self._window_s is None else max(WINDOW_JITTER_S, self._window_s / 2)

    def _stale(self, reset_at: float) -> bool:
        """Whether an answer's reset is a window before the one we know (lock held)."""
        if self._guessed or self._left is None or self._window_s is None:
            return False  # without the window's length, a late reading cannot be told from an old one
        return reset_at < self._reset_at - self._tolerance()

    @property
    def others_per_own(self) -> float:
        """
        Return how many requests others sent per request of ours, over our last answers (0: alone).

        Between two of our answers the store's requests-left falls by our one request plus the
        others'; by Little's law, others keep that many times our requests in flight (at a similar
        latency). Counted per answer, not per second, so a quota wait that stops everyone says nothing.
        """
        with self._lock:
            return self._others_mean()

    def _others_mean(self) -> float:
        """Return :attr:`others_per_own` (lock held)."""
        return max(0.0, sum(self._others) / len(self._others)) if self._others else 0.0

    def _fair_estimate(self, store_left: int) -> int:
        """Return the requests this client may still send in the window (lock held)."""
        # The others' requests in flight are not in the store's count yet either: by Little's law
        # they hold about ``others_per_own`` times ours.
        estimate = store_left - self._in_flight - round(self._others_mean() * self._in_flight)
        if self._quota is None or self._quota <= 0:
            return estimate
        spent = self._quota - store_left
        ours = self._answered_in_window + self._in_flight
        self.share = 1.0 if spent <= 0 else min(1.0, ours / spent)
        spare = estimate - self.reserve
        if 0 < spare <= fair_share_zone(self._quota) and self.share < 1.0:
            return self.reserve + math.ceil(spare * self.share)
        return estimate

    def block_for(self, seconds: float) -> None:
        """Make every sender wait ``seconds`` (after a 429: the quota is spent, maybe by another app)."""
        with self._lock:
            until = self._clock() + seconds
            self._left = 0
            self._blocked_until = max(self._blocked_until, until)
            self._reset_at = max(self._reset_at, until)


def fair_share_zone(quota: int) -> int:
    """Return how many requests before a window's end the pacer starts claiming only its share."""
    return max(FAIR_SHARE_MIN, quota // 4)
