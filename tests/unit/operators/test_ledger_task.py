"""The run id a task's ledger rows record, and the prefix of the rows it retries."""

from __future__ import annotations

from types import SimpleNamespace

from airflow_bigcommerce.operators.ledger_task import MAX_RUN_ID_LENGTH, run_ids


def test_a_run_id_names_the_dag_the_task_and_its_map_index() -> None:
    ti = SimpleNamespace(dag_id="crm", task_id="load_partition", map_index=2)
    assert run_ids({"ti": ti, "run_id": "scheduled__2026-12-07T15:00:00+00:00"}) == (
        "crm/load_partition/2/scheduled__2026-12-07T15:00:00+00:00",
        "crm/load_partition/2/",
    )
    unmapped = SimpleNamespace(dag_id="crm", task_id="sync", map_index=None)
    assert run_ids({"ti": unmapped, "run_id": "r"}) == ("crm/sync/-1/r", "crm/sync/-1/")
    assert run_ids({}) == ("-/-/-1/manual", "-/-/-1/")


def test_long_names_are_clipped_and_the_run_id_keeps_its_task_prefix() -> None:
    ti = SimpleNamespace(dag_id="d" * 250, task_id="t" * 250, map_index=0)
    run_id, owner = run_ids({"ti": ti, "run_id": "manual__x"})
    assert len(run_id) <= MAX_RUN_ID_LENGTH and run_id.startswith(owner)
