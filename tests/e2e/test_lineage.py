"""
OpenLineage events and extra links of a real ``airflow dags test`` run of both example DAGs.

The runs are the session's (``example_runs.py``, shared with ``test_example_dags.py``): the first sync
run and the sign-ups run write their events to files of their own.

The OpenLineage provider's file transport writes every event of the run as a JSON line; the test
reads the COMPLETE events of the BigCommerce tasks. This module is also the end-to-end step of
``make test-compat`` on every supported Airflow version.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import airflow
import pytest
from dag_runner import REPO
from example_runs import AIRFLOW_3_0, Scenario

from airflow_bigcommerce.demo.crm import SeedStats
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.e2e

SYNC_DAG, SYNC_TASK = "crm_contacts_to_bigcommerce", "sync_customers"
SIGNUPS_DAG, SIGNUPS_TASK = "new_signups_to_bigcommerce", "create_customer"
#: The sync task's COMPLETE event (job, inputs, outputs) is kept here for people to read.
ARTIFACT = REPO / "test-artifacts" / "lineage" / f"sync-complete-airflow-{airflow.__version__}.json"
#: Airflow 3.0's ``dags test`` logs the connection's token itself (``MaskSecret(value=...)`` at debug).
AIRFLOW_LOGS_THE_TOKEN = AIRFLOW_3_0


@dataclass
class LineageRun:
    """Both example DAGs run once each, with the OpenLineage events they emitted."""

    crm: Path
    stats: SeedStats
    sandbox: SandboxHandle
    events: list[dict[str, Any]]
    events_text: str
    output: str
    customers_after_sync: int
    airflow_db: Path

    def completes(self, dag_id: str, task_id: str) -> list[dict[str, Any]]:
        """Return the COMPLETE events of a task (one per mapped task instance)."""
        name = f"{dag_id}.{task_id}"
        return [e for e in self.events if e["eventType"] == "COMPLETE" and e["job"]["name"] == name]


@pytest.fixture(scope="module")
def run(example_dags: Scenario) -> LineageRun:
    """The session's example-DAG runs (``example_runs.py``): the first sync's and the sign-ups' events."""
    texts = [
        (example_dags.lineage / name).read_text(encoding="utf-8") for name in ("sync.jsonl", "signups.jsonl")
    ]
    text = "".join(texts)
    return LineageRun(
        crm=example_dags.crm,
        stats=example_dags.stats,
        sandbox=example_dags.sandbox,
        events=[json.loads(line) for line in text.splitlines() if line.strip()],
        events_text=text,
        output=example_dags.first_output + example_dags.signups_output,
        customers_after_sync=len(example_dags.after_first),
        airflow_db=example_dags.airflow_db,
    )


def _stats(dataset: dict[str, Any]) -> int:
    return int(dataset["outputFacets"]["outputStatistics"]["rowCount"])


def test_sync_complete_event_has_the_crm_table_in_and_the_customers_out(run: LineageRun) -> None:
    (event,) = run.completes(SYNC_DAG, SYNC_TASK)
    assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [
        (f"sqlite://{run.crm}", "main.contacts")
    ]
    (output,) = event["outputs"]
    assert (output["namespace"], output["name"]) == (f"bigcommerce://{run.sandbox.store_hash}", "customers")
    created = len(run.stats.expected_customers)
    assert created == run.customers_after_sync > 0
    assert _stats(output) == created
    assert "FROM contacts WHERE updated_at >= :start" in event["job"]["facets"]["sql"]["query"]
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    kept = {key: event[key] for key in ("eventType", "job", "inputs", "outputs")}
    ARTIFACT.write_text(json.dumps(kept, indent=2) + "\n", encoding="utf-8")


def test_create_customer_complete_events_write_one_customer_each(run: LineageRun) -> None:
    events = run.completes(SIGNUPS_DAG, SIGNUPS_TASK)
    assert len(events) == 4  # one per mapped task instance
    for event in events:
        assert event["inputs"] == []
        (output,) = event["outputs"]
        assert (output["namespace"], output["name"]) == (
            f"bigcommerce://{run.sandbox.store_hash}",
            "customers",
        )
        assert _stats(output) == 1


def test_extra_links_are_stored_for_the_task_instance_view(run: LineageRun) -> None:
    """The API server's extra-links endpoint reads these XComs (``_link_<class name>``)."""
    with sqlite3.connect(run.airflow_db) as conn:
        rows = conn.execute(
            "SELECT dag_id, task_id, map_index, key, value FROM xcom WHERE key LIKE '_link_%'"
        ).fetchall()
    links = {(dag, task, index, key): json.loads(value) for dag, task, index, key, value in rows}
    # A sandbox connection (loopback API host): the sandbox's own customer pages, which exist.
    panel = f"{run.sandbox.url}/manage/customers"
    assert links[(SYNC_DAG, SYNC_TASK, -1, "_link_BigCommerceCustomersLink")] == panel
    created = {c["email"].lower(): c["id"] for c in run.sandbox.store.all_customers()}
    customer_links = {
        index: url for (dag, _, index, key), url in links.items() if key == "_link_BigCommerceCustomerLink"
    }
    assert sorted(customer_links) == [0, 1, 2, 3]
    assert {url.removeprefix(panel + "/").removesuffix("/edit") for url in customer_links.values()} <= {
        str(customer_id) for customer_id in created.values()
    }
    with urllib.request.urlopen(customer_links[0], timeout=10) as response:  # the link opens a real page
        page = response.read().decode("utf-8")
    shown = customer_links[0].removeprefix(panel + "/").removesuffix("/edit")
    assert f"<td>{shown}</td>" in page
    assert any(f"<td>{email}</td>" in page.lower() for email, cid in created.items() if str(cid) == shown)


def test_no_token_in_lineage_events_or_output(run: LineageRun) -> None:
    assert run.events, "no OpenLineage events were written: the check is broken"
    assert run.sandbox.token not in run.events_text
    if not AIRFLOW_LOGS_THE_TOKEN:
        assert run.sandbox.token not in run.output
