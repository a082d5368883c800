from __future__ import annotations

from airflow_bigcommerce.sandbox import READY_PREFIX, command, ready_url


def test_command_turns_options_into_flags() -> None:
    argv = command(python="py", quota=150, window_ms=3000, db="/tmp/s.db")
    assert argv[:3] == ["py", "-m", "airflow_bigcommerce.sandbox"]
    flags = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert flags == {
        "--host": "127.0.0.1",
        "--port": "0",
        "--store-hash": "sandbox",
        "--token": "sandbox-token",
        "--quota": "150",
        "--window-ms": "3000",
        "--db": "/tmp/s.db",
    }


def test_ready_url() -> None:
    assert ready_url(f"{READY_PREFIX}http://127.0.0.1:4321 store_hash=sandbox\n") == "http://127.0.0.1:4321"
    assert ready_url("INFO: Started server process") is None
