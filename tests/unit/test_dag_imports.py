"""The example DAGs import cleanly, and parsing them loads none of the heavy modules."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(DAGS_FOLDER.glob("*.py"))
#: Modules a DAG file must not load at parse time (STYLE.md, "Applied here" point 2).
HEAVY_MODULES = (
    "requests",
    "fastapi",
    "uvicorn",
    "airflow.providers.http.hooks.http",
    "airflow.providers.common.sql.hooks.sql",
    "airflow_bigcommerce.hooks.bigcommerce",
    # OpenLineage is optional and only its listener, on the worker, calls the operators' lineage.
    "openlineage.client",
    "airflow.providers.openlineage.sqlparser",
)

# The DAG processor has imported airflow.sdk before it reads a DAG file (and Airflow 3.0's own start-up
# loads fastapi), so what the file costs is what it loads on top of that.
_PARSE_AND_LIST = """
import json, runpy, sys
import airflow.sdk
before = set(sys.modules)
runpy.run_path(sys.argv[1], run_name="dag_file_under_test")
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _dagbag() -> object:
    try:
        from airflow.dag_processing.dagbag import DagBag

        return DagBag(dag_folder=str(DAGS_FOLDER))
    except ImportError:  # Airflow < 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

        return DagBag(dag_folder=str(DAGS_FOLDER), include_examples=False)


def test_dag_files_exist() -> None:
    assert {p.name for p in DAG_FILES} >= {"crm_contacts_to_bigcommerce.py", "new_signups_to_bigcommerce.py"}


def test_dagbag_has_no_import_errors() -> None:
    bag = _dagbag()
    assert bag.import_errors == {}  # type: ignore[attr-defined]
    dags = bag.dags  # type: ignore[attr-defined]
    assert {"crm_contacts_to_bigcommerce", "new_signups_to_bigcommerce"} <= set(dags)
    sync = dags["crm_contacts_to_bigcommerce"]
    assert sync.catchup is False
    assert type(sync.timetable).__name__ == "CronDataIntervalTimetable"  # real hourly data intervals
    task = sync.get_task("sync_customers")
    assert [outlet.uri for outlet in task.outlets] == ["bigcommerce://bigcommerce_default/customers"]
    assert set(sync.params) >= {"bigcommerce_conn_id", "crm_conn_id", "table", "sql", "field_map", "mode"}


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_parsing_loads_no_heavy_module(dag_file: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PARSE_AND_LIST, str(dag_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = set(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert loaded, "nothing was imported: the check is broken"
    assert sorted(loaded & set(HEAVY_MODULES)) == []


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_files_log_through_the_task_logger_not_print(dag_file: Path) -> None:
    """A ``print`` in a task lands after "Done. Returned value was" in the task log; a log line in order."""
    tree = ast.parse(dag_file.read_text(encoding="utf-8"))
    prints = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
    ]
    assert prints == [], f"{dag_file.name} prints on lines {prints}: use the task logger"


def test_sync_window_macro() -> None:
    import runpy
    from datetime import datetime, timezone
    from types import SimpleNamespace

    sync_window = runpy.run_path(str(DAGS_FOLDER / "crm_contacts_to_bigcommerce.py"))["sync_window"]
    start = datetime(2026, 1, 2, 9, tzinfo=timezone.utc)
    end = datetime(2026, 1, 2, 10, tzinfo=timezone.utc)
    scheduled = SimpleNamespace(run_type="scheduled")
    manual = SimpleNamespace(run_type="manual")
    assert sync_window(scheduled, start, end)["start"] == "2026-01-02 09:00:00"
    assert sync_window(scheduled, start, end)["end"] == "2026-01-02 10:00:00"
    assert sync_window(manual, start, end)["start"] == "0001-01-01 00:00:00"
    assert sync_window(manual, start, end, "interval")["end"] == "2026-01-02 10:00:00"
    assert sync_window(scheduled, None, None)["end"] == "9999-12-31 23:59:59"
    assert sync_window(scheduled, start, end, "all")["start"] == "0001-01-01 00:00:00"


def test_sync_window_starts_at_the_last_successful_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy
    from datetime import datetime, timezone
    from types import SimpleNamespace

    import lazy_object_proxy

    namespace = runpy.run_path(str(DAGS_FOLDER / "crm_contacts_to_bigcommerce.py"))
    sync_window = namespace["sync_window"]
    start = datetime(2026, 1, 2, 9, tzinfo=timezone.utc)
    end = datetime(2026, 1, 2, 10, tzinfo=timezone.utc)
    scheduled = SimpleNamespace(run_type="scheduled")
    failed_hour_start = datetime(2026, 1, 2, 8, tzinfo=timezone.utc)
    caught_up = sync_window(scheduled, start, end, "auto", failed_hour_start)
    assert (caught_up["start"], caught_up["end"]) == ("2026-01-02 08:00:00", "2026-01-02 10:00:00")
    assert "since the last successful run" in caught_up["label"]
    # No successful run yet: Airflow hands a lazy proxy around None, which must count as "none".
    none_yet = lazy_object_proxy.Proxy(lambda: None)
    assert sync_window(scheduled, start, end, "auto", none_yet)["start"] == "2026-01-02 09:00:00"
    # A later success (e.g. this is a re-run of an old interval) never shrinks the run's own interval.
    later = datetime(2026, 1, 3, tzinfo=timezone.utc)
    assert sync_window(scheduled, start, end, "auto", later)["start"] == "2026-01-02 09:00:00"
    assert namespace["SYNC_RETRIES"] == 3
    monkeypatch.setenv("AIRFLOW_HOME", "/srv/airflow")
    assert namespace["default_report_dir"]() == "/srv/airflow/bigcommerce-reports"  # not a shared /tmp
