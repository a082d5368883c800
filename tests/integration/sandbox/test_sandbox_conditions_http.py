"""Real-store conditions over real HTTP on loopback: outages, concurrency caps, a competing app."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled

from airflow_bigcommerce.sandbox import command, ready_url
from airflow_bigcommerce.testing import SandboxHandle, run_sandbox

pytestmark = pytest.mark.integration

RATE_HEADERS = (
    "X-Rate-Limit-Time-Window-Ms",
    "X-Rate-Limit-Time-Reset-Ms",
    "X-Rate-Limit-Requests-Quota",
    "X-Rate-Limit-Requests-Left",
)
PUT = "PUT /v3/customers"
JSON = {"Content-Type": "application/json"}


def person(n: int) -> dict[str, Any]:
    return {"email": f"user{n}@example.com", "first_name": f"First{n}", "last_name": f"Last{n}"}


class Store:
    """The sandbox's API and admin routes, each call on a fresh connection unless a session is given."""

    def __init__(self, sandbox: SandboxHandle) -> None:
        self.sandbox = sandbox
        self.admin = f"{sandbox.url}/__sandbox"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return requests.request(method, self.sandbox.api_url + path, headers=self.sandbox.headers, **kwargs)

    def configure(self, **settings: Any) -> requests.Response:
        body = json.dumps(settings)  # Infinity and NaN too, as a careless client might send them
        return requests.put(f"{self.admin}/config", data=body, headers=JSON, timeout=5)

    def config(self) -> dict[str, Any]:
        result: dict[str, Any] = requests.get(f"{self.admin}/config", timeout=5).json()
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = requests.get(f"{self.admin}/stats", timeout=5).json()
        return result


@pytest.fixture
def store(bigcommerce_sandbox: SandboxHandle) -> Store:
    return Store(bigcommerce_sandbox)


# -- scripted faults --------------------------------------------------------------------------------
def test_scripted_faults_hit_their_operation_in_order(store: Store) -> None:
    script = {
        "customers.create": ["reject_before_write", "commit_then_500", "fatal"],
        "customers.find": "outage",
    }
    assert store.configure(script=script).ok
    assert store.call("GET", "/v3/customers").status_code == 200  # a listing is not the look-up
    assert store.call("GET", "/v3/customers", params={"email:in": "user1@example.com"}).status_code == 503
    refused = store.call("POST", "/v3/customers", json=[person(1)])
    assert (refused.status_code, refused.json()["errors"]) == (422, {"0": "injected rejection"})
    assert store.call("POST", "/v3/customers", json=[person(1)]).status_code == 500  # committed
    assert store.call("POST", "/v3/customers", json=[person(2)]).status_code == 401
    assert store.call("POST", "/v3/customers", json=[person(2)]).status_code == 200
    emails = [c["email"] for c in store.call("GET", "/v3/customers").json()["data"]]
    assert emails == ["user1@example.com", "user2@example.com"]
    assert store.stats()["faults"] == {
        "reject_before_write": 1,
        "commit_then_500": 1,
        "fatal": 1,
        "outage": 1,
    }


def test_a_scripted_non_atomic_batch_commits_its_good_head(store: Store) -> None:
    assert store.call("POST", "/v3/customers", json=[person(3)]).ok
    assert store.configure(script={"customers.create": ["non_atomic"]}).ok
    refused = store.call("POST", "/v3/customers", json=[person(1), person(2), person(3), person(4)])
    assert refused.status_code == 422
    emails = sorted(c["email"] for c in store.call("GET", "/v3/customers").json()["data"])
    assert emails == ["user1@example.com", "user2@example.com", "user3@example.com"]
    assert store.call("POST", "/v3/customers", json=[person(5), person(3)]).status_code == 422
    assert len(store.call("GET", "/v3/customers").json()["data"]) == 3  # the next batch is atomic again


# -- outages ----------------------------------------------------------------------------------------
def test_write_outage_answers_bare_503_while_reads_work(store: Store) -> None:
    assert store.configure(outage_s=30).ok
    down = store.call("POST", "/v3/customers", json=[person(1)])
    assert down.status_code == 503
    assert down.json() == {
        "status": 503,
        "title": "Service Unavailable",
        "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
    }
    assert not any(h in down.headers for h in (*RATE_HEADERS, "X-Retry-After"))
    assert store.call("PUT", "/v3/customers", json=[{"id": 1}]).status_code == 503
    assert store.call("POST", "/v2/customers", json=person(2)).status_code == 503
    read = store.call("GET", "/v3/customers")
    assert read.status_code == 200
    assert read.headers["X-Rate-Limit-Requests-Left"] == "149"  # the three 503s spent no quota
    assert store.sandbox.store.count() == 0
    stats = store.stats()
    assert stats["outage_answers"] == 3
    assert stats["outage_answers_by_method"] == {"POST": 2, "PUT": 1}
    assert stats["outage_active"] is True
    assert stats["requests_total"] == 4  # outage answers are requests sent, too
    assert 25 < store.config()["outage_s"] <= 30
    assert requests.post(f"{store.admin}/seed", json=[person(3)], timeout=5).ok  # admin: no outage
    assert store.configure(outage_s=0).json()["outage_s"] == 0
    assert store.call("POST", "/v3/customers", json=[person(1)]).status_code == 200


def test_outage_ends_by_itself(store: Store) -> None:
    assert store.configure(outage_s=1, outage_kind="all").ok
    assert store.call("GET", "/v3/customers").status_code == 503
    assert store.call("POST", "/v3/customers", json=[person(1)]).status_code == 503
    time.sleep(1.1)
    assert store.config()["outage_s"] == 0
    assert store.call("POST", "/v3/customers", json=[person(1)]).status_code == 200
    assert store.call("GET", "/v3/customers").json()["data"][0]["email"] == "user1@example.com"
    stats = store.stats()
    assert stats["outage_answers_by_method"] == {"GET": 1, "POST": 1}
    assert stats["outage_active"] is False


def test_outage_in_the_middle_of_a_run_with_headers(store: Store) -> None:
    settings = {"outage_s": 1, "outage_start_s": 0.5, "outage_kind": "reads", "outage_headers": True}
    shown = store.configure(**settings).json()
    assert 0.4 < shown["outage_start_s"] <= 0.5
    assert shown["outage_s"] == 1
    assert shown["outage_kind"] == "reads"
    assert store.call("GET", "/v3/customers").status_code == 200
    time.sleep(0.6)
    down = store.call("GET", "/v3/customers")
    assert down.status_code == 503
    assert down.headers["X-Rate-Limit-Requests-Left"] == "149"  # the window as it is, nothing counted
    assert "X-Retry-After" not in down.headers
    assert store.call("POST", "/v3/customers", json=[person(1)]).status_code == 200  # writes work
    time.sleep(1)
    up = store.call("GET", "/v3/customers")
    assert up.status_code == 200
    assert up.headers["X-Rate-Limit-Requests-Left"] == "147"


@pytest.mark.parametrize(
    "settings",
    [
        {"outage_start_s": 3},
        {"outage_s": "soon"},
        {"outage_s": -1},
        {"outage_kind": "writes-only"},
        {"outage_headers": "yes"},
        {"concurrency_limits": "PUT /v3/customers=3"},
        {"concurrency_limits": {PUT: -1}},
        {"concurrency_limits": {"customers": 3}},
        {"competitor_rps": -1},
        {"competitor_rps": None},
        {"competitor_rps": 1e300},
        {"outage_s": 1e300, "outage_start_s": 1e300},
        {"fault_rate": "lots"},
        {"fault_kinds": 5},
        {"force": ["nope"]},
        {"script": ["reject_before_write"]},
        {"script": {"customers.create": ["nope"]}},
        {"script": {"customers.create": 5}},
    ],
)
def test_bad_condition_settings_are_400(store: Store, settings: dict[str, Any]) -> None:
    response = store.configure(**settings)
    assert response.status_code == 400, response.text
    assert response.json()["status"] == 400
    assert store.config()["outage_s"] == 0


condition_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(
        st.text(max_size=30), st.one_of(st.integers(), st.floats(), st.text(max_size=5)), max_size=3
    ),
)


@settings(
    max_examples=scaled(80),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    changes=st.dictionaries(
        st.sampled_from(
            [
                "outage_s",
                "outage_start_s",
                "outage_kind",
                "outage_headers",
                "concurrency_limits",
                "competitor_rps",
                "fault_rate",
                "fault_kinds",
                "force",
            ]
        ),
        condition_values,
        min_size=1,
    )
)
def test_random_settings_never_5xx(store: Store, changes: dict[str, Any]) -> None:
    response = store.configure(**changes)
    assert response.status_code in (200, 400), response.text
    status = store.call("GET", "/v3/customers").status_code
    stats = store.stats()
    assert status < 500 or stats["faults"] or (status == 503 and stats["outage_active"]), status
    assert requests.post(f"{store.admin}/reset", timeout=5).ok


# -- concurrency limits -----------------------------------------------------------------------------
def put_at_once(store: Store, n: int, customer_id: int) -> list[requests.Response]:
    """Send ``n`` PUT /v3/customers at the same moment, each on its own connection."""
    start = threading.Barrier(n)

    def put(i: int) -> requests.Response:
        start.wait()
        return store.call("PUT", "/v3/customers", json=[{"id": customer_id, "last_name": f"L{i}"}])

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(put, range(n)))


def test_concurrent_puts_beyond_three_get_429_with_requests_left(store: Store) -> None:
    store.sandbox.store.seed([person(1)])
    assert store.configure(quota=100, window_ms=30_000, latency_ms=500).ok
    answers = put_at_once(store, 6, customer_id=1)
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200, 200, 200, 429, 429, 429]
    for refused in (r for r in answers if r.status_code == 429):
        assert int(refused.headers["X-Rate-Limit-Requests-Left"]) > 0
        assert refused.headers["X-Rate-Limit-Requests-Quota"] == "100"
        assert "X-Retry-After" not in refused.headers
        assert refused.json()["status"] == 429
    stats = store.stats()
    assert stats["concurrency_429s"] == {PUT: 3}
    assert stats["in_flight_peak"][PUT] == 3
    assert stats["in_flight"] == {}
    assert stats["rate_limited"] == 0
    after = store.call("GET", "/v3/customers")
    assert after.headers["X-Rate-Limit-Requests-Left"] == str(100 - 6 - 1)  # refusals spent quota


def test_lifted_or_raised_caps(store: Store) -> None:
    store.sandbox.store.seed([person(1)])
    assert store.configure(quota=0, latency_ms=400, concurrency_limits={}).json()["concurrency_limits"] == {}
    assert [r.status_code for r in put_at_once(store, 5, customer_id=1)] == [200] * 5
    assert store.configure(concurrency_limits={PUT: 1, "GET /v3/customers": 2}).ok
    assert sorted(r.status_code for r in put_at_once(store, 3, customer_id=1)) == [200, 429, 429]
    assert store.stats()["concurrency_429s"] == {PUT: 2}


# -- the competing app ------------------------------------------------------------------------------
def test_competitor_spends_quota(store: Store) -> None:
    assert store.configure(quota=100, window_ms=30_000, competitor_rps=20).ok
    before = int(store.call("GET", "/v2/time").headers["X-Rate-Limit-Requests-Left"])
    time.sleep(0.5)
    after = int(store.call("GET", "/v2/time").headers["X-Rate-Limit-Requests-Left"])
    by_competitor = before - after - 1  # 20 per second for ~0.5 s, between our two requests
    assert 7 <= by_competitor <= 14
    stats = store.stats()
    assert stats["competitor_requests"] >= by_competitor
    assert stats["competitor_429s"] == 0


def test_competitor_finds_the_window_spent(store: Store) -> None:
    assert store.configure(quota=5, window_ms=30_000, competitor_rps=40).ok
    time.sleep(0.3)
    refused = store.call("GET", "/v3/customers")
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Requests-Left"] == "0"
    stats = store.stats()
    assert stats["competitor_requests"] >= 8
    assert stats["competitor_429s"] == stats["competitor_requests"] - 5
    assert stats["rate_limited"] == 1


# -- from the command line --------------------------------------------------------------------------
@pytest.fixture
def cli_sandbox() -> Iterator[str]:
    argv = command(
        quota=50,
        outage_s=30,
        outage_kind="writes",
        outage_headers=True,
        competitor_rps=5,
        concurrency_limit=["PUT /v3/customers=1"],
    )
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = ready_url(line)
        assert url, line + (process.stderr.read() if process.poll() is not None and process.stderr else "")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_starts_with_an_outage_a_cap_and_a_competitor(cli_sandbox: str) -> None:
    config = requests.get(f"{cli_sandbox}/__sandbox/config", timeout=5).json()
    assert 25 < config["outage_s"] <= 30
    assert (config["outage_kind"], config["outage_headers"], config["competitor_rps"]) == ("writes", True, 5)
    assert config["concurrency_limits"][PUT] == 1
    api = f"{cli_sandbox}/stores/sandbox"
    headers = {"X-Auth-Token": "sandbox-token"}
    down = requests.post(f"{api}/v3/customers", json=[person(1)], headers=headers, timeout=5)
    assert down.status_code == 503
    assert down.headers["X-Rate-Limit-Requests-Quota"] == "50"
    assert requests.get(f"{api}/v3/customers", headers=headers, timeout=5).status_code == 200
    stats = requests.get(f"{cli_sandbox}/__sandbox/stats", timeout=5).json()
    assert stats["outage_answers"] == 1


def test_run_sandbox_takes_the_conditions() -> None:
    with run_sandbox(quota=0, outage_s=30, outage_kind="reads", concurrency_limits={}) as handle:
        api = Store(handle)
        assert api.call("GET", "/v3/customers").status_code == 503
        assert api.call("POST", "/v3/customers", json=[person(1)]).status_code == 200
        assert handle.store.settings()["concurrency_limits"] == {}
        handle.store.reset()  # the start-up outage starts again
        assert api.call("GET", "/v3/customers").status_code == 503
        assert handle.store.stats()["outage_answers"] == 1
