"""Command line: run the sandbox store until interrupted, printing one line when it is ready.

Real-store conditions: ``--outage-s 20 [--outage-start-s 5] [--outage-kind writes|reads|all]
[--outage-headers]`` stages an outage counted from start-up; ``--concurrency-limit "PUT /v3/customers=3"``
(repeatable, on top of BigCommerce's documented caps, ``=0`` lifts one) and ``--no-concurrency-limits``
(start from none); ``--competitor-rps 6`` lets another app spend 6 requests per second of the quota.

Store kinds: ``--msf`` (Multi-Storefront: e-mails unique per channel), ``--no-customer-groups``
(a plan below Plus: the V2 customer group endpoints answer 403) and ``--enterprise`` (the Customer
Segmentation API answers; without it, 403 as on a lower plan).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from airflow_bigcommerce.sandbox import READY_PREFIX
from airflow_bigcommerce.sandbox.store import SandboxConfig, SandboxStore
from airflow_bigcommerce.sandbox.traffic.concurrency import DEFAULT_CONCURRENCY_LIMITS, parse_limit
from airflow_bigcommerce.sandbox.traffic.faults import FAULT_KINDS, spread_rate, validate_rates
from airflow_bigcommerce.sandbox.traffic.outage import OUTAGE_KINDS


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """``--help`` shows every flag's default and keeps the description's lines as written."""


def build_parser() -> argparse.ArgumentParser:
    """Describe the command-line flags (``--help`` shows each default)."""
    parser = argparse.ArgumentParser(
        prog="python -m airflow_bigcommerce.sandbox", description=__doc__, formatter_class=_HelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback only by default)")
    parser.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one")
    parser.add_argument("--store-hash", default="sandbox", help="the store hash in the API path")
    parser.add_argument("--token", default="sandbox-token", help="the X-Auth-Token the store accepts")
    parser.add_argument("--store-name", default="Sandbox Store", help="the name GET /v2/store answers")
    parser.add_argument("--quota", type=int, default=150, help="requests per window; 0 = unlimited")
    parser.add_argument("--window-ms", type=int, default=30_000, help="rate-limit window, milliseconds")
    parser.add_argument("--latency-ms", type=int, default=0, help="service time added to each API request")
    parser.add_argument("--db", default=None, help="SQLite file to persist customers across restarts")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="total fault rate over --fault-kinds")
    parser.add_argument("--fault-kinds", default=",".join(FAULT_KINDS), help="comma list of fault kinds")
    parser.add_argument("--fault-seed", type=int, default=None, help="random seed of the fault draws")
    parser.add_argument(
        "--fault-methods",
        choices=("all", "writes", "reads"),
        default="all",
        help="which requests draw faults (writes: every method but GET/HEAD/OPTIONS)",
    )
    parser.add_argument("--slow-s", type=float, default=10.0, help="delay of a 'slow' fault, seconds")
    for kind in FAULT_KINDS:
        flag = "--fault-" + kind.replace("_", "-")
        parser.add_argument(flag, type=float, default=None, dest=f"rate_{kind}", help=f"rate of {kind}")
    parser.add_argument("--non-atomic-batches", action="store_true", help="commit a bad batch's prefix")
    outage = parser.add_argument_group("outage", "answer 503 for a while, counted from start-up")
    outage.add_argument("--outage-s", type=float, default=0.0, help="outage length in seconds; 0 = none")
    outage.add_argument("--outage-start-s", type=float, default=0.0, help="delay before it begins")
    outage.add_argument("--outage-kind", choices=OUTAGE_KINDS, default="writes", help="what it hits")
    outage.add_argument("--outage-headers", action="store_true", help="send rate-limit headers with its 503s")
    limits = parser.add_argument_group("concurrency", "429 beyond N requests in flight per endpoint")
    limits.add_argument(
        "--concurrency-limit",
        action="append",
        default=[],
        metavar="'METHOD /path=N'",
        help="cap an endpoint, e.g. 'PUT /v3/customers=3' (repeatable; =0 lifts a cap)",
    )
    limits.add_argument(
        "--no-concurrency-limits", action="store_true", help="drop BigCommerce's documented caps"
    )
    parser.add_argument(
        "--competitor-rps", type=float, default=0.0, help="requests/s another app spends of the quota"
    )
    parser.add_argument(
        "--msf", action="store_true", help="Multi-Storefront: e-mails unique per channel, not per store"
    )
    parser.add_argument(
        "--no-customer-groups",
        action="store_true",
        help="model a plan below Plus: the V2 customer group endpoints answer 403",
    )
    parser.add_argument(
        "--enterprise",
        action="store_true",
        help="model an Enterprise plan: the Customer Segmentation API answers (else 403)",
    )
    parser.add_argument("--log-level", default="warning", help="uvicorn's log level")
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """Turn parsed flags into a store configuration; per-kind rates override the spread total."""
    kinds = [k.strip() for k in args.fault_kinds.split(",") if k.strip()]
    rates = spread_rate(args.fault_rate, kinds) if args.fault_rate else {}
    for kind in FAULT_KINDS:
        rate = getattr(args, f"rate_{kind}")
        if rate is not None:
            rates[kind] = rate
    limits = {} if args.no_concurrency_limits else dict(DEFAULT_CONCURRENCY_LIMITS)
    limits.update(parse_limit(text) for text in args.concurrency_limit)
    return SandboxConfig(
        quota=args.quota,
        window_ms=args.window_ms,
        latency_ms=args.latency_ms,
        faults=validate_rates(rates),
        fault_seed=args.fault_seed,
        fault_methods=args.fault_methods,
        slow_s=args.slow_s,
        non_atomic_batches=args.non_atomic_batches,
        store_name=args.store_name,
        outage_s=args.outage_s,
        outage_start_s=args.outage_start_s,
        outage_kind=args.outage_kind,
        outage_headers=args.outage_headers,
        concurrency_limits=limits,
        competitor_rps=args.competitor_rps,
        msf=args.msf,
        customer_groups_enabled=not args.no_customer_groups,
        segments_enabled=args.enterprise,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the sandbox in the foreground."""
    from airflow_bigcommerce.sandbox.http.serving import listening_socket, uvicorn_server

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
        store = SandboxStore(store_hash=args.store_hash, token=args.token, config=config, db_path=args.db)
    except ValueError as exc:
        parser.error(str(exc))
    sock = listening_socket(args.host, args.port)
    port = sock.getsockname()[1]
    server = uvicorn_server(store, args.log_level)
    host = f"[{args.host}]" if ":" in args.host else args.host

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn has no ready event
            await asyncio.sleep(0.01)
        if server.started:
            print(f"{READY_PREFIX}http://{host}:{port} store_hash={args.store_hash}", flush=True)
        await task

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
