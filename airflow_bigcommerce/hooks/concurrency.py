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
- at most one decrease per round trip: answers to requests sent before the last decrease are the
  same push-back (as TCP), so a burst of slow answers does not collapse the limit to one.
- **a 429 with requests left** (the endpoint's per-store cap, shared with other tasks): that
  endpoint's own limit drops to one below what it had in flight; refusals of requests sent before
  the last one are the same push-back, not a new one.
- **the others' share of a capped endpoint** is read from the quota headers alone (requests the
  others sent per request of ours, :attr:`~.pacing.RateLimitPacer.others_per_own`): by Little's law
  they hold about that many times our requests in flight. A capped endpoint starts at its part of
  the cap (all of it when alone), and grows back by one only while the estimate leaves a free slot,
  so tasks sharing a cap settle on a split of it instead of probing it with 429s, and the one left
  takes the whole cap once the others are done. A blind probe after a long quiet spell (scaled to
  the endpoint's latency, doubling per new refusal) covers estimates the others' other requests
  inflate.

Pure decisions in :class:`AimdLimit` (clock-free) and a thread-safe gate around them.
"""

from __future__ import annotations

import math
import random
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from airflow_bigcommerce.api import CONCURRENCY_CAPS, MAX_IN_FLIGHT, PATH_ID_PATTERN
from airflow_bigcommerce.clock import Clock, as_clock

__all__ = ["DOCUMENTED_CAPS", "MAX_IN_FLIGHT", "ConcurrencyController", "Signal", "endpoint_of"]

#: Where the adaptive limit starts.
INITIAL_IN_FLIGHT = 2
#: Smoothed latency above this multiple of the fastest seen means the store is queueing our requests.
LATENCY_TOLERANCE = 2.0
#: Weight of a new latency sample in the smoothed latency.
LATENCY_SMOOTHING = 0.2
#: After an endpoint refused us (429 with requests left), its limit grows back blindly (without the
#: estimate's word) only after a quiet spell of at least this long (jittered up to twice as long, so
#: two tasks do not grow in step): the cap is per store, and each probe beyond it costs a 429.
ENDPOINT_REGROW_S = 1.5
#: ... and of at least this many of the endpoint's answer times, so the spell scales with the store.
ENDPOINT_REGROW_LATENCIES = 100
#: Longest quiet spell (unless the latency makes the shortest longer): each new refusal doubles it.
ENDPOINT_REGROW_MAX_S = 30.0
#: A capped endpoint grows by one only if the others' estimated requests in flight leave this much
#: of a slot beyond the new one free: the estimate is noisy, and a wrong step costs a 429.
ENDPOINT_GROW_SPARE = 0.75
#: Answers between two steps of a capped endpoint's limit: the estimate must see the new split.
ENDPOINT_GROW_ANSWERS = 8
#: Weight of a new sample in an endpoint's smoothed requests in flight.
LOAD_SMOOTHING = 1 / 16
#: Requests in flight per store that BigCommerce documents for some endpoints, keyed as
#: :func:`endpoint_of` keys them (``"PUT v3/customers"``).
DOCUMENTED_CAPS: Mapping[str, int] = {key.replace(" /", " ", 1): cap for key, cap in CONCURRENCY_CAPS.items()}

Signal = Literal["ok", "busy", "concurrency", "slow", "error", "neutral"]
_ID_SEGMENT = re.compile(rf"/(?:{PATH_ID_PATTERN})(?=/|$)")


def endpoint_of(method: str, path: str) -> str:
    """Return ``"METHOD path"`` with ids (numbers, UUIDs) as ``{id}``: the key of per-endpoint limits."""
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
    #: When the quiet spell before a blind regrowth began (a refusal), or ``None`` when there is none.
    spell_from: float | None = None
    #: The spell's multiple of :meth:`spell` (1 + jitter, doubled per new refusal after the first).
    spell_factor: float = 1.0
    refusals: int = 0
    #: When the last refusal was taken in: requests sent before it were refused by the same push-back.
    refused_at: float | None = None
    #: Answers since the limit last changed: the estimate must catch up before the next step.
    answers: int = 0
    #: Our smoothed requests in flight here (at each answer, itself included).
    load: float | None = None

    def spell(self) -> float:
        """Return the shortest quiet spell: some seconds, and many of the endpoint's answer times."""
        smoothed = self.latency.smoothed or 0.0
        return max(ENDPOINT_REGROW_S, ENDPOINT_REGROW_LATENCIES * smoothed)

    @property
    def quiet_s(self) -> float:
        """Return the current quiet spell before a blind regrowth (its jitter included)."""
        shortest = self.spell()
        return min(shortest * self.spell_factor, max(ENDPOINT_REGROW_MAX_S, 2 * shortest))

    def refused(self, in_flight: int, started: float, now: float, jitter: float) -> None:
        """Lower the limit below what was in flight when the endpoint refused a request."""
        if self.refused_at is None or started >= self.refused_at:
            # A new push-back (not one more answer to requests sent before the last refusal).
            if self.refusals:
                # Refused again: other tasks hold the rest of the per-store cap; probe it less often.
                self.spell_factor = min(self.spell_factor * 2, 64.0)
            else:
                self.spell_factor = 1.0 + jitter
            self.refusals += 1
            self.refused_at = self.spell_from = now
        if in_flight - 1 < self.limit:
            self.limit = max(1, in_flight - 1)
            self.answers = 0

    def answered(self, in_flight: int, others: float, now: float) -> None:
        """
        Grow by one while saturated, if the others leave a slot free or after a blind quiet spell.

        :param in_flight: our requests in flight here when this one was answered (itself included).
        :param others: requests others send per request of ours (0 when alone).
        """
        self.answers += 1
        self.load = in_flight if self.load is None else self.load + LOAD_SMOOTHING * (in_flight - self.load)
        if self.load < self.limit - 0.5 or self.answers < ENDPOINT_GROW_ANSWERS:
            return  # not using the limit, or the estimate has not caught up with the last step
        held_by_others = others * self.load  # Little's law: their rate / ours x what we hold
        free = held_by_others <= self.cap - self.limit - ENDPOINT_GROW_SPARE
        blind = self.spell_from is not None and now >= self.spell_from + self.quiet_s
        if free or blind:
            self._grow(now)

    def _grow(self, now: float) -> None:
        self.limit += 1
        self.answers = 0
        if self.spell_from is not None:
            self.spell_from = None if self.limit >= self.cap else now


@dataclass
class ConcurrencyState:
    """The run's limits and what is in flight; every method is pure bookkeeping (no waiting)."""

    total: AimdLimit
    caps: Mapping[str, int]
    in_flight: int = 0
    endpoints: dict[str, _Endpoint] = field(default_factory=dict)
    #: Requests others send per request of ours, as last reported (0: alone on the store).
    others: float = 0.0
    #: When the run's limit was last lowered: answers to requests sent before it are the same
    #: push-back (TCP lowers its window once per round trip, not once per late packet).
    shrunk_at: float | None = None

    def endpoint(self, key: str) -> _Endpoint:
        """
        Return the state of one endpoint, created with its documented cap (or the run's maximum).

        A capped endpoint starts at our part of its cap: others sending as much as we do hold about
        as much of it.
        """
        state = self.endpoints.get(key)
        if state is None:
            cap = self.caps.get(key)
            if cap is None:
                limit = top = int(self.total.maximum)
            else:
                top = int(cap)
                limit = max(1, min(top, math.ceil(top / (1.0 + self.others))))
            state = _Endpoint(limit=limit, cap=top)
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
        started: float | None = None,
        others: float | None = None,
    ) -> None:
        """
        Count a request as answered and adapt the limits to what its answer says.

        :param now: the time (for an endpoint's regrowth after a refusal).
        :param jitter: 0..1, spreads regrowth so tasks sharing a per-store cap do not grow in step.
        :param started: when the request went out (default: ``now`` minus its latency).
        :param others: requests others sent per request of ours, from the quota headers.
        """
        if others is not None:
            self.others = others
        endpoint = self.endpoint(key)
        in_flight_then = endpoint.in_flight
        self.in_flight = max(0, self.in_flight - 1)
        endpoint.in_flight = max(0, endpoint.in_flight - 1)
        if signal in ("ok", "busy") and latency_s is not None and endpoint.latency.add(latency_s):
            signal = "slow"
        sent = started if started is not None else now - (latency_s or 0.0)
        if signal == "ok":
            self.total.grow()
        elif signal in ("slow", "error") and (self.shrunk_at is None or sent >= self.shrunk_at):
            self.total.shrink(0.9 if signal == "slow" else 0.5)
            self.shrunk_at = now
        if signal == "concurrency":  # the store's per-store cap: honoured even with a fixed limit
            endpoint.refused(in_flight_then, sent, now, jitter)
        elif signal in ("ok", "busy", "slow"):
            endpoint.answered(in_flight_then, self.others, now)


class ConcurrencyController:
    """
    Gate every request of a run on the in-flight limits; safe to share between threads.

    :param fixed: a fixed limit on requests in flight (the operator's ``max_concurrency``); ``None``
        adapts between 1 and ``maximum``. Documented per-endpoint caps apply either way.
    :param clock: times the round trips (:class:`~airflow_bigcommerce.clock.Clock`, default the
        context's, or a time function). A sender waiting for a slot waits for an answer, not for
        time, so that wait stays real.
    """

    def __init__(
        self,
        fixed: int | None = None,
        *,
        maximum: int = MAX_IN_FLIGHT,
        initial: int = INITIAL_IN_FLIGHT,
        caps: Mapping[str, int] = DOCUMENTED_CAPS,
        clock: Clock | Callable[[], float] | None = None,
    ) -> None:
        if fixed is not None and fixed < 1:
            raise ValueError(f"a fixed concurrency must be at least 1, got {fixed}")
        limit = AimdLimit(
            limit=float(fixed if fixed is not None else min(initial, maximum)),
            maximum=float(fixed if fixed is not None else maximum),
            fixed=fixed is not None,
        )
        self.state = ConcurrencyState(total=limit, caps=dict(caps))
        self._clock = as_clock(clock).monotonic
        self._rng = random.Random()
        self._lock = threading.Lock()
        #: Senders wait per endpoint, and an answer wakes only as many as may go out: waking every
        #: sender on every answer costs more thread switches than requests on a busy 2-core worker.
        self._ready: dict[str, threading.Condition] = {}
        self._waiting: dict[str, int] = {}
        #: Highest number of requests seen in flight at once (for logs and benchmarks).
        self.peak = 0

    @property
    def limit(self) -> int:
        """Return the current limit on requests in flight."""
        with self._lock:
            return self.state.total.value

    def acquire(self, key: str) -> float:
        """Wait until a request to ``key`` may go out; count it in flight; return the start time."""
        with self._lock:
            if not self.state.may_start(key):
                ready = self._ready.setdefault(key, threading.Condition(self._lock))
                self._waiting[key] = self._waiting.get(key, 0) + 1
                try:
                    while not self.state.may_start(key):
                        ready.wait(timeout=0.5)  # the timeout only guards against a missed wake-up
                finally:
                    self._waiting[key] -= 1
            self.state.start(key)
            self.peak = max(self.peak, self.state.in_flight)
            return self._clock()

    def release(self, key: str, started: float, signal: Signal, *, others: float | None = None) -> None:
        """
        Count the request as answered, adapt to ``signal``, and wake the senders that may go now.

        :param others: requests others sent per request of ours (the pacer's estimate), if known.
        """
        with self._lock:
            now = self._clock()
            latency = now - started if signal in ("ok", "busy") else None
            self.state.finish(
                key, signal, latency, now=now, jitter=self._rng.random(), started=started, others=others
            )
            self._wake()

    def _wake(self) -> None:
        """Wake, per endpoint, as many waiting senders as the limits now let out (lock held)."""
        free = self.state.total.value - self.state.in_flight
        for key, waiting in self._waiting.items():
            if free <= 0:
                return
            endpoint = self.state.endpoint(key)
            wake = min(waiting, free, endpoint.limit - endpoint.in_flight)
            if wake > 0:
                self._ready[key].notify(wake)
                free -= wake
