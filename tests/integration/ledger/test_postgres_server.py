"""The throwaway PostgreSQL server of the ledger tests: real, reachable through its Airflow connection."""

from __future__ import annotations

import os
import socket

import pytest

from airflow_bigcommerce.compat import BaseHook
from airflow_bigcommerce.testing.postgres import PostgresUnavailableError, find_bin_dir, run_postgres

pytestmark = pytest.mark.integration


def test_the_server_answers_through_its_airflow_connection(postgres_conn_id: str) -> None:
    hook = BaseHook.get_connection(postgres_conn_id).get_hook()
    assert hook.dialect_name == "postgresql"
    (version,) = hook.get_first("SHOW server_version")
    assert version.split(".")[0] == find_bin_dir().parent.name
    assert os.environ[f"AIRFLOW_CONN_{postgres_conn_id.upper()}"].startswith("postgresql://")


def test_a_server_that_cannot_start_raises_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("airflow_bigcommerce.testing.postgres.DEBIAN_BIN_GLOB", "/nonexistent/*/bin")
    with pytest.raises(PostgresUnavailableError, match="make postgres"), run_postgres(conn_id="never"):
        pass
    assert "AIRFLOW_CONN_NEVER" not in os.environ


def test_the_server_is_stopped_and_its_files_removed_at_the_end() -> None:
    with run_postgres(conn_id="short_lived") as server:
        hook = BaseHook.get_connection("short_lived").get_hook()
        assert hook.get_first("SELECT 1") == (1,)
    assert "AIRFLOW_CONN_SHORT_LIVED" not in os.environ
    with pytest.raises(Exception):  # the connection went with its variable
        BaseHook.get_connection("short_lived")
    with socket.socket() as sock:
        assert sock.connect_ex((server.host, server.port)) != 0


def test_a_port_taken_before_the_server_binds_it_is_replaced_by_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_bigcommerce.testing import postgres

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = iter([taken.getsockname()[1], postgres.free_port()])
        monkeypatch.setattr(postgres, "free_port", lambda: next(ports))
        with run_postgres(conn_id="second_port") as server:
            assert server.port != taken.getsockname()[1]
            assert BaseHook.get_connection("second_port").get_hook().get_first("SELECT 1") == (1,)
