"""
The example DAGs, run by ``airflow dags test`` once per test session for every e2e test that asserts on them.

Three runs of the sync DAG (first, again, a later interval after CRM edits) and the sign-ups DAG,
against one sandbox store; the first sync and the sign-ups run also write their OpenLineage events
(``test_lineage.py``). ``tests/e2e/conftest.py`` serves it as the session fixture ``example_dags``.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import airflow
from dag_runner import AirflowHome, Report
from statsd_listener import StatsdListener, statsd_listener

from airflow_bigcommerce.demo.crm import (
    COLUMNS,
    SeedStats,
    format_ts,
    read_contacts,
    seed_crm,
    touch_contacts,
)
from airflow_bigcommerce.demo.store import seed_store
from airflow_bigcommerce.testing import SandboxHandle, run_sandbox

#: Airflow 3.0's ``dags test`` does not register the DAG's assets, so a task with an outlet fails as
#: "inactive assets"; ``airflow dags reserialize`` registers them, as the DAG processor does.
AIRFLOW_3_0 = airflow.__version__.startswith("3.0.")
SYNC_DAG = "crm_contacts_to_bigcommerce"
SIGNUPS_DAG = "new_signups_to_bigcommerce"
CONTACTS = 200
#: The CRM's history ends here; the later run's logical date is the next hour boundary.
SEEDED_AT = datetime(2026, 1, 2, 9, 30, tzinfo=timezone.utc)
LATER_LOGICAL_DATE = "2026-01-02T10:00:00+00:00"
#: CronDataIntervalTimetable("@hourly") infers this interval for a run at 10:00.
LATER_START, LATER_END = "2026-01-02 09:00:00", "2026-01-02 10:00:00"
EDITED_AT = datetime(2026, 1, 2, 9, 45, tzinfo=timezone.utc)
NEW_CONTACT_ID = 100_001
NEW_CONTACT = {
    "id": NEW_CONTACT_ID,
    "email": "New.Person@Example.com",
    "first_name": "Nova",
    "last_name": "Person",
    "company": "Late Signups",
    "street": "7  Harbour Road",
    "city": "Sydney",
    "state": "nsw",
    "postal_code": "2000",
    "country": "australia",
    "lifecycle_stage": "vip",
    "crm_id": "5199999",
    "newsletter_opt_in": "yes",
    "created_at": format_ts(EDITED_AT),
    "updated_at": format_ts(EDITED_AT),
}


@dataclass
class Scenario:
    """
    Three runs of the sync DAG and what the store and the reports looked like after each.

    A session whose tests need only the first sync and the sign-ups (``make test-compat`` runs
    ``test_lineage.py`` alone) skips the second and the later run: their fields are ``None`` then.
    """

    stats: SeedStats
    crm: Path
    contacts: dict[int, dict[str, Any]]  # CRM rows as seeded
    first: Report
    after_first: list[dict[str, Any]]
    second: Report | None
    after_second: list[dict[str, Any]] | None
    second_requests: dict[str, int] | None  # what the second run asked the store, by endpoint
    subscribers_first: list[dict[str, Any]]
    subscribers_second: list[dict[str, Any]] | None
    edited: dict[str, int] | None  # role -> CRM id touched before the later run
    later: Report | None
    after_later: list[dict[str, Any]] | None
    signups_output: str
    after_signups: list[dict[str, Any]]
    first_output: str
    groups: dict[str, int]  # store group name -> id
    attributes: dict[str, int]  # store attribute name -> id
    sandbox: SandboxHandle
    lineage: Path  # sync.jsonl (the first sync's events) and signups.jsonl
    airflow_db: Path
    statsd: StatsdListener  # the metrics Airflow sent during the first sync run


def _requests(sandbox: SandboxHandle) -> dict[str, int]:
    return dict(sandbox.store.stats()["requests"])


def run_scenario(
    airflow_home: AirflowHome,
    sandbox: SandboxHandle,
    lineage: Path,
    statsd: StatsdListener,
    *,
    full: bool = True,
) -> Scenario:
    """Run the example DAGs in order; the first sync and the sign-ups write OpenLineage events.

    The first sync also sends Airflow's metrics to ``statsd`` (a StatsD listener on loopback).
    """
    crm = airflow_home.home.parent / "crm.db"
    stats = seed_crm(crm, n=CONTACTS, seed=7, now=SEEDED_AT)
    contacts = {row["id"]: row for row in read_contacts(crm)}
    env = {
        **sandbox.env(),
        "AIRFLOW_CONN_CRM_DEFAULT": json.dumps({"conn_type": "sqlite", "host": str(crm)}),
    }

    if AIRFLOW_3_0:
        airflow_home.run(["dags", "reserialize"])
    first_env = {**env, **lineage_env(lineage / "sync.jsonl"), **statsd.env()}
    first_run = airflow_home.dags_test(SYNC_DAG, env=first_env)
    first = Report.read(airflow_home.report_for(SYNC_DAG))
    after_first = sandbox.store.all_customers()

    subscribers_first = sandbox.store.subscribers.everything()
    later_runs = _second_and_later_runs(airflow_home, sandbox, env, crm, stats, first) if full else None
    signups = airflow_home.dags_test(SIGNUPS_DAG, env={**env, **lineage_env(lineage / "signups.jsonl")})
    return Scenario(
        stats=stats,
        crm=crm,
        contacts=contacts,
        first=first,
        after_first=after_first,
        subscribers_first=subscribers_first,
        **(later_runs or dict.fromkeys(SECOND_AND_LATER)),
        signups_output=signups.stdout + signups.stderr,
        after_signups=sandbox.store.all_customers(),
        first_output=first_run.stdout + first_run.stderr,
        groups={g["name"]: g["id"] for g in sandbox.store.groups.everything()},
        attributes={a["name"]: a["id"] for a in sandbox.store.attributes.everything()},
        sandbox=sandbox,
        lineage=lineage,
        airflow_db=airflow_home.home / "airflow.db",
        statsd=statsd,
    )


#: The Scenario fields of the second and the later sync run.
SECOND_AND_LATER = (
    "second",
    "after_second",
    "second_requests",
    "subscribers_second",
    "edited",
    "later",
    "after_later",
)


def _second_and_later_runs(
    airflow_home: AirflowHome,
    sandbox: SandboxHandle,
    env: dict[str, str],
    crm: Path,
    stats: SeedStats,
    first: Report,
) -> dict[str, Any]:
    """Run the sync DAG again, edit the CRM, run the later interval; return the Scenario's fields."""
    before = _requests(sandbox)
    airflow_home.dags_test(SYNC_DAG, env=env)
    after = _requests(sandbox)
    second_requests = {key: n - before.get(key, 0) for key, n in after.items() if n != before.get(key, 0)}
    second = Report.read(airflow_home.report_for(SYNC_DAG))
    assert second.path != first.path
    after_second = sandbox.store.all_customers()
    subscribers_second = sandbox.store.subscribers.everything()

    # CRM edits inside [09:00, 10:00): a changed customer, an untouched re-save, an invalid row, a new
    # one, and a customer who moved (only its address changes).
    synced = sorted(stats.expected_customers.values())
    edited = {"changed": synced[0], "resaved": synced[1], "invalid": min(stats.invalid)}
    edited["moved"] = next(cid for cid in synced[2:] if cid in stats.places)
    touch_contacts(crm, [edited["changed"]], when=EDITED_AT, changes={"company": "{old} Renamed"})
    touch_contacts(crm, [edited["resaved"], edited["invalid"]], when=EDITED_AT)
    touch_contacts(crm, [edited["moved"]], when=EDITED_AT, changes={"street": "1 Moved Lane"})
    with sqlite3.connect(crm) as conn:
        conn.execute(
            f"INSERT INTO contacts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            tuple(NEW_CONTACT.get(column) for column in COLUMNS),
        )
    edited["new"] = NEW_CONTACT_ID
    airflow_home.dags_test(SYNC_DAG, LATER_LOGICAL_DATE, conf={"window": "interval"}, env=env)
    later = Report.read(airflow_home.report_for(SYNC_DAG))
    assert later.path not in (first.path, second.path)
    after_later = sandbox.store.all_customers()

    return {
        "second": second,
        "after_second": after_second,
        "second_requests": second_requests,
        "subscribers_second": subscribers_second,
        "edited": edited,
        "later": later,
        "after_later": after_later,
    }


def lineage_env(path: Path) -> dict[str, str]:
    """Return the settings that make a run write its OpenLineage events to ``path`` (JSON lines)."""
    return {
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(path), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "bigcommerce-e2e",
    }


@contextmanager
def example_dags(root: Path, *, full: bool = True) -> Iterator[Scenario]:
    """Run the scenario under ``root`` against a sandbox (its token random, so a leak would show)."""
    airflow_home = AirflowHome.create(root)
    lineage = root / "lineage"
    lineage.mkdir()
    with (
        run_sandbox(quota=0, token=f"tok-{secrets.token_hex(12)}") as sandbox,
        statsd_listener() as statsd,
    ):
        seed_store(sandbox.url)  # the groups and the crm_id attribute the CRM's columns name
        yield run_scenario(airflow_home, sandbox, lineage, statsd, full=full)
