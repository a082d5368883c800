"""Smoke test of the benchmark: ``benchmarks/bench_sync.py --quick`` runs and prints its table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_bench_sync_quick_runs_and_prints_the_table(tmp_path: Path) -> None:
    figures_path = tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_sync.py"), "--quick", "--json", str(figures_path)],
        capture_output=True,
        text=True,
        timeout=170,
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
        "6. No regression: this checkout vs the previous release",
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
    # The previous release ran from git history beside this checkout, at every quota, both syncing all.
    assert [v["quota"] for v in figures["previous"]] == figures["config"]["quotas"]
    for versus in figures["previous"]:
        assert len(versus["ours"]) == len(versus["previous"]) == 1
        assert versus["ours_median"] > 0 and versus["previous_median"] > 0
    assert sum("no regression" in t["target"] for t in figures["targets"]) == len(figures["config"]["quotas"])


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_bench_conditions_quick_runs_and_prints_every_row(tmp_path: Path) -> None:
    figures_path = tmp_path / "conditions.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_conditions.py"),
            "--quick",
            "--json",
            str(figures_path),
        ],
        capture_output=True,
        text=True,
        timeout=170,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for row in ("defaults, 40 ms per request", "2 upsert tasks", "4 tasks on one store", "quota_reserve=30"):
        assert row in proc.stdout, proc.stdout
    figures = json.loads(figures_path.read_text())
    # Correctness, not speed: every contact of every scenario landed, and the ratios were computed.
    assert figures["latency"]["after"]["created"] == figures["latency"]["contacts"]
    assert figures["put_limit"]["put_limit_3"]["updated"] == figures["put_limit"]["contacts"]
    assert figures["many_tasks"]["created"] == figures["many_tasks"]["contacts"]
    assert figures["reserve"]["created"] == figures["reserve"]["contacts"]
    assert figures["empty_insert"]["fixed_reads"] >= 1
    assert len(figures["targets"]) == 5


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_bench_parts_runs_and_every_part_costs_only_its_writes(tmp_path: Path) -> None:
    figures_path = tmp_path / "parts.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_parts.py"),
            "--contacts",
            "60",
            "--strict",
            "--json",
            str(figures_path),
        ],
        capture_output=True,
        text=True,
        timeout=170,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = {row["case"]: row for row in json.loads(figures_path.read_text())}
    assert rows["first sync"]["outcomes"]["created"] == 60
    assert rows["unchanged re-sync"]["writes_per_contact"] == 0
    assert rows["one change: address city"]["requests"]["address_update"] == 6
    for sent_with_the_customer in ("form field", "store credit"):  # in the customer's PUT: 10 a request
        assert rows[f"one change: {sent_with_the_customer}"]["requests"]["update"] == 6
        assert rows[f"one change: {sent_with_the_customer}"]["writes_per_contact"] == 0.1
    assert rows["unchanged re-sync: fields"]["writes_per_contact"] == 0
    assert rows["one change: metafield"]["requests"]["metafield_update"] == 6
    assert rows["first sync: fields"]["requests"]["profile_create"] == 6
    assert "FAIL" not in proc.stdout


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_bench_ledger_runs_and_the_ledger_adds_no_store_request(tmp_path: Path) -> None:
    figures_path = tmp_path / "ledger.json"
    args = ["--contacts", "120", "--strict", "--json", str(figures_path)]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_ledger.py"), *args],
        capture_output=True,
        text=True,
        timeout=170,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    figures = json.loads(figures_path.read_text())
    rows = {(row["case"], row["ledger"]): row for row in figures["rows"]}
    assert rows[("first sync", True)]["created"] == rows[("first sync", False)]["created"] == 120
    assert rows[("10 % e-mails changed", False)]["customers"] == 132  # a second customer each
    assert rows[("10 % e-mails changed", True)]["customers"] == 120
    addresses = rows[("first sync, addresses", True)]
    assert addresses["created"] == 120 and addresses["writes_per_contact"] == 0.1
    assert rows[("first sync, addresses", False)]["requests"]["attribute_values"] == 12
    assert all(figures["targets"].values()) and "FAIL" not in proc.stdout
