"""The sandbox over real HTTP on loopback (``run_sandbox`` and the pytest plugin's fixtures)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled

from airflow_bigcommerce.sandbox import command
from airflow_bigcommerce.testing import SandboxHandle, run_sandbox

pytestmark = pytest.mark.integration

RATE_HEADERS = (
    "X-Rate-Limit-Time-Window-Ms",
    "X-Rate-Limit-Time-Reset-Ms",
    "X-Rate-Limit-Requests-Quota",
    "X-Rate-Limit-Requests-Left",
)


def person(n: int, **extra: Any) -> dict[str, Any]:
    return {"email": f"user{n}@example.com", "first_name": f"First{n}", "last_name": f"Last{n}", **extra}


class Client:
    """A tiny API client for the tests."""

    def __init__(self, sandbox: SandboxHandle, token: str | None = None) -> None:
        self.base = sandbox.api_url
        self.session = requests.Session()
        self.session.headers.update(sandbox.headers)
        if token is not None:
            self.session.headers["X-Auth-Token"] = token

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.base + path, **kwargs)


@pytest.fixture
def sandbox(bigcommerce_sandbox: SandboxHandle) -> SandboxHandle:
    bigcommerce_sandbox.store.configure(quota=0)  # most tests are not about the quota
    return bigcommerce_sandbox


@pytest.fixture
def api(sandbox: SandboxHandle) -> Iterator[Client]:
    client = Client(sandbox)
    yield client
    client.session.close()


def test_fixture_sets_the_airflow_connection(bigcommerce_sandbox: SandboxHandle) -> None:
    import os

    conn = json.loads(os.environ["AIRFLOW_CONN_BIGCOMMERCE_DEFAULT"])
    assert conn == {
        "conn_type": "bigcommerce",
        "host": bigcommerce_sandbox.url,
        "password": "sandbox-token",
        "extra": {"store_hash": "sandbox"},
    }


# -- auth -------------------------------------------------------------------------------------------
def test_auth_errors_are_shaped_per_version(sandbox: SandboxHandle) -> None:
    bad = Client(sandbox, token="wrong")
    v2 = bad.call("GET", "/v2/customers")
    assert v2.status_code == 401
    assert v2.json()[0]["status"] == 401
    v3 = bad.call("GET", "/v3/customers")
    assert v3.status_code == 401
    assert v3.json()["status"] == 401
    missing = requests.get(f"{sandbox.api_url}/v3/customers", timeout=5)
    assert missing.status_code == 401
    unknown = requests.get(f"{sandbox.url}/stores/nope/v3/customers", headers=sandbox.headers, timeout=5)
    assert unknown.status_code == 404
    assert all(h in unknown.headers for h in RATE_HEADERS)


def test_time_and_store(api: Client) -> None:
    now = api.call("GET", "/v2/time").json()["time"]
    assert abs(now - time.time()) < 5
    info = api.call("GET", "/v2/store").json()
    assert info["id"] == "sandbox"
    assert info["name"] == "Sandbox Store"
    assert "domain" in info


# -- V2 ---------------------------------------------------------------------------------------------
def test_v2_create_read_count_and_duplicate(api: Client) -> None:
    auth = {"password": "Secret123", "password_confirmation": "Secret123"}
    created = api.call("POST", "/v2/customers", json=person(1, _authentication=auth))
    assert created.status_code == 201
    body = created.json()
    assert body["email"] == "user1@example.com"
    assert "Secret123" not in created.text
    assert api.call("GET", f"/v2/customers/{body['id']}").json()["id"] == body["id"]
    missing = api.call("GET", "/v2/customers/999")
    assert missing.status_code == 404
    assert isinstance(missing.json(), list)
    assert api.call("GET", "/v2/customers/count").json() == {"count": 1}
    duplicate = api.call("POST", "/v2/customers", json=person(1, email="USER1@example.COM"))
    assert duplicate.status_code == 409
    assert duplicate.json()[0]["status"] == 409


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (person(1, id=5), "'id'"),
        (person(1, date_created="2020-01-01"), "'date_created'"),
        (person(1, nickname="x"), "The field 'nickname' is not supported by this resource."),
        (person(1, force_reset=True), "The field 'force_reset' is not supported by this resource."),
        (
            person(1, _authentication={"password": "Abc12345", "password_confirmation": "Abc99999"}),
            "password",
        ),
        ({"email": "a@b.co"}, "first_name"),
    ],
)
def test_v2_create_rejections(api: Client, body: dict[str, Any], needle: str) -> None:
    response = api.call("POST", "/v2/customers", json=body)
    assert response.status_code == 400
    assert needle in response.json()[0]["message"]


def test_v2_bad_json_is_400(api: Client) -> None:
    response = api.call("POST", "/v2/customers", data=b"{not json")
    assert response.status_code == 400
    assert response.json()[0]["status"] == 400


def test_v2_list_paging_and_204(api: Client, sandbox: SandboxHandle) -> None:
    sandbox.store.seed([person(n) for n in range(5)])
    page = api.call("GET", "/v2/customers", params={"page": 2, "limit": 2})
    assert [c["email"] for c in page.json()] == ["user2@example.com", "user3@example.com"]
    past = api.call("GET", "/v2/customers", params={"page": 4, "limit": 2})
    assert past.status_code == 204
    assert past.content == b""
    assert api.call("GET", "/v2/customers", params={"email": "nobody@x.io"}).status_code == 204
    found = api.call("GET", "/v2/customers", params={"email": "USER4@example.com"}).json()
    assert [c["email"] for c in found] == ["user4@example.com"]
    assert api.call("GET", "/v2/customers", params={"limit": 0}).status_code == 400


# -- V3 ---------------------------------------------------------------------------------------------
ADDRESS = {
    "first_name": "A",
    "last_name": "B",
    "address1": "1 Main St",
    "city": "Austin",
    "country_code": "US",
}


def test_v3_create_batch(api: Client) -> None:
    response = api.call("POST", "/v3/customers", json=[person(1, addresses=[ADDRESS]), person(2)])
    assert response.status_code == 200
    body = response.json()
    assert body["meta"] == {}
    first = body["data"][0]
    assert first["addresses"][0]["id"] >= 1
    assert first["address_count"] == 1
    assert {"id", "date_created", "date_modified", "authentication", "attribute_count"} <= first.keys()


def test_v3_batch_of_eleven_is_413(api: Client, sandbox: SandboxHandle) -> None:
    response = api.call("POST", "/v3/customers", json=[person(n) for n in range(11)])
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert sandbox.store.count() == 0


def test_v3_422_names_index_and_field(api: Client) -> None:
    response = api.call(
        "POST", "/v3/customers", json=[person(1), person(2, email="x"), person(3, phone="9" * 51)]
    )
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == 422
    assert {"1.email", "2.phone"} <= body["errors"].keys()


def test_v3_duplicates_in_batch_and_vs_store(api: Client, sandbox: SandboxHandle) -> None:
    sandbox.store.seed([person(1)])
    against_store = api.call("POST", "/v3/customers", json=[person(2), person(1, email="User1@Example.com")])
    assert against_store.status_code == 422
    assert "already in use" in against_store.json()["errors"][".customer_create"]
    in_batch = api.call("POST", "/v3/customers", json=[person(3), person(3, email="USER3@example.com")])
    assert in_batch.status_code == 422
    assert "already in use" in in_batch.json()["errors"][".customer_create"]
    assert sandbox.store.count() == 1


def test_v3_list_filters_and_pagination(api: Client, sandbox: SandboxHandle) -> None:
    sandbox.store.seed([person(n) for n in range(1, 6)])
    page = api.call("GET", "/v3/customers", params={"limit": 2, "page": 3}).json()
    assert [c["id"] for c in page["data"]] == [5]
    assert page["meta"]["pagination"]["total_pages"] == 3
    assert page["meta"]["pagination"]["total"] == 5
    found = api.call("GET", "/v3/customers", params={"email:in": "USER2@example.com,user4@example.com"})
    assert [c["email"] for c in found.json()["data"]] == ["user2@example.com", "user4@example.com"]
    by_id = api.call("GET", "/v3/customers", params={"id:in": "3,1"}).json()["data"]
    assert [c["id"] for c in by_id] == [1, 3]
    assert api.call("GET", "/v3/customers", params={"date_created:min": "2999-01-01"}).json()["data"] == []
    for bad in ({"limit": 0}, {"limit": 251}, {"limit": "abc"}, {"page": -1}):
        assert api.call("GET", "/v3/customers", params=bad).status_code == 422


def test_v3_update(api: Client, sandbox: SandboxHandle) -> None:
    created = api.call("POST", "/v3/customers", json=[person(1), person(2)]).json()["data"]
    time.sleep(1.01)
    updated = api.call("PUT", "/v3/customers", json=[{"id": created[0]["id"], "last_name": "Renamed"}])
    assert updated.status_code == 200
    data = updated.json()["data"][0]
    assert data["last_name"] == "Renamed"
    assert data["date_modified"] > created[0]["date_modified"]
    unknown = api.call("PUT", "/v3/customers", json=[{"id": 999, "last_name": "x"}])
    assert unknown.status_code == 422
    taken = api.call("PUT", "/v3/customers", json=[{"id": created[1]["id"], "email": "USER1@example.com"}])
    assert taken.status_code == 422
    assert "already in use" in json.dumps(taken.json())


# -- quota ------------------------------------------------------------------------------------------
def test_quota_429_headers_and_window_reset(bigcommerce_sandbox: SandboxHandle) -> None:
    bigcommerce_sandbox.store.configure(quota=3, window_ms=300)
    api = Client(bigcommerce_sandbox)
    lefts = [api.call("GET", "/v3/customers").headers["X-Rate-Limit-Requests-Left"] for _ in range(3)]
    assert lefts == ["2", "1", "0"]
    before = api.call("POST", "/v3/customers", json=[person(1)])
    assert before.status_code == 429
    assert all(h in before.headers for h in RATE_HEADERS)
    assert before.headers["X-Rate-Limit-Requests-Quota"] == "3"
    assert 0 < int(before.headers["X-Rate-Limit-Time-Reset-Ms"]) <= 300
    assert before.headers["X-Retry-After"] == "1"
    assert bigcommerce_sandbox.store.count() == 0  # a refused request writes nothing
    time.sleep(int(before.headers["X-Rate-Limit-Time-Reset-Ms"]) / 1000 + 0.02)
    after = api.call("GET", "/v3/customers")
    assert after.status_code == 200
    assert after.headers["X-Rate-Limit-Requests-Left"] == "2"
    assert bigcommerce_sandbox.store.stats()["rate_limited"] == 1


def test_quota_is_shared_by_all_clients(bigcommerce_sandbox: SandboxHandle) -> None:
    bigcommerce_sandbox.store.configure(quota=4, window_ms=10_000)
    one, two = Client(bigcommerce_sandbox), Client(bigcommerce_sandbox)
    statuses = [c.call("GET", "/v2/time").status_code for c in (one, two, one, two, one, two)]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_latency_overlaps_concurrent_requests(bigcommerce_sandbox: SandboxHandle) -> None:
    bigcommerce_sandbox.store.configure(quota=0, latency_ms=300)
    api = Client(bigcommerce_sandbox)
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(
                lambda _: requests.get(f"{api.base}/v2/time", headers=api.session.headers).status_code,
                range(8),
            )
        )
    assert results == [200] * 8
    assert 0.3 <= time.monotonic() - started < 1.5


# -- faults -----------------------------------------------------------------------------------------
def force(sandbox: SandboxHandle, *kinds: str) -> None:
    sandbox.store.faults.force(*kinds)


def test_fault_error_before_write(api: Client, sandbox: SandboxHandle) -> None:
    force(sandbox, "error_before_write")
    response = api.call("POST", "/v3/customers", json=[person(1)])
    assert response.status_code in (500, 502, 503)
    assert sandbox.store.count() == 0
    assert sandbox.store.stats()["faults"] == {"error_before_write": 1}


def test_fault_rate_limit_429_with_and_without_headers(api: Client, sandbox: SandboxHandle) -> None:
    force(sandbox, "rate_limit_429", "rate_limit_429_bare")
    with_headers = api.call("POST", "/v3/customers", json=[person(1)])
    assert with_headers.status_code == 429
    assert "X-Retry-After" in with_headers.headers
    assert with_headers.headers["X-Rate-Limit-Requests-Left"] == "0"
    bare = api.call("POST", "/v3/customers", json=[person(1)])
    assert bare.status_code == 429
    assert not any(h in bare.headers for h in (*RATE_HEADERS, "X-Retry-After"))
    assert sandbox.store.count() == 0


def test_fault_malformed_writes_nothing(api: Client, sandbox: SandboxHandle) -> None:
    force(sandbox, "malformed")
    response = api.call("POST", "/v3/customers", json=[person(1)])
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert sandbox.store.count() == 0


def test_fault_commit_then_500(api: Client, sandbox: SandboxHandle) -> None:
    force(sandbox, "commit_then_500")
    response = api.call("POST", "/v3/customers", json=[person(1)])
    assert response.status_code == 500
    assert sandbox.store.count() == 1


def test_fault_commit_then_drop(api: Client, sandbox: SandboxHandle) -> None:
    force(sandbox, "commit_then_drop")
    with pytest.raises(requests.ConnectionError):
        api.call("POST", "/v2/customers", json=person(1))
    assert sandbox.store.count() == 1
    assert api.call("GET", "/v2/customers/count").json() == {"count": 1}  # the server still serves


def test_fault_slow_commits_and_answers_late(api: Client, sandbox: SandboxHandle) -> None:
    sandbox.store.configure(slow_s=1.0)
    force(sandbox, "slow")
    with pytest.raises(requests.Timeout):
        api.call("POST", "/v3/customers", json=[person(1)], timeout=0.3)
    assert sandbox.store.count() == 1


def test_fault_rates_are_deterministic_and_configurable_over_http(sandbox: SandboxHandle) -> None:
    admin = f"{sandbox.url}/__sandbox"

    def run() -> list[int]:
        requests.post(f"{admin}/reset", timeout=5)
        config = {"quota": 0, "fault_rate": 0.5, "fault_kinds": "error_before_write,rate_limit_429_bare"}
        assert requests.put(f"{admin}/config", json={**config, "fault_seed": 3}, timeout=5).ok
        api = Client(sandbox)
        return [api.call("GET", "/v2/time").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert 200 in first
    assert any(status >= 429 for status in first)
    assert requests.put(f"{admin}/config", json={"faults": {"nope": 1}}, timeout=5).status_code == 400


def test_non_atomic_batches(api: Client, sandbox: SandboxHandle) -> None:
    sandbox.store.configure(non_atomic_batches=True)
    response = api.call("POST", "/v3/customers", json=[person(1), person(2, email="bad"), person(3)])
    assert response.status_code == 422
    assert [c["email"] for c in sandbox.store.all_customers()] == ["user1@example.com"]


# -- admin ------------------------------------------------------------------------------------------
def test_admin_routes(sandbox: SandboxHandle) -> None:
    admin = f"{sandbox.url}/__sandbox"
    seeded = requests.post(f"{admin}/seed", json=[person(1), person(2)], timeout=5)
    assert seeded.ok
    dup = requests.post(f"{admin}/seed", json={"customers": [person(1)], "allow_duplicates": True}, timeout=5)
    assert dup.ok
    assert len(requests.get(f"{admin}/customers", timeout=5).json()["data"]) == 3
    Client(sandbox).call("GET", "/v3/customers")
    stats = requests.get(f"{admin}/stats", timeout=5).json()
    assert stats["requests"] == {"GET /v3/customers": 1}
    assert stats["customers"] == 3
    assert stats["emails_with_duplicates"] == {"user1@example.com": 2}
    assert requests.put(f"{admin}/config", json={"latency_ms": 5}, timeout=5).json()["latency_ms"] == 5
    assert requests.post(f"{admin}/reset", timeout=5).ok
    assert requests.get(f"{admin}/stats", timeout=5).json()["customers"] == 0


# -- robustness -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("POST", "/v3/customers", b"{oops"),
        ("POST", "/v3/customers", b'{"email": "a@b.co"}'),
        ("POST", "/v3/customers", b"[1, 2, null]"),
        ("POST", "/v3/customers", b"[]"),
        ("POST", "/v3/customers", b'[{"email": "a@b.co", "first_name": "A", "last_name": "B", "phone": 5}]'),
        ("POST", "/v3/customers", b"[" * 100_000),
        ("POST", "/v3/customers", b'[{"store_credit_amounts": [{"amount": NaN}]}]'),
        ("POST", "/v3/customers", b"\xff\xfe\x00"),
        ("PUT", "/v3/customers", b'[{"id": "1"}]'),
        ("PUT", "/v3/customers", b'[{"id": 99999999999999999999}]'),
        ("POST", "/v2/customers", b'"just a string"'),
        ("POST", "/v2/customers", b'{"email": ["a"], "first_name": {}, "last_name": 1}'),
        (
            "POST",
            "/v2/customers",
            b'{"email": "a@b.co", "first_name": "A", "last_name": "B", "store_credit": "x"}',
        ),
        (
            "POST",
            "/v2/customers",
            b'{"email": "a@b.co", "first_name": "A", "last_name": "B", "_authentication": 1}',
        ),
        ("POST", "/v2/customers", b" " * 2_000_000),
        ("GET", "/v2/customers/abc", b""),
        ("GET", "/v3/customers?limit=1e3&page=%00", b""),
        ("GET", "/v3/customers?date_modified:min=99999-99-99", b""),
        ("GET", "/v3/customers?id:in=1,,x", b""),
        ("DELETE", "/v3/customers", b""),
        ("GET", "/v3/nothing-here", b""),
    ],
)
def test_malformed_requests_get_documented_4xx(api: Client, method: str, path: str, payload: bytes) -> None:
    response = api.call(method, path, data=payload)
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    if "/v2/" in path:
        assert isinstance(body, list)
        assert body[0]["status"] == response.status_code
    else:
        assert body["status"] == response.status_code


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
customer_like = st.fixed_dictionaries(
    {},
    optional={
        "email": st.one_of(st.emails(), st.text(max_size=5), st.integers()),
        "first_name": st.one_of(st.text(max_size=120), st.none(), st.integers()),
        "last_name": st.text(max_size=3),
        "addresses": st.lists(json_values, max_size=3),
        "authentication": json_values,
        "customer_group_id": json_values,
        "id": st.integers(),
    },
)


@settings(
    max_examples=scaled(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(["/v3/customers", "/v2/customers"]),
    method=st.sampled_from(["POST", "PUT"]),
    body=st.one_of(json_values, st.lists(customer_like, max_size=12), customer_like),
)
def test_random_json_never_5xx(api: Client, path: str, method: str, body: Any) -> None:
    response = api.call(method, path, data=json.dumps(body))
    assert response.status_code < 500, response.text


# -- persistence and CLI ----------------------------------------------------------------------------
def test_sqlite_persistence_across_restart(tmp_path: Any) -> None:
    db = str(tmp_path / "sandbox.db")
    with run_sandbox(db_path=db, quota=0) as first:
        assert Client(first).call("POST", "/v3/customers", json=[person(1)]).status_code == 200
    with run_sandbox(db_path=db, quota=0) as second:
        again = Client(second)
        assert again.call("GET", "/v2/customers/count").json() == {"count": 1}
        assert again.call("POST", "/v3/customers", json=[person(1)]).status_code == 422


def test_cli_starts_and_answers(tmp_path: Any) -> None:
    argv = command(store_hash="clistore", token="tok", quota=5, db=tmp_path / "cli.db")
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"sandbox listening on (http://127\.0\.0\.1:(\d+)) store_hash=clistore", line)
        assert match, line + (process.stderr.read() if process.poll() is not None and process.stderr else "")
        url = f"{match.group(1)}/stores/clistore"
        response = requests.get(f"{url}/v3/customers?limit=1", headers={"X-Auth-Token": "tok"}, timeout=5)
        assert response.status_code == 200
        assert response.headers["X-Rate-Limit-Requests-Quota"] == "5"
    finally:
        process.terminate()
        process.wait(timeout=10)
