"""
The sync view's app behind Airflow's real access checks (simple auth manager, real JWTs, a migrated DB).

Anonymous: 401; a user whose role may read nothing: 403; a viewer: the page. No answer but the
viewer's holds data, and the page reads the report the summary names, never a path from the request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import airflow
import pytest
from fastapi.testclient import TestClient

from airflow_bigcommerce.view import app as view_app

SIMPLE = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
URL = "/dags/sync_dag/runs/manual__1/tasks/sync?map_index=-1"
SECRET_MARK = "jane.rejected@example.com"
#: Airflow 3.0 reads the API token from the Authorization header only (its UI keeps it in local storage).
COOKIE_AUTH = not airflow.__version__.startswith("3.0.")


@pytest.fixture(scope="module")
def auth_manager() -> Iterator[Any]:
    """Airflow's simple auth manager with a viewer and a user without a role, over a migrated DB."""
    settings = {
        "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "viewer:viewer,nobody:",
        "AIRFLOW__API_AUTH__JWT_SECRET": "sync-view-test-secret-" + "x" * 48,
        "AIRFLOW__API_AUTH__JWT_ISSUER": "sync-view-test",  # Airflow 3.0 signs no token without one
    }
    before = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    migrate = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, check=False
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    from airflow.api_fastapi.app import create_auth_manager

    manager = create_auth_manager()
    manager.init()
    try:
        yield manager
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def token(manager: Any, name: str, role: str) -> str:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return str(manager.generate_jwt(SimpleAuthManagerUser(username=name, role=role)))


@pytest.fixture
def found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A finished run with two rejected rows in its report; the DB read is replaced by it."""
    report = tmp_path / "report.jsonl"
    lines = [
        {"row": "1", "email": "ok@example.com", "outcome": "created", "reason": None},
        {"row": "2", "email": SECRET_MARK, "outcome": "rejected", "reason": "email: not a valid address"},
        {"row": "3", "email": "", "outcome": "rejected", "reason": "email: missing"},
    ]
    report.write_text("".join(json.dumps(line) + "\n" for line in lines))
    summary = {"created": 1, "rejected": 2, "total": 3, "report_path": str(report), "duration_s": 1.0}
    data = {"state": "success", "summary": summary, "customers_url": "http://127.0.0.1:1/manage/customers"}
    calls: list[tuple[Any, ...]] = []

    def read(*args: Any) -> dict[str, Any]:
        calls.append(args)
        return data

    monkeypatch.setattr(view_app, "read_task_instance", read)
    data["calls"] = calls
    return data


def test_anonymous_is_refused_without_data(auth_manager: Any, found: dict[str, Any]) -> None:
    client = TestClient(view_app.create_app())
    answer = client.get(URL)
    assert answer.status_code == 401
    assert SECRET_MARK not in answer.text
    assert "Log in to Airflow" in answer.text
    assert found["calls"] == []


def test_a_user_without_permission_is_refused_without_data(auth_manager: Any, found: dict[str, Any]) -> None:
    client = TestClient(view_app.create_app())
    nobody = token(auth_manager, "nobody", "")
    header = client.get(URL, headers={"Authorization": f"Bearer {nobody}"})
    cookie = client.get(URL, cookies={"_token": nobody})
    assert header.status_code == 403
    assert cookie.status_code == (403 if COOKIE_AUTH else 401)
    for answer in (header, cookie):
        assert SECRET_MARK not in answer.text
    assert client.get(URL, headers={"Authorization": "Bearer not-a-jwt"}).status_code in (401, 403)
    assert found["calls"] == []


def test_a_viewer_sees_the_run(auth_manager: Any, found: dict[str, Any]) -> None:
    client = TestClient(view_app.create_app())
    viewer = token(auth_manager, "viewer", "viewer")
    answer = client.get(URL + "&report_path=/etc/passwd", headers={"Authorization": f"Bearer {viewer}"})
    assert answer.status_code == 200, answer.text
    assert "<b>completed with rejections</b>" in answer.text
    assert SECRET_MARK in answer.text
    assert "root:" not in answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert found["calls"] == [("sync_dag", "manual__1", "sync", -1)]
    cookie = client.get(URL.replace("=-1", "={MAP_INDEX}"), cookies={"_token": viewer})
    # the UI's session cookie (3.1+); an unmapped task's link keeps {MAP_INDEX}, which means -1
    assert cookie.status_code == (200 if COOKIE_AUTH else 401)


def test_an_unknown_task_instance_is_404_for_a_viewer(auth_manager: Any) -> None:
    client = TestClient(view_app.create_app())
    viewer = token(auth_manager, "viewer", "viewer")
    answer = client.get("/dags/nope/runs/r/tasks/t", headers={"Authorization": f"Bearer {viewer}"})
    assert answer.status_code == 404
