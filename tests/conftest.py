"""
The test session: a throwaway AIRFLOW_HOME (never the user's ~/airflow, no example DAGs), the
hypothesis profile, the reliability figures and how xdist shares e2e and reliability modules out.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import hypothesis_profiles
import pytest

_home = tempfile.mkdtemp(prefix="bigcommerce-tests-airflow-")
os.environ["AIRFLOW_HOME"] = _home
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")

#: ``HYPOTHESIS_PROFILE=dev`` (``make check``): fewer examples; ``ci`` (default): today's.
HYPOTHESIS_PROFILE = hypothesis_profiles.load()


def pytest_report_header() -> str:
    return f"hypothesis profile: {HYPOTHESIS_PROFILE}"


# --- the reliability suite's figures (tests/reliability/reliability_support.FIGURES) --------------
# Written once per run to test-artifacts/reliability/figures.json and printed at the end. Under
# pytest-xdist each worker hands its figures to the controller, which merges them (here, in the root
# conftest: the controller collects nothing, so it never loads tests/reliability/conftest.py).

FIGURES_FILE = Path(__file__).resolve().parents[1] / "test-artifacts" / "reliability" / "figures.json"
_from_workers: list[dict[str, Any]] = []


def _local_figures() -> list[dict[str, Any]]:
    support = sys.modules.get("reliability_support")
    return list(getattr(support, "FIGURES", []))


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports
        workeroutput["reliability_figures"] = json.dumps(_local_figures())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    _from_workers.extend(json.loads(getattr(node, "workeroutput", {}).get("reliability_figures", "[]")))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if hasattr(terminalreporter.config, "workeroutput"):
        return
    figures = _local_figures() + _from_workers
    if not figures:
        return
    FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
    FIGURES_FILE.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    terminalreporter.section("reliability figures")
    for item in figures:
        terminalreporter.write_line(json.dumps(item, sort_keys=True))


# --- e2e and reliability on xdist workers (make test: --dist loadfile) ----------------------------
#: Modules whose tests share the session's example DAG runs (tests/e2e/conftest.py): one scope.
EXAMPLE_DAG_MODULES = frozenset(
    {
        "tests/e2e/test_example_dags.py",
        "tests/e2e/test_lineage.py",
        "tests/e2e/test_sync_alerts_and_metrics.py",
    }
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """
    With ``--dist loadfile``, keep each module on one worker, and the example DAGs' modules together.

    Their module- and session-scoped fixtures (Airflow homes, sandboxes, the example DAG runs) then
    set up once, not once per worker. (``--dist loadgroup`` would say it with marks, but pytest 9
    ignores the group suffix xdist 3.8 puts on test ids.)
    """
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ModuleScheduling(LoadFileScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "example-dags" if module in EXAMPLE_DAG_MODULES else module

    return ModuleScheduling(config, log)


# --- a real PostgreSQL server for the ledger's tests (`make postgres` installs Debian's package) ---------
@pytest.fixture(scope="session")
def postgres_conn_id() -> Any:
    """
    Start a throwaway PostgreSQL server on loopback for the session; yield its Airflow connection id.

    ``AIRFLOW_CONN_LEDGER_POSTGRES`` names it while the session runs. A server that cannot start fails
    the tests that need it (``PostgresUnavailableError`` says why): they never skip.
    """
    from airflow_bigcommerce.testing.postgres import run_postgres

    with run_postgres(conn_id="ledger_postgres") as server:
        yield server.conn_id
