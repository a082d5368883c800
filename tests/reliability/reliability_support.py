"""
Shared pieces of the fault suite: CRM contacts with a known expected outcome per row, the checks
that prove "nothing lost, nothing duplicated, every outcome right", and the figures each test records.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_bigcommerce.sandbox.traffic.faults import FAULT_KINDS
from airflow_bigcommerce.testing import SandboxHandle, run_sandbox

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "reliability"
FIELD_MAP = {
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "password": "password",
}
#: 20 % of API requests fail. 429s cost a wait that blocks every sender (X-Retry-After is whole
#: seconds), so they get 1 % each; the other five kinds share the rest: 3.6 % each.
FAULT_RATES = {
    "rate_limit_429": 0.01,
    "rate_limit_429_bare": 0.01,
    **dict.fromkeys(
        ("error_before_write", "malformed", "slow", "commit_then_500", "commit_then_drop"), 0.036
    ),
}
#: The hook gives up on a request after this long; a ``slow`` fault answers after ``SLOW_S``.
HOOK_TIMEOUT_S = 0.5
SLOW_S = 1.0
HOOK_MAX_RETRIES = 8
#: Runs a fault test allows a sync, as Airflow's task retries would, before it counts as stuck.
MAX_RUNS = 8
#: Passwords over 100 characters pass our validation (the spec gives no limit) but the sandbox
#: refuses them with a 422 naming ``N.authentication.new_password``: a row only the store rejects.
STORE_REFUSED_PASSWORD = "Zq9-" + "x" * 120

FIGURES: list[dict[str, Any]] = []


@contextlib.contextmanager
def run_fault_sandbox(seed: int, **options: Any) -> Iterator[SandboxHandle]:
    """Serve a sandbox failing 20 % of API requests (every kind, drawn from ``seed``), no quota.

    :param options: ``run_sandbox`` settings that replace these defaults (``quota``, ``faults``, ...).
    """
    settings: dict[str, Any] = {"quota": 0, "window_ms": 1_000, "faults": FAULT_RATES, "slow_s": SLOW_S}
    settings.update(options)
    with run_sandbox(fault_seed=seed, **settings) as sandbox:
        yield sandbox


def fault_hook() -> Any:
    """The hook as the fault suite runs it: short timeouts, enough retries for 20 % faults."""
    from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook

    return BigCommerceHook(timeout=HOOK_TIMEOUT_S, max_retries=HOOK_MAX_RETRIES)


def until_no_failures(sync: Callable[[], Any], max_runs: int = MAX_RUNS) -> list[Any]:
    """Run ``sync`` as Airflow's retries would, until a run ends without failed rows (none rejected)."""
    results = []
    for _ in range(max_runs):
        result = sync()
        results.append(result)
        assert result.rejected == 0, result.rejections[:3]
        if result.failed == 0:
            return results
    raise AssertionError(f"still failing after {max_runs} runs: {results[-1].failures[:3]}")


def key(email: str) -> str:
    return email.strip().lower()


@dataclass
class Contact:
    """One CRM row and what must become of it."""

    row: dict[str, Any]
    expected: str  # created | skipped | rejected | either (created or skipped: see check_run)
    reason_prefix: str | None = None  # rejected: the field the reason must start with / skipped: why

    @property
    def email(self) -> str:
        return str(self.row.get("email"))


@dataclass
class Plan:
    """The contacts of a run and the store's customers before it."""

    contacts: list[Contact]
    seeded: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [c.row for c in self.contacts]

    def expected_counts(self) -> Counter[str]:
        return Counter(c.expected for c in self.contacts)

    def emails_to_be_present(self) -> set[str]:
        present = {key(c.email) for c in self.contacts if c.expected in ("created", "skipped", "either")}
        return present | {key(s["email"]) for s in self.seeded}


def make_plan(
    n: int,
    *,
    invalid_every: int = 61,
    duplicate_every: int = 97,
    existing_every: int = 0,
    store_refused_every: int = 0,
    tag: str = "r",
) -> Plan:
    """
    Build ``n`` CRM rows: mostly new contacts, plus invalid e-mails, in-run duplicates (another case
    of an earlier row's e-mail), contacts already in the store (seeded with the e-mail in another
    case, as a storefront sign-up would be) and rows only the store refuses.
    """
    contacts: list[Contact] = []
    seeded: list[dict[str, Any]] = []
    for i in range(n):
        row: dict[str, Any] = {
            "id": f"{tag}-{i:05d}",
            "email": f"Contact.{tag}.{i}@Example.com",
            "first_name": f"First{i}",
            "last_name": f"Last {i}",
            "company": "ACME <b>&</b> 'Sons'; DROP TABLE customers;--" if i % 13 == 0 else None,
        }
        if invalid_every and i % invalid_every == invalid_every - 1:
            row["email"] = f"not-an-email-{i}"
            contacts.append(Contact(row, "rejected", "email: "))
        elif duplicate_every and i % duplicate_every == duplicate_every - 1 and i > 1:
            first = next(c for c in reversed(contacts) if c.expected == "created")
            row["email"] = first.email.upper()
            contacts.append(Contact(row, "skipped", "duplicate of "))
        elif existing_every and i % existing_every == 0:
            seeded.append({"email": row["email"].swapcase(), "first_name": "Signed", "last_name": "Up"})
            contacts.append(Contact(row, "skipped", "exists in store"))
        elif store_refused_every and i % store_refused_every == store_refused_every // 2:
            row["password"] = STORE_REFUSED_PASSWORD
            contacts.append(Contact(row, "rejected", "authentication.new_password: "))
        else:
            contacts.append(Contact(row, "created"))
    return Plan(contacts, seeded)


@dataclass
class Verdict:
    """What a run left behind, measured against its plan."""

    duplicates: dict[str, int]
    lost: list[str]
    phantom: list[str]
    wrong_outcomes: list[str]

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.lost or self.phantom or self.wrong_outcomes)


def check_run(
    plan: Plan,
    store_customers: list[dict[str, Any]],
    stats: dict[str, Any],
    report_lines: list[dict[str, Any]],
    summary: dict[str, Any] | None,
    *,
    created_before: set[str] = frozenset(),  # type: ignore[assignment]
) -> Verdict:
    """
    Compare the store, the summary and the JSONL report with the plan.

    :param created_before: e-mails (match keys) a previous, interrupted run of the same plan created;
        this run must report them as skipped (they exist in the store).
    """
    by_email = Counter(key(c["email"]) for c in store_customers)
    ids = {key(c["email"]): c["id"] for c in store_customers}
    wanted = plan.emails_to_be_present()
    duplicates = {email: n for email, n in by_email.items() if n > 1}
    duplicates.update(stats.get("emails_with_duplicates", {}))
    lost = sorted(wanted - set(by_email))
    phantom = sorted(set(by_email) - wanted)
    wrong: list[str] = []
    if len(report_lines) != len(plan.contacts):
        wrong.append(f"report has {len(report_lines)} lines for {len(plan.contacts)} rows")
    expected_counts: Counter[str] = Counter()
    # A store that writes part of a batch it refuses (non-atomic) said no: the rows it wrote are
    # found by the look-up and reported as already in the store, never claimed as created.
    refused_but_written = {key(email) for email in stats.get("refused_batch_commits", ())}
    for contact, line in zip(plan.contacts, report_lines, strict=False):
        expected = contact.expected
        prefix = contact.reason_prefix
        if expected == "created" and key(contact.email) in created_before:
            expected, prefix = "skipped", "exists in store"
        elif expected == "created" and key(contact.email) in refused_but_written:
            # skipped (the refusal wrote it), unless an earlier send of the row had an unknown
            # outcome: then the customer holding what was sent is this run's, confirmed by look-up
            confirmed = line["outcome"] == "created" and str(line["reason"]).startswith(
                "confirmed by look-up"
            )
            expected, prefix = ("created", None) if confirmed else ("skipped", "exists in store")
        if expected == "either":
            # Signed up on the storefront while the sync ran, after an unknown outcome of our own write
            # for it: the engine cannot tell whose customer it is; either way it exists exactly once.
            expected = line["outcome"] if line["outcome"] in ("created", "skipped") else "created"
            prefix = "exists in store" if expected == "skipped" else None
        expected_counts[expected] += 1
        where = f"{contact.row['id']}: {line}"
        if line["row"] != contact.row["id"] or line["outcome"] != expected:
            wrong.append(f"expected {expected}, got {where}")
            continue
        if expected == "rejected" and not str(line["reason"]).startswith(prefix or ""):
            wrong.append(f"rejection reason must start with {prefix!r}: {where}")
        if expected == "skipped" and not str(line["reason"]).startswith(prefix or ""):
            wrong.append(f"skip reason must start with {prefix!r}: {where}")
        stored_id = ids.get(key(contact.email))
        in_store = expected in ("created", "skipped") and prefix != "duplicate of "
        if in_store and line["customer_id"] != stored_id:
            wrong.append(f"customer_id is not the store's id {stored_id}: {where}")
    if summary is not None:
        for outcome in ("created", "updated", "skipped", "rejected", "failed"):
            if summary[outcome] != expected_counts[outcome]:
                wrong.append(f"summary {outcome}={summary[outcome]}, expected {expected_counts[outcome]}")
        if summary["total"] != len(plan.contacts):
            wrong.append(f"summary total={summary['total']}, expected {len(plan.contacts)}")
    return Verdict(duplicates, lost, phantom, wrong[:20])


def assert_every_fault_kind_injected(stats: dict[str, Any]) -> None:
    missing = [kind for kind in FAULT_KINDS if not stats["faults"].get(kind)]
    assert not missing, f"fault kinds never injected: {missing}; stats: {stats['faults']}"


def record(name: str, **figures: Any) -> None:
    """Keep a test's figures for the end-of-run table and the JSON artifact."""
    FIGURES.append({"test": name, **figures})


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
