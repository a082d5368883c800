"""
The example DAGs run by ``airflow dags test`` against the sandbox store, and ``make demo``'s script.

The sync DAG's default ``field_map`` maps each contact's parts (address, customer group, the
``crm_id`` attribute, newsletter consent); the store is given the CRM's groups and attribute first.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dag_runner import REPO, clean_env
from example_runs import CONTACTS, LATER_END, LATER_START, NEW_CONTACT_ID, Scenario

from airflow_bigcommerce.demo.crm import (
    STORE_GROUPS,
    read_contacts,
)
from airflow_bigcommerce.sync.outcome import part_status
from airflow_bigcommerce.sync.store_setup import ADDRESS_ID_ATTRIBUTE

pytestmark = pytest.mark.e2e

#: Requests that write to the store (the sandbox counts requests by ``METHOD /path``).
WRITE_METHODS = ("POST ", "PUT ", "DELETE ")
#: The sign-ups ``new_signups_to_bigcommerce`` creates by default.
SIGNUP_EMAILS = {
    "ada.lovelace@example.com",
    "grace.hopper@example.com",
    "alan.turing@example.org",
    "zoe.bronte@example.net",
}


def _norm(value: Any) -> str:
    return " ".join(str(value or "").split())


def _written(line: dict[str, Any]) -> set[str]:
    """Return the parts (beyond the customer) a report line says were written."""
    parts = line.get("parts", {})
    wrote = {"created", "updated", "subscribed", "unsubscribed"}
    return {part for part, text in parts.items() if part != "customer" and part_status(text) in wrote}


def _values(customer: dict[str, Any], attribute_ids: dict[str, int]) -> dict[str, str]:
    """Return a customer's attribute values by attribute name."""
    names = {aid: name for name, aid in attribute_ids.items()}
    return {names[a["attribute_id"]]: a["attribute_value"] for a in customer["attributes"]}


def _by_email(customers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for customer in customers:
        key = str(customer["email"]).strip().lower()
        assert key not in found, f"two customers with e-mail {key}"
        found[key] = customer
    return found


@pytest.fixture
def scenario(example_dags: Scenario) -> Scenario:
    """The session's one run of the example DAGs (``tests/e2e/example_runs.py``)."""
    return example_dags


def test_full_sync_creates_every_valid_contact_once(scenario: Scenario) -> None:
    stats = scenario.stats
    store = _by_email(scenario.after_first)
    assert set(store) == set(stats.expected_customers)
    for email, contact_id in stats.expected_customers.items():
        row, customer = scenario.contacts[contact_id], store[email]
        assert customer["first_name"] == row["first_name"].strip()
        assert customer["last_name"] == row["last_name"].strip()
        assert _norm(customer.get("company")) == _norm(row["company"])
        assert _norm(customer.get("phone")) == _norm(row["phone"])
        assert str(customer["email"]).strip() == str(row["email"]).strip()
    assert scenario.first.ids("created") == set(stats.expected_customers.values())


def test_full_sync_reports_every_invalid_row_with_its_reason(scenario: Scenario) -> None:
    report = scenario.first
    assert report.ids() == set(scenario.contacts)
    assert report.ids("rejected") == set(scenario.stats.invalid)
    for contact_id, bad_field in scenario.stats.invalid.items():
        reason = report.rows[str(contact_id)]["reason"]
        assert reason.startswith(f"{bad_field}:"), (contact_id, reason)
    # A person entered twice (e-mail in another case) is skipped, not created twice.
    assert report.ids("skipped") == set(scenario.stats.duplicates)
    assert report.counts == {
        "created": scenario.stats.valid_unique,
        "skipped": len(scenario.stats.duplicates),
        "rejected": len(scenario.stats.invalid),
    }


def test_second_run_creates_nothing(scenario: Scenario) -> None:
    assert scenario.second.counts["created"] == 0
    assert scenario.second.counts["updated"] == 0
    assert scenario.second.ids("rejected") == set(scenario.stats.invalid)
    assert sorted(c["id"] for c in scenario.after_second) == sorted(c["id"] for c in scenario.after_first)


def _ledger_address_ids(crm: Path) -> dict[int, int | None]:
    """Return CRM id -> the address id the example DAG's ledger (in the CRM file) keeps."""
    with sqlite3.connect(crm) as conn:
        rows = conn.execute("SELECT crm_key, address_id FROM bigcommerce_sync_ledger").fetchall()
    return {int(key): address_id for key, address_id in rows}


def test_full_sync_writes_each_contacts_parts(scenario: Scenario) -> None:
    stats, store = scenario.stats, _by_email(scenario.after_first)
    recorded = _ledger_address_ids(scenario.crm)
    assert set(scenario.groups) == set(STORE_GROUPS)
    assert stats.places and stats.address_skipped and stats.groups and stats.newsletter
    for email, contact_id in stats.expected_customers.items():
        row, customer = scenario.contacts[contact_id], store[email]
        line = scenario.first.rows[str(contact_id)]
        values = _values(customer, scenario.attributes)
        assert values["crm_id"] == row["crm_id"]
        assert customer["customer_group_id"] == scenario.groups.get(stats.groups.get(contact_id, ""), 0)
        place = stats.places.get(contact_id)
        if place is None:  # no address in the CRM, or one without street or city: the customer only
            assert customer["addresses"] == [], contact_id
            missing = stats.address_skipped.get(contact_id)
            assert line["parts"].get("address") == (f"skipped: no {missing}" if missing else None)
            continue
        (address,) = customer["addresses"]
        # State codes ("TX", "ca") become full names, country names ("germany", "UK") ISO codes.
        stored = (
            address["city"],
            address["state_or_province"],
            address["postal_code"],
            address["country_code"],
        )
        assert stored == (place.city, place.state_name, place.postal_code, place.country_code)
        assert address["address1"] == _norm(row["street"])
        assert (address["first_name"], address["last_name"]) == (
            _norm(row["first_name"]),
            _norm(row["last_name"]),
        )
        # the sync's address, recorded in the ledger (no attribute-value write for it)
        assert recorded[contact_id] == address["id"] and ADDRESS_ID_ATTRIBUTE not in values
        assert line["parts"]["address"] == "created"
    subscribed = {
        str(s["email"]).lower() for s in scenario.subscribers_first if "marketing_newsletter" in s["consents"]
    }
    opted_in = {email for email, cid in stats.expected_customers.items() if stats.newsletter.get(cid)}
    assert subscribed == opted_in
    assert len(scenario.subscribers_first) == len(opted_in)  # an opt-out or a blank creates none
    assert "Parts (rows by outcome):" in scenario.first_output  # the report task's part counts
    assert f"address     created {len(set(stats.places) & set(stats.expected_customers.values()))}" in (
        scenario.first_output
    )


def test_second_run_writes_nothing(scenario: Scenario) -> None:
    writes = {key: n for key, n in scenario.second_requests.items() if key.startswith(WRITE_METHODS)}
    assert writes == {}
    assert scenario.second_requests, "the second run must have read the store"
    assert scenario.after_second == scenario.after_first  # customers, addresses, attribute values
    assert scenario.subscribers_second == scenario.subscribers_first
    for contact_id in scenario.stats.expected_customers.values():
        line = scenario.second.rows[str(contact_id)]
        statuses = {part_status(text) for part, text in line["parts"].items() if part != "customer"}
        assert statuses <= {"unchanged", "skipped"}, (contact_id, line["parts"])


def test_later_interval_syncs_only_contacts_updated_in_it(scenario: Scenario) -> None:
    in_window = {row["id"] for row in read_contacts(scenario.crm, start=LATER_START, end=LATER_END)}
    assert set(scenario.edited.values()) <= in_window
    assert len(in_window) < CONTACTS // 10, "the window must hold only a few contacts"
    report = scenario.later
    # rows rejected for a group the store lacks come back from the ledger, though not in the window
    waiting = {
        int(key)
        for key, row in scenario.second.rows.items()
        if row["outcome"] == "rejected" and "no group of that name" in str(row["reason"])
    }
    assert waiting, "the seed names a group the store lacks"
    assert report.ids() == in_window | waiting
    assert all(report.rows[str(key)]["outcome"] == "rejected" for key in waiting - in_window)
    assert report.rows[str(scenario.edited["changed"])]["outcome"] == "updated"
    assert report.rows[str(scenario.edited["resaved"])]["outcome"] == "skipped"
    assert report.rows[str(scenario.edited["invalid"])]["outcome"] == "rejected"
    assert report.rows[str(NEW_CONTACT_ID)]["outcome"] == "created"

    assert report.rows[str(scenario.edited["moved"])]["outcome"] == "updated"

    before, after = _by_email(scenario.after_second), _by_email(scenario.after_later)
    assert set(after) - set(before) == {"new.person@example.com"}
    changed_row = scenario.contacts[scenario.edited["changed"]]
    changed_email = str(changed_row["email"]).strip().lower()
    assert _norm(after[changed_email]["company"]) == _norm(f"{changed_row['company'] or ''} Renamed")
    assert after[changed_email]["id"] == before[changed_email]["id"]
    assert _written(report.rows[str(scenario.edited["changed"])]) == set()  # only the customer changed
    moved_email = str(scenario.contacts[scenario.edited["moved"]]["email"]).strip().lower()
    unchanged = set(before) - {changed_email, moved_email}
    assert all(after[email] == before[email] for email in unchanged)


def test_later_interval_writes_only_the_changed_part(scenario: Scenario) -> None:
    before, after = _by_email(scenario.after_second), _by_email(scenario.after_later)
    moved_id = scenario.edited["moved"]
    moved_email = str(scenario.contacts[moved_id]["email"]).strip().lower()
    line = scenario.later.rows[str(moved_id)]
    assert _written(line) == {"address"}
    assert line["parts"]["address"] == "updated: address1"
    (old_address,), (new_address,) = before[moved_email]["addresses"], after[moved_email]["addresses"]
    assert new_address["id"] == old_address["id"]  # updated in place, not a second copy
    assert new_address["address1"] == "1 Moved Lane"
    assert {k: v for k, v in new_address.items() if k != "address1"} == {
        k: v for k, v in old_address.items() if k != "address1"
    }

    new = after["new.person@example.com"]
    (address,) = new["addresses"]
    assert (address["address1"], address["state_or_province"], address["country_code"]) == (
        "7 Harbour Road",
        "New South Wales",
        "AU",
    )
    assert new["customer_group_id"] == scenario.groups["VIP"]
    assert _values(new, scenario.attributes)["crm_id"] == "5199999"
    assert scenario.later.rows[str(NEW_CONTACT_ID)]["parts"]["newsletter"] == "subscribed"


def test_signups_dag_creates_one_customer_per_mapped_task(scenario: Scenario) -> None:
    before, after = _by_email(scenario.after_later), _by_email(scenario.after_signups)
    assert set(after) - set(before) == SIGNUP_EMAILS
    for index in range(len(SIGNUP_EMAILS)):
        assert f"end task task_id=create_customer map_index={index}" in scenario.signups_output
    assert all(after[email]["notes"].startswith("Signed up on ") for email in SIGNUP_EMAILS)


@pytest.mark.timeout(300)
def test_make_demo_script(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "airflow_bigcommerce.demo", "--contacts", "300", "--workdir", str(tmp_path)],
        cwd=REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-5000:]
    assert "Run 1: airflow dags test crm_contacts_to_bigcommerce" in output
    assert "Run 2: airflow dags test crm_contacts_to_bigcommerce" in output
    assert "customer groups Wholesale, Retail, VIP; customer attribute crm_id" in output
    run1, rest = output.split("Run 2:", 1)
    run2, run3 = rest.split("Run 3:", 1)
    assert "address     created " in run1 and "attributes  created " in run1
    assert "  created         0" in run2
    assert "0 duplicate e-mails" in run2
    assert "address     unchanged " in run2 and "attributes  unchanged " in run2
    # run 3: an e-mail change keeps its customer; rows rejected for a missing group come back from
    # the ledger once the store has it, though the run's window does not hold them
    changed = re.search(
        r"contact (\d+)'s customer (\d+) \(before: (\d+)\) now has moved\.\1@example\.com", run3
    )
    assert changed is not None and changed[2] == changed[3], run3[-3000:]
    retried = re.search(r"retried from the ledger: (\d+) rows .*: (\d+) created now", run3)
    assert retried is not None and int(retried[1]) > 0 and retried[1] == retried[2], run3[-3000:]
    assert "  updated         1" in run3 and "0 duplicate e-mails" in run3
    assert "contact  customer  outcome" in run3 and "the sync's ledger:" in run3
    assert "Demo finished" in output
    stray = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False)
    assert stray.stdout.strip() == "", "the demo left processes running"
