"""
5,000 contacts through the real hook over HTTP into a sandbox that fails 20 % of the requests.

Every fault kind of the sandbox is injected (5xx before the write, 429 with and without headers, an
answer delayed past the hook's timeout, a committed write answered with a 500 or a dropped
connection, a non-JSON body). Each run must end with every valid contact in the store exactly once,
and the summary and the JSONL report must say what happened to each row.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    FIELD_MAP,
    HOOK_MAX_RETRIES,
    HOOK_TIMEOUT_S,
    STORE_REFUSED_PASSWORD,
    Plan,
    assert_every_fault_kind_injected,
    check_run,
    key,
    make_plan,
    read_jsonl,
    record,
    run_fault_sandbox,
)

from airflow_bigcommerce.exceptions import BigCommerceError
from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
from airflow_bigcommerce.sandbox.state.errors import ApiError
from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.sync.report import JsonlReportWriter
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.reliability

N_CONTACTS = 5_000
CONCURRENCY = 4


@contextmanager
def fault_sandbox(monkeypatch: pytest.MonkeyPatch, seed: int, **options: Any) -> Iterator[SandboxHandle]:
    """A sandbox failing 20 % of API requests (every kind), and ``bigcommerce_default`` pointing at it."""
    with run_fault_sandbox(seed, **options) as sandbox:
        for name, value in sandbox.env().items():
            monkeypatch.setenv(name, value)
        yield sandbox


@contextmanager
def running_alongside(target: Callable[[], None], stop: threading.Event, name: str) -> Iterator[None]:
    """Run ``target`` in a daemon thread for the ``with`` block, then set ``stop`` and join it."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def new_hook(conn_id: str = "bigcommerce_default") -> BigCommerceHook:
    return BigCommerceHook(bigcommerce_conn_id=conn_id, timeout=HOOK_TIMEOUT_S, max_retries=HOOK_MAX_RETRIES)


def run_sync(plan: Plan, tmp_path: Path, **kwargs: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    report_path = tmp_path / "report.jsonl"
    with JsonlReportWriter(report_path) as report:
        result = sync_customers(
            plan.rows,
            new_hook(),
            field_map=FIELD_MAP,
            max_concurrency=CONCURRENCY,
            report=report,
            total=len(plan.rows),
            **kwargs,
        )
    return result.to_dict(), read_jsonl(report_path)


def assert_exactly_once(
    name: str, plan: Plan, sandbox: SandboxHandle, summary: dict[str, Any], lines: list[dict[str, Any]]
) -> dict[str, Any]:
    stats = sandbox.store.stats()
    verdict = check_run(plan, sandbox.store.all_customers(), stats, lines, summary)
    figures = {
        "contacts": len(plan.contacts),
        "created": summary["created"],
        "skipped": summary["skipped"],
        "rejected": summary["rejected"],
        "in_store": stats["customers"],
        "faults": stats["faults"],
        "faults_total": sum(stats["faults"].values()),
        "api_requests": stats["requests_total"],
        "quota_429s": stats["rate_limited"],
        "duplicates": len(verdict.duplicates),
        "lost": len(verdict.lost),
        "duration_s": summary["duration_s"],
    }
    record(name, **figures)
    assert not verdict.duplicates, f"customers duplicated: {dict(list(verdict.duplicates.items())[:10])}"
    assert not verdict.lost, f"{len(verdict.lost)} contacts lost, e.g. {verdict.lost[:10]}"
    assert not verdict.phantom, f"customers nobody asked for: {verdict.phantom[:10]}"
    assert not verdict.wrong_outcomes, "\n".join(verdict.wrong_outcomes)
    assert_every_fault_kind_injected(stats)
    return figures


def test_5000_contacts_under_20_percent_faults_land_exactly_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    plan = make_plan(N_CONTACTS, tag="plain")
    with fault_sandbox(monkeypatch, seed=101) as sandbox:
        summary, lines = run_sync(plan, tmp_path)
        figures = assert_exactly_once("20% faults", plan, sandbox, summary, lines)
    assert figures["created"] > 4_800
    assert summary["retries_resolved"] > 0  # unknown outcomes happened and were settled by look-ups
    assert summary["client_stats"]["429s"] > 0


def test_exactly_once_while_another_client_eats_the_shared_quota(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    plan = make_plan(N_CONTACTS, tag="quota")
    with fault_sandbox(monkeypatch, seed=202, quota=150, window_ms=1_000) as sandbox:
        monkeypatch.setenv("AIRFLOW_CONN_OTHER_APP", sandbox.conn_json())
        stop = threading.Event()
        hammered = {"requests": 0, "errors": 0}

        def naive_app() -> BigCommerceHook:
            # no retries and no budget: an error ends the call at once and the next call starts afresh
            # (a new hook, a closed breaker), so the other app never backs off as ours does; it did
            # wait out its own breaker before (7.9 s once), and then sent too few requests to compete
            return BigCommerceHook(
                bigcommerce_conn_id="other_app", timeout=HOOK_TIMEOUT_S, max_retries=0, retry_budget_s=0
            )

        def hammer() -> None:
            """Another app with the store's token, reading customers as fast as the quota lets it."""
            other = naive_app()
            while not stop.is_set():
                hammered["requests"] += 1
                try:
                    other.request("GET", "v3/customers", params={"limit": 5})
                except BigCommerceError:
                    hammered["errors"] += 1
                    other = naive_app()

        with running_alongside(hammer, stop, name="other-app"):
            summary, lines = run_sync(plan, tmp_path)
        name = "20% faults + other client on a 150/s quota"
        figures = assert_exactly_once(name, plan, sandbox, summary, lines)
        record("other client", **hammered)
    # The other app really competed: it sent a sizeable share of the store's traffic.
    assert hammered["requests"] > figures["api_requests"] // 10


def test_non_atomic_batches_existing_customers_and_signups_during_the_sync(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # 10 % already in the store (storefront sign-ups, e-mail in another case), 1 row in 250 that only
    # the store refuses (so batches fail and, non-atomic, commit the rows before the bad one), and 50
    # more contacts signing up on the storefront while the sync runs.
    plan = make_plan(N_CONTACTS, existing_every=10, store_refused_every=250, tag="nonatomic")
    late = [c for c in plan.contacts if c.expected == "created"][1_000::80][:50]
    with fault_sandbox(monkeypatch, seed=303, non_atomic_batches=True) as sandbox:
        sandbox.store.seed(plan.seeded)
        assert sandbox.store.stats()["customers"] == len(plan.seeded) > N_CONTACTS // 11
        stop = threading.Event()
        signed_up: list[str] = []

        def storefront() -> None:
            while sandbox.store.stats()["customers"] < 1_200 and not stop.is_set():
                time.sleep(0.02)
            for contact in late:
                if stop.is_set():
                    return
                try:
                    sandbox.store.seed(
                        [{"email": contact.email.lower(), "first_name": "Storefront", "last_name": "Signup"}]
                    )
                except ApiError:  # the sync created it first: it stays "created"
                    continue
                signed_up.append(contact.email)
                contact.expected = "skipped"
                contact.reason_prefix = "exists in store"
                plan.seeded.append({"email": contact.email})
                time.sleep(0.05)

        with running_alongside(storefront, stop, name="storefront"):
            summary, lines = run_sync(plan, tmp_path)
        figures = assert_exactly_once(
            "20% faults + non-atomic + 10% existing + sign-ups", plan, sandbox, summary, lines
        )
        late_outcomes = Counter(
            line["outcome"] for line, c in zip(lines, plan.contacts, strict=True) if c.email in signed_up
        )
        record("sign-ups during the sync", signed_up=len(signed_up), outcomes=dict(late_outcomes))
    assert figures["skipped"] >= len(plan.seeded) - len(signed_up) + 50
    assert summary["rejected"] >= N_CONTACTS // 250
    assert signed_up, "no contact signed up during the sync: the scenario did not happen"


@pytest.mark.parametrize("non_atomic", [False, True], ids=["atomic", "non-atomic"])
def test_a_batch_refused_for_one_bad_row_delivers_the_other_nine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, non_atomic: bool
) -> None:
    plan = make_plan(10, invalid_every=0, duplicate_every=0, tag="batch")
    bad = plan.contacts[4]
    bad.row["password"] = STORE_REFUSED_PASSWORD
    bad.expected, bad.reason_prefix = "rejected", "authentication.new_password: "
    with fault_sandbox(monkeypatch, seed=1, faults={}, non_atomic_batches=non_atomic) as sandbox:
        summary, lines = run_sync(plan, tmp_path, index_limit=0)
        stats = sandbox.store.stats()
        verdict = check_run(plan, sandbox.store.all_customers(), stats, lines, summary)
    assert verdict.ok, verdict
    # non-atomic: the refused batch wrote rows 0..3; they are found and reported as already there
    assert (summary["created"], summary["skipped"], summary["rejected"]) == (
        (5, 4, 1) if non_atomic else (9, 0, 1)
    )
    assert stats["customers"] == 9
    (rejection,) = summary["rejections"]
    assert rejection["row"] == bad.row["id"]
    assert rejection["reason"].startswith("authentication.new_password: ")
    assert "(HTTP 422)" in rejection["reason"]
    assert STORE_REFUSED_PASSWORD not in str(summary) + str(lines)
    # One refused batch, then the rows not committed by it one at a time (atomic: all ten).
    expected_posts = 1 + (10 - 4 if non_atomic else 10)
    assert stats["requests"]["POST /v3/customers"] == expected_posts
    assert key(bad.email) not in {key(c["email"]) for c in sandbox.store.all_customers()}
