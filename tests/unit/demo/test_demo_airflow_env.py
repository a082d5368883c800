"""``make demo`` / ``make ui``: which settings a user's ``AIRFLOW__*`` changes, the port, the connections."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest

from airflow_bigcommerce.demo import __main__ as demo
from airflow_bigcommerce.demo.airflow_setup import (
    demo_connections,
    unpause_when_served,
    write_connections_file,
)
from airflow_bigcommerce.hooks.connection import api_root_from, validate_store_hash

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _layout(tmp_path: Path) -> demo.Layout:
    return demo.Layout(workdir=tmp_path / "work", dags_folder=tmp_path / "dags")


USER_ENV = {
    "HOME": "/home/me",
    "PATH": "/usr/bin",
    "AIRFLOW__API__INSTANCE_NAME": "My demo",  # passes through
    "AIRFLOW__CORE__TEST_CONNECTION": "Hidden",  # overrides a demo default
    "AIRFLOW__CORE__PARALLELISM": "4",
    "AIRFLOW_HOME": "/srv/airflow",  # owned by the demo
    "AIRFLOW__CORE__DAGS_FOLDER": "/srv/dags",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://prod/airflow",
    "AIRFLOW__API__HOST": "0.0.0.0",
    "AIRFLOW__API__PORT": "9999",
    "AIRFLOW_CONN_BIGCOMMERCE_DEFAULT": "bigcommerce://real-store",  # dropped
    "AIRFLOW_VAR_BIGCOMMERCE_REPORT_DIR": "/srv/reports",
}


def test_user_airflow_variables_pass_through_except_what_the_demo_owns(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    env = demo.airflow_env(layout, environ=USER_ENV)
    assert env["HOME"] == "/home/me"
    assert env["AIRFLOW__API__INSTANCE_NAME"] == "My demo"
    assert env["AIRFLOW__CORE__PARALLELISM"] == "4"
    assert env["AIRFLOW__CORE__TEST_CONNECTION"] == "Hidden"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"  # a default the user left alone
    assert env["AIRFLOW_HOME"] == str(layout.airflow_home)
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(layout.dags_folder)
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{layout.airflow_home / 'airflow.db'}"
    assert env["AIRFLOW_VAR_BIGCOMMERCE_REPORT_DIR"] == str(layout.reports)
    assert "AIRFLOW_CONN_BIGCOMMERCE_DEFAULT" not in env
    assert env["PATH"].endswith("/usr/bin") and env["PATH"] != "/usr/bin"  # this venv's bin first


def test_the_ui_listens_on_loopback_at_the_given_port_whatever_the_user_set(tmp_path: Path) -> None:
    env = demo.airflow_env(_layout(tmp_path), ui_port=8081, environ=USER_ENV)
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__API__PORT"] == "8081"
    assert env["AIRFLOW__API__BASE_URL"] == "http://127.0.0.1:8081"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8081/execution/"
    defaults = demo.airflow_env(_layout(tmp_path), ui_port=8080, environ={"PATH": "/usr/bin"})
    assert defaults["AIRFLOW__CORE__TEST_CONNECTION"] == "Enabled"
    assert defaults["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "True"


def test_port_option() -> None:
    parser = demo.build_parser()
    assert parser.parse_args(["--ui", "--port", "8081"]).port == 8081
    assert parser.parse_args(["--ui"]).port == 8080
    for bad in ("0", "65536", "http"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--ui", "--port", bad])


def test_make_ui_passes_port_through() -> None:
    plan = subprocess.run(
        ["make", "-n", "-s", "ui", "PORT=8081"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert "-m airflow_bigcommerce.demo --ui --port 8081" in plan
    default = subprocess.run(["make", "-n", "-s", "ui"], cwd=REPO, capture_output=True, text=True, check=True)
    assert "--ui --port 8080" in default.stdout


def test_demo_connections_are_valid_and_their_file_private(tmp_path: Path) -> None:
    connections = demo_connections(crm_db=tmp_path / "crm.db", store_url="http://127.0.0.1:8765")
    store = connections["bigcommerce_default"]
    assert store["conn_type"] == "bigcommerce"
    assert api_root_from(store["host"], None) == "http://127.0.0.1:8765"
    assert validate_store_hash(json.loads(store["extra"])["store_hash"]) == "sandbox"
    assert connections["crm_default"] == {
        "conn_type": "sqlite",
        "host": str(tmp_path / "crm.db"),
        "description": connections["crm_default"]["description"],
    }
    path = write_connections_file(tmp_path / "home" / "connections.json", connections)
    assert json.loads(path.read_text()) == connections
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("keep_reports", [True, False])
def test_make_ui_keeps_the_reports_of_an_earlier_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep_reports: bool
) -> None:
    layout = _layout(tmp_path)
    earlier = layout.reports / "crm_contacts_to_bigcommerce" / "manual__1.jsonl"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("{}\n")
    run = demo.Demo(layout, contacts=5, quota=0)
    monkeypatch.setattr(run.children, "run", lambda *args, **kwargs: 0.0)  # no `airflow db migrate`
    run.prepare(keep_reports=keep_reports)
    assert earlier.exists() is keep_reports
    assert layout.crm_db.exists()


class _Api(http.server.BaseHTTPRequestHandler):
    """Answers PATCH /api/v2/dags/<id>: 404 (not parsed yet) for the first ``missing`` calls, then 200."""

    missing = 2
    calls: ClassVar[list[tuple[str, str, dict[str, object]]]] = []

    def do_PATCH(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append((self.command, self.path, body))
        status = 404 if len(type(self).calls) <= type(self).missing else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def test_the_dag_is_unpaused_once_the_api_server_serves_it() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert unpause_when_served(url, "my_dag", alive=lambda: True, timeout=30, poll_s=0.01)
        assert _Api.calls == [("PATCH", "/api/v2/dags/my_dag", {"is_paused": False})] * 3
    finally:
        server.shutdown()
        server.server_close()


def test_unpausing_gives_up_when_the_server_exited() -> None:
    port = free_port()  # nothing listens there
    started = time.monotonic()
    assert not unpause_when_served(f"http://127.0.0.1:{port}", "my_dag", alive=lambda: False, timeout=30)
    assert time.monotonic() - started < 5


def test_make_ui_refuses_a_port_in_use_before_preparing_anything(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        assert not demo.port_is_free("127.0.0.1", port)
        run = demo.Demo(_layout(tmp_path), contacts=5, quota=0)
        with pytest.raises(
            demo.DemoError, match=f"port {port} on 127.0.0.1 is in use.*make ui PORT={port + 1}"
        ):
            run.ui(port)
    assert not (tmp_path / "work").exists()
    assert demo.port_is_free("127.0.0.1", free_port())
