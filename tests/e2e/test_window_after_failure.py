"""The example DAG misses no contact when a run fails: the next successful run covers its interval."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dag_runner import AirflowHome, Report, clean_env

from airflow_bigcommerce.demo.store import seed_store
from airflow_bigcommerce.testing import SandboxHandle, run_sandbox

pytestmark = pytest.mark.e2e

DAG_ID = "crm_contacts_to_bigcommerce"
#: One contact per hour: each scheduled run's interval holds exactly one (CronDataIntervalTimetable
#: ("@hourly") gives the run at 09:00 the interval [08:00, 09:00)).
CONTACTS = {
    1: ("early.bird@example.com", "2026-03-04 08:30:00"),
    2: ("missed.hour@example.com", "2026-03-04 09:30:00"),
    3: ("next.hour@example.com", "2026-03-04 10:30:00"),
}
RUNS = ("2026-03-04T09:00:00+00:00", "2026-03-04T10:00:00+00:00", "2026-03-04T11:00:00+00:00")


def _crm(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute(
            # every column the example DAG maps (its pre-flight check names any that is missing)
            "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT,"
            " phone TEXT, company TEXT, lifecycle_stage TEXT, created_at TEXT, updated_at TEXT,"
            " street TEXT, city TEXT, state TEXT, postal_code TEXT, country TEXT, crm_id TEXT,"
            " newsletter_opt_in INTEGER)"
        )
        conn.executemany(
            "INSERT INTO contacts VALUES (?, ?, 'Pat', ?, NULL, NULL, 'Retail', ?, ?,"
            " NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
            [(cid, email, f"Hour{cid}", ts, ts) for cid, (email, ts) in CONTACTS.items()],
        )
    return path


def _conn(handle: SandboxHandle, **extra: object) -> str:
    return json.dumps(
        {
            "conn_type": "bigcommerce",
            "host": handle.url,
            "password": handle.token,
            "extra": {"store_hash": handle.store_hash, **extra},
        }
    )


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with run_sandbox(quota=0) as handle:
        seed_store(handle.url)  # the example DAG maps lifecycle_stage to a group and crm_id to an attribute
        yield handle


def _dags_test(home: AirflowHome, logical_date: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "airflow",
            "dags",
            "test",
            DAG_ID,
            logical_date,
            "-c",
            '{"window": "interval"}',
        ],
        env=clean_env(**home.settings, **env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _run_state(home: AirflowHome, env: dict[str, str], logical_date: str) -> str:
    listing = home.run(["dags", "list-runs", DAG_ID, "-o", "json"], **env)
    table = next(line for line in reversed(listing.stdout.splitlines()) if line.startswith("[{"))
    runs = json.loads(table)
    (run,) = [r for r in runs if r["logical_date"].startswith(logical_date[:19])]
    return str(run["state"])


def test_a_failed_hour_is_synced_by_the_next_successful_run(tmp_path: Path, sandbox: SandboxHandle) -> None:
    home = AirflowHome.create(tmp_path)
    crm = _crm(tmp_path / "crm.db")
    env = {
        "AIRFLOW_CONN_CRM_DEFAULT": json.dumps({"conn_type": "sqlite", "host": str(crm)}),
        "AIRFLOW_CONN_BIGCOMMERCE_DEFAULT": _conn(sandbox, retry_budget_s=2),
        "BIGCOMMERCE_EXAMPLE_SYNC_RETRIES": "0",  # let the failing run fail now, not after 3 x 5 min
    }

    first = _dags_test(home, RUNS[0], env)
    assert first.returncode == 0, (first.stdout + first.stderr)[-4000:]
    assert _run_state(home, env, RUNS[0]) == "success"

    sandbox.store.configure(outage_s=3600, outage_kind="writes")  # the store's writes are down
    try:
        second = _dags_test(home, RUNS[1], env)
    finally:
        sandbox.store.configure(outage_s=0)
    second_report = Report.read(home.report_for(DAG_ID))
    assert _run_state(home, env, RUNS[1]) == "failed", (second.stdout + second.stderr)[-4000:]
    assert second_report.counts == {"failed": 1}
    assert "retry budget" in second_report.rows["2"]["reason"]

    third = _dags_test(home, RUNS[2], env)
    assert third.returncode == 0, (third.stdout + third.stderr)[-4000:]
    third_report = Report.read(home.report_for(DAG_ID))
    assert third_report.path != second_report.path
    # [09:00, 11:00): the failed run's hour and its own, from the end of the last successful run.
    assert third_report.counts == {"created": 2}
    assert third_report.ids() == {2, 3}
    emails = sorted(str(c["email"]).lower() for c in sandbox.store.all_customers())
    assert emails == sorted(email for email, _ in CONTACTS.values())  # every contact, each once
    output = third.stdout + third.stderr
    assert "since the last successful run" in output
    assert sandbox.token not in output
