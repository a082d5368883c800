"""Runtime settings of the sandbox store and the checks an admin change must pass.

Real-store conditions (see ``outage.py``, ``concurrency.py``, ``competitor.py``):

- ``outage_s``: an outage of that many seconds, starting ``outage_start_s`` after the setting is made
  (or after the store is created or reset); 0 ends it. ``outage_kind`` is ``"writes"`` (default),
  ``"reads"`` or ``"all"``; ``outage_headers`` adds the rate-limit headers to its 503s (default bare).
  A change naming ``outage_start_s`` must name ``outage_s`` too (it schedules a new outage).
- ``concurrency_limits``: requests in flight allowed per ``"METHOD /path"``, BigCommerce's documented
  caps by default; replaced whole by a change, ``{}`` or a 0 value lifts a cap.
- ``competitor_rps``: requests per second another app spends from the same quota (0: none).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from airflow_bigcommerce.sandbox.traffic.concurrency import DEFAULT_CONCURRENCY_LIMITS, checked_limits
from airflow_bigcommerce.sandbox.traffic.faults import validate_rates
from airflow_bigcommerce.sandbox.traffic.outage import OUTAGE_KINDS


@dataclass
class SandboxConfig:
    """Runtime settings of a sandbox store; all can change at runtime through ``configure``.

    ``outage_s`` and ``outage_start_s`` hold the outage as last scheduled; ``GET /__sandbox/config``
    (``SandboxStore.settings()``) shows what remains of it instead.
    """

    quota: int = 150
    window_ms: int = 30_000
    latency_ms: int = 0
    faults: dict[str, float] = field(default_factory=dict)
    fault_seed: int | None = None
    #: Which requests draw faults: ``"all"`` (default), ``"writes"`` or ``"reads"`` (as ``outage_kind``).
    fault_methods: str = "all"
    slow_s: float = 10.0
    non_atomic_batches: bool = False
    store_name: str = "Sandbox Store"
    max_body_bytes: int = 1_048_576
    outage_s: float = 0.0
    outage_start_s: float = 0.0
    outage_kind: str = "writes"
    outage_headers: bool = False
    concurrency_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_CONCURRENCY_LIMITS))
    competitor_rps: float = 0.0
    #: Multi-Storefront: e-mails unique per channel instead of per store (``channels.py``).
    msf: bool = False
    #: False models a plan below Plus: the V2 customer group endpoints answer 403.
    customer_groups_enabled: bool = True
    #: True models an Enterprise plan: the Customer Segmentation API answers (else 403, see segments.py).
    segments_enabled: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as JSON-safe data."""
        return dataclasses.asdict(self)


_NUMBERS: dict[str, type[int] | type[float]] = {
    "quota": int,
    "window_ms": int,
    "latency_ms": int,
    "max_body_bytes": int,
    "slow_s": float,
    "outage_s": float,
    "outage_start_s": float,
    "competitor_rps": float,
}
#: Upper bounds that keep the clock arithmetic finite (an outage of ~4 months, a busy app).
_MAXIMA: dict[str, float] = {"outage_s": 1e7, "outage_start_s": 1e7, "competitor_rps": 1e5}
_FLAGS = frozenset(
    {"non_atomic_batches", "outage_headers", "msf", "customer_groups_enabled", "segments_enabled"}
)


def checked_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Return ``changes`` validated and coerced; raise ValueError (an admin 400) instead of failing later."""
    unknown = set(changes) - {f.name for f in dataclasses.fields(SandboxConfig)}
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    if "outage_start_s" in changes and "outage_s" not in changes:
        raise ValueError("outage_start_s schedules an outage: send outage_s with it")
    if "faults" in changes:
        changes = {**changes, "faults": validate_rates(changes["faults"] or {})}
    if "concurrency_limits" in changes:
        changes = {**changes, "concurrency_limits": checked_limits(changes["concurrency_limits"])}
    return {name: _coerce(name, value) for name, value in changes.items()}


def _coerce(name: str, value: Any) -> Any:
    if name in _NUMBERS:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < float("inf"):
            raise ValueError(f"{name} must be a non-negative number")
        if name == "window_ms" and value <= 0:
            raise ValueError("window_ms must be positive")
        if value > _MAXIMA.get(name, float("inf")):
            raise ValueError(f"{name} must be at most {_MAXIMA[name]:g}")
        return _NUMBERS[name](value)
    if name in _FLAGS and not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    if name in ("outage_kind", "fault_methods") and value not in OUTAGE_KINDS:
        raise ValueError(f"{name} must be one of {', '.join(OUTAGE_KINDS)}")
    if name == "fault_seed" and value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError("fault_seed must be an integer or null")
    if name == "store_name" and not isinstance(value, str):
        raise ValueError("store_name must be a string")
    return value
