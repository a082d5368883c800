"""The sandbox store: its state (``state/``) behind its traffic control (``traffic/``), no HTTP here.

The HTTP layer stays thin (parse, one store call, serialise) and the in-process client
(``airflow_bigcommerce.testing.in_process``) calls the same operations; both ask this class how a
request is admitted. Operations raise :class:`~airflow_bigcommerce.sandbox.state.errors.ApiError`,
which carries status and wire shape.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from airflow_bigcommerce.clock import Clock, as_clock
from airflow_bigcommerce.sandbox.config import SandboxConfig, checked_changes
from airflow_bigcommerce.sandbox.state.customer import (
    Customer,
    normalize_email,
    utcnow,
)
from airflow_bigcommerce.sandbox.state.customers import RowRule
from airflow_bigcommerce.sandbox.state.customers_v2 import V2Customers
from airflow_bigcommerce.sandbox.state.customers_v3 import V3Customers
from airflow_bigcommerce.sandbox.state.errors import ApiError
from airflow_bigcommerce.sandbox.state.seeding import Seeding
from airflow_bigcommerce.sandbox.traffic.control import TrafficControl
from airflow_bigcommerce.sandbox.traffic.faults import FaultPlan
from airflow_bigcommerce.sandbox.traffic.outage import affects
from airflow_bigcommerce.sandbox.traffic.ratelimit import UNLIMITED, RateDecision, RateLimiter

__all__ = ["UNLIMITED", "Customer", "RateDecision", "RateLimiter", "RowRule", "SandboxConfig", "SandboxStore"]


def _copy(config: SandboxConfig) -> SandboxConfig:
    return dataclasses.replace(
        config, faults=dict(config.faults), concurrency_limits=dict(config.concurrency_limits)
    )


class SandboxStore(V2Customers, V3Customers, Seeding):
    """A BigCommerce store in memory (or in SQLite with ``db_path``), shared by every client."""

    def __init__(
        self,
        *,
        store_hash: str = "sandbox",
        token: str = "sandbox-token",
        config: SandboxConfig | None = None,
        db_path: str | None = None,
        clock: Clock | Callable[[], float] | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        default = SandboxConfig(**checked_changes(dataclasses.asdict(config or SandboxConfig())))
        super().__init__(store_hash=store_hash, config=_copy(default), db_path=db_path, now=now)
        self.token = token
        self.default_config = default
        #: Quota windows, outages and the competitor run on it (default: the context's clock).
        self.clock = as_clock(clock)
        self.traffic = TrafficControl(self.config, self.clock.monotonic)

    @property
    def limiter(self) -> RateLimiter:
        """The fixed-window quota counter."""
        return self.traffic.limiter

    @property
    def faults(self) -> FaultPlan:
        """The fault plan (``store.faults.force("commit_then_500")`` queues a fault)."""
        return self.traffic.faults

    def reset(self) -> None:
        """Return to the start-up state: no customers, fresh ids, window, stats, config and fault RNG.

        A start-up outage (``outage_s`` in the store's initial config) starts again from now.
        """
        with self.lock:
            self.clear()
            self.config = _copy(self.default_config)
            self.traffic.reset(self.config)

    def configure(self, **changes: Any) -> SandboxConfig:
        """Change settings at runtime (quota, window_ms, latency_ms, faults, outage_s, ...).

        Only what a change names restarts: ``quota``/``window_ms`` open a new window, ``faults``/
        ``fault_seed`` a new fault RNG, ``competitor_rps`` a new competitor, ``outage_s`` a new outage
        (after ``outage_start_s``, 0 unless given); an outage's kind or headers apply to a running one.
        """
        with self.lock:
            checked = checked_changes(changes)
            if "outage_s" in checked:
                checked.setdefault("outage_start_s", 0.0)
            self.config = dataclasses.replace(self.config, **checked)
            self.traffic.apply(self.config, set(checked))
            return self.config

    def settings(self) -> dict[str, Any]:
        """Return the settings as JSON-safe data, ``outage_s``/``outage_start_s`` as they stand now."""
        with self.lock:
            return self.traffic.live_settings()

    # -- traffic: auth, outage, concurrency, quota, faults, stats ------------------------------------
    def authorize(self, store_hash: str, token: str | None, version: str) -> None:
        """Check the store hash (404 if unknown) and the ``X-Auth-Token`` (401 if missing or wrong)."""
        if store_hash != self.store_hash:
            raise ApiError(404, "Store not found.", version=version)
        if token != self.token:
            raise ApiError(401, "You are not authorized to access this resource.", version=version)

    def record_request(self, kind: str) -> None:
        """Count a request by method and path kind, e.g. ``POST /v3/customers``."""
        with self.lock:
            self.traffic.record(kind)

    def outage_answer(self, method: str) -> dict[str, str] | None:
        """Return the headers of the 503 for a request a staged outage hits ({} = bare), else None."""
        with self.lock:
            return self.traffic.outage_answer(method)

    def enter(self, key: str) -> RateDecision | None:
        """Admit a request under its endpoint's concurrency cap (None; then call ``leave``) or refuse it.

        A refusal returns its quota charge: ``allowed`` = concurrency 429 with requests left, else the
        quota is spent and it is a quota 429.
        """
        with self.lock:
            return self.traffic.enter(key)

    def leave(self, key: str) -> None:
        """Count a request that ``enter`` admitted as answered."""
        with self.lock:
            self.traffic.leave(key)

    def take_request(self) -> RateDecision:
        """Count one API request against the shared window; record a refusal in the stats."""
        with self.lock:
            return self.traffic.take()

    def draw_fault(self, method: str = "GET", operation: str | None = None) -> str | None:
        """Return the fault for the next request and record it, if any.

        One scripted for ``operation`` comes first, else one drawn at random (none for the methods
        ``fault_methods`` spares).
        """
        with self.lock:
            return self.traffic.draw_fault(operation, drawn=affects(self.config.fault_methods, method))

    def script_faults(self, operation: str, kinds: Iterable[str]) -> None:
        """Queue faults for the next calls of ``operation`` (e.g. ``customers.create``), one per call."""
        with self.lock:
            self.traffic.script.add(operation, kinds)

    def pending_faults(self, operation: str | None = None) -> int:
        """Return how many scripted faults (for ``operation``, or in all) are still unused."""
        with self.lock:
            return self.traffic.script.pending(operation)

    def stats(self) -> dict[str, Any]:
        """Return counters for tests and benchmarks (JSON-safe); see ``TrafficControl.stats``."""
        with self.lock:
            emails = Counter(normalize_email(c.email) for c in self._customers.values())
            return {
                **self.traffic.stats(),
                "customers": len(self._customers),
                "emails_with_duplicates": {email: n for email, n in emails.items() if n > 1},
                "refused_batch_commits": list(self.refused_batch_commits),
                "account_created_emails": self.account_created_emails,
            }
