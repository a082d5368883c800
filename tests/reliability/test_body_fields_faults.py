"""
Form fields and store credit under faults: every customer exactly once, every value as the CRM says.

300 contacts with a sign-up form field and a store credit go through the real hook over HTTP into a
sandbox that fails 20 % of the requests (every fault kind). Both travel in the customer's own POST
and PUT, so a lost answer is resolved by the look-up comparing them too (never resent blindly, never
counted written when it is not). Runs are repeated as Airflow's task retries would be, until one ends
without failed rows; a last run without faults writes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from reliability_support import fault_hook, key, record, run_fault_sandbox, until_no_failures

from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.reliability

N_CONTACTS = 300
FIELD_MAP = {
    "email": "email",
    "first": "first_name",
    "last": "last_name",
    "licence": "form_field.License ID",
    "credit": "store_credit",
}


def rows(changed: bool = False) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "email": f"Body{i}@Example.com",
            "first": "Bo",
            "last": f"Dy{i}",
            "licence": f"L-{i}" + ("-b" if changed and i % 10 == 0 else ""),
            "credit": f"{i % 40}.{'75' if changed and i % 10 == 5 else '25'}",
        }
        for i in range(N_CONTACTS)
    ]


def sync(contacts: list[dict[str, Any]], mode: str) -> Any:
    return sync_customers(contacts, fault_hook(), field_map=FIELD_MAP, mode=mode, max_concurrency=4)  # type: ignore[arg-type]


def check_store(sandbox: SandboxHandle, contacts: list[dict[str, Any]]) -> None:
    customers = sandbox.store.all_customers()
    assert sorted(key(c["email"]) for c in customers) == sorted(key(r["email"]) for r in contacts)
    by_email = {key(r["email"]): r for r in contacts}
    found = BigCommerceHook().find_customers_by_email(
        [r["email"] for r in contacts], include=("formfields", "storecredit")
    )
    assert len(found) == len(contacts)
    for customer in found:
        row = by_email[key(customer["email"])]
        assert [(f["name"], f["value"]) for f in customer["form_fields"]] == [("License ID", row["licence"])]
        (credit,) = customer["store_credit_amounts"]
        assert Decimal(repr(credit["amount"])) == Decimal(row["credit"])


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Any:
    with run_fault_sandbox(seed=17) as handle:
        for name, value in handle.env().items():
            monkeypatch.setenv(name, value)
        handle.store.define_form_fields(["License ID"])
        yield handle


def test_form_fields_and_store_credit_exactly_once_under_faults(sandbox: SandboxHandle) -> None:
    contacts = rows()
    first = until_no_failures(lambda: sync(contacts, "insert"))
    faults = dict(sandbox.store.stats().get("faults", {}))
    check_store(sandbox, contacts)
    changed = rows(changed=True)
    second = until_no_failures(lambda: sync(changed, "upsert"))
    check_store(sandbox, changed)
    sandbox.store.configure(faults={})
    last = sync(changed, "upsert")
    assert (last.skipped, last.failed) == (N_CONTACTS, 0)
    assert last.requests.get("create", 0) == last.requests.get("update", 0) == 0
    record(
        "body_fields_under_faults",
        contacts=N_CONTACTS,
        runs_first_sync=len(first),
        failed_first_run=first[0].failed,
        runs_after_change=len(second),
        faults=faults,
        duplicates=0,
        lost=0,
    )
