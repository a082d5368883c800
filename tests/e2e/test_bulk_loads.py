"""The bulk-load example DAGs with ``airflow dags test``: a partitioned initial load, and several stores."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from dag_runner import AirflowHome

from airflow_bigcommerce.demo.crm import seed_crm
from airflow_bigcommerce.sync.report import read_report
from airflow_bigcommerce.testing import SandboxHandle, run_sandbox

pytestmark = pytest.mark.e2e


def _emails(sandbox: SandboxHandle) -> Counter[str]:
    return Counter(str(c["email"]).strip().lower() for c in sandbox.store.all_customers())


def test_partitioned_initial_load_then_fan_out_to_a_second_store(tmp_path: Path) -> None:
    home = AirflowHome.create(tmp_path)
    stats = seed_crm(tmp_path / "crm.db", n=400, seed=11)
    with (
        run_sandbox(quota=40, window_ms=1_000) as first,
        run_sandbox(store_hash="second", quota=40) as second,
    ):
        env = {
            **first.env(),
            **second.env("bigcommerce_second"),
            "AIRFLOW_CONN_CRM_DEFAULT": json.dumps({"conn_type": "sqlite", "host": stats.path}),
        }
        home.run(["pools", "set", "bigcommerce_default", "4", "BigCommerce store default"], **env)

        load = home.dags_test("initial_load_to_bigcommerce", env=env, timeout=400)
        output = load.stdout + load.stderr
        for part in range(4):
            assert f"map_index={part}" in output, output[-3000:]
        emails = _emails(first)
        # these DAGs map the customer fields only: a row naming an unknown stage is a valid customer
        expected = stats.customers_without_groups
        assert set(emails) == set(expected)
        assert max(emails.values()) == 1  # four tasks on one store quota: none twice
        reports = sorted(home.reports.glob("initial_load_to_bigcommerce/*/*.jsonl"))
        assert len(reports) == 4
        lines = [line for report in reports for line in read_report(report)]
        assert len(lines) == stats.total  # partitions cover the table exactly once
        assert Counter(line["outcome"] for line in lines)["created"] == len(expected)

        conf = {"stores": ["bigcommerce_default", "bigcommerce_second"]}
        home.dags_test("crm_to_several_stores", conf=conf, env=env, timeout=400)
        assert _emails(second) == emails  # the second store gets every customer, once
        assert _emails(first) == emails  # the first one already had them: nothing twice
        assert second.token not in output
