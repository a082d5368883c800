"""
Benchmark the sync under real-store conditions (``make bench``, after ``bench_sync.py``).

Against the sandbox as a subprocess on 127.0.0.1, with BigCommerce's fixed-window headers (windows
sped up 10x: 3 s instead of 30 s, service times scaled with them), each row one measurement:

1. defaults at 40 ms per request, quota 200 / 3 s, 8,000 new contacts, against the least time the
   quota and 8 requests in flight allow; before = the old default (a fixed ``max_concurrency=2``);
2. two upsert tasks at once against PUT ``/v3/customers`` limited to 3 requests in flight per store
   (as BigCommerce documents), against the same two tasks without the limit;
3. 4 tasks on one store at once (quota 150 / 3 s, 5,600 contacts), against the quota bound;
4. ``quota_reserve=30`` of 150 / 3 s while another app sends 6 requests/s: its 429s, and the sync
   against the bound that the remaining 120 requests per window allow;
5. an insert into an empty store: create requests against ceil(N/10), plus the run's fixed reads;
6. the ``bigcommerce`` PyPI client (one request at a time, the peer that loses nothing) under the
   conditions of row 1.

Every bound counts the requests the run must make: its writes plus its fixed reads (one count of
the store's customers per task). Targets print PASS/FAIL; ``--strict`` turns a FAIL into exit 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bigcommerce-bench-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from _contacts import FIELD_MAP, KEY_FIELD, contacts  # noqa: E402
from _sandbox import STORE_HASH, TOKEN, SandboxProcess  # noqa: E402

BATCH = 10
MAX_IN_FLIGHT = 8
TARGET_LATENCY_RATIO = 0.9
TARGET_PUT_LIMIT_SLOWDOWN = 1.15
TARGET_MULTI_TASK_RATIO = 0.9
TARGET_RESERVE_RATIO = 0.85
TARGET_429_SHARE = 0.01
#: The documented per-store caps, as the sandbox applies them by default.
DEFAULT_CAPS = {
    "PUT /v3/customers": 3,
    "PUT /v3/customers/addresses": 3,
    "POST /v3/customers/addresses": 10,
    "PUT /v3/customers/attribute-values": 3,
}


def bound_s(requests: int, quota: int, window_ms: int, latency_ms: float = 0.0, in_flight: int = 8) -> float:
    """
    Return the least time ``requests`` take under a fixed-window quota with ``in_flight`` at once.

    Full windows pass first; the last window's requests then need ceil(r / in_flight) round trips.
    """
    if requests <= 0:
        return 0.0
    if quota <= 0:
        return math.ceil(requests / in_flight) * latency_ms / 1000
    full = (requests - 1) // quota
    last = requests - full * quota
    return full * window_ms / 1000 + math.ceil(last / in_flight) * latency_ms / 1000


def _conn_env(url: str) -> None:
    os.environ["AIRFLOW_CONN_BIGCOMMERCE_DEFAULT"] = json.dumps(
        {"conn_type": "bigcommerce", "host": url, "password": TOKEN, "extra": {"store_hash": STORE_HASH}}
    )


def _setup(sandbox: SandboxProcess, **config: Any) -> None:
    sandbox._admin("POST", "reset")
    settings = {"competitor_rps": 0, "concurrency_limits": DEFAULT_CAPS, "latency_ms": 0, **config}
    sandbox._admin("PUT", "config", settings)


def _hook(**hook_args: Any) -> Any:
    """Return a ready hook (connection read, session built): one per task, as each Airflow task has."""
    from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook

    hook = BigCommerceHook(**hook_args)
    hook.get_conn()
    return hook


def _sync(
    rows: list[dict[str, Any]], *, mode: str = "insert", hook: Any = None, **hook_args: Any
) -> dict[str, Any]:
    """One task: a hook of its own (pacer, breaker, concurrency) and the engine, like the operator."""
    from airflow_bigcommerce.sync.engine import sync_customers

    hook = hook or _hook(**hook_args)
    started = time.perf_counter()
    result = sync_customers(
        rows,
        hook,
        field_map=FIELD_MAP,
        key_field=KEY_FIELD,
        mode=mode,  # type: ignore[arg-type]
        max_concurrency=hook_args.get("max_concurrency"),
        total=len(rows),
    )
    return {
        "wall_s": time.perf_counter() - started,
        "created": result.created,
        "updated": result.updated,
        "failed": result.failed,
        "requests": dict(result.requests),
        "hook_requests": int(hook.stats["requests"]),
        "hook_429s": int(hook.stats.get("429s", 0)),
        "peak_in_flight": hook.concurrency.peak,
    }


def _parallel(jobs: list[dict[str, Any]]) -> tuple[float, list[dict[str, Any]]]:
    """
    Run several sync tasks at once, one thread and one hook each; return the wall time and results.

    The hooks are built first, in this thread: building them inside the threads serialises the
    tasks on the first connection look-up (Airflow's, not ours), which real tasks in separate
    processes do not suffer.
    """
    results: list[dict[str, Any]] = [{} for _ in jobs]
    hooks = [_hook() for _ in jobs]

    def run(i: int) -> None:
        results[i] = _sync(hook=hooks[i], **jobs[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, results


def _store_429s(stats: dict[str, Any]) -> int:
    return int(stats["rate_limited"]) + sum(int(v) for v in stats["concurrency_429s"].values())


# ------------------------------------------------------------------ scenarios


def latency_defaults(sandbox: SandboxProcess, n: int) -> dict[str, Any]:
    """Row 1: defaults vs the old fixed concurrency of 2, at 40 ms per request, quota 200 / 3 s."""
    out: dict[str, Any] = {"contacts": n, "quota": 200, "window_ms": 3000, "latency_ms": 40}
    for label, args in (("before", {"max_concurrency": 2}), ("after", {})):
        _setup(sandbox, quota=200, window_ms=3000, latency_ms=40)
        run = _sync(list(contacts(n, f"lat{label}")), **args)
        stats = sandbox.stats()
        requests = int(stats["requests_total"])
        bound = bound_s(requests, 200, 3000, 40, MAX_IN_FLIGHT)
        out[label] = {
            **run,
            "store_requests": requests,
            "store_429s": _store_429s(stats),
            "bound_s": round(bound, 3),
            "ratio": round(bound / run["wall_s"], 3),
            "share_429": round(_store_429s(stats) / requests, 4),
        }
    out["writes_only_bound_s"] = round(bound_s(math.ceil(n / BATCH), 200, 3000, 40, MAX_IN_FLIGHT), 3)
    return out


def _seed(sandbox: SandboxProcess, n: int, prefix: str) -> None:
    rows = list(contacts(n, prefix))
    for i in range(0, n, 2000):
        customers = [
            {"email": r["email_address"].strip(), "first_name": "Old", "last_name": r["family_name"]}
            for r in rows[i : i + 2000]
        ]
        sandbox._admin("POST", "seed", {"customers": customers})


def put_limit(sandbox: SandboxProcess, n: int) -> dict[str, Any]:
    """Row 2: two upsert tasks (every contact changed: PUTs) with and without the per-store PUT cap."""
    out: dict[str, Any] = {"contacts": n, "tasks": 2, "quota": 200, "window_ms": 3000, "latency_ms": 40}
    rows = list(contacts(n, "put"))
    halves = [rows[: n // 2], rows[n // 2 :]]
    for label, caps in (("no_limit", {}), ("put_limit_3", DEFAULT_CAPS)):
        _setup(sandbox, quota=200, window_ms=3000, latency_ms=40, concurrency_limits=caps)
        _seed(sandbox, n, "put")
        wall, results = _parallel([{"rows": half, "mode": "upsert"} for half in halves])
        stats = sandbox.stats()
        requests = int(stats["requests_total"])
        out[label] = {
            "wall_s": round(wall, 3),
            "updated": sum(r["updated"] for r in results),
            "store_requests": requests,
            "store_429s": _store_429s(stats),
            "concurrency_429s": dict(stats["concurrency_429s"]),
            "share_429": round(_store_429s(stats) / requests, 4),
            "peak_put_in_flight": stats["in_flight_peak"].get("PUT /v3/customers", 0),
        }
    out["slowdown"] = round(out["put_limit_3"]["wall_s"] / out["no_limit"]["wall_s"], 3)
    return out


def many_tasks(sandbox: SandboxProcess, n: int, tasks: int = 4) -> dict[str, Any]:
    """Row 3: ``tasks`` syncs of n/tasks contacts each, at once on one store, quota 150 / 3 s."""
    _setup(sandbox, quota=150, window_ms=3000)
    jobs = [{"rows": list(contacts(n // tasks, f"task{t}-"))} for t in range(tasks)]
    wall, results = _parallel(jobs)
    stats = sandbox.stats()
    requests = int(stats["requests_total"])
    bound = bound_s(requests, 150, 3000)
    return {
        "contacts": n,
        "tasks": tasks,
        "quota": 150,
        "window_ms": 3000,
        "wall_s": round(wall, 3),
        "created": sum(r["created"] for r in results),
        "store_requests": requests,
        "bound_s": round(bound, 3),
        "ratio": round(bound / wall, 3),
        "store_429s": _store_429s(stats),
        "share_429": round(_store_429s(stats) / requests, 4),
    }


def reserve(sandbox: SandboxProcess, n: int) -> dict[str, Any]:
    """Row 4: quota_reserve=30 of 150 / 3 s while another app sends 6 requests per second."""
    _setup(sandbox, quota=150, window_ms=3000, competitor_rps=6)
    run = _sync(list(contacts(n, "reserve")), quota_reserve=30)
    stats = sandbox.stats()
    ours = int(stats["requests_total"])
    bound = bound_s(ours, 120, 3000)
    return {
        "contacts": n,
        "quota": 150,
        "reserve": 30,
        "competitor_rps": 6,
        "wall_s": round(run["wall_s"], 3),
        "created": run["created"],
        "store_requests": ours,
        "bound_s": round(bound, 3),
        "ratio": round(bound / run["wall_s"], 3),
        "competitor_requests": int(stats["competitor_requests"]),
        "competitor_429s": int(stats["competitor_429s"]),
        "our_429s": _store_429s(stats),
    }


def empty_store_insert(sandbox: SandboxProcess, n: int) -> dict[str, Any]:
    """Row 5: the create requests of an insert into an empty store, against ceil(N/10)."""
    _setup(sandbox, quota=0, window_ms=3000)
    run = _sync(list(contacts(n, "empty")))
    stats = sandbox.stats()
    posts = int(stats["requests"].get("POST /v3/customers", 0))
    reads = sum(int(v) for k, v in stats["requests"].items() if k.startswith("GET"))
    return {
        "contacts": n,
        "create_requests": posts,
        "expected_creates": math.ceil(n / BATCH),
        "fixed_reads": reads,
        "engine_requests": run["requests"],
    }


def pypi_peer(sandbox: SandboxProcess, n: int) -> dict[str, Any]:
    """Row 6: the ``bigcommerce`` PyPI client under row 1's conditions (one request at a time)."""
    import _peers

    _setup(sandbox, quota=200, window_ms=3000, latency_ms=40)
    outcome = _peers.bigcommerce_client(sandbox.port, n, prefix="pypilat")
    return dict(outcome)


# ------------------------------------------------------------------ report


def report(f: dict[str, Any]) -> tuple[str, list[tuple[str, bool]]]:
    """Return the printable table and the targets with their verdicts."""
    lat, put, many, res, empty, peer = (
        f["latency"],
        f["put_limit"],
        f["many_tasks"],
        f["reserve"],
        f["empty_insert"],
        f["pypi"],
    )
    before, after = lat["before"], lat["after"]
    ours_rate = after["created"] / after["wall_s"]
    lines = [
        "Real-store conditions (sandbox subprocess, windows 3 s = BigCommerce's 30 s sped up 10x)",
        "",
        "| condition | before | after | target |",
        "|---|---|---|---|",
        f"| defaults, 40 ms per request, quota 200 / 3 s, {lat['contacts']:,} contacts | "
        f"{before['wall_s']:.1f} s, {before['ratio']:.2f} of the bound (fixed max_concurrency=2) | "
        f"{after['wall_s']:.1f} s, {after['ratio']:.2f} of the bound ({after['bound_s']:.1f} s for "
        f"{after['store_requests']} requests, 8 in flight; writes alone {lat['writes_only_bound_s']:.1f} s), "
        f"{after['share_429']:.1%} 429, peak {after['peak_in_flight']} in flight | >= 0.9, <= 1 % 429 |",
        f"| 2 upsert tasks, PUT /v3/customers limited to 3 at once, {put['contacts']:,} contacts | - | "
        f"{put['put_limit_3']['wall_s']:.1f} s vs {put['no_limit']['wall_s']:.1f} s without the limit = "
        f"{put['slowdown']:.2f}x, {put['put_limit_3']['share_429']:.1%} 429 "
        f"(peak {put['put_limit_3']['peak_put_in_flight']} PUTs in flight) | <= 1.15x, <= 1 % 429 |",
        f"| {many['tasks']} tasks on one store, quota 150 / 3 s, {many['contacts']:,} contacts | - | "
        f"{many['wall_s']:.1f} s, {many['ratio']:.2f} of the bound ({many['bound_s']:.1f} s), "
        f"{many['store_429s']} of {many['store_requests']} requests 429 ({many['share_429']:.1%}) | "
        ">= 0.9, <= 1 % 429 |",
        f"| quota_reserve=30 of 150 / 3 s, another app at 6 requests/s, {res['contacts']:,} contacts | - | "
        f"other app: {res['competitor_429s']} 429s of {res['competitor_requests']} requests; sync "
        f"{res['wall_s']:.1f} s, {res['ratio']:.2f} of the 120-per-window bound ({res['bound_s']:.1f} s) | "
        "0 429s, >= 0.85 |",
        f"| insert into an empty store, {empty['contacts']:,} contacts | - | {empty['create_requests']} "
        f"creates (ceil(N/10) = {empty['expected_creates']}) + {empty['fixed_reads']} fixed read(s) | "
        "exactly ceil(N/10) |",
        f"| peer: `bigcommerce` PyPI client, row 1's conditions, {peer['contacts']} contacts | - | "
        f"{peer['customers_per_s']:.1f} customers/s vs ours {ours_rate:.0f}/s = "
        f"{ours_rate / peer['customers_per_s']:.0f}x | - |",
    ]
    targets = [
        (
            f"latency defaults: {after['ratio']:.3f} of the bound >= {TARGET_LATENCY_RATIO}, "
            f"429 share {after['share_429']:.4f} <= {TARGET_429_SHARE}",
            after["ratio"] >= TARGET_LATENCY_RATIO and after["share_429"] <= TARGET_429_SHARE,
        ),
        (
            f"two upserts against PUT limit 3: {put['slowdown']:.3f}x <= {TARGET_PUT_LIMIT_SLOWDOWN}x, "
            f"429 share {put['put_limit_3']['share_429']:.4f} <= {TARGET_429_SHARE}",
            put["slowdown"] <= TARGET_PUT_LIMIT_SLOWDOWN
            and put["put_limit_3"]["share_429"] <= TARGET_429_SHARE,
        ),
        (
            f"{many['tasks']} tasks on one store: {many['ratio']:.3f} of the bound "
            f">= {TARGET_MULTI_TASK_RATIO}, "
            f"429 share {many['share_429']:.4f} <= {TARGET_429_SHARE}",
            many["ratio"] >= TARGET_MULTI_TASK_RATIO and many["share_429"] <= TARGET_429_SHARE,
        ),
        (
            f"quota_reserve 30: other app's 429s {res['competitor_429s']} == 0, sync {res['ratio']:.3f} "
            f">= {TARGET_RESERVE_RATIO} of the 120-per-window bound",
            res["competitor_429s"] == 0 and res["ratio"] >= TARGET_RESERVE_RATIO,
        ),
        (
            f"empty-store insert: {empty['create_requests']} creates == ceil(N/10) = "
            f"{empty['expected_creates']}",
            empty["create_requests"] == empty["expected_creates"],
        ),
    ]
    lines += ["", "Targets"]
    lines += [f"  {'PASS' if ok else 'FAIL'}  {text}" for text, ok in targets]
    return "\n".join(lines), targets


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-contacts", type=int, default=8000)
    parser.add_argument("--put-contacts", type=int, default=4000)
    parser.add_argument("--many-contacts", type=int, default=5600)
    parser.add_argument("--reserve-contacts", type=int, default=3000)
    parser.add_argument("--empty-contacts", type=int, default=2000)
    parser.add_argument("--peer-contacts", type=int, default=150)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test, not a measurement")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--only", nargs="+", default=None, help="run only these rows (print their figures)")
    args = parser.parse_args(argv)
    if args.quick:
        args.latency_contacts, args.put_contacts, args.many_contacts = 600, 400, 800
        args.reserve_contacts, args.empty_contacts, args.peer_contacts = 400, 205, 20
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("airflow_bigcommerce").setLevel(logging.WARNING)
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    with SandboxProcess(quota=0, window_ms=3000) as sandbox:
        _conn_env(sandbox.url)
        for name, fn, n in (
            ("latency", latency_defaults, args.latency_contacts),
            ("put_limit", put_limit, args.put_contacts),
            ("many_tasks", many_tasks, args.many_contacts),
            ("reserve", reserve, args.reserve_contacts),
            ("empty_insert", empty_store_insert, args.empty_contacts),
            ("pypi", pypi_peer, args.peer_contacts),
        ):
            if args.only and name not in args.only:
                continue
            print(f"{name}: {n} contacts ...", file=sys.stderr)
            figures[name] = fn(sandbox, n)
    if args.only:
        print(json.dumps(figures, indent=2))
        return 0
    text, targets = report(figures)
    figures["targets"] = [{"target": t, "pass": ok} for t, ok in targets]
    figures["total_s"] = round(time.perf_counter() - started, 1)
    print(text)
    print(f"\nTotal: {figures['total_s']:.0f} s")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 1 if args.strict and not all(ok for _, ok in targets) else 0


if __name__ == "__main__":
    sys.exit(main())
