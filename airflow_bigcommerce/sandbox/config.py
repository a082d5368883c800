"""Runtime settings of the sandbox store and the checks an admin change must pass."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from airflow_bigcommerce.sandbox.faults import validate_rates


@dataclass
class SandboxConfig:
    """Runtime settings of a sandbox store; all can change at runtime through ``configure``."""

    quota: int = 150
    window_ms: int = 30_000
    latency_ms: int = 0
    faults: dict[str, float] = field(default_factory=dict)
    fault_seed: int | None = None
    slow_s: float = 10.0
    non_atomic_batches: bool = False
    store_name: str = "Sandbox Store"
    max_body_bytes: int = 1_048_576

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as JSON-safe data."""
        return dataclasses.asdict(self)


_NUMBERS: dict[str, type[int] | type[float]] = {
    "quota": int,
    "window_ms": int,
    "latency_ms": int,
    "max_body_bytes": int,
    "slow_s": float,
}


def checked_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Return ``changes`` validated and coerced; raise ValueError (an admin 400) instead of failing later."""
    unknown = set(changes) - {f.name for f in dataclasses.fields(SandboxConfig)}
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    if "faults" in changes:
        changes = {**changes, "faults": validate_rates(changes["faults"] or {})}
    return {name: _coerce(name, value) for name, value in changes.items()}


def _coerce(name: str, value: Any) -> Any:
    if name in _NUMBERS:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"{name} must be a non-negative number")
        if name == "window_ms" and value <= 0:
            raise ValueError("window_ms must be positive")
        return _NUMBERS[name](value)
    if name == "non_atomic_batches" and not isinstance(value, bool):
        raise ValueError("non_atomic_batches must be true or false")
    if name == "fault_seed" and value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError("fault_seed must be an integer or null")
    if name == "store_name" and not isinstance(value, str):
        raise ValueError("store_name must be a string")
    return value
