"""Run the sandbox store as a subprocess on loopback and drive its admin routes (benchmark helper)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import threading
import time
import urllib.request
from typing import Any

from airflow_bigcommerce import sandbox

STORE_HASH = "sandbox"
TOKEN = "sandbox-token"  # the sandbox's own demo token, not a secret
#: Never go through a proxy: every request of the benchmark stays on 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SandboxProcess:
    """
    ``python -m airflow_bigcommerce.sandbox`` in its own process (so it does not share our GIL).

    Use as a context manager; ``url`` is ``http://127.0.0.1:PORT``. The module is run exactly as shipped
    (it sets TCP_NODELAY itself, so a kept-alive request takes ~1-2 ms, not the ~40 ms delayed ACK).
    """

    def __init__(self, *, quota: int = 0, window_ms: int = 3000, latency_ms: int = 0) -> None:
        self.args = sandbox.command(
            store_hash=STORE_HASH, token=TOKEN, quota=quota, window_ms=window_ms, latency_ms=latency_ms
        )
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> SandboxProcess:
        env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        assert self.proc.stdout is not None
        seen: list[str] = []
        for line in self.proc.stdout:
            seen.append(line)
            url = sandbox.ready_url(line)
            if url:
                self.url = url
                break
        if not self.url:
            self.proc.kill()
            raise RuntimeError("sandbox did not start:\n" + "".join(seen[-20:]))
        # Keep draining its output so a chatty server never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def _admin(self, method: str, route: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/__sandbox/{route}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with _OPENER.open(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def prepare(self, *, quota: int, window_ms: int, latency_ms: int = 0) -> None:
        """Empty the store, clear its stats and window, then apply the settings."""
        self._admin("POST", "reset")
        self._admin("PUT", "config", {"quota": quota, "window_ms": window_ms, "latency_ms": latency_ms})

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._admin("GET", "stats")
        return result

    def api_requests(self) -> dict[str, int]:
        """Return the API requests the store counted, by ``METHOD /path``."""
        return {str(k): int(v) for k, v in self.stats()["requests"].items()}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def request_latency(sandbox: SandboxProcess, n: int = 200) -> list[dict[str, Any]]:
    """
    Time ``n`` sequential API requests of each kind on one kept-alive ``requests.Session`` (as the hook).

    Kinds: ``GET /v3/customers?limit=1`` and ``POST /v3/customers`` with a batch of 10 (our create
    request). Unlimited quota, no added latency; the store is reset afterwards. Milliseconds.
    """
    import requests

    sandbox.prepare(quota=0, window_ms=3000)
    base = f"{sandbox.url}/stores/{STORE_HASH}/v3/customers"
    results: list[dict[str, Any]] = []
    with requests.Session() as session:
        session.trust_env = False  # never a proxy: loopback only
        session.headers.update({"X-Auth-Token": TOKEN, "Accept": "application/json"})

        def get(_: int) -> requests.Response:
            return session.get(base, params={"limit": 1}, timeout=10)

        def post(i: int) -> requests.Response:
            batch = [
                {"email": f"latency.{i}.{j}@example.com", "first_name": "Ada", "last_name": "Lovelace"}
                for j in range(10)
            ]
            return session.post(base, json=batch, timeout=10)

        for label, send in (("GET /v3/customers?limit=1", get), ("POST /v3/customers (10)", post)):
            send(-1).raise_for_status()  # warm-up: opens the kept-alive connection
            timings: list[float] = []
            for i in range(n):
                started = time.perf_counter()
                response = send(i)
                timings.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            results.append(
                {
                    "request": label,
                    "n": n,
                    "median_ms": round(statistics.median(timings), 2),
                    "p95_ms": round(_percentile(timings, 0.95), 2),
                    "max_ms": round(max(timings), 2),
                }
            )
    sandbox.prepare(quota=0, window_ms=3000)
    return results
