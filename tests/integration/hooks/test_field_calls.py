"""The hook's calls for metafields, segments and shopper profiles over HTTP, against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_bigcommerce.api import MAX_STORE_SEGMENTS, METAFIELD_BATCH_SIZE, SEGMENT_PROFILES_BATCH_SIZE
from airflow_bigcommerce.exceptions import BigCommerceAPIError
from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration


def _customers(hook: BigCommerceHook, count: int) -> list[int]:
    ids: list[int] = []
    for start in range(0, count, 10):
        batch = [
            {"email": f"c{n}@example.com", "first_name": "C", "last_name": str(n)}
            for n in range(start, min(count, start + 10))
        ]
        ids.extend(int(c["id"]) for c in hook.create_customers(batch))
    return ids


def _metafield(customer_id: int, key: str, value: str) -> dict[str, Any]:
    return {
        "resource_id": customer_id,
        "namespace": "crm",
        "key": key,
        "value": value,
        "permission_set": "app_only",
    }


def test_metafields_batch_create_find_update_delete(bigcommerce_sandbox: SandboxHandle) -> None:
    hook = BigCommerceHook()
    one, two = _customers(hook, 2)
    created = hook.create_metafields([_metafield(one, "tier", "gold"), _metafield(two, "tier", "silver")])
    assert [(m["resource_id"], m["value"], m["permission_set"]) for m in created] == [
        (one, "gold", "app_only"),
        (two, "silver", "app_only"),
    ]
    assert [m["value"] for m in hook.find_metafields([two])] == ["silver"]
    assert hook.find_metafields([one, two], namespace="other") == []
    hook.update_metafields([{"id": created[0]["id"], "value": "platinum"}])
    assert [m["value"] for m in hook.find_metafields([one])] == ["platinum"]
    assert hook.delete_metafields([created[1]["id"]]) == [created[1]["id"]]
    assert hook.find_metafields([two]) == []


def test_metafields_split_into_batches_and_a_taken_key_fails_only_its_item(
    bigcommerce_sandbox: SandboxHandle,
) -> None:
    hook = BigCommerceHook()
    (cid,) = _customers(hook, 1)
    many = [_metafield(cid, f"k{n}", "v") for n in range(METAFIELD_BATCH_SIZE + 1)]
    assert len(hook.create_metafields(many)) == METAFIELD_BATCH_SIZE + 1
    assert bigcommerce_sandbox.store.stats()["requests"]["POST /v3/customers/metafields"] == 2
    with pytest.raises(BigCommerceAPIError) as refused:
        hook.create_metafields([_metafield(cid, "k0", "again"), _metafield(cid, "new", "v")])
    assert refused.value.status == 422
    assert "0.key" in refused.value.errors and "1.key" not in refused.value.errors
    assert {m["key"] for m in hook.find_metafields([cid])} >= {"new"}  # the good item was written


def test_metafield_limits_refused(bigcommerce_sandbox: SandboxHandle) -> None:
    hook = BigCommerceHook()
    (cid,) = _customers(hook, 1)
    for bad in ({"value": ""}, {"key": "k" * 65}, {"permission_set": "public"}):
        with pytest.raises(BigCommerceAPIError) as refused:
            hook.create_metafields([{**_metafield(cid, "k", "v"), **bad}])
        assert refused.value.status == 422


def test_segmentation_is_refused_below_enterprise(bigcommerce_sandbox: SandboxHandle) -> None:
    hook = BigCommerceHook()
    with pytest.raises(BigCommerceAPIError) as refused:
        hook.list_segments()
    assert refused.value.status == 403
    assert "Enterprise" in str(refused.value)


def test_segments_profiles_and_memberships(bigcommerce_sandbox: SandboxHandle) -> None:
    bigcommerce_sandbox.store.configure(segments_enabled=True)
    hook = BigCommerceHook()
    ids = _customers(hook, SEGMENT_PROFILES_BATCH_SIZE + 5)
    (vip,) = hook.create_segments(["VIP"])
    assert [s["name"] for s in hook.list_segments()] == ["VIP"]
    with pytest.raises(BigCommerceAPIError) as taken:
        hook.create_segments(["VIP"])
    assert taken.value.status == 409

    assert hook.find_shopper_profiles(ids) == {}
    profiles = hook.create_shopper_profiles(ids)
    assert sorted(profiles) == ids
    assert hook.find_shopper_profiles(ids[:3]) == {i: profiles[i] for i in ids[:3]}

    first = hook.add_segment_profiles(vip["id"], [profiles[i] for i in ids[:3]])
    assert first.added == [profiles[i] for i in ids[:3]] and first.already_members == []
    again = hook.add_segment_profiles(vip["id"], [profiles[i] for i in ids])  # 55: two requests
    assert again.already_members == [profiles[i] for i in ids[:3]]
    assert again.added == [profiles[i] for i in ids[3:]]
    stats = bigcommerce_sandbox.store.stats()["requests"]
    assert stats["POST /v3/segments/{id}/shopper-profiles"] == 3
    assert len(hook.list_segment_profiles(vip["id"])) == len(ids)

    hook.remove_segment_profiles(vip["id"], [profiles[ids[0]]])
    members = {p["customer_id"] for p in hook.list_segment_profiles(vip["id"])}
    assert members == set(ids[1:])


def test_segment_cap_and_unfiltered_delete(bigcommerce_sandbox: SandboxHandle) -> None:
    store = bigcommerce_sandbox.store
    store.configure(segments_enabled=True)
    for start in range(0, MAX_STORE_SEGMENTS, 50):
        store.segments.create([{"name": f"s{n}"} for n in range(start, start + 50)])
    hook = BigCommerceHook()
    with pytest.raises(BigCommerceAPIError) as full:
        hook.create_segments(["one too many"])
    assert full.value.status == 422
    answer = requests.delete(
        f"{bigcommerce_sandbox.api_url}/v3/segments", headers=bigcommerce_sandbox.headers, timeout=10
    )
    assert answer.status_code == 400
    assert len(store.segments.everything()["segments"]) == MAX_STORE_SEGMENTS


def test_form_fields_store_credit_and_welcome_emails(bigcommerce_sandbox: SandboxHandle) -> None:
    sandbox = bigcommerce_sandbox
    defined = requests.post(f"{sandbox.url}/__sandbox/form-fields", json=[{"name": "License ID"}], timeout=10)
    assert defined.status_code == 200
    hook = BigCommerceHook()
    created = hook.create_customers(
        [
            {
                "email": "b2b@example.com",
                "first_name": "B",
                "last_name": "Two",
                "form_fields": [{"name": "License ID", "value": "L-1"}],
                "store_credit_amounts": [{"amount": 12.5}],
                "trigger_account_created_notification": True,
            },
            {"email": "quiet@example.com", "first_name": "Q", "last_name": "Uiet"},
        ]
    )
    assert sandbox.store.stats()["account_created_emails"] == 1
    found = hook.find_customers_by_email(["b2b@example.com"], include=("formfields",))
    expected = {"name": "License ID", "value": "L-1", "customer_id": created[0]["id"]}
    assert found[0]["form_fields"] == [expected]
    assert found[0]["store_credit_amounts"] == [{"amount": 12.5}]
    with pytest.raises(BigCommerceAPIError) as refused:
        hook.update_customers([{"id": created[1]["id"], "form_fields": [{"name": "Nope", "value": "x"}]}])
    assert refused.value.status == 422
    assert "Nope" in str(refused.value)
