"""
The example sync DAG's first run, as ``airflow dags test`` ran it: its rejection alert and its metrics.

The run rejects the CRM's invalid rows, so its ``on_rejections`` (a ``LogRejectionsNotifier``)
writes one line to the task log; Airflow sent the run's metrics to a StatsD listener on loopback
(``[metrics] statsd_on``, InfluxDB-style tags), where the store, DAG and task tags are read back.
"""

from __future__ import annotations

from pathlib import Path

from example_runs import SYNC_DAG, Scenario
from statsd_listener import PREFIX

#: The provider's metrics as the listener received them (one sample of each name for the docs).
ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "metrics" / "statsd-lines.txt"
TAGS = {"store_hash": "sandbox", "dag_id": SYNC_DAG, "task_id": "sync_customers"}


def test_the_example_dags_notifier_said_the_run_completed_with_rejections(example_dags: Scenario) -> None:
    # (the fixture's name is example_dags, not scenario: this module needs the first sync run only)
    rejected = len(example_dags.stats.invalid)
    line = (
        f"BigCommerce sync {SYNC_DAG}.sync_customers completed with rejections: {rejected} of"
        f" {len(example_dags.contacts)} rows rejected; report at {example_dags.first.path}"
    )
    assert rejected > 0
    assert example_dags.first_output.count(line) == 1, example_dags.first_output[-4000:]


def test_the_runs_metrics_reached_a_statsd_listener_with_the_store_dag_and_task_as_tags(
    example_dags: Scenario,
) -> None:
    received = example_dags.statsd.metrics("bigcommerce.sync.")
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text("".join(f"{line}\n" for line in example_dags.statsd.lines if ".bigcommerce." in line))
    assert received, f"no bigcommerce.sync metric among {example_dags.statsd.lines[:20]}"
    by_name: dict[str, tuple[float, str]] = {}
    for name, tags, value, kind in received:
        assert tags == TAGS, (name, tags)
        assert name not in by_name, f"{name} sent twice"
        by_name[name] = (value, kind)
    counts = example_dags.first.counts
    assert by_name["bigcommerce.sync.runs.completed_with_rejections"] == (1, "c")
    for outcome in ("created", "updated", "skipped", "rejected", "failed"):
        assert by_name[f"bigcommerce.sync.rows.{outcome}"] == (counts.get(outcome, 0), "c")
    requests = {name.rsplit(".", 1)[1]: value for name, (value, _) in by_name.items() if ".requests." in name}
    assert requests.keys() >= {"create", "list", "setup"}  # a first run lists the store, then creates
    assert all(value >= 1 for value in requests.values())
    assert by_name["bigcommerce.sync.throttled"] == (0, "c")  # the sandbox ran without a quota
    quota_wait, kind = by_name["bigcommerce.sync.quota_wait"]
    assert (quota_wait, kind) == (0, "ms")
    duration, kind = by_name["bigcommerce.sync.duration"]
    assert kind == "ms" and 0 < duration < 300_000
    # Airflow's own metrics went to the same listener, under the same prefix
    assert any(
        line.startswith(f"{PREFIX}.") and "bigcommerce" not in line for line in example_dags.statsd.lines
    )
