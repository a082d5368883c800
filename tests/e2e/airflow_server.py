"""Start a throw-away ``airflow api-server`` for browser tests (own AIRFLOW_HOME, SQLite, free port).

Used by ``test_connection_ui.py`` (and ``test_secrets.py`` for its migrated DB); kept apart from
``conftest.py`` so the e2e folder's other tests do not pay for it. Everything runs on 127.0.0.1 and
is torn down (process group) on exit.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: How long ``airflow db migrate`` and the server start may take on a slow CI machine.
MIGRATE_TIMEOUT_S = 120
START_TIMEOUT_S = 90


@dataclass(frozen=True)
class AirflowServer:
    """A running api-server: its base URL, home folder and log file."""

    url: str
    home: Path
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        """Return the end of the server log, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def airflow_env(home: Path, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """Return the environment for an isolated Airflow: simple auth manager, everyone admin, Test on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__API__WORKERS": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    env.update(extra_env or {})
    return env


def _airflow(*args: str) -> list[str]:
    return [sys.executable, "-m", "airflow", *args]


@functools.cache
def _migrated_template() -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Run ``airflow db migrate`` once per test session, into a home of its own."""
    home = Path(tempfile.mkdtemp(prefix="bigcommerce-tests-migrated-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    migrate = subprocess.run(
        _airflow("db", "migrate"),
        env=airflow_env(home),
        capture_output=True,
        text=True,
        timeout=MIGRATE_TIMEOUT_S,
        check=False,
    )
    return home / "airflow.db", migrate


def migrated_db(target: Path) -> subprocess.CompletedProcess[str]:
    """Write a freshly migrated SQLite metadata DB to ``target``; return that migration's result.

    The migration (10-20 s) runs once per session; each caller gets its own copy of the new database,
    as if it had run ``airflow db migrate`` itself. Nothing is copied when the migration failed.
    """
    template, migrate = _migrated_template()
    if migrate.returncode == 0:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)
    return migrate


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def run_airflow_api_server(home: Path, extra_env: dict[str, str] | None = None) -> Iterator[AirflowServer]:
    """Put a migrated SQLite DB in ``home``, serve the API and UI on a free port, stop it on exit.

    :param home: an empty folder to use as AIRFLOW_HOME (a pytest ``tmp_path``).
    :param extra_env: more environment variables for the server.
    :raises RuntimeError: when the migration fails or the server does not answer in time, with its log.
    """
    for folder in ("dags", "plugins", "logs"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    env = airflow_env(home, extra_env)
    migrate = migrated_db(home / "airflow.db")
    if migrate.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed ({migrate.returncode}):\n{migrate.stderr[-3000:]}")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = home / "api-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _airflow("api-server", "--host", "127.0.0.1", "--port", str(port)),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = AirflowServer(url=url, home=home, log_path=log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(url):
            if process.poll() is not None:
                raise RuntimeError(f"airflow api-server exited ({process.returncode}):\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"airflow api-server not ready in {START_TIMEOUT_S}s:\n{server.log_tail()}"
                )
            time.sleep(0.25)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and its workers (its own process group), politely first."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
