"""
The Airflow the demo runs: its environment and its connections (in the metadata DB, for the web UI).

The connections are created in the metadata DB so the web UI lists them and can edit and test them.

Precedence, lowest first: the demo's defaults (:data:`DEMO_DEFAULTS`), then the user's own
``AIRFLOW__*`` variables, then what the demo must own (:func:`owned_settings`: the throwaway
``AIRFLOW_HOME``, its SQLite metadata DB, the DAGs folder, the report folder and, for ``make ui``,
the address the web UI listens on). A user's ``AIRFLOW_CONN_*`` and ``AIRFLOW_VAR_*`` are dropped:
an environment connection shadows the one in the DB, and ``AIRFLOW_CONN_BIGCOMMERCE_DEFAULT``
would point the demo at a real store.

``tests/e2e/test_connection_ui.py`` runs ``make ui`` itself, so the browser test sees these settings.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

#: The demo's defaults; a user's variable of the same name wins.
DEMO_DEFAULTS: dict[str, str] = {
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    # The simple auth manager without passwords: every visitor is admin, so the UI listens on loopback.
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
    # The connection form's Test button (disabled by default in Airflow 3).
    "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
}
#: Where the web UI of ``make ui`` listens: loopback only, since every visitor is admin.
UI_HOST = "127.0.0.1"
#: The sandbox's credentials (``airflow_bigcommerce.sandbox.command``'s defaults).
SANDBOX_STORE_HASH = "sandbox"
SANDBOX_TOKEN = "sandbox-token"
BIGCOMMERCE_CONN_ID = "bigcommerce_default"
CRM_CONN_ID = "crm_default"


def owned_settings(
    *, airflow_home: Path, dags_folder: Path, reports: Path, ui_port: int | None = None
) -> dict[str, str]:
    """Return the settings a user's variables cannot change: the demo's state and, with a port, the UI's."""
    owned = {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        # The demo wipes and migrates this DB and writes its connections into it: never a user's own.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW_VAR_BIGCOMMERCE_REPORT_DIR": str(reports),
        "PYTHONUNBUFFERED": "1",
    }
    if ui_port is not None:
        url = f"http://{UI_HOST}:{ui_port}"
        owned |= {
            "AIRFLOW__API__HOST": UI_HOST,
            "AIRFLOW__API__PORT": str(ui_port),
            "AIRFLOW__API__BASE_URL": url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        }
    return owned


def merged_env(environ: Mapping[str, str], owned: Mapping[str, str]) -> dict[str, str]:
    """
    Return the environment of the demo's ``airflow`` commands: defaults < user ``AIRFLOW__*`` < ``owned``.

    Other variables pass through unchanged; ``AIRFLOW_CONN_*``, ``AIRFLOW_VAR_*`` and
    ``AIRFLOW_HOME`` of the user are dropped. This venv's ``bin`` goes first on ``PATH``
    (``airflow standalone`` starts its components as ``airflow ...``).
    """
    env = {
        key: value
        for key, value in environ.items()
        if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")) and key != "AIRFLOW_HOME"
    }
    env |= DEMO_DEFAULTS
    env |= {key: value for key, value in environ.items() if key.startswith("AIRFLOW__")}
    env |= owned
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environ.get("PATH", "")])
    return env


def demo_connections(*, crm_db: Path, store_url: str) -> dict[str, dict[str, Any]]:
    """Return the demo's connections as ``airflow connections import`` reads them (id -> fields)."""
    return {
        CRM_CONN_ID: {
            "conn_type": "sqlite",
            "host": str(crm_db),
            "description": "The demo's CRM: a SQLite file with the table contacts.",
        },
        BIGCOMMERCE_CONN_ID: {
            "conn_type": "bigcommerce",
            "host": store_url,
            "password": SANDBOX_TOKEN,
            "extra": json.dumps({"store_hash": SANDBOX_STORE_HASH}),
            "description": "The demo's sandbox store (python -m airflow_bigcommerce.sandbox) on loopback.",
        },
    }


def write_connections_file(path: Path, connections: Mapping[str, Mapping[str, Any]]) -> Path:
    """Write ``connections`` as JSON for ``airflow connections import``, readable by the owner only."""
    from airflow_bigcommerce.sync.report import open_private

    with open_private(path) as out:
        json.dump(connections, out, indent=2)
    return path


def import_command(path: Path) -> list[str]:
    """Return the argv that creates (or overwrites) the connections of ``path`` in the metadata DB."""
    return [sys.executable, "-m", "airflow", "connections", "import", "--overwrite", str(path)]


def unpause_when_served(
    base_url: str, dag_id: str, *, alive: Callable[[], bool], timeout: float = 600, poll_s: float = 1.0
) -> bool:
    """
    Unpause ``dag_id`` through the API server at ``base_url`` once it serves it; ``False`` if it never did.

    Gives up when ``alive()`` turns false (the server exited) or after ``timeout`` seconds. The
    demo's UI lets every visitor act as admin, so the request needs no token.
    """
    request = urllib.request.Request(
        f"{base_url}/api/v2/dags/{dag_id}",
        data=json.dumps({"is_paused": False}).encode(),
        headers={"Content-Type": "application/json"},
        method="PATCH",
    )
    deadline = time.monotonic() + timeout
    while alive() and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):  # not listening yet, or the DAG not parsed yet (404)
            pass
        time.sleep(poll_s)
    return False
