"""
Requests per contact for each part of a contact (``make bench``, after the throughput benchmarks).

Against the sandbox on loopback (no quota: request counts do not depend on time), 1,000 contacts
with an address, a customer attribute, a group, a newsletter opt-in (half opted in), a sign-up form
field and a store credit:

1. the first sync into an empty store (customers created with their address, attribute, form field
   and store credit inline);
2. an unchanged re-sync (reads only: no write at all);
3. one field changed in every contact, part by part: the address's city, the attribute, the group,
   the opt-in, the form field, the store credit; each costs only that part's writes (a form field
   and the store credit travel in the customer's own PUT).

Then the same three steps for 1,000 contacts with two customer metafields and one or two segments
(an Enterprise store): one metafield changed, one segment membership changed (``managed_segments``:
the segment left is one of them).

Each row prints the requests by kind and per contact; the targets (PASS/FAIL) are the issue's:
an unchanged re-sync writes nothing, and one changed part costs only that part's writes. What the
API forces: at most 50 metafields per batch request and 50 shopper profiles per segment add; the
sync writes a batch's parts after its customers (10 per request), so a segment add carries the up
to 10 contacts of one batch that join that segment.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bigcommerce-bench-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook  # noqa: E402
from airflow_bigcommerce.sync.engine import sync_customers  # noqa: E402
from airflow_bigcommerce.testing import run_sandbox  # noqa: E402

FIELD_MAP = {
    "email": "email",
    "first": "first_name",
    "last": "last_name",
    "street": "address.address1",
    "city": "address.city",
    "state": "address.state_or_province",
    "zip": "address.postal_code",
    "country": "address.country_code",
    "crm_id": "attribute.crm_id",
    "stage": "customer_group",
    "optin": "newsletter",
    "licence": "form_field.License ID",
    "credit": "store_credit",
}
WRITES = {
    "create",
    "update",
    "address_create",
    "address_update",
    "attribute_values",
    "subscriber_create",
    "subscriber_update",
}
FIELDS_MAP = {
    "email": "email",
    "first": "first_name",
    "last": "last_name",
    "ltv": "metafield.crm.lifetime_value",
    "owner": "metafield.crm.owner",
    "lists": "segment",
}
SEGMENTS = ("VIP", "Newsletter", "Churn risk")
FIELD_WRITES = {
    "metafield_create",
    "metafield_update",
    "metafield_delete",
    "profile_create",
    "segment_add",
    "segment_remove",
    "segment_create",
}
WRITES |= FIELD_WRITES
#: The writes one changed part may cost, and nothing else.
PART_WRITES = {
    "address city": {"address_update"},
    "attribute": {"attribute_values"},
    "group": {"update"},
    "newsletter": {"subscriber_update", "subscriber_create"},
    "form field": {"update"},
    "store credit": {"update"},
}
FIELD_PART_WRITES = {
    "metafield": {"metafield_update"},
    "segment": {"segment_add", "segment_remove"},
}


def contacts(n: int, change: str | None = None) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        row = {
            "id": i,
            "email": f"bench{i}@example.com",
            "first": "Ben",
            "last": f"Ch{i}",
            "street": f"{i} Main St",
            "city": "Austin",
            "state": "TX",
            "zip": f"{70000 + i}",
            "country": "US",
            "crm_id": f"C-{i}",
            "stage": "Retail",
            "optin": i % 2 == 0,
            "licence": f"L-{i:05d}",
            "credit": f"{i % 50}.25",
        }
        if change == "address city":
            row["city"] = "Dallas"
        elif change == "attribute":
            row["crm_id"] = f"C-{i}-b"
        elif change == "group":
            row["stage"] = "VIP"
        elif change == "newsletter":
            row["optin"] = i % 2 == 1
        elif change == "form field":
            row["licence"] = f"L-{i:05d}-b"
        elif change == "store credit":
            row["credit"] = f"{i % 50}.75"
        rows.append(row)
    return rows


def field_contacts(n: int, change: str | None = None) -> list[dict[str, Any]]:
    """Contacts with two metafields and one or two segments; ``change`` one of them in every contact."""
    rows = []
    for i in range(n):
        lists = [SEGMENTS[i % 3]] + ([SEGMENTS[(i + 1) % 3]] if i % 2 == 0 else [])
        rows.append(
            {
                "id": i,
                "email": f"bench{i}@example.com",
                "first": "Ben",
                "last": f"Ch{i}",
                "ltv": f"{100 + i}.50" if change != "metafield" else f"{101 + i}.50",
                "owner": f"rep{i % 4}",
                "lists": lists if change != "segment" else [SEGMENTS[(i + 2) % 3]],
            }
        )
    return rows


def _run(rows: list[dict[str, Any]], field_map: dict[str, str] = FIELD_MAP) -> dict[str, Any]:
    result = sync_customers(
        rows,
        BigCommerceHook(),
        field_map=field_map,
        mode="upsert",
        max_concurrency=None,
        managed_segments=SEGMENTS,
    )
    return {
        "requests": {k: v for k, v in result.requests.items() if v},
        "per_contact": round(sum(result.requests.values()) / len(rows), 3),
        "writes_per_contact": round(sum(v for k, v in result.requests.items() if k in WRITES) / len(rows), 3),
        "outcomes": {"created": result.created, "updated": result.updated, "skipped": result.skipped},
        "failed": result.failed + result.rejected,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    args = parser.parse_args()
    n = args.contacts
    rows: list[dict[str, Any]] = []
    ok = True
    with run_sandbox(quota=0) as sandbox:
        for name, value in sandbox.env().items():
            os.environ[name] = value
        sandbox.store.seed_attributes([{"name": "crm_id", "type": "string"}])
        sandbox.store.seed_groups([{"name": "Retail"}, {"name": "VIP"}])
        sandbox.store.define_form_fields(["License ID"])
        rows.append({"case": "first sync", **_run(contacts(n))})
        rows.append({"case": "unchanged re-sync", **_run(contacts(n))})
        for part, allowed in PART_WRITES.items():
            rows.append({"case": f"one change: {part}", **_run(contacts(n, part))})
            rows[-1]["allowed"] = sorted(allowed)
            sync_customers(contacts(n), BigCommerceHook(), field_map=FIELD_MAP, mode="upsert")  # back
        sandbox.store.reset()
        sandbox.store.configure(segments_enabled=True)
        BigCommerceHook().create_segments(list(SEGMENTS))
        rows.append({"case": "first sync: fields", **_run(field_contacts(n), FIELDS_MAP)})
        rows.append({"case": "unchanged re-sync: fields", **_run(field_contacts(n), FIELDS_MAP)})
        for part, allowed in FIELD_PART_WRITES.items():
            rows.append({"case": f"one change: {part}", **_run(field_contacts(n, part), FIELDS_MAP)})
            rows[-1]["allowed"] = sorted(allowed)
            _run(field_contacts(n), FIELDS_MAP)  # back
    print(f"\nRequests per contact by part ({n} contacts, upsert, sandbox on loopback)")
    print(f"{'case':28} {'per contact':>11} {'writes':>7}  requests by kind")
    for row in rows:
        target = "PASS"
        writes = {k for k in row["requests"] if k in WRITES}
        if row["case"].startswith("unchanged re-sync"):
            target = "PASS" if not writes else "FAIL"
        elif row["case"].startswith("one change"):
            target = "PASS" if writes and writes <= set(row["allowed"]) else "FAIL"
        ok = ok and target == "PASS" and row["failed"] == 0
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(row["requests"].items()))
        figures = f"{row['per_contact']:>11.3f} {row['writes_per_contact']:>7.3f}"
        print(f"{row['case']:28} {figures}  {kinds}  {target}")
    print(
        "What the API forces: at most 50 metafields per batch request, 50 shopper profiles per segment"
        " add and 10 segment requests in flight; the sync adds one batch's contacts (up to 10) per request"
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    raise SystemExit(main())
