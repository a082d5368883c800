"""Test helpers for users' own DAG tests: a sandbox BigCommerce store on loopback, or in process.

``InProcessStore`` / ``sandbox_client()`` (``airflow_bigcommerce.testing.in_process``) answer the store
client's calls from a sandbox store in the same process, no server: for fast unit tests of a sync.

``run_sandbox()`` is a context manager usable anywhere, without pytest; the pytest fixtures
(``airflow_bigcommerce.sandbox.pytest_plugin``, registered through this module, which the ``pytest11``
entry point names) give one server per session and a clean store per test. FastAPI and uvicorn are
imported only when a server starts, so having this plugin installed costs nothing.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_bigcommerce.clock import Clock, VirtualClock, use_clock

if TYPE_CHECKING:
    from airflow_bigcommerce.sandbox.store import SandboxStore

#: The fixtures, for pytest; named as a string so importing this module never imports pytest.
pytest_plugins = ["airflow_bigcommerce.sandbox.pytest_plugin"]

DEFAULT_CONN_ID = "bigcommerce_default"

#: Names loaded on first use, so the plugin's import stays light.
_IN_PROCESS = frozenset({"InProcessStore", "StoreFailure", "sandbox_client"})


def __getattr__(name: str) -> Any:
    """Load the in-process store client on first use (it imports the sandbox's pydantic schemas)."""
    if name in _IN_PROCESS:
        from airflow_bigcommerce.testing import in_process

        return getattr(in_process, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class SandboxHandle:
    """A running sandbox: where it listens, its credentials and the in-process store."""

    url: str
    store_hash: str
    token: str
    store: SandboxStore

    @property
    def api_url(self) -> str:
        """Return the API base of the store, ``{url}/stores/{store_hash}``."""
        return f"{self.url}/stores/{self.store_hash}"

    @property
    def headers(self) -> dict[str, str]:
        """Return the headers a client sends (token and JSON)."""
        return {"X-Auth-Token": self.token, "Accept": "application/json", "Content-Type": "application/json"}

    def conn_json(self) -> str:
        """Return the Airflow connection as JSON, the value of an ``AIRFLOW_CONN_...`` variable."""
        return json.dumps(
            {
                "conn_type": "bigcommerce",
                "host": self.url,
                "password": self.token,
                "extra": {"store_hash": self.store_hash},
            }
        )

    def env(self, conn_id: str = DEFAULT_CONN_ID) -> dict[str, str]:
        """Return ``{"AIRFLOW_CONN_<CONN_ID>": <json>}`` for the connection id."""
        return {f"AIRFLOW_CONN_{conn_id.upper()}": self.conn_json()}


@contextlib.contextmanager
def run_sandbox(
    *,
    store_hash: str = "sandbox",
    token: str = "sandbox-token",
    quota: int = 150,
    window_ms: int = 30_000,
    db_path: str | None = None,
    clock: Clock | None = None,
    **options: Any,
) -> Iterator[SandboxHandle]:
    """Serve a sandbox store on 127.0.0.1 (free port) in a background thread for the ``with`` block.

    :param options: further :class:`~airflow_bigcommerce.sandbox.store.SandboxConfig` settings, e.g.
        ``latency_ms``, ``faults={"commit_then_500": 0.1}``, ``fault_seed``, ``non_atomic_batches``, and
        real-store conditions: ``outage_s=20, outage_start_s=5, outage_kind="writes"`` (an outage
        counted from start-up; ``handle.store.configure(outage_s=...)`` starts one later),
        ``outage_headers``, ``concurrency_limits={"PUT /v3/customers": 3}`` (the default caps; ``{}``
        lifts them), ``competitor_rps=6`` (another app spending the same quota).
    :param clock: the clock of the store's quota windows, outages and competitor (default: the
        context's, e.g. :func:`virtual_time`'s, else the system clock).
    """
    from airflow_bigcommerce.sandbox.http.serving import listening_socket, uvicorn_server
    from airflow_bigcommerce.sandbox.store import SandboxConfig, SandboxStore

    config = SandboxConfig(quota=quota, window_ms=window_ms, **options)
    store = SandboxStore(store_hash=store_hash, token=token, config=config, db_path=db_path, clock=clock)
    sock = listening_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn_server(store)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="bigcommerce-sandbox", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            store.close()
            raise RuntimeError("the BigCommerce sandbox did not start")
        time.sleep(0.01)
    try:
        yield SandboxHandle(url=f"http://127.0.0.1:{port}", store_hash=store_hash, token=token, store=store)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        store.close()


@contextlib.contextmanager
def virtual_time(clock: VirtualClock | None = None) -> Iterator[VirtualClock]:
    """Give hooks (also those operators build) and sandboxes started in the block one virtual clock.

    Their sleeps, backoffs, quota windows and outages then pass in moments of real time, in the
    same order and with the same waits as in real time::

        with virtual_time() as clock, run_sandbox(quota=0) as sandbox:
            sandbox.store.configure(outage_s=60)
            CreateCustomerOperator(...).execute(context={})  # rides out the minute at once
    """
    chosen = clock or VirtualClock()
    with use_clock(chosen):
        yield chosen
