"""Run DAGs with ``airflow dags test`` in a subprocess against a throwaway, migrated AIRFLOW_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_server import migrated_db

from airflow_bigcommerce.sync.report import read_report

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags"


def clean_env(**extra: str) -> dict[str, str]:
    """Return this process's environment without Airflow settings, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")) and key != "AIRFLOW_HOME"
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@dataclass
class AirflowHome:
    """A migrated SQLite metadata DB and the settings every ``airflow`` call of a test session shares."""

    home: Path
    reports: Path
    settings: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, root: Path) -> AirflowHome:
        """Create the home under ``root`` with a migrated metadata DB (migrated once per session)."""
        home = root / "airflow"
        home.mkdir(parents=True)
        airflow = cls(home=home, reports=root / "reports")
        airflow.settings = {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW_VAR_BIGCOMMERCE_REPORT_DIR": str(airflow.reports),
        }
        migrate = migrated_db(home / "airflow.db")  # one migration per session, copied
        if migrate.returncode != 0:
            raise AssertionError(f"airflow db migrate exited {migrate.returncode}:\n{migrate.stderr[-6000:]}")
        return airflow

    def run(self, args: list[str], *, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
        """Run ``airflow *args``; fail with the output's tail if it fails."""
        proc = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=clean_env(**self.settings, **env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            output = (proc.stdout + proc.stderr)[-6000:]
            raise AssertionError(f"airflow {' '.join(args)} exited {proc.returncode}:\n{output}")
        return proc

    def dags_test(
        self,
        dag_id: str,
        logical_date: str | None = None,
        *,
        conf: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``airflow dags test dag_id [logical_date] [-c conf]`` (always a manual run)."""
        args = ["dags", "test", dag_id]
        if logical_date:
            args.append(logical_date)
        if conf is not None:
            args += ["-c", json.dumps(conf)]
        return self.run(args, timeout=timeout, **(env or {}))

    def report_for(self, dag_id: str, run_id_part: str | None = None) -> Path:
        """Return the newest per-row report of ``dag_id`` (whose run id contains ``run_id_part``)."""
        folder = self.reports / dag_id
        reports = [p for p in folder.glob("*.jsonl") if run_id_part is None or run_id_part in p.name]
        assert reports, f"no report for {dag_id} {run_id_part or ''} in {folder}"
        return max(reports, key=lambda p: p.stat().st_mtime_ns)


@dataclass(frozen=True)
class Report:
    """A per-row sync report: one dict per input row, keyed by the row's key (the CRM id)."""

    path: Path
    rows: dict[str, dict[str, Any]]

    @classmethod
    def read(cls, path: Path) -> Report:
        """Parse a JSON-lines report."""
        lines = list(read_report(path))
        rows = {str(line["row"]): line for line in lines}
        assert len(rows) == len(lines), "a row key appears twice in the report"
        return cls(path=path, rows=rows)

    @property
    def counts(self) -> Counter[str]:
        """Return rows per outcome."""
        return Counter(row["outcome"] for row in self.rows.values())

    def ids(self, outcome: str | None = None) -> set[int]:
        """Return the CRM ids of the rows (with ``outcome``)."""
        return {int(key) for key, row in self.rows.items() if outcome is None or row["outcome"] == outcome}
