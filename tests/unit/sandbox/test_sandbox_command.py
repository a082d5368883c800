from __future__ import annotations

import pytest

from airflow_bigcommerce.sandbox import READY_PREFIX, command, ready_url
from airflow_bigcommerce.sandbox.__main__ import build_parser, config_from_args, main
from airflow_bigcommerce.sandbox.store import SandboxStore
from airflow_bigcommerce.sandbox.traffic.concurrency import DEFAULT_CONCURRENCY_LIMITS


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


def test_command_bare_flags_and_repeated_values() -> None:
    argv = command(
        python="py",
        outage_headers=True,
        non_atomic_batches=False,
        fault_seed=None,
        concurrency_limit=["PUT /v3/customers=5", "POST /v3/customers=2"],
    )
    assert argv[3:11] == [
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--store-hash",
        "sandbox",
        "--token",
        "sandbox-token",
    ]
    assert argv[11:] == [
        "--outage-headers",
        "--concurrency-limit",
        "PUT /v3/customers=5",
        "--concurrency-limit",
        "POST /v3/customers=2",
    ]


def test_cli_flags_build_the_conditions() -> None:
    argv = command(
        outage_s=20,
        outage_start_s=5,
        outage_kind="all",
        outage_headers=True,
        competitor_rps=6,
        concurrency_limit=["put /v3/customers=1", "POST /v3/customers/addresses=0", "GET /v3/customers=4"],
    )
    config = config_from_args(build_parser().parse_args(argv[3:]))
    assert (config.outage_s, config.outage_start_s, config.outage_kind) == (20, 5, "all")
    assert config.outage_headers is True
    assert config.competitor_rps == 6
    assert config.concurrency_limits == {
        **DEFAULT_CONCURRENCY_LIMITS,
        "PUT /v3/customers": 1,
        "POST /v3/customers/addresses": 0,
        "GET /v3/customers": 4,
    }
    assert SandboxStore(config=config).config.concurrency_limits == {
        "PUT /v3/customers": 1,
        "PUT /v3/customers/addresses": 3,
        "PUT /v3/customers/attribute-values": 3,
        "POST /v3/segments": 10,
        "PUT /v3/segments": 10,
        "POST /v3/segments/{id}/shopper-profiles": 10,
        "GET /v3/customers": 4,
    }
    none = config_from_args(build_parser().parse_args(["--no-concurrency-limits"]))
    assert none.concurrency_limits == {}
    default = config_from_args(build_parser().parse_args([]))
    assert (default.outage_s, default.outage_kind, default.outage_headers) == (0, "writes", False)
    assert default.concurrency_limits == dict(DEFAULT_CONCURRENCY_LIMITS)


@pytest.mark.parametrize(
    "flags",
    [
        ["--outage-kind", "sometimes"],
        ["--concurrency-limit", "PUT /v3/customers"],
        ["--outage-s", "-1"],
        ["--competitor-rps", "-2"],
    ],
)
def test_cli_refuses_bad_conditions(flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*flags, "--port", "0"])
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_cli_store_kinds() -> None:
    default = config_from_args(build_parser().parse_args([]))
    assert (default.msf, default.customer_groups_enabled) == (False, True)
    kinds = config_from_args(build_parser().parse_args(["--msf", "--no-customer-groups"]))
    assert (kinds.msf, kinds.customer_groups_enabled) == (True, False)
    assert command(msf=True)[-1] == "--msf"


def test_help_shows_every_default() -> None:
    text = " ".join(build_parser().format_help().split())
    for shown in (
        "bind address (loopback only by default) (default: 127.0.0.1)",
        "(default: 8765)",
        "requests per window; 0 = unlimited (default: 150)",
        "rate-limit window, milliseconds (default: 30000)",
        "the store hash in the API path (default: sandbox)",
    ):
        assert shown in text, shown
