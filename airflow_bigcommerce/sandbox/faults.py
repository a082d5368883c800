"""Deterministic fault injection: which failure, if any, the next API request suffers.

Kinds and what the sandbox then does (``app.py`` acts on the draw):

- ``error_before_write``: answer 500, 502 or 503; nothing is written.
- ``rate_limit_429``: answer 429 with the rate-limit headers and ``X-Retry-After``; nothing written.
- ``rate_limit_429_bare``: answer 429 with no rate-limit headers (platform load); nothing written.
- ``slow``: the write is committed, the answer is delayed by ``slow_s`` seconds (past a client timeout).
- ``commit_then_500``: the write is committed, then the answer is a 500.
- ``commit_then_drop``: the write is committed, then the connection is closed with no response.
- ``malformed``: answer 200 with a body that is not JSON; nothing is written.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping

FAULT_KINDS = (
    "error_before_write",
    "rate_limit_429",
    "rate_limit_429_bare",
    "slow",
    "commit_then_500",
    "commit_then_drop",
    "malformed",
)
PRE_WRITE_KINDS = frozenset({"error_before_write", "rate_limit_429", "rate_limit_429_bare", "malformed"})
ERROR_STATUSES = (500, 502, 503)


def spread_rate(total: float, kinds: Iterable[str] | None = None) -> dict[str, float]:
    """Split a total fault rate evenly over ``kinds`` (all kinds by default)."""
    chosen = list(kinds) if kinds is not None else list(FAULT_KINDS)
    if not chosen:
        return {}
    return {kind: total / len(chosen) for kind in chosen}


def validate_rates(rates: Mapping[str, float]) -> dict[str, float]:
    """Return a clean copy of ``rates``; raise ValueError on unknown kinds or a sum outside 0..1."""
    clean: dict[str, float] = {}
    for kind, rate in rates.items():
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        value = float(rate)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"fault rate for {kind!r} must be within 0..1, got {value}")
        if value:
            clean[kind] = value
    if sum(clean.values()) > 1.0 + 1e-9:
        raise ValueError("fault rates must add up to at most 1")
    return clean


class FaultPlan:
    """Draw faults from per-kind rates with a seeded RNG, so a run is reproducible for a seed."""

    def __init__(self, rates: Mapping[str, float] | None = None, seed: int | None = None) -> None:
        self.rates = validate_rates(rates or {})
        self.seed = seed
        self._rng = random.Random(seed)
        self._forced: list[str] = []

    def force(self, *kinds: str) -> None:
        """Queue faults for the next requests, in order, ahead of any random draw (handy in tests)."""
        for kind in kinds:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}")
        self._forced.extend(kinds)

    def draw(self) -> str | None:
        """Return the fault kind for the next request, or None for a normal answer."""
        if self._forced:
            return self._forced.pop(0)
        if not self.rates:
            return None
        point = self._rng.random()
        for kind in FAULT_KINDS:
            rate = self.rates.get(kind, 0.0)
            if point < rate:
                return kind
            point -= rate
        return None

    def error_status(self) -> int:
        """Pick the 5xx status of an ``error_before_write`` fault."""
        return self._rng.choice(ERROR_STATUSES)
