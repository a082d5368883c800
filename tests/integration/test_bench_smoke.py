"""Smoke test of the benchmark: ``benchmarks/bench_sync.py --quick`` runs and prints its table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_bench_sync_quick_runs_and_prints_the_table(tmp_path: Path) -> None:
    figures_path = tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_sync.py"), "--quick", "--json", str(figures_path)],
        capture_output=True,
        text=True,
        timeout=110,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for heading in (
        "0. Sandbox: median request latency",
        "1. Ours (sync_customers + BigCommerceHook) vs the quota bound",
        "2. Peers under the same quota",
        "3. Mapping + validation alone",
        "4. Streamed SQL sync",
        "5. Concurrency with",
        "Targets",
    ):
        assert heading in out, out
    assert "bound/actual" in out
    assert "providers-http HttpHook loop" in out
    assert "bigcommerce PyPI client" in out
    assert "ours / faster peer" in out
    assert "info, lossless peers only" in out
    # Every target line carries a verdict; the values are not checked (machines are noisy).
    targets = out.split("Targets", 1)[1].strip().splitlines()
    assert targets
    assert all(
        line.strip().startswith(("PASS", "FAIL")) for line in targets if line.strip()[:4] in {"PASS", "FAIL"}
    )
    figures = json.loads(figures_path.read_text())
    assert {"sandbox", "ours", "peers", "mapping", "stream", "latency", "targets"} <= set(figures)
    assert all(probe["median_ms"] > 0 for probe in figures["sandbox"])
    # Correctness, not speed: our sync created every contact, and the peers' books balance.
    for run in figures["ours"]:
        assert run["created"] == run["contacts"] == run["store_customers"]
    for quota in figures["peers"]:
        for peer in quota["results"]:
            assert (
                peer["created"] + peer["lost"] == peer["contacts"] == peer["store_customers"] + peer["lost"]
            )
        # The naive loop runs the same N as our sync (so its rate spans as many windows as it takes).
        http = next(p for p in quota["results"] if p["peer"] == "providers-http HttpHook loop")
        assert http["contacts"] == figures["config"]["contacts"]
        assert quota["factor_vs_fastest"] is not None
