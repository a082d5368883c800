"""
Metafields and segments under faults: every write exactly once, nothing lost, whatever the store answers.

300 contacts with two metafields and one to three segments go through the real hook over HTTP into an
Enterprise sandbox that fails 20 % of the requests (every fault kind, on every endpoint: customers,
metafields, shopper profiles, segment adds and removals). Runs are repeated as Airflow's task retries
would be, until one ends without failed rows. Then every customer holds each metafield exactly once
(never a second one with the same namespace and key, after a lost create answer), one shopper profile,
exactly the segments the CRM names; a change of values and memberships (with managed segments left and
cleared metafields deleted) ends the same way; a last run without faults writes nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from reliability_support import fault_hook, key, record, run_fault_sandbox, until_no_failures

from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.reliability

N_CONTACTS = 300
SEGMENTS = ("VIP", "Newsletter", "Churn risk")
FIELD_MAP = {
    "email": "email",
    "first": "first_name",
    "last": "last_name",
    "ltv": "metafield.crm.lifetime_value",
    "owner": "metafield.crm.owner",
    "lists": "segment",
}
FIELD_WRITES = (
    "create",
    "update",
    "metafield_create",
    "metafield_update",
    "metafield_delete",
    "profile_create",
    "segment_add",
    "segment_remove",
)


def lists_of(i: int, moved: bool) -> list[str]:
    names = [SEGMENTS[i % 3]]
    if i % 2 == 0:
        names.append(SEGMENTS[(i + 1) % 3])
    if moved and i % 5 == 0:
        names = [SEGMENTS[(i + 2) % 3]]
    return names


def rows(*, moved: bool = False) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "email": f"Field{i}@Example.com",
            "first": "Fi",
            "last": f"E{i}",
            "ltv": f"{100 + i + (1 if moved and i % 7 == 0 else 0)}",
            "owner": None if moved and i % 11 == 0 else f"rep{i % 4}",
            "lists": lists_of(i, moved),
        }
        for i in range(N_CONTACTS)
    ]


def sync(contacts: list[dict[str, Any]], mode: str, *, client: Any = None) -> Any:
    return sync_customers(
        contacts,
        client or fault_hook(),
        field_map=FIELD_MAP,
        mode=mode,  # type: ignore[arg-type]
        max_concurrency=4,
        empty_values="clear",
        managed_segments=SEGMENTS,
    )


def check_store(sandbox: SandboxHandle, contacts: list[dict[str, Any]]) -> None:
    """Every contact once, each metafield once with the CRM's value, exactly the CRM's segments."""
    store = sandbox.store
    by_email = {key(r["email"]): r for r in contacts}
    customers = {c["id"]: c for c in store.all_customers()}
    assert sorted(key(c["email"]) for c in customers.values()) == sorted(by_email)
    keys = Counter((m["resource_id"], m["namespace"], m["key"]) for m in store.metafields.everything())
    assert max(keys.values()) == 1  # never a second metafield with one namespace and key
    values = {(m["resource_id"], m["key"]): m["value"] for m in store.metafields.everything()}
    state = store.segments.everything()
    owners = Counter(p["customer_id"] for p in state["shopper_profiles"])
    assert max(owners.values()) == 1  # one shopper profile per customer
    profile_of = {p["customer_id"]: p["id"] for p in state["shopper_profiles"]}
    names = {s["id"]: s["name"] for s in state["segments"]}
    for cid, customer in customers.items():
        row = by_email[key(customer["email"])]
        assert values.get((cid, "lifetime_value")) == row["ltv"]
        assert values.get((cid, "owner")) == row["owner"]
        joined = {names[s] for s, members in state["members"].items() if profile_of[cid] in members}
        assert joined == set(row["lists"])
    for members in state["members"].values():
        assert len(members) == len(set(members))


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Any:
    with run_fault_sandbox(seed=17) as handle:
        for name, value in handle.env().items():
            monkeypatch.setenv(name, value)
        handle.store.configure(segments_enabled=True)
        BigCommerceHook(timeout=5, max_retries=20).create_segments(list(SEGMENTS))
        yield handle


def test_metafields_and_segments_exactly_once_under_faults_then_no_writes(sandbox: SandboxHandle) -> None:
    contacts = rows()
    first = until_no_failures(lambda: sync(contacts, "insert"))
    faults_first = dict(sandbox.store.stats().get("faults", {}))
    check_store(sandbox, contacts)

    moved = rows(moved=True)
    second = until_no_failures(lambda: sync(moved, "upsert"))
    check_store(sandbox, moved)

    sandbox.store.configure(faults={})
    last = sync(moved, "upsert")
    assert (last.skipped, last.failed) == (N_CONTACTS, 0)
    assert {k: v for k, v in last.requests.items() if k in FIELD_WRITES and v} == {}
    record(
        "fields_under_faults",
        contacts=N_CONTACTS,
        runs_first_sync=len(first),
        failed_first_run=first[0].failed,
        runs_after_change=len(second),
        failed_change_run=second[0].failed,
        faults=faults_first,
        duplicates=0,
        lost=0,
    )
