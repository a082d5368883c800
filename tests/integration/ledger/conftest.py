"""A ledger connection of each kind the ledger is tested on: a SQLite file, and a real PostgreSQL server."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

_tables = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_conn_id(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Return an Airflow connection id of a database to keep a ledger in (a fresh one for SQLite)."""
    if request.param == "sqlite":
        db = tmp_path / "ledger.db"
        monkeypatch.setenv("AIRFLOW_CONN_LEDGER_SQLITE", json.dumps({"conn_type": "sqlite", "host": str(db)}))
        return "ledger_sqlite"
    return str(request.getfixturevalue("postgres_conn_id"))


@pytest.fixture
def table(request: pytest.FixtureRequest) -> str:
    """Return a table name no other test uses (the PostgreSQL server is shared by the session)."""
    return f"ledger_test_{next(_tables)}_{abs(hash(request.node.nodeid)) % 10**8}"
