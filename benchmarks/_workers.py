"""
Measurements that need a fresh process (peak RSS via ``ru_maxrss``, or a given release's code); run by
``bench_sync.py``.

``python benchmarks/_workers.py mapping N``, ``python benchmarks/_workers.py stream-sync DB_PATH N`` and
``python benchmarks/_workers.py quota-sync TREE N QUOTA WINDOW_MS CONCURRENCY PREFIX`` print one JSON
line. The stream sync's look-ups go to ``bigcommerce_default`` from the environment
(``AIRFLOW_CONN_BIGCOMMERCE_DEFAULT``, which ``bench_sync.py`` points at its sandbox).
"""

from __future__ import annotations

import inspect
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _contacts import FIELD_MAP, KEY_FIELD, contacts


def peak_rss_mb() -> float:
    """Return this process's peak resident set size in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vm_hwm_mb() -> float | None:
    """Return ``VmHWM`` from ``/proc/self/status`` in MiB (a cross-check of ``ru_maxrss``), if readable."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def mapping(n: int) -> dict[str, Any]:
    """Map, validate and de-duplicate ``n`` streamed rows as the engine does before any request."""
    from airflow_bigcommerce.models.contact import ContactRejected, map_contact, match_key, validate_field_map

    field_map = validate_field_map(FIELD_MAP)
    for _ in contacts(1000):  # warm-up, and the generator's own cost per row
        pass
    started = time.perf_counter()
    for _ in contacts(n):
        pass
    generate_s = time.perf_counter() - started
    baseline = peak_rss_mb()
    seen: dict[str, object] = {}
    rejected = duplicates = 0
    started = time.perf_counter()
    for row in contacts(n):
        try:
            payload = map_contact(row, field_map)
        except ContactRejected:
            rejected += 1
            continue
        key = match_key(payload["email"])
        if key in seen:
            duplicates += 1
        else:
            seen[key] = row[KEY_FIELD]
    total_s = time.perf_counter() - started
    stage_s = max(total_s - generate_s, 1e-9)
    return {
        "rows": n,
        "seconds": round(stage_s, 4),
        "rows_per_s": round(n / stage_s),
        "with_row_generation_rows_per_s": round(n / total_s),
        "rejected": rejected,
        "duplicates": duplicates,
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "vm_hwm_mb": vm_hwm_mb(),
    }


def stream_sync(db_path: str, n: int) -> dict[str, Any]:
    """Run ``SyncCustomersOperator.execute`` (dry run) over a SQLite table, streamed by ``fetchmany``."""
    os.environ["AIRFLOW_CONN_BENCH_CRM"] = json.dumps({"conn_type": "sqlite", "host": db_path})
    from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
    from airflow_bigcommerce.operators.customers import SyncCustomersOperator

    operator = SyncCustomersOperator(
        task_id="bench_stream_sync",
        sql_conn_id="bench_crm",
        sql="SELECT * FROM contacts ORDER BY contact_id",
        field_map=FIELD_MAP,
        key_field=KEY_FIELD,
        dry_run=True,
    )
    BigCommerceHook().settings  # noqa: B018 - import and read the connection before the baseline
    baseline = peak_rss_mb()
    started = time.perf_counter()
    summary = operator.execute({})  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    assert summary["total"] == n, summary
    return {
        "rows": n,
        "seconds": round(seconds, 3),
        "rows_per_s": round(n / seconds),
        "would_create": summary["created"],
        "requests": summary["requests"],
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "vm_hwm_mb": vm_hwm_mb(),
    }


def quota_sync(
    tree: str, n: int, quota: int, window_ms: int, concurrency: int, prefix: str
) -> dict[str, Any]:
    """
    Sync ``n`` fresh contacts with the ``airflow_bigcommerce`` found in ``tree`` (this checkout, or an
    earlier release's code extracted by ``bench_sync.py``), in a process of its own.

    Both sides of a comparison run this same harness, so neither gains from a smaller heap or a warm
    cache. ``concurrency`` 0 leaves the hook's and the engine's defaults (adaptive here, 2 in 0.1.0).
    """
    sys.path.insert(0, tree)
    from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
    from airflow_bigcommerce.sync.engine import sync_customers

    adaptive = "max_concurrency" in inspect.signature(BigCommerceHook).parameters  # 0.2.0 and later
    hook = BigCommerceHook(max_concurrency=concurrency or None) if adaptive else BigCommerceHook()
    hook.get_conn()  # read the connection and build the session outside the timing
    workers = concurrency or (8 if adaptive else 2)  # each release's default: adaptive up to 8, or 2
    rows = list(contacts(n, prefix))
    started = time.perf_counter()
    result = sync_customers(
        rows, hook, field_map=FIELD_MAP, key_field=KEY_FIELD, max_concurrency=workers, total=n
    )
    wall = time.perf_counter() - started
    import airflow_bigcommerce

    return {
        "code": str(Path(airflow_bigcommerce.__file__).resolve().parent.parent),
        "contacts": n,
        "quota": quota,
        "window_ms": window_ms,
        "created": result.created,
        "wall_s": round(wall, 3),
        "429s": int(getattr(hook, "stats", {}).get("429s", 0)),
    }


def main(argv: list[str]) -> int:
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bigcommerce-bench-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    if argv[0] == "mapping":
        result = mapping(int(argv[1]))
    elif argv[0] == "stream-sync":
        result = stream_sync(argv[1], int(argv[2]))
    elif argv[0] == "quota-sync":
        tree, n, quota, window_ms, concurrency, prefix = argv[1:7]
        result = quota_sync(tree, int(n), int(quota), int(window_ms), int(concurrency), prefix)
    else:
        raise SystemExit(f"unknown measurement {argv[0]!r}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
