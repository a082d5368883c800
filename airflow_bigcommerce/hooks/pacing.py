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
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from airflow_bigcommerce.api import (
    HEADER_REQUESTS_LEFT,
    HEADER_REQUESTS_QUOTA,
    HEADER_RETRY_AFTER,
    HEADER_TIME_RESET_MS,
    HEADER_TIME_WINDOW_MS,
    backoff_seconds,
)
from airflow_bigcommerce.clock import Clock, as_clock

__all__ = ["IDEMPOTENT_METHODS", "RateLimitHeaders", "RateLimitPacer", "backoff_seconds", "wait_after_429"]

#: Methods whose repetition has the same effect as one request (RFC 9110, section 9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


#: Added to every computed wait: our clock reads the reset time a little after the store did.
RESET_MARGIN_S = 0.005
#: Two answers' reset times closer than this belong to one window, when the window's length is unknown.
WINDOW_JITTER_S = 0.05
#: Fewest requests left at which the fair-share rule applies (several senders' requests in flight).
FAIR_SHARE_MIN = 16
#: Our last answers over which :attr:`RateLimitPacer.others_per_own` counts the others' requests.
OTHERS_SAMPLES = 16
#: Weight of each new sample in the running means of our requests in flight and round-trip time.
SMOOTHING = 0.1
#: Round trips without an answer after which a sender held back by the share rule sends one request.
QUIET_ROUND_TRIPS = 2
#: The least quiet spell before such a request, whatever the round trips.
QUIET_MIN_S = 0.01


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
                value = float(lowered[name.lower()])
            except (KeyError, TypeError, ValueError):
                return None
            return value if value >= 0 else None

        def integer(name: str) -> int | None:
            value = number(name)
            return None if value is None else int(value)

        return cls(
            left=integer(HEADER_REQUESTS_LEFT),
            reset_ms=integer(HEADER_TIME_RESET_MS),
            window_ms=integer(HEADER_TIME_WINDOW_MS),
            quota=integer(HEADER_REQUESTS_QUOTA),
            retry_after_s=number(HEADER_RETRY_AFTER),
        )

    @property
    def present(self) -> bool:
        """Whether the response carried any rate-limit information."""
        return self.left is not None or self.reset_ms is not None or self.retry_after_s is not None


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
    near a window's end it claims only its fair share of what is left, rounded down: its part of
    the store's recent requests (how far ``X-Rate-Limit-Requests-Left`` fell between its last
    answers, compared with its own requests). Several syncs on one store then share the last
    requests of a window instead of racing for them and collecting 429s, and one whose peers have
    finished takes the rest: a sender held back by that rule with nothing in flight learns no more
    from answers, so after a quiet spell of a few round trips it sends one request (when the
    store's latest count leaves room for one from each sender) and learns from its answer.

    :param reserve: requests per window left unused for the store's other apps.
    :param clock: the :class:`~airflow_bigcommerce.clock.Clock` (default: the context's, see
        :func:`~airflow_bigcommerce.clock.use_clock`), or a time function. A blocked sender waits on
        a condition that an answer freeing requests wakes, so a sender blocked until the reset goes
        out as soon as the window's held-back requests are ours again.
    :param sleep: with a time function: how a blocked sender waits instead (a fake clock's sleep,
        which no answer wakes).
    :param on_wait: told of each wait for a window's reset, once per reset however many senders wait
        for it, with the seconds to wait (the hook logs the long ones).
    """

    def __init__(
        self,
        *,
        reserve: int = 0,
        clock: Clock | Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        if reserve < 0:
            raise ValueError(f"the quota reserve must not be negative, got {reserve}")
        self.reserve = reserve
        self.clock = as_clock(clock, sleep)
        self._clock = self.clock.monotonic
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)
        self._left: int | None = None
        self._reset_at = 0.0
        #: Whether ``_reset_at`` is our guess (the window rolled over here), not the store's word.
        self._guessed = False
        self._quota: int | None = None
        self._window_s: float | None = None
        self._in_flight = 0
        self._answered_in_window = 0
        #: Running mean of our requests in flight (at each send), and of the round trip (FIFO).
        self._typical_in_flight = 0.0
        self._rtt_s = 0.0
        self._sent_at: deque[float] = deque()
        self._answers = 0
        #: Our requests answered without rate-limit headers since the last count: the store may
        #: have counted them.
        self._uncounted = 0
        #: The lowest requests-left the store reported in this window: its latest count we know of.
        self._window_low: int | None = None
        #: Until then nobody sends, whatever answers say (after a 429 that spent the quota).
        self._blocked_until = 0.0
        #: Our part of the store's recent requests (1.0 when we are alone on the store).
        self.share = 1.0
        self.waited_s = 0.0
        #: Per answer of ours: how far requests-left fell beyond our own request (others' requests).
        self._others: deque[int] = deque(maxlen=OTHERS_SAMPLES)
        self._last_left: int | None = None
        self.on_wait = on_wait
        #: The last reset a wait was announced for (a 429's wait is announced by whoever saw it).
        self._announced_reset = 0.0

    def acquire(self) -> None:
        """Wait until a request may be sent, then count it as in flight."""
        with self._lock:
            while True:
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
                    self._typical_in_flight += SMOOTHING * (self._in_flight - self._typical_in_flight)
                    self._sent_at.append(now)
                    return
                wait = max(self._reset_at - now, 0.001)
                quiet = self._quiet_spell(now)
                if quiet is None or quiet >= wait:
                    if self.on_wait is not None and self._reset_at > self._announced_reset:
                        self._announced_reset = self._reset_at
                        self.on_wait(wait)
                    self._wait(wait)
                    continue
                heard = self._answers
                self._wait(quiet)
                if heard == self._answers and self._quiet_spell(self._clock()) is not None:
                    self._left = self.reserve + 1  # one request, to learn whether the others are done

    def _quiet_spell(self, now: float) -> float | None:
        """
        Return how long a sender held back by the share rule waits before it sends one request.

        ``None`` when that does not apply (lock held): we are alone (the estimate is exact), requests
        of ours are in flight (their answers will say more), a 429 said wait, or the store's latest
        count has no room for one request from each sender (then the window is all but spent).
        """
        others = self._others_mean()
        if others == 0.0 or self._in_flight or now < self._blocked_until or now >= self._reset_at:
            return None
        if self._window_low is None or self._window_low - self._uncounted - self.reserve < 1 + others:
            return None
        return max(QUIET_ROUND_TRIPS * self._rtt_s, QUIET_MIN_S)

    def _wait(self, seconds: float) -> None:
        """Wait up to ``seconds`` for the window to reset or an answer to free requests (lock held)."""
        started = self._clock()
        self.clock.wait(self._freed, seconds)
        self.waited_s += self._clock() - started

    def release(self, headers: RateLimitHeaders | None) -> None:
        """
        Mark a request as answered (or failed) and learn from its headers, if any.

        What we may still send is the store's latest count minus our requests in flight. Alone on
        the store that never overshoots: every answered request of ours is in the latest count, and
        any in flight that the store has counted already is subtracted once more, so the estimate
        errs low while requests are in flight and is exact once none are (then the window's last
        requests, held back while their answers were on the way, are ours again). With others on
        the store their requests in flight are subtracted too, the estimate only falls while ours
        are in flight (their latest requests are not in our count), and near the window's end we
        claim only our share of the rest (see :meth:`_fair_estimate`). A sender blocked until the
        reset is woken as soon as an answer frees requests.
        """
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            self._answers += 1
            if self._sent_at:  # answers come back about in the order sent: close enough for a mean
                self._rtt_s += SMOOTHING * (self._clock() - self._sent_at.popleft() - self._rtt_s)
            if self._in_flight == 0:
                self._freed.notify()  # a sender waiting for the reset may now wait a quiet spell only
            if headers is None or headers.left is None or headers.reset_ms is None:
                self._uncounted += 1
                return
            now = self._clock()
            reset_at = now + headers.reset_ms / 1000 + RESET_MARGIN_S
            if self._stale(reset_at):
                # An answer from the previous window, overtaken by the new one's: it says nothing of
                # this window, but it is no longer in flight.
                if self._window_low is not None and now >= self._blocked_until:
                    self._take(self._fair_estimate(self._window_low))
                return
            if headers.quota is not None:
                self._quota = headers.quota
            if headers.window_ms is not None:
                self._window_s = headers.window_ms / 1000
            new_window = self._left is None or self._guessed or reset_at > self._reset_at + self._tolerance()
            self._guessed = False
            if new_window:
                self._answered_in_window = 0
            self._answered_in_window += 1
            if not new_window and self._last_left is not None:
                self._others.append(self._last_left - headers.left - 1)
            low = (
                headers.left
                if new_window or self._window_low is None
                else min(self._window_low, headers.left)
            )
            self._window_low = low
            self._last_left = headers.left
            estimate = self._fair_estimate(low)
            if now < self._blocked_until and self._left is not None:
                self._left = min(self._left, estimate)
                self._reset_at = max(self._reset_at, reset_at)
                return
            self._uncounted = 0
            self._take(estimate, new_window=new_window)
            # Each answer's reset time is the store's, read late by its transit: the earliest is
            # the closest (a later window starts later, and every late start delays the next).
            self._reset_at = reset_at if new_window else min(self._reset_at, reset_at)

    def _take(self, estimate: int, *, new_window: bool = False) -> None:
        """Take ``estimate`` as what we may still send, and wake as many blocked senders (lock held)."""
        if not (self._left is None or new_window or self._in_flight == 0 or self._others_mean() == 0.0):
            # Others spend this window too, and our count is older than their latest requests:
            # take nothing back until our own answers are all in (then it is as fresh as it gets).
            estimate = min(self._left, estimate)
        self._left = estimate
        if estimate > self.reserve:
            self._freed.notify(estimate - self.reserve)

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
        This is the raw figure the concurrency controller splits a capped endpoint by: early in a
        window the others' requests hide among ours in flight, and a cap shared by two tasks must
        not look like ours alone then.
        """
        with self._lock:
            return self._samples_mean()

    def _samples_mean(self) -> float:
        """Return :attr:`others_per_own` (lock held)."""
        return max(0.0, sum(self._others) / len(self._others)) if self._others else 0.0

    def _others_mean(self) -> float:
        """
        Return the others' requests per one of ours, as the quota rules use it (lock held).

        Our own requests in flight that the store has counted already also make its count fall
        beyond the one answered, so the samples alone would show others where there are none: when
        the window's spent requests are all accounted for by ours (answered or in flight), no one
        else spends it, and the window is ours to the last request.
        """
        spent = None if self._quota is None or self._window_low is None else self._quota - self._window_low
        if spent is not None and spent <= self._answered_in_window + self._in_flight:
            return 0.0
        return self._samples_mean()

    def _fair_estimate(self, store_left: int) -> int:
        """
        Return the requests this client may still send in the window (lock held).

        Near the window's end, with others on the store, our share of what is left: the part of the
        store's recent requests that were ours, from our last answers rather than the whole window,
        so that once the others finish (their requests no longer show between ours) the rest is
        ours. Rounded down: every sender rounding up overshoots by up to one request each, and a
        429 costs a wait of at least the rest of the window.
        """
        others = self._others_mean()
        # The others' requests in flight are not in the store's count yet either: by Little's law
        # they hold about ``others_per_own`` times ours: our usual number, not the moment's (with
        # none of ours in flight, theirs still are).
        theirs = round(others * max(self._in_flight, self._typical_in_flight))
        estimate = store_left - self._in_flight - theirs
        self.share = 1.0 / (1.0 + others)
        if self._quota is None or self._quota <= 0:
            return estimate
        spare = estimate - self.reserve
        if 0 < spare <= fair_share_zone(self._quota) and self.share < 1.0:
            return self.reserve + math.floor(spare * self.share)
        return estimate

    def block_for(self, seconds: float) -> None:
        """Make every sender wait ``seconds`` (after a 429: the quota is spent, maybe by another app)."""
        with self._lock:
            until = self._clock() + seconds
            self._left = 0
            self._blocked_until = max(self._blocked_until, until)
            self._reset_at = max(self._reset_at, until)
            self._announced_reset = self._reset_at


def fair_share_zone(quota: int) -> int:
    """Return how many requests before a window's end the pacer starts claiming only its share."""
    return max(FAIR_SHARE_MIN, quota // 4)
