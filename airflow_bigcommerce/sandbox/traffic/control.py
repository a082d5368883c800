"""How the store admits each API request: outage, concurrency gate, quota (with a competitor) and faults.

Plain Python on an injected clock with no lock of its own: ``sandbox.store.SandboxStore`` holds the
lock and calls it; ``http.middleware.TrafficMiddleware`` and the in-process client act on the
answers. The order a request meets them:

1. an outage that hits its method: 503 at once, no quota spent;
2. its endpoint's concurrency cap: 429 at once with requests left (the refusal spends quota);
3. ``latency_ms`` of service time, then the fixed-window quota, charged after the competitor's
   requests due by then: 429 with ``X-Retry-After`` when spent;
4. an injected fault: one scripted for its operation (``script``), else one drawn at random.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_bigcommerce.sandbox.config import SandboxConfig
from airflow_bigcommerce.sandbox.traffic.competitor import Competitor
from airflow_bigcommerce.sandbox.traffic.concurrency import ConcurrencyGate
from airflow_bigcommerce.sandbox.traffic.faults import FaultPlan, FaultScript
from airflow_bigcommerce.sandbox.traffic.outage import OutageWindow, affects
from airflow_bigcommerce.sandbox.traffic.ratelimit import RateDecision, RateLimiter

#: Settings whose change restarts a part of the traffic state (others apply as they are read).
_QUOTA = frozenset({"quota", "window_ms"})
_FAULTS = frozenset({"faults", "fault_seed"})
_OUTAGE = frozenset({"outage_s", "outage_start_s"})


@dataclass
class TrafficCounts:
    """What the store answered, for ``stats()``; cleared by a reset."""

    requests: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    outage_answers: Counter[str] = field(default_factory=Counter)
    concurrency_429s: Counter[str] = field(default_factory=Counter)
    competitor_requests: int = 0
    competitor_429s: int = 0


class TrafficControl:
    """The admission state of one store: quota window, competitor, outage, concurrency gate and faults."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.config = config
        self.limiter = RateLimiter(config.quota, config.window_ms, clock)
        self.faults = FaultPlan(config.faults, config.fault_seed)
        #: Faults queued per operation (deterministic tests); a reset forgets them.
        self.script = FaultScript()
        self.gate = ConcurrencyGate(config.concurrency_limits)
        self.outage = OutageWindow(clock)
        self.outage.schedule(config.outage_s, config.outage_start_s)
        self.competitor = Competitor(config.competitor_rps, clock())
        self.counts = TrafficCounts()

    def apply(self, config: SandboxConfig, changed: frozenset[str] | set[str]) -> None:
        """Switch to ``config``; restart only what ``changed`` names (an outage keeps the quota window)."""
        self._charge_competitor(self._clock())  # the old rate up to now, in the old window
        self.config = config
        if changed & _QUOTA:
            self.limiter.quota, self.limiter.window_ms = config.quota, config.window_ms
            self.limiter.reset()
        if changed & _FAULTS:
            self.faults = FaultPlan(config.faults, config.fault_seed)
        if "concurrency_limits" in changed:
            self.gate.limits = dict(config.concurrency_limits)
        if "competitor_rps" in changed:
            self.competitor = Competitor(config.competitor_rps, self._clock())
        if changed & _OUTAGE:
            self.outage.schedule(config.outage_s, config.outage_start_s)

    def reset(self, config: SandboxConfig) -> None:
        """Return to ``config`` as at start-up: new window, fault RNG, competitor and outage; no stats."""
        self.apply(config, {"quota", "faults", "concurrency_limits", "competitor_rps", "outage_s"})
        self.gate.reset_peaks()
        self.script.clear()
        self.counts = TrafficCounts()

    def live_settings(self) -> dict[str, Any]:
        """Return the config as JSON-safe data, with the outage as it stands now (what remains of it)."""
        return {
            **self.config.to_dict(),
            "outage_s": round(self.outage.remaining_s(), 3),
            "outage_start_s": round(self.outage.starts_in_s(), 3),
        }

    def _charge_competitor(self, now: float) -> None:
        sent, refused = self.competitor.catch_up(self.limiter, now)
        self.counts.competitor_requests += sent
        self.counts.competitor_429s += refused

    # -- the steps of one request, in order ----------------------------------------------------------
    def record(self, key: str) -> None:
        """Count a request by its endpoint key, e.g. ``POST /v3/customers``."""
        self.counts.requests[key] += 1

    def outage_answer(self, method: str) -> dict[str, str] | None:
        """Return the headers of the 503 for a request the outage hits ({} = bare), else None."""
        if not (self.outage.active() and affects(self.config.outage_kind, method)):
            return None
        self.counts.outage_answers[method.upper()] += 1
        if not self.config.outage_headers:
            return {}
        now = self._clock()
        self._charge_competitor(now)
        return self.limiter.peek(now).headers()

    def enter(self, key: str) -> RateDecision | None:
        """Admit a request to its endpoint (None: admitted, call ``leave`` once answered) or refuse it.

        A refusal returns the refused request's quota charge: ``allowed`` means the window had room, so
        it is a concurrency 429; otherwise the quota is spent too and it is an ordinary quota 429.
        """
        if self.gate.enter(key):
            return None
        decision = self.take()
        if decision.allowed:
            self.counts.concurrency_429s[key] += 1
        return decision

    def leave(self, key: str) -> None:
        """Count an admitted request as answered."""
        self.gate.leave(key)

    def take(self) -> RateDecision:
        """Count one request against the window, after the competitor's due requests; record a refusal."""
        now = self._clock()
        self._charge_competitor(now)
        decision = self.limiter.take(now)
        if not decision.allowed:
            self.counts.rate_limited += 1
        return decision

    def draw_fault(self, operation: str | None = None, *, drawn: bool = True) -> str | None:
        """Return the fault for the next request and record it, if any.

        One scripted for ``operation`` comes first, else (if ``drawn``) one drawn at random.
        """
        kind = self.script.take(operation) if operation is not None else None
        if kind is None and drawn:
            kind = self.faults.draw()
        if kind is not None:
            self.counts.faults[kind] += 1
        return kind

    def stats(self) -> dict[str, Any]:
        """Return the traffic counters (JSON-safe), the competitor charged up to now."""
        self._charge_competitor(self._clock())
        counts = self.counts
        return {
            "requests": dict(counts.requests),
            "requests_total": sum(counts.requests.values()),
            "rate_limited": counts.rate_limited,
            "faults": dict(counts.faults),
            "outage_answers": sum(counts.outage_answers.values()),
            "outage_answers_by_method": dict(counts.outage_answers),
            "outage_active": self.outage.active(),
            "concurrency_429s": dict(counts.concurrency_429s),
            "in_flight": self.gate.in_flight(),
            "in_flight_peak": dict(self.gate.peaks),
            "competitor_requests": counts.competitor_requests,
            "competitor_429s": counts.competitor_429s,
        }
