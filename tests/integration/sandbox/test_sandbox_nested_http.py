"""Nested customer data over real HTTP on loopback: each endpoint family, its caps and its errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled

from airflow_bigcommerce.testing import SandboxHandle, run_sandbox

pytestmark = pytest.mark.integration


def person(n: int, **extra: Any) -> dict[str, Any]:
    return {"email": f"user{n}@example.com", "first_name": f"First{n}", "last_name": f"Last{n}", **extra}


def address(customer_id: int | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": "Ann",
        "last_name": "Lee",
        "address1": "1 Main St",
        "city": "Austin",
        "state_or_province": "Texas",
        "postal_code": "78701",
        "country_code": "US",
        **extra,
    }
    if customer_id is not None:
        data["customer_id"] = customer_id
    return data


class Client:
    """The sandbox's API and admin routes for the tests."""

    def __init__(self, sandbox: SandboxHandle) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.session.headers.update(sandbox.headers)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.sandbox.api_url + path, **kwargs)

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.sandbox.url}/__sandbox{path}", timeout=10, **kwargs)

    def customer(self, n: int, **extra: Any) -> dict[str, Any]:
        answer = self.call("POST", "/v3/customers", json=[person(n, **extra)])
        assert answer.status_code == 200, answer.text
        created: dict[str, Any] = answer.json()["data"][0]
        return created


@pytest.fixture
def api(bigcommerce_sandbox: SandboxHandle) -> Iterator[Client]:
    bigcommerce_sandbox.store.configure(quota=0)
    client = Client(bigcommerce_sandbox)
    yield client
    client.session.close()


# -- customers with nested data --------------------------------------------------------------------
def test_include_addresses_and_attributes_with_filters(api: Client) -> None:
    (tier,) = api.admin("POST", "/attributes", json=[{"name": "tier", "type": "string"}]).json()["data"]
    created = api.customer(
        1, addresses=[address()], attributes=[{"attribute_id": tier["id"], "attribute_value": "gold"}]
    )
    api.customer(2)
    listed = api.call(
        "GET", "/v3/customers", params={"include": "addresses,attributes", "id:in": str(created["id"])}
    ).json()
    (only,) = listed["data"]
    assert only["addresses"][0]["city"] == "Austin"
    assert only["attributes"][0]["attribute_value"] == "gold"
    plain = api.call("GET", "/v3/customers", params={"email:in": "user1@example.com"}).json()["data"][0]
    assert "addresses" not in plain


def test_put_customers_refuses_subresources(api: Client) -> None:
    created = api.customer(1)
    answer = api.call("PUT", "/v3/customers", json=[{"id": created["id"], "attributes": []}])
    assert answer.status_code == 422
    assert "0.attributes" in answer.json()["errors"]


# -- addresses -------------------------------------------------------------------------------------
def test_v3_addresses_endpoints(api: Client) -> None:
    one, two = api.customer(1)["id"], api.customer(2)["id"]
    posted = api.call("POST", "/v3/customers/addresses", json=[address(one), address(two)])
    assert posted.status_code == 200, posted.text
    ids = [a["id"] for a in posted.json()["data"]]
    duplicate = api.call("POST", "/v3/customers/addresses", json=[address(one)])
    assert duplicate.status_code == 200
    assert duplicate.json()["data"] == []
    got = api.call("GET", "/v3/customers/addresses", params={"customer_id:in": f"{one},{two}", "limit": 1})
    assert got.json()["meta"]["pagination"]["total"] == 2
    assert len(got.json()["data"]) == 1
    put = api.call("PUT", "/v3/customers/addresses", json=[{"id": ids[0], "address2": "Apt 9"}])
    assert put.json()["data"][0]["address2"] == "Apt 9"
    code = api.call("POST", "/v3/customers/addresses", json=[address(one, state_or_province="TX")])
    assert code.status_code == 422
    assert "0.state_or_province" in code.json()["errors"]
    assert api.call("DELETE", "/v3/customers/addresses").status_code == 422
    assert len(api.call("GET", "/v3/customers/addresses").json()["data"]) == 2
    assert api.call("DELETE", "/v3/customers/addresses", params={"id:in": str(ids[1])}).status_code == 204
    assert [a["id"] for a in api.call("GET", "/v3/customers/addresses").json()["data"]] == [ids[0]]


def test_v2_addresses_and_customer_edits(api: Client) -> None:
    created = api.call("POST", "/v2/customers", json=person(1)).json()
    cid = created["id"]
    assert api.call("GET", f"/v2/customers/{cid}/addresses").status_code == 204
    body = {
        "first_name": "A",
        "last_name": "B",
        "street_1": "1 Main",
        "city": "Austin",
        "state": "Texas",
        "zip": "78701",
        "country": "United States",
        "phone": "",
    }
    added = api.call("POST", f"/v2/customers/{cid}/addresses", json=body)
    assert added.status_code == 200, added.text
    aid = added.json()["id"]
    assert (
        api.call("PUT", f"/v2/customers/{cid}/addresses/{aid}", json={"zip": "78702"}).json()["zip"]
        == "78702"
    )
    assert api.call("GET", f"/v2/customers/{cid}/addresses").json()[0]["zip"] == "78702"
    assert api.call("DELETE", f"/v2/customers/{cid}/addresses").status_code == 400
    assert api.call("DELETE", f"/v2/customers/{cid}/addresses/{aid}").status_code == 204
    assert api.call("PUT", f"/v2/customers/{cid}", json={"notes": "vip"}).json()["notes"] == "vip"
    assert api.call("DELETE", "/v2/customers").status_code == 400
    assert api.call("DELETE", f"/v2/customers/{cid}").status_code == 204
    assert api.call("GET", f"/v2/customers/{cid}").status_code == 404


# -- attributes ------------------------------------------------------------------------------------
def test_attributes_and_values(api: Client) -> None:
    cid = api.customer(1)["id"]
    posted = api.call("POST", "/v3/customers/attributes", json=[{"name": "points", "type": "number"}])
    (points,) = posted.json()["data"]
    assert (
        api.call("GET", "/v3/customers/attributes", params={"name": "points"}).json()["data"][0]["type"]
        == "number"
    )
    renamed = api.call("PUT", "/v3/customers/attributes", json=[{"id": points["id"], "name": "loyalty"}])
    assert renamed.json()["data"][0]["name"] == "loyalty"
    retyped = api.call(
        "PUT", "/v3/customers/attributes", json=[{"id": points["id"], "name": "x", "type": "string"}]
    )
    assert retyped.status_code == 422
    bad = api.call(
        "PUT",
        "/v3/customers/attribute-values",
        json=[{"attribute_id": points["id"], "value": "lots", "customer_id": cid}],
    )
    assert bad.status_code == 422
    good = api.call(
        "PUT",
        "/v3/customers/attribute-values",
        json=[{"attribute_id": points["id"], "value": "12", "customer_id": cid}],
    )
    assert good.status_code == 200, good.text
    values = api.call("GET", "/v3/customers/attribute-values", params={"customer_id:in": str(cid)}).json()[
        "data"
    ]
    assert [v["attribute_value"] for v in values] == ["12"]
    assert api.call("DELETE", "/v3/customers/attributes").status_code == 422
    assert (
        api.call("DELETE", "/v3/customers/attributes", params={"id:in": str(points["id"])}).status_code == 204
    )
    assert api.call("GET", "/v3/customers/attribute-values").json()["data"] == []


# -- groups ----------------------------------------------------------------------------------------
def test_customer_groups(api: Client) -> None:
    assert api.call("GET", "/v2/customer_groups").status_code == 204
    assert api.admin("POST", "/groups", json={"groups": [{"name": "Wholesale"}]}).status_code == 200
    created = api.call("POST", "/v2/customer_groups", json={"name": "Retail"})
    assert created.status_code == 200
    named = api.call("GET", "/v2/customer_groups", params={"name": "wholesale"})
    assert [g["name"] for g in named.json()] == ["Wholesale"]
    assert api.call("GET", f"/v2/customer_groups/{created.json()['id']}").json()["name"] == "Retail"
    assert api.call("GET", "/v2/customer_groups", params={"page": 2}).status_code == 204
    assert api.call("GET", "/v2/customer_groups/count").json() == {"count": 2}
    api.sandbox.store.configure(customer_groups_enabled=False)
    refused = api.call("GET", "/v2/customer_groups")
    assert refused.status_code == 403
    assert "Plus" in refused.json()[0]["message"]
    assert [g["name"] for g in api.admin("GET", "/groups").json()["data"]] == ["Wholesale", "Retail"]


# -- subscribers -----------------------------------------------------------------------------------
def test_subscribers(api: Client) -> None:
    posted = api.call(
        "POST",
        "/v3/customers/subscribers",
        json={"email": "a@example.com", "consents": ["marketing_newsletter"]},
    )
    assert posted.status_code == 200, posted.text
    sid = posted.json()["data"]["id"]
    assert api.call("POST", "/v3/customers/subscribers", json={"email": "a@example.com"}).status_code == 409
    found = api.call("GET", "/v3/customers/subscribers", params={"email": "a@example.com"}).json()["data"]
    assert [s["consents"] for s in found] == [["marketing_newsletter"]]
    put = api.call(
        "PUT",
        f"/v3/customers/subscribers/{sid}",
        json={"consents": ["marketing_newsletter", "abandoned_cart"]},
    )
    assert put.json()["data"]["consents"] == ["marketing_newsletter", "abandoned_cart"]
    assert api.call("DELETE", "/v3/customers/subscribers").status_code == 400
    assert len(api.admin("GET", "/subscribers").json()["data"]) == 1
    assert (
        api.call("DELETE", "/v3/customers/subscribers", params={"email": "a@example.com"}).status_code == 204
    )
    assert api.call("GET", f"/v3/customers/subscribers/{sid}").status_code == 404


# -- channels and MSF ------------------------------------------------------------------------------
def test_channel_settings(api: Client) -> None:
    assert api.call("GET", "/v3/customers/settings/channels/1").json()["data"]["allow_global_logins"] is True
    assert api.call("GET", "/v3/customers/settings/channels/2").json()["data"]["allow_global_logins"] is False
    put = api.call("PUT", "/v3/customers/settings/channels/2", json={"allow_global_logins": True})
    assert put.json()["data"]["allow_global_logins"] is True
    assert api.call("GET", "/v3/customers/settings/channels/2").json()["data"]["allow_global_logins"] is True


def test_msf_mode_allows_one_email_per_channel() -> None:
    with run_sandbox(quota=0, msf=True) as sandbox:
        client = Client(sandbox)
        client.customer(1, channel_ids=[2], origin_channel_id=2)
        client.customer(1, channel_ids=[3], origin_channel_id=3)
        clash = client.call("POST", "/v3/customers", json=[person(1, channel_ids=[2])])
        assert clash.status_code == 422
        found = client.call("GET", "/v3/customers", params={"email:in": "user1@example.com"}).json()["data"]
        assert [c["origin_channel_id"] for c in found] == [2, 3]
        client.session.close()


# -- caps and robustness ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "cap"),
    [
        ("PUT", "/v3/customers/addresses", 3),
        ("POST", "/v3/customers/addresses", 10),
        ("PUT", "/v3/customers/attribute-values", 3),
    ],
)
def test_documented_caps_apply_to_the_real_paths(api: Client, method: str, path: str, cap: int) -> None:
    api.sandbox.store.configure(latency_ms=400)
    n = cap + 2
    start = threading.Barrier(n)

    def send(_: int) -> int:
        start.wait()
        return requests.request(
            method, api.sandbox.api_url + path, json=[], headers=api.sandbox.headers, timeout=10
        ).status_code

    with ThreadPoolExecutor(n) as pool:
        statuses = list(pool.map(send, range(n)))
    assert statuses.count(429) == 2
    assert api.sandbox.store.stats()["concurrency_429s"] == {f"{method} {path}": 2}


NESTED_PATHS = [
    "/v3/customers/addresses",
    "/v3/customers/attributes",
    "/v3/customers/attribute-values",
    "/v3/customers/subscribers",
    "/v3/customers/subscribers/1",
    "/v3/customers/settings/channels/1",
    "/v2/customer_groups",
    "/v2/customers/1",
    "/v2/customers/1/addresses",
    "/v2/customers/1/addresses/1",
    "/v2/customers/%C2%B2/addresses/%C2%B2",
    "/v3/customers/subscribers/%C2%B2",
    "/v3/customers/settings/channels/%C2%B2",
    "/v2/customer_groups/%C2%B2",
]
JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "customer_id",
        "id",
        "attribute_id",
        "value",
        "email",
        "name",
        "type",
        "consents",
        "state_or_province",
        "country_code",
        "first_name",
        "street_1",
        "allow_global_logins",
    ]
)


@settings(
    max_examples=scaled(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(NESTED_PATHS),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    body=JSONISH | st.lists(st.dictionaries(FIELDS, JSONISH, max_size=5), max_size=3),
    query=st.dictionaries(
        st.sampled_from(
            ["id:in", "customer_id:in", "email", "page", "limit", "name", "date_created:min", "x"]
        ),
        st.text(max_size=6),
        max_size=2,
    ),
)
def test_no_request_gets_a_5xx(api: Client, path: str, method: str, body: Any, query: dict[str, str]) -> None:
    api.sandbox.store.seed([person(1, addresses=[address()])], allow_duplicates=True)
    answer = api.call(method, path, json=body, params=query)
    assert answer.status_code < 500, answer.text


def test_admin_seed_routes_take_nested_data(api: Client) -> None:
    assert api.admin("POST", "/attributes", json={"attributes": "nope"}).status_code == 400
    (crm,) = api.admin(
        "POST", "/attributes", json={"attributes": [{"name": "crm_id", "type": "string"}]}
    ).json()["data"]
    seeded = api.admin(
        "POST",
        "/seed",
        json={
            "customers": [
                person(
                    1,
                    addresses=[address()],
                    attributes=[{"attribute_id": crm["id"], "attribute_value": "C-1"}],
                    channel_ids=[1],
                )
            ]
        },
    )
    assert seeded.status_code == 200, seeded.text
    (customer,) = api.admin("GET", "/customers").json()["data"]
    assert customer["addresses"][0]["state_or_province"] == "Texas"
    assert customer["attributes"][0]["attribute_value"] == "C-1"
    assert customer["channel_ids"] == [1]
    assert [a["name"] for a in api.admin("GET", "/attributes").json()["data"]] == ["crm_id"]
    api.sandbox.store.configure(customer_groups_enabled=False)
    assert api.admin("POST", "/groups", json=[{"name": "Wholesale"}]).status_code == 200
    assert api.admin("PUT", "/config", json={"msf": "yes"}).status_code == 400
