"""
A sync whose worker process is SIGKILLed halfway, then retried, still lands every contact exactly once.

The worker runs ``SyncCustomersOperator.execute`` in its own Python process against the sandbox
(20 % faults) served by this test process, so the store outlives the worker, as a real store
outlives a killed Airflow task. The retry is the same command again, as a task retry would be.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_support import (
    HOOK_MAX_RETRIES,
    HOOK_TIMEOUT_S,
    SLOW_S,
    assert_every_fault_kind_injected,
    check_run,
    key,
    make_plan,
    read_jsonl,
    record,
    run_fault_sandbox,
)

pytestmark = pytest.mark.reliability

WORKER = Path(__file__).with_name("sync_worker.py")
N_CONTACTS = 5_000
START_TIMEOUT_S = 120


def test_sync_killed_halfway_and_retried_lands_every_contact_exactly_once(tmp_path: Path) -> None:
    plan = make_plan(N_CONTACTS, tag="kill")
    contacts_path = tmp_path / "contacts.json"
    contacts_path.write_text(json.dumps(plan.rows), encoding="utf-8")
    to_create = plan.expected_counts()["created"]
    with run_fault_sandbox(seed=404) as sandbox:
        conn = json.loads(sandbox.conn_json())
        conn["extra"].update({"timeout": HOOK_TIMEOUT_S, "max_retries": HOOK_MAX_RETRIES})
        env = {**os.environ, "AIRFLOW_CONN_BIGCOMMERCE_DEFAULT": json.dumps(conn)}

        def worker(attempt: int) -> subprocess.Popen[bytes]:
            args = [
                str(contacts_path),
                str(tmp_path / f"report{attempt}.jsonl"),
                str(tmp_path / f"summary{attempt}.json"),
            ]
            log = (tmp_path / f"worker{attempt}.log").open("wb")
            return subprocess.Popen(
                [sys.executable, str(WORKER), *args], env=env, stdout=log, stderr=subprocess.STDOUT
            )

        first = worker(1)
        deadline = time.monotonic() + START_TIMEOUT_S
        while sandbox.store.count() < to_create // 2:
            assert first.poll() is None, (tmp_path / "worker1.log").read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the worker did not get halfway in time"
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(timeout=30) == -signal.SIGKILL
        at_kill = sandbox.store.count()
        time.sleep(SLOW_S + 0.5)  # requests the dead worker left in flight are served (and maybe committed)
        created_before = {key(c["email"]) for c in sandbox.store.all_customers()}
        assert 0 < len(created_before) < to_create

        second = worker(2)
        assert second.wait(timeout=300) == 0, (tmp_path / "worker2.log").read_text(errors="replace")[-3000:]
        summary = json.loads((tmp_path / "summary2.json").read_text())
        lines = read_jsonl(tmp_path / "report2.jsonl")
        stats = sandbox.store.stats()
        verdict = check_run(
            plan, sandbox.store.all_customers(), stats, lines, summary, created_before=created_before
        )
    record(
        "SIGKILL halfway + retry",
        contacts=N_CONTACTS,
        in_store_at_kill=at_kill,
        in_store_before_retry=len(created_before),
        created_by_retry=summary["created"],
        skipped_by_retry=summary["skipped"],
        in_store=stats["customers"],
        faults=stats["faults"],
        faults_total=sum(stats["faults"].values()),
        duplicates=len(verdict.duplicates),
        lost=len(verdict.lost),
    )
    assert not verdict.duplicates, f"customers duplicated: {dict(list(verdict.duplicates.items())[:10])}"
    assert not verdict.lost, f"{len(verdict.lost)} contacts lost, e.g. {verdict.lost[:10]}"
    assert not verdict.phantom, verdict.phantom[:10]
    assert not verdict.wrong_outcomes, "\n".join(verdict.wrong_outcomes)
    assert summary["created"] + len(created_before) == to_create
    assert_every_fault_kind_injected(stats)
