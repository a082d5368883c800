"""Spec conformance of the metafield and segmentation routes: no server error, answers in the spec's shapes.

The JSON schemas below are transcribed from customers.v3.yml (``metafield_Full``,
``MetaFieldCollectionResponse``, ``MetaFieldCollectionResponsePartialSuccess_POST_PUT``) and
segments.v3.yml (``Segment``, ``ShopperProfile``, the 409 bodies); the tests send hypothesis-made
bodies and query strings to every new route and check each answer against them.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled

from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration

_TEXT = {"type": "string"}
_WHEN = {"type": "string", "format": "date-time"}
PAGINATION = {
    "type": "object",
    "properties": {
        k: {"type": "integer"} for k in ("total", "count", "per_page", "current_page", "total_pages")
    },
}
COLLECTION_META = {"type": "object", "properties": {"pagination": PAGINATION}}
METAFIELD = {
    "type": "object",
    "required": ["id", "key", "value", "namespace", "permission_set", "resource_type", "resource_id"],
    "properties": {
        "id": {"type": "integer"},
        "key": {"type": "string", "minLength": 1, "maxLength": 64},
        "value": {"type": "string", "minLength": 1, "maxLength": 65535},
        "namespace": {"type": "string", "minLength": 1, "maxLength": 64},
        "permission_set": {
            "enum": ["app_only", "read", "write", "read_and_sf_access", "write_and_sf_access"]
        },
        "resource_type": {"enum": ["category", "brand", "product", "variant", "customer"]},
        "resource_id": {"type": "integer", "minimum": 0, "maximum": 10000000000},
        "description": {"type": "string", "maxLength": 255},
        "date_created": _WHEN,
        "date_modified": _WHEN,
    },
}
SEGMENT = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "string", "format": "uuid"}, "name": _TEXT, "description": _TEXT},
}
PROFILE = {
    "type": "object",
    "required": ["id", "customer_id"],
    "properties": {"id": {"type": "string"}, "customer_id": {"type": "integer"}, "created_at": _WHEN},
}


def _list_of(item: dict[str, Any], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"type": "array", "items": item}},
    }
    if meta is not None:
        schema["properties"]["meta"] = meta
    return schema


ERROR = {
    "type": "object",
    "required": ["status", "title"],
    "properties": {
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "type": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
BATCH_ERROR = {
    "type": "object",
    "required": ["data", "errors", "meta"],
    "properties": {
        "data": {"type": "array"},
        "errors": {"type": "array", "minItems": 1, "items": ERROR},
        "meta": {
            "type": "object",
            "required": ["total", "success", "failed"],
            "properties": {k: {"type": "integer"} for k in ("total", "success", "failed")},
        },
    },
}
#: Route -> the schema of its 2xx answer (None: no body).
ROUTES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("GET", "/v3/customers/metafields"): _list_of(METAFIELD, COLLECTION_META),
    ("POST", "/v3/customers/metafields"): _list_of(METAFIELD),
    ("PUT", "/v3/customers/metafields"): _list_of(METAFIELD),
    ("DELETE", "/v3/customers/metafields"): _list_of({"type": "integer"}),
    ("GET", "/v3/customers/{cid}/metafields"): _list_of(METAFIELD, COLLECTION_META),
    ("POST", "/v3/customers/{cid}/metafields"): {"type": "object", "properties": {"data": METAFIELD}},
    ("GET", "/v3/segments"): _list_of(SEGMENT, COLLECTION_META),
    ("POST", "/v3/segments"): _list_of(SEGMENT),
    ("PUT", "/v3/segments"): _list_of(SEGMENT),
    ("DELETE", "/v3/segments"): None,
    ("GET", "/v3/segments/{sid}/shopper-profiles"): _list_of(PROFILE, COLLECTION_META),
    ("POST", "/v3/segments/{sid}/shopper-profiles"): _list_of(PROFILE),
    ("DELETE", "/v3/segments/{sid}/shopper-profiles"): None,
    ("GET", "/v3/shopper-profiles"): _list_of(PROFILE, COLLECTION_META),
    ("POST", "/v3/shopper-profiles"): _list_of(PROFILE),
    ("GET", "/v3/shopper-profiles/{pid}/segments"): _list_of(SEGMENT, COLLECTION_META),
}

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**11) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
#: Bodies close to valid ones, so the fuzzing also reaches the code behind validation.
METAFIELD_ITEM = st.fixed_dictionaries(
    {
        "namespace": st.sampled_from(["crm", "", "n" * 65]),
        "key": st.sampled_from(["tier", "k", "x" * 65]),
        "value": st.sampled_from(["gold", "", "v"]),
        "permission_set": st.sampled_from(["app_only", "read", "public"]),
    },
    optional={"resource_id": st.sampled_from([1, 2, 999, -1]), "id": st.sampled_from([1, 2, 999])},
)
NEAR = st.one_of(
    st.lists(METAFIELD_ITEM, max_size=3),
    st.lists(st.fixed_dictionaries({"name": st.sampled_from(["VIP", "vip", "", "New"])}), max_size=3),
    st.lists(st.fixed_dictionaries({"customer_id": st.sampled_from([1, 2, 999, 0])}), max_size=3),
    st.lists(st.sampled_from(["p0", "p1", "not-a-profile"]), max_size=3),
    st.lists(st.integers(0, 5), max_size=3),
)
QUERY = st.dictionaries(
    st.sampled_from(["page", "limit", "id:in", "key", "namespace:in", "resource_id:in"]),
    st.sampled_from(["1", "0", "250", "251", "x", "1,2", "crm", ""]),
    max_size=3,
)


def _prepare(sandbox: SandboxHandle) -> dict[str, str]:
    """A store with three customers, a metafield, a segment and two profiles (one in the segment)."""
    store = sandbox.store
    store.reset()
    store.configure(segments_enabled=True)
    people = [{"email": f"{n}@x.io", "first_name": "A", "last_name": "B"} for n in "abc"]
    one, two, three = (c["id"] for c in store.v3_create_customers(people))
    store.metafields.create_for(
        str(one), {"namespace": "crm", "key": "tier", "value": "gold", "permission_set": "app_only"}
    )
    (segment,) = store.segments.create([{"name": "VIP"}])["data"]
    profiles = store.segments.create_profiles([{"customer_id": one}, {"customer_id": two}])["data"]
    store.segments.add(segment["id"], [profiles[0]["id"]])
    return {
        "cid3": str(three),
        "cid": str(one),
        "sid": segment["id"],
        "pid": profiles[0]["id"],
        "p0": profiles[0]["id"],
        "p1": profiles[1]["id"],
    }


def _check(answer: requests.Response, schema: dict[str, Any] | None) -> None:
    assert answer.status_code < 500, answer.text
    if answer.status_code in (204,) or (schema is None and answer.ok):
        return
    body = answer.json()
    if answer.ok:
        assert schema is not None
        jsonschema.validate(body, schema, format_checker=jsonschema.FormatChecker())
    elif isinstance(body.get("errors"), list):
        jsonschema.validate(body, BATCH_ERROR)
    else:
        jsonschema.validate(body, ERROR)
        assert body["status"] == answer.status_code


@settings(
    max_examples=scaled(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=st.sampled_from(sorted(ROUTES)),
    body=st.one_of(JSON, NEAR),
    query=QUERY,
    enterprise=st.booleans(),
)
def test_new_routes_answer_in_the_spec_shapes(
    bigcommerce_sandbox_server: SandboxHandle,
    route: tuple[str, str],
    body: Any,
    query: dict[str, str],
    enterprise: bool,
) -> None:
    sandbox = bigcommerce_sandbox_server
    ids = _prepare(sandbox)
    sandbox.store.configure(segments_enabled=enterprise)
    if isinstance(body, list):  # point the near-valid profile ids at real ones
        body = [ids.get(item, item) if isinstance(item, str) else item for item in body]
    method, template = route
    path = template.format(**ids)
    options: dict[str, Any] = {"params": query, "headers": sandbox.headers, "timeout": 10}
    if method in ("POST", "PUT") or (method == "DELETE" and path.endswith("/customers/metafields")):
        options["json"] = body
    answer = requests.request(method, sandbox.api_url + path, **options)
    _check(answer, ROUTES[route])
    if not enterprise and ("segment" in path or "shopper" in path):
        assert answer.status_code == 403


def test_every_route_answers_on_a_valid_request(bigcommerce_sandbox: SandboxHandle) -> None:
    ids = _prepare(bigcommerce_sandbox)
    metafield = {"namespace": "crm", "key": "k2", "value": "v", "permission_set": "read"}
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/v3/customers/metafields"): [{**metafield, "resource_id": int(ids["cid"])}],
        ("PUT", "/v3/customers/metafields"): [{"id": 1, "value": "silver"}],
        ("DELETE", "/v3/customers/metafields"): [1],
        ("POST", "/v3/customers/{cid}/metafields"): {**metafield, "key": "k3"},
        ("POST", "/v3/segments"): [{"name": "New", "description": "d"}],
        ("PUT", "/v3/segments"): [{"id": ids["sid"], "name": "VIP 2"}],
        ("POST", "/v3/segments/{sid}/shopper-profiles"): [ids["p1"]],
        ("POST", "/v3/shopper-profiles"): [{"customer_id": int(ids["cid3"])}],
    }
    queries = {("DELETE", "/v3/segments/{sid}/shopper-profiles"): {"id:in": ids["p1"]}}
    for route, schema in ROUTES.items():
        method, template = route
        if route == ("DELETE", "/v3/segments"):
            continue  # checked last: it removes the segment the other routes use
        answer = requests.request(
            method,
            bigcommerce_sandbox.api_url + template.format(**ids),
            headers=bigcommerce_sandbox.headers,
            params=queries.get(route, {}),
            json=bodies.get(route),
            timeout=10,
        )
        assert answer.ok, (route, answer.status_code, answer.text)
        _check(answer, schema)
    gone = requests.delete(
        bigcommerce_sandbox.api_url + "/v3/segments",
        headers=bigcommerce_sandbox.headers,
        params={"id:in": ids["sid"]},
        timeout=10,
    )
    assert gone.status_code == 204
