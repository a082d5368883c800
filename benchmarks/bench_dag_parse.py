"""
Parse time of the example DAG file against a trivial one-task DAG (``EmptyOperator``).

Each sample is a fresh interpreter that has already imported ``airflow.sdk`` (as Airflow's DAG
processor has) and then times ``runpy.run_path`` of the file: the cost the file itself adds.
Prints the medians and their ratio.

    .venv/bin/python benchmarks/bench_dag_parse.py [--samples 7] [DAG_FILE]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DAG = REPO / "dags" / "crm_contacts_to_bigcommerce.py"
TRIVIAL_DAG = """
from __future__ import annotations

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import dag


@dag(schedule=None)
def trivial():
    EmptyOperator(task_id="noop")


trivial()
"""
TASKFLOW_DAG = """
from __future__ import annotations

from airflow.sdk import dag, task


@dag(schedule=None)
def trivial_taskflow():
    @task
    def noop() -> None:
        pass

    noop()


trivial_taskflow()
"""
_TIMER = """
import runpy, sys, time
import airflow.sdk  # noqa: F401 - already loaded in a DAG processor
from airflow.sdk import DAG  # noqa: F401 - resolve the lazy attribute as the processor has
t = time.perf_counter()
runpy.run_path(sys.argv[1], run_name="bench_dag")
print(time.perf_counter() - t)
"""


def parse_seconds(path: Path, samples: int) -> list[float]:
    """Time ``samples`` parses of ``path``, each in a new interpreter."""
    times = []
    for _ in range(samples):
        out = subprocess.run(
            [sys.executable, "-c", _TIMER, str(path)], capture_output=True, text=True, check=True, cwd=REPO
        ).stdout
        times.append(float(out.strip().splitlines()[-1]))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dag_file", nargs="?", type=Path, default=DEFAULT_DAG)
    parser.add_argument("--samples", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        trivial = Path(folder) / "trivial_dag.py"
        trivial.write_text(TRIVIAL_DAG, encoding="utf-8")
        taskflow = Path(folder) / "trivial_taskflow_dag.py"
        taskflow.write_text(TASKFLOW_DAG, encoding="utf-8")
        base = statistics.median(parse_seconds(trivial, args.samples))
        with_task = statistics.median(parse_seconds(taskflow, args.samples))
    ours = statistics.median(parse_seconds(args.dag_file, args.samples))
    print(f"trivial EmptyOperator DAG   : {base * 1000:7.1f} ms (median of {args.samples})")
    print(f"trivial one-@task DAG       : {with_task * 1000:7.1f} ms  ({with_task / base:.2f}x)")
    print(f"{args.dag_file.name:<28}: {ours * 1000:7.1f} ms  ({ours / base:.2f}x)")
    print(f"ratio vs EmptyOperator DAG  : {ours / base:7.2f}x")
    print(f"ratio vs one-@task DAG      : {ours / with_task:7.2f}x")


if __name__ == "__main__":
    main()
