"""
How many requests a run keeps in flight: adaptive for the whole run, capped per endpoint.

BigCommerce answers a batch write in hundreds of milliseconds, so a fixed, small number of senders
cannot reach the quota's rate; yet some endpoints refuse more than a few requests at once (PUT
``/v3/customers``: 3 per store, a 429 while the window still has requests left). Windows are fixed,
so spending a window's requests early and then waiting finishes a sync soonest: the limit grows
while answers come back at their usual speed and the window has requests left, and shrinks when
the store pushes back. The shape is Netflix concurrency-limits' AIMD limiter (with TCP's slow start
before the first push-back): the in-flight limit is the one number that adapts, and the limiter
knows nothing about the requests themselves.

- **success** (and the window has room): slow start adds 1 per answer until the first push-back,
  then additive increase (+1 per ``limit`` answers), up to ``maximum``.
- **answers slow down** (smoothed latency above :data:`LATENCY_TOLERANCE` x the fastest seen): x0.9.
- **an error** (5xx, no answer): x0.5.
- **a 429 with requests left** (the endpoint's concurrency cap): that endpoint's own limit drops to
  one below what it had in flight, and grows back by one per quiet spell of 1.5-3 s (other tasks may
  share the per-store cap), never above its documented cap; every refusal after the first doubles
  the spell (up to 30 s), so tasks sharing a cap probe it rarely.

Pure decisions in :class:`AimdLimit` (clock-free) and a thread-safe gate around them.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

#: Most requests in flight for one run: beyond it more parallel writes only buy 429s on a shared quota.
MAX_IN_FLIGHT = 8
#: Where the adaptive limit starts.
INITIAL_IN_FLIGHT = 2
#: Smoothed latency above this multiple of the fastest seen means the store is queueing our requests.
LATENCY_TOLERANCE = 2.0
#: Weight of a new latency sample in the smoothed latency.
LATENCY_SMOOTHING = 0.2
#: After an endpoint refused us (429 with requests left), its limit grows back by one only after this
#: long without a refusal (jittered up to twice as long, so two tasks do not grow in step): the cap is
#: per store, other tasks may be using the rest, and each probe beyond it costs a 429.
ENDPOINT_REGROW_S = 1.5
#: Longest quiet spell: each refusal after an endpoint's first doubles it, up to this.
ENDPOINT_REGROW_MAX_S = 30.0
#: Requests in flight per store that BigCommerce documents for some endpoints ("METHOD path").
DOCUMENTED_CAPS: Mapping[str, int] = {
    "PUT v3/customers": 3,
    "PUT v3/customers/addresses": 3,
    "POST v3/customers/addresses": 10,
    "PUT v3/customers/attribute-values": 3,
}

Signal = Literal["ok", "busy", "concurrency", "slow", "error", "neutral"]
_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def endpoint_of(method: str, path: str) -> str:
    """Return ``"METHOD path"`` with numeric ids as ``{id}``: the key of per-endpoint limits."""
    clean = _ID_SEGMENT.sub("/{id}", path.strip("/").split("?", 1)[0])
    return f"{method.upper()} {clean}"


@dataclass
class AimdLimit:
    """An additive-increase / multiplicative-decrease limit; ``fixed`` turns adaptation off."""

    limit: float
    minimum: float = 1.0
    maximum: float = float(MAX_IN_FLIGHT)
    fixed: bool = False
    slow_start: bool = True

    @property
    def value(self) -> int:
        """Return the limit as a whole number of requests."""
        return max(int(self.minimum), math.floor(self.limit))

    def grow(self) -> None:
        """Record a fast success while the window had room."""
        if self.fixed:
            return
        step = 1.0 if self.slow_start else 1.0 / max(self.limit, 1.0)
        self.limit = min(self.maximum, self.limit + step)

    def shrink(self, factor: float) -> None:
        """Record push-back: multiply the limit (never below the minimum); slow start ends."""
        if self.fixed:
            return
        self.slow_start = False
        self.limit = max(self.minimum, self.limit * factor)


@dataclass
class _Latency:
    """The fastest answer seen and a smoothed recent one: their ratio says whether we queue."""

    fastest: float | None = None
    smoothed: float | None = None

    def add(self, seconds: float) -> bool:
        """Record an answer's latency; return whether answers have slowed down."""
        self.fastest = seconds if self.fastest is None else min(self.fastest, seconds)
        if self.smoothed is None:
            self.smoothed = seconds
        else:
            self.smoothed += LATENCY_SMOOTHING * (seconds - self.smoothed)
        floor = max(self.fastest, 0.005)  # below 5 ms, jitter is not queueing
        return self.smoothed > LATENCY_TOLERANCE * floor


@dataclass
class _Endpoint:
    """One endpoint's in-flight count and limit (its documented cap, lowered by refusals)."""

    limit: int
    cap: int
    in_flight: int = 0
    #: Per endpoint: a batch write takes longer than a look-up without anything queueing.
    latency: _Latency = field(default_factory=_Latency)
    #: When the limit may grow back by one (after a refusal), or ``None`` when it is at the cap.
    regrow_at: float | None = None
    #: The quiet spell before a regrowth; it doubles with every refusal after the first.
    quiet_s: float = ENDPOINT_REGROW_S
    refusals: int = 0

    def refused(self, in_flight: int, now: float, jitter: float) -> None:
        """Lower the limit below what was in flight when the endpoint refused a request."""
        if self.refusals:
            # Refused again: other tasks hold the rest of the per-store cap; probe it less often.
            self.quiet_s = min(self.quiet_s * 2, ENDPOINT_REGROW_MAX_S)
        self.refusals += 1
        self.limit = max(1, min(self.limit, in_flight - 1))
        self.regrow_at = now + self.quiet_s * (1.0 + jitter)

    def answered(self, now: float, jitter: float) -> None:
        """Grow back by one after a quiet spell without refusals."""
        if self.regrow_at is not None and now >= self.regrow_at:
            self.limit = min(self.cap, self.limit + 1)
            self.regrow_at = None if self.limit >= self.cap else now + self.quiet_s * (1.0 + jitter)


@dataclass
class ConcurrencyState:
    """The run's limits and what is in flight; every method is pure bookkeeping (no waiting)."""

    total: AimdLimit
    caps: Mapping[str, int]
    in_flight: int = 0
    endpoints: dict[str, _Endpoint] = field(default_factory=dict)

    def endpoint(self, key: str) -> _Endpoint:
        """Return the state of one endpoint, created with its documented cap (or the run's maximum)."""
        state = self.endpoints.get(key)
        if state is None:
            cap = int(self.caps.get(key, self.total.maximum))
            state = _Endpoint(limit=cap, cap=cap)
            self.endpoints[key] = state
        return state

    def may_start(self, key: str) -> bool:
        """Whether one more request to ``key`` may go out now."""
        endpoint = self.endpoint(key)
        return self.in_flight < self.total.value and endpoint.in_flight < endpoint.limit

    def start(self, key: str) -> None:
        """Count a request to ``key`` as in flight."""
        self.in_flight += 1
        self.endpoint(key).in_flight += 1

    def finish(
        self,
        key: str,
        signal: Signal,
        latency_s: float | None = None,
        *,
        now: float = 0.0,
        jitter: float = 0.0,
    ) -> None:
        """
        Count a request as answered and adapt the limits to what its answer says.

        :param now: the time (for an endpoint's regrowth after a refusal).
        :param jitter: 0..1, spreads regrowth so tasks sharing a per-store cap do not grow in step.
        """
        endpoint = self.endpoint(key)
        in_flight_then = endpoint.in_flight
        self.in_flight = max(0, self.in_flight - 1)
        endpoint.in_flight = max(0, endpoint.in_flight - 1)
        if signal in ("ok", "busy") and latency_s is not None and endpoint.latency.add(latency_s):
            signal = "slow"
        if signal == "ok":
            self.total.grow()
        elif signal == "slow":
            self.total.shrink(0.9)
        elif signal == "error":
            self.total.shrink(0.5)
        if signal == "concurrency":  # the store's per-store cap: honoured even with a fixed limit
            endpoint.refused(in_flight_then, now, jitter)
        elif signal in ("ok", "busy", "slow"):
            endpoint.answered(now, jitter)


class ConcurrencyController:
    """
    Gate every request of a run on the in-flight limits; safe to share between threads.

    :param fixed: a fixed limit on requests in flight (the operator's ``max_concurrency``); ``None``
        adapts between 1 and ``maximum``. Documented per-endpoint caps apply either way.
    """

    def __init__(
        self,
        fixed: int | None = None,
        *,
        maximum: int = MAX_IN_FLIGHT,
        initial: int = INITIAL_IN_FLIGHT,
        caps: Mapping[str, int] = DOCUMENTED_CAPS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if fixed is not None and fixed < 1:
            raise ValueError(f"a fixed concurrency must be at least 1, got {fixed}")
        limit = AimdLimit(
            limit=float(fixed if fixed is not None else min(initial, maximum)),
            maximum=float(fixed if fixed is not None else maximum),
            fixed=fixed is not None,
        )
        self.state = ConcurrencyState(total=limit, caps=dict(caps))
        self._clock = clock
        self._rng = random.Random()
        self._cond = threading.Condition()
        #: Highest number of requests seen in flight at once (for logs and benchmarks).
        self.peak = 0

    @property
    def limit(self) -> int:
        """Return the current limit on requests in flight."""
        with self._cond:
            return self.state.total.value

    def acquire(self, key: str) -> float:
        """Wait until a request to ``key`` may go out; count it in flight; return the start time."""
        with self._cond:
            while not self.state.may_start(key):
                self._cond.wait(timeout=0.5)
            self.state.start(key)
            self.peak = max(self.peak, self.state.in_flight)
            return self._clock()

    def release(self, key: str, started: float, signal: Signal) -> None:
        """Count the request as answered, adapt to ``signal``, and wake the senders waiting."""
        with self._cond:
            now = self._clock()
            latency = now - started if signal in ("ok", "busy") else None
            self.state.finish(key, signal, latency, now=now, jitter=self._rng.random())
            self._cond.notify_all()
