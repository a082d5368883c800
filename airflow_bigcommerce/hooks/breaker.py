"""
Ride out store outages: a time-based retry budget and a circuit breaker shared by every sender.

BigCommerce outages (deploys, database failovers) last seconds to minutes and often hit writes
while reads keep working. Counting attempts cannot ride them out (an outage is measured in
seconds, not tries), and instant retries from several threads turn one outage into thousands of
requests. So every request of a run asks this breaker first, per kind of request (``read`` or
``write``):

- **closed**: requests go out. After a transient failure (5xx, no answer, 429 without rate-limit
  headers) the next request of that kind waits an exponential backoff with jitter.
- **open**: after :data:`OPEN_AFTER` failures in a row, one request at a time (a probe) tests the
  store, at growing intervals up to :data:`BACKOFF_CAP_S`; every other sender waits for its result.
  A success closes the circuit and everybody resumes.
- **budget spent**: when a kind of request has failed without a success in between for longer than
  ``budget_s``, the run stops trying it: :class:`BudgetExhaustedError` is raised at once, for every
  later request of that kind too, so the run settles its remaining rows as *failed* (the task then
  fails and Airflow's retry finishes the job) instead of waiting forever.

Pure state (``_Circuit``) plus a small thread-safe wrapper; the clock and the sleep are injected, so
the tests run without sleeping. The pattern follows pybreaker's closed/open/half-open states and
botocore's retry quota, shaped for a shared, clock-injected policy.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from airflow_bigcommerce.api import backoff_seconds
from airflow_bigcommerce.clock import Clock, as_clock

#: Failures in a row after which only one probe at a time is sent.
OPEN_AFTER = 3
#: First backoff after a failure, doubled per failure in a row (full jitter over its upper half).
BACKOFF_BASE_S = 0.5
#: Longest wait between two probes: a 60 s outage costs about ten probes per kind.
BACKOFF_CAP_S = 15.0
#: How long a kind of request may keep failing before the run gives up on it (rides out ≥ 2 min).
DEFAULT_RETRY_BUDGET_S = 300.0
#: How often a sender waiting for another's probe looks again.
PROBE_POLL_S = 0.05
#: A wait at least this long is announced (one log line: what failed, the wait, the budget left).
ANNOUNCE_WAIT_S = 5.0

Kind = Literal["read", "write"]
Action = Literal["go", "probe", "wait", "give_up"]
#: Called once per long wait: ``(kind, wait_s, budget_left_s, last_reason)``.
OnWait = Callable[[Kind, float, float, str], None]


class BudgetExhaustedError(Exception):
    """
    A kind of request kept failing for longer than the retry budget: the run stops trying it.

    :param kind: ``"read"`` or ``"write"``.
    :param failing_for_s: how long it has been failing, without a success in between.
    :param budget_s: the retry budget.
    :param last_reason: what the last failure was (e.g. ``"503"``), for the message.
    """

    def __init__(self, kind: str, failing_for_s: float, budget_s: float, last_reason: str) -> None:
        self.kind = kind
        self.failing_for_s = failing_for_s
        self.budget_s = budget_s
        self.last_reason = last_reason
        plural = "reads" if kind == "read" else "writes"
        super().__init__(
            f"store {plural} kept failing ({last_reason or 'no answer'}) for {failing_for_s:.0f} s, "
            f"beyond the retry budget of {budget_s:g} s"
        )


def backoff_s(failures: int, rng: random.Random | None = None) -> float:
    """Return the wait after ``failures`` failures in a row: the API's backoff with this base and cap."""
    return backoff_seconds(failures, base=BACKOFF_BASE_S, cap=BACKOFF_CAP_S, rng=rng)


@dataclass
class _Circuit:
    """What one kind of request has lately suffered; every method takes the time explicitly."""

    failures: int = 0
    failing_since: float | None = None
    not_before: float = 0.0
    probing: bool = False
    exhausted: bool = False
    last_reason: str = ""
    #: The end of the last wait announced, so several senders waiting for it log it once.
    announced: float = -1.0

    def decide(self, now: float, budget_s: float, open_after: int) -> tuple[Action, float]:
        """Return what a sender may do now, and how long to wait when the answer is ``wait``."""
        if not self.exhausted and self.failing_since is not None and now >= self.failing_since + budget_s:
            self.exhausted = True
        if self.exhausted:
            return "give_up", 0.0
        if self.failures == 0 or self.failing_since is None:
            return "go", 0.0
        deadline = self.failing_since + budget_s
        if now < self.not_before:
            return "wait", min(self.not_before, deadline) - now
        if self.failures >= open_after and self.probing:
            return "wait", min(PROBE_POLL_S, deadline - now)
        self.probing = self.failures >= open_after
        return ("probe" if self.probing else "go"), 0.0

    def succeed(self) -> None:
        """Close the circuit: the store answered."""
        self.failures = 0
        self.failing_since = None
        self.not_before = 0.0
        self.probing = False

    def fail(self, now: float, reason: str, wait_s: float) -> None:
        """Count a transient failure: one more in the streak, and no request of this kind for ``wait_s``."""
        self.failures += 1
        if self.failing_since is None:
            self.failing_since = now
        self.not_before = max(self.not_before, now + wait_s)
        self.probing = False
        self.last_reason = reason

    def abandon(self) -> None:
        """Free the probe slot: a request ended with neither answer nor failure (our own error)."""
        self.probing = False


class CircuitBreaker:
    """
    The outage policy of one run, shared by all its threads; one circuit per kind of request.

    :param budget_s: how long a kind of request may keep failing before the run gives up on it.
    :param open_after: failures in a row after which only one probe at a time goes out.
    :param clock: the :class:`~airflow_bigcommerce.clock.Clock` (default: the context's), or a time
        function with ``sleep`` beside it.
    """

    def __init__(
        self,
        budget_s: float = DEFAULT_RETRY_BUDGET_S,
        *,
        open_after: int = OPEN_AFTER,
        clock: Clock | Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if budget_s < 0:
            raise ValueError(f"the retry budget must not be negative, got {budget_s}")
        self.budget_s = budget_s
        self.open_after = max(1, open_after)
        self.clock = as_clock(clock, sleep)
        self._clock = self.clock.monotonic
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._circuits: dict[str, _Circuit] = {}
        #: Counters for logs and tests: failures seen, probes sent, seconds spent waiting.
        self.stats: dict[str, float] = {"transient_failures": 0, "probes": 0, "outage_wait_s": 0.0}

    def acquire(self, kind: Kind, *, budget_s: float | None = None, on_wait: OnWait | None = None) -> None:
        """
        Wait until a request of ``kind`` may go out (backoff, or another sender's probe).

        :param budget_s: a shorter budget for this request (a store never reached yet), else the
            breaker's own; once spent, the circuit stays given up.
        :param on_wait: told of each wait of at least :data:`ANNOUNCE_WAIT_S`, once per wait however
            many senders wait for it.
        :raises BudgetExhaustedError: this kind has been failing for longer than the budget.
        """
        budget = self.budget_s if budget_s is None else min(budget_s, self.budget_s)
        while True:
            announce: tuple[float, float, str] | None = None
            with self._lock:
                circuit = self._circuits.setdefault(kind, _Circuit())
                now = self._clock()
                action, wait = circuit.decide(now, budget, self.open_after)
                if action == "give_up":
                    failing_for = now - (circuit.failing_since or now)
                    raise BudgetExhaustedError(kind, failing_for, budget, circuit.last_reason)
                if action == "probe":
                    self.stats["probes"] += 1
                if action != "wait":
                    return
                self.stats["outage_wait_s"] += wait
                if (
                    on_wait is not None
                    and wait >= ANNOUNCE_WAIT_S
                    and circuit.announced != circuit.not_before
                ):
                    circuit.announced = circuit.not_before
                    left = (circuit.failing_since or now) + budget - now
                    announce = (wait, left, circuit.last_reason)
            if announce is not None and on_wait is not None:
                on_wait(kind, *announce)
            self.clock.sleep(max(wait, 0.001))

    def succeeded(self, kind: Kind) -> None:
        """Record that the store answered a request of ``kind`` (any status but a transient failure)."""
        with self._lock:
            self._circuits.setdefault(kind, _Circuit()).succeed()

    def failed(self, kind: Kind, reason: str) -> None:
        """Record a transient failure of ``kind`` (5xx, no answer, 429 without rate-limit headers)."""
        with self._lock:
            circuit = self._circuits.setdefault(kind, _Circuit())
            circuit.fail(self._clock(), reason, backoff_s(circuit.failures + 1, self._rng))
            self.stats["transient_failures"] += 1

    def abandoned(self, kind: Kind) -> None:
        """Record that a request of ``kind`` ended in our own error: another sender may probe."""
        with self._lock:
            self._circuits.setdefault(kind, _Circuit()).abandon()
