"""
The same sync with and without a ledger, in one run (``make bench``): time, store requests, ledger I/O.

Against the sandbox on loopback (no quota), 2,000 contacts, upsert, a SQLite ledger in a temporary file,
each variant on a fresh store:

1. the first sync into an empty store;
2. an unchanged re-sync;
3. a re-sync with 10 % of the e-mails changed in the CRM: without a ledger those contacts get a
   second customer; with one their customer's e-mail is updated;
4. on another fresh store, a first sync of contacts with addresses: without a ledger the sync records
   each address's id in the ``crm_sync_address_id`` attribute (one attribute-value write per 10
   contacts); with one the id goes into the ledger.

Targets (PASS/FAIL): the ledger adds no store request to the first sync or to an unchanged re-sync,
costs at most one ledger read and one ledger write per chunk of rows (plus the one read that finds
the retries, and the last write: rows that waited for a full batch settle at the end), and an
e-mail change creates no customer, and with a ledger a first sync with addresses writes only its
customers (0.1 writes per contact).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bigcommerce-bench-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook  # noqa: E402
from airflow_bigcommerce.ledger import Scope, SqlLedger  # noqa: E402
from airflow_bigcommerce.sync.engine import run_sync  # noqa: E402
from airflow_bigcommerce.sync.options import SyncOptions  # noqa: E402
from airflow_bigcommerce.testing import run_sandbox  # noqa: E402

CHUNK = 500
CASES = ("first sync", "unchanged re-sync", "10 % e-mails changed")
ADDRESS_CASE = "first sync, addresses"
ADDRESS_MAP = {
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "street": "address.address1",
    "city": "address.city",
    "state": "address.state_or_province",
    "zip": "address.postal_code",
    "country": "address.country_code",
}
#: The writes a first sync makes (the rest are reads: the store's index, its attributes).
WRITES = ("create", "update", "address_create", "address_update", "attribute_values", "setup_create")


def contacts(n: int, changed_every: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "id": f"crm-{i}",
            "email": f"moved{i}@example.com"
            if changed_every and i % changed_every == 0
            else f"bench{i}@example.com",
            "first_name": "Ben",
            "last_name": f"Ch{i}",
        }
        for i in range(n)
    ]


def with_addresses(n: int) -> list[dict[str, Any]]:
    street = {"city": "Austin", "state": "TX", "country": "US"}
    return [
        {**row, "street": f"{i} Main St", "zip": f"{78000 + i % 1000}", **street}
        for i, row in enumerate(contacts(n))
    ]


def _open_ledger(sandbox_env: dict[str, str], ledger_db: Path | None, name: str) -> SqlLedger | None:
    for key, value in sandbox_env.items():
        os.environ[key] = value
    if ledger_db is None:
        return None
    os.environ[f"AIRFLOW_CONN_{name.upper()}"] = json.dumps({"conn_type": "sqlite", "host": str(ledger_db)})
    return SqlLedger.open(name, "bigcommerce_sync_ledger", Scope(BigCommerceHook().store_hash))


def _measured(case: str, sandbox: Any, rows: list[dict[str, Any]], options: SyncOptions) -> dict[str, Any]:
    """Run one sync and return its row: time, store requests, ledger reads and writes, customers after."""
    ledger = options.ledger if isinstance(options.ledger, SqlLedger) else None
    reads, writes = (ledger.reads, ledger.writes) if ledger is not None else (0, 0)
    started = time.perf_counter()
    result = run_sync(rows, BigCommerceHook(), options)
    return {
        "case": case,
        "ledger": ledger is not None,
        "seconds": round(time.perf_counter() - started, 2),
        "requests": {k: v for k, v in result.requests.items() if v},
        "store_requests": sum(result.requests.values()),
        "ledger_reads": ledger.reads - reads if ledger is not None else 0,
        "ledger_writes": ledger.writes - writes if ledger is not None else 0,
        "created": result.created,
        "updated": result.updated,
        "customers": sandbox.store.count(),
    }


def _address_variant(n: int, ledger_db: Path | None) -> dict[str, Any]:
    """A first sync of contacts with addresses on a fresh store: where the sync's address ids go."""
    with run_sandbox(quota=0) as sandbox:
        ledger = _open_ledger(sandbox.env(), ledger_db, "bench_ledger_addresses")
        try:
            options = SyncOptions(
                mode="upsert",
                chunk_size=CHUNK,
                ledger=ledger,
                run_id="bench-addresses",
                field_map=ADDRESS_MAP,
            )
            row = _measured(ADDRESS_CASE, sandbox, with_addresses(n), options)
            writes = sum(row["requests"].get(k, 0) for k in WRITES)
            return {**row, "writes_per_contact": round(writes / n, 3)}
        finally:
            if ledger is not None:
                ledger.close()


def _variant(n: int, ledger_db: Path | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with run_sandbox(quota=0) as sandbox:
        ledger = _open_ledger(sandbox.env(), ledger_db, "bench_ledger")
        try:
            for run, case in enumerate(CASES, 1):
                options = SyncOptions(mode="upsert", chunk_size=CHUNK, ledger=ledger, run_id=f"bench-{run}")
                rows.append(_measured(case, sandbox, contacts(n, 10 if run == 3 else 0), options))
        finally:
            if ledger is not None:
                ledger.close()
    return rows


def targets(rows: list[dict[str, Any]], n: int) -> list[tuple[str, bool]]:
    """Return each target and whether the figures meet it."""
    by = {(r["case"], r["ledger"]): r for r in rows}
    chunks = math.ceil(n / CHUNK)
    checks = [
        (
            f"the ledger adds no store request: {case}",
            by[(case, True)]["store_requests"] <= by[(case, False)]["store_requests"],
        )
        for case in CASES[:2]
    ]
    checks += [
        (
            f"{case}: at most one ledger read and one write per chunk",
            by[(case, True)]["ledger_reads"] <= chunks + 1
            and by[(case, True)]["ledger_writes"] <= chunks + 1,
        )
        for case in CASES
    ]
    changed = by[(CASES[2], True)]
    checks.append(
        (
            "an e-mail change creates no customer with a ledger",
            changed["created"] == 0 and changed["customers"] == n,
        )
    )
    plain, kept = by[(ADDRESS_CASE, False)], by[(ADDRESS_CASE, True)]
    checks.append(
        (
            f"{ADDRESS_CASE}: with a ledger 0.1 writes per contact (no attribute-value write)"
            f" ({kept['writes_per_contact']} vs {plain['writes_per_contact']} without)",
            kept["writes_per_contact"] <= 0.1 and "attribute_values" not in kept["requests"],
        )
    )
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    args = parser.parse_args()
    n = args.contacts
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        rows = _variant(n, None) + _variant(n, Path(tmp) / "ledger.db")
        rows += [_address_variant(n, None), _address_variant(n, Path(tmp) / "addresses.db")]
    print(
        f"\nThe same sync with and without a ledger ({n} contacts, upsert, chunks of {CHUNK}, SQLite ledger)"
    )
    head = f"{'case':22} {'ledger':>6} {'seconds':>8} {'store req':>9} {'ledger r/w':>10}"
    print(f"{head} {'created':>7} {'updated':>7} {'customers':>9} {'writes/contact':>14}")
    for row in rows:
        io = f"{row['ledger_reads']}/{row['ledger_writes']}" if row["ledger"] else "-"
        print(
            f"{row['case']:22} {'yes' if row['ledger'] else 'no':>6} {row['seconds']:>8.2f} "
            f"{row['store_requests']:>9} {io:>10} {row['created']:>7} {row['updated']:>7} "
            f"{row['customers']:>9} {row.get('writes_per_contact', ''):>14}"
        )
    checks = targets(rows, n)
    for text, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "targets": dict(checks)}, indent=2) + "\n")
    return 0 if all(ok for _, ok in checks) or not args.strict else 1


if __name__ == "__main__":
    raise SystemExit(main())
