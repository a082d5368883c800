"""Deterministic fault injection: which failure, if any, the next API request suffers.

Kinds and what the sandbox then does (``http/middleware.py`` and the in-process client act on the draw):

- ``error_before_write``: answer 500, 502 or 503; nothing is written.
- ``rate_limit_429``: answer 429 with the rate-limit headers and ``X-Retry-After``; nothing written.
- ``rate_limit_429_bare``: answer 429 with no rate-limit headers (platform load); nothing written.
- ``slow``: the write is committed, the answer is delayed by ``slow_s`` seconds (past a client timeout).
- ``commit_then_500``: the write is committed, then the answer is a 500.
- ``commit_then_drop``: the write is committed, then the connection is closed with no response.
- ``malformed``: answer 200 with a body that is not JSON; nothing is written.

Scripted faults (queued for one target, never drawn at random) may also be:

- ``reject_before_write``: a definite 422 refusal; nothing is written.
- ``non_atomic``: the batch is served, and if it holds a bad item the items before it are written.
- ``outage``: the 503 of an outage; nothing is applied.
- ``fatal``: a 401, the failure no retry fixes.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Mapping

from airflow_bigcommerce.sandbox.traffic.concurrency import endpoint_key

FAULT_KINDS = (
    "error_before_write",
    "rate_limit_429",
    "rate_limit_429_bare",
    "slow",
    "commit_then_500",
    "commit_then_drop",
    "malformed",
)
#: Kinds only a script queues (see the module docstring).
SCRIPTED_ONLY_KINDS = ("reject_before_write", "non_atomic", "outage", "fatal")
SCRIPTABLE_KINDS = (*FAULT_KINDS, *SCRIPTED_ONLY_KINDS)
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


class FaultScript:
    """Faults queued per target, one per call, ahead of the random plan (deterministic tests).

    A target names what the fault hits: an operation such as ``customers.create`` (the in-process
    client's and the HTTP middleware's name for ``POST /v3/customers``), see :func:`operation_of`.
    """

    def __init__(self) -> None:
        self._queues: dict[str, deque[str]] = {}

    def add(self, target: str, kinds: Iterable[str]) -> None:
        """Queue ``kinds`` for the next calls of ``target``, in order, after those queued before."""
        chosen = list(kinds)
        for kind in chosen:
            if kind not in SCRIPTABLE_KINDS:
                raise ValueError(
                    f"unknown fault kind {kind!r}; expected one of {', '.join(SCRIPTABLE_KINDS)}"
                )
        self._queues.setdefault(target, deque()).extend(chosen)

    def take(self, target: str) -> str | None:
        """Return and consume the next fault queued for ``target``, if any."""
        queue = self._queues.get(target)
        return queue.popleft() if queue else None

    def pending(self, target: str | None = None) -> int:
        """Return how many faults are still queued (for ``target``, or in all)."""
        if target is not None:
            return len(self._queues.get(target, ()))
        return sum(len(queue) for queue in self._queues.values())

    def clear(self) -> None:
        """Forget every queued fault."""
        self._queues.clear()


#: The operations of ``/v3/customers`` a script can target, by HTTP method (GET: see ``operation_of``).
_CUSTOMER_WRITES = {"POST": "customers.create", "PUT": "customers.update"}


def operation_of(method: str, path: str, query: Mapping[str, str]) -> str:
    """Name the operation of a request as scripts target it (``customers.find`` for an e-mail look-up).

    ``/v3/customers`` gets ``customers.find`` (``email:in``), ``customers.find_ids`` (``id:in``),
    ``customers.count`` (a 1-row page), ``customers.list``, ``customers.create`` or
    ``customers.update``; any other request its endpoint key, e.g. ``PUT /v3/customers/attribute-values``.
    """
    method = method.upper()
    trimmed = path.rstrip("/")
    if trimmed.endswith("/v3/customers"):
        if method in _CUSTOMER_WRITES:
            return _CUSTOMER_WRITES[method]
        if method == "GET":
            if "email:in" in query:
                return "customers.find"
            if "id:in" in query:
                return "customers.find_ids"
            return "customers.count" if query.get("limit") == "1" else "customers.list"
    return endpoint_key(method, path)
