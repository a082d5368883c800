"""The sandbox's form fields, metafields and segments in process, and the in-process calls for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_bigcommerce.api import CONCURRENCY_CAPS, SEGMENT_CONCURRENCY
from airflow_bigcommerce.hooks.concurrency import DOCUMENTED_CAPS, endpoint_of
from airflow_bigcommerce.sandbox.__main__ import build_parser, config_from_args
from airflow_bigcommerce.sandbox.config import SandboxConfig
from airflow_bigcommerce.sandbox.state.errors import ApiError, BatchError
from airflow_bigcommerce.sandbox.store import SandboxStore
from airflow_bigcommerce.sandbox.traffic.concurrency import endpoint_key
from airflow_bigcommerce.sync.client import OutcomeUnknownError, RequestRejectedError
from airflow_bigcommerce.testing.in_process import InProcessStore

SEGMENT_ID = "0b6f1f5a-6a0c-4c1e-9a38-0d5bd1f0b1c7"


def person(n: int, **extra: object) -> dict[str, object]:
    return {"email": f"p{n}@example.com", "first_name": "P", "last_name": str(n), **extra}


@pytest.fixture
def store() -> SandboxStore:
    return SandboxStore(config=SandboxConfig(segments_enabled=True))


def test_uuid_paths_share_the_segment_caps_in_sandbox_and_hook() -> None:
    path = f"/stores/abc/v3/segments/{SEGMENT_ID}/shopper-profiles"
    key = endpoint_key("POST", path)
    assert key == "POST /v3/segments/{id}/shopper-profiles"
    assert CONCURRENCY_CAPS[key] == SEGMENT_CONCURRENCY
    hook_key = endpoint_of("POST", f"v3/segments/{SEGMENT_ID}/shopper-profiles")
    assert DOCUMENTED_CAPS[hook_key] == SEGMENT_CONCURRENCY
    assert endpoint_of("PUT", "v3/customers/12/addresses") == "PUT v3/customers/{id}/addresses"


def test_form_fields_must_be_defined_on_create_and_update(store: SandboxStore) -> None:
    with pytest.raises(ApiError) as refused:
        store.v3_create_customers([person(1, form_fields=[{"name": "License ID", "value": "x"}])])
    assert refused.value.status == 422
    assert refused.value.errors == {"0.form_fields.0.name": "The form field 'License ID' does not exist."}
    assert store.count() == 0
    store.define_form_fields(["License ID", "License ID", "Trade"])
    assert store.form_field_names == ["License ID", "Trade"]
    (created,) = store.v3_create_customers([person(1, form_fields=[{"name": "License ID", "value": "x"}])])
    store.v3_update_customers([{"id": created["id"], "form_fields": [{"name": "Trade", "value": "retail"}]}])
    with pytest.raises(ApiError):
        store.v3_update_customers([{"id": created["id"], "form_fields": [{"name": "trade", "value": "x"}]}])


def test_account_created_emails_are_counted_and_reset(store: SandboxStore) -> None:
    store.v3_create_customers([person(1, trigger_account_created_notification=True), person(2)])
    store.v3_create_customers([person(3, trigger_account_created_notification=False)])
    assert store.stats()["account_created_emails"] == 1
    store.reset()
    assert store.stats()["account_created_emails"] == 0


def test_metafield_key_unique_per_customer_and_namespace(store: SandboxStore) -> None:
    one, two = (c["id"] for c in store.v3_create_customers([person(1), person(2)]))
    base = {"namespace": "crm", "key": "tier", "value": "gold", "permission_set": "app_only"}
    store.metafields.create_for(str(one), base)
    store.metafields.create_for(str(two), base)  # another customer: fine
    store.metafields.create_for(str(one), {**base, "namespace": "other"})  # another namespace: fine
    with pytest.raises(ApiError) as taken:
        store.metafields.create_for(str(one), base)
    assert taken.value.status == 409
    with pytest.raises(BatchError) as partly:
        store.metafields.create([{**base, "resource_id": one}, {**base, "key": "new", "resource_id": one}])
    body = partly.value.body()
    assert partly.value.status == 422
    assert [m["key"] for m in body["data"]] == ["new"]
    assert body["meta"] == {"total": 2, "success": 1, "failed": 1}
    assert list(body["errors"][0]["errors"]) == ["0.key"]
    listed = store.metafields.for_customer(str(one), {"namespace": "crm"})["data"]
    assert sorted(m["key"] for m in listed) == ["new", "tier"]
    with pytest.raises(ApiError) as missing:
        store.metafields.for_customer("999", {})
    assert missing.value.status == 404


def test_segments_answer_403_below_enterprise() -> None:
    store = SandboxStore()
    for call in (
        lambda: store.segments.search({}),
        lambda: store.segments.create([{"name": "VIP"}]),
        lambda: store.segments.create_profiles([{"customer_id": 1}]),
    ):
        with pytest.raises(ApiError) as refused:
            call()
        assert refused.value.status == 403
        assert "Enterprise" in refused.value.message


def test_a_profile_per_customer_and_conflicts_per_index(store: SandboxStore) -> None:
    one, two = (c["id"] for c in store.v3_create_customers([person(1), person(2)]))
    profiles = store.segments.create_profiles([{"customer_id": one}, {"customer_id": two}])["data"]
    with pytest.raises(ApiError) as twice:
        store.segments.create_profiles([{"customer_id": one}])
    assert twice.value.status == 422
    (segment,) = store.segments.create([{"name": "VIP"}])["data"]
    store.segments.add(segment["id"], [profiles[0]["id"]])
    with pytest.raises(BatchError) as conflict:
        store.segments.add(segment["id"], [profiles[0]["id"], profiles[1]["id"]])
    assert conflict.value.status == 409
    assert list(conflict.value.errors or {}) == ["0"]
    assert conflict.value.body()["meta"] == {"total": 2, "success": 1, "failed": 1}
    listed = store.v3_list_customers({"include": "shopper_profile_id,segment_ids"})["data"]
    assert [(c["shopper_profile_id"], c["segment_ids"]) for c in listed] == [
        (profiles[0]["id"], [segment["id"]]),
        (profiles[1]["id"], [segment["id"]]),
    ]
    with pytest.raises(ApiError) as unfiltered:
        store.segments.remove(segment["id"], {})
    assert unfiltered.value.status == 400


def test_segments_metafields_and_form_fields_persist(tmp_path: Path) -> None:
    db = str(tmp_path / "store.db")
    store = SandboxStore(config=SandboxConfig(segments_enabled=True), db_path=db)
    (cid,) = (c["id"] for c in store.v3_create_customers([person(1)]))
    store.define_form_fields(["License ID"])
    store.metafields.create_for(
        str(cid), {"namespace": "n", "key": "k", "value": "v", "permission_set": "read"}
    )
    (segment,) = store.segments.create([{"name": "VIP"}])["data"]
    store.close()
    again = SandboxStore(config=SandboxConfig(segments_enabled=True), db_path=db)
    assert again.form_field_names == ["License ID"]
    assert [m["value"] for m in again.metafields.everything()] == ["v"]
    assert [s["id"] for s in again.segments.everything()["segments"]] == [segment["id"]]
    (other,) = again.segments.create([{"name": "Other"}])["data"]
    assert other["id"] != segment["id"]  # the id counter persisted too
    again.close()


def test_in_process_calls_match_the_hook() -> None:
    client = InProcessStore(store=SandboxStore(config=SandboxConfig(segments_enabled=True)))
    ids = [c["id"] for c in client.store.v3_create_customers([person(n) for n in range(3)])]
    created = client.create_metafields(
        [
            {"resource_id": i, "namespace": "crm", "key": "k", "value": str(i), "permission_set": "app_only"}
            for i in ids
        ]
    )
    assert [m["value"] for m in client.find_metafields(ids[:1])] == [str(ids[0])]
    client.update_metafields([{"id": created[0]["id"], "value": "new"}])
    assert client.delete_metafields([created[1]["id"]]) == [created[1]["id"]]
    assert sorted(m["value"] for m in client.find_metafields(ids)) == sorted(["new", str(ids[2])])

    (vip,) = client.create_segments(["VIP"])
    assert [s["name"] for s in client.list_segments()] == ["VIP"]
    profiles = client.create_shopper_profiles(ids)
    assert client.find_shopper_profiles(ids) == profiles
    client.store.script_faults("POST /v3/segments/{id}/shopper-profiles", ["commit_then_500"])
    with pytest.raises(OutcomeUnknownError):
        client.add_segment_profiles(vip["id"], list(profiles.values()))
    resent = client.add_segment_profiles(vip["id"], list(profiles.values()))  # safe: 409 per member
    assert resent.added == [] and resent.already_members == list(profiles.values())
    client.remove_segment_profiles(vip["id"], [profiles[ids[0]]])
    assert {p["customer_id"] for p in client.list_segment_profiles(vip["id"])} == set(ids[1:])
    with pytest.raises(RequestRejectedError) as taken:
        client.create_segments(["vip"])
    assert taken.value.status == 409


def test_a_deleted_customer_takes_its_metafields_and_profile_along(store: SandboxStore) -> None:
    one, two = (c["id"] for c in store.v3_create_customers([person(1), person(2)]))
    item = {"namespace": "n", "key": "k", "value": "v", "permission_set": "app_only"}
    store.metafields.create([{**item, "resource_id": one}, {**item, "resource_id": two}])
    profiles = store.segments.create_profiles([{"customer_id": one}, {"customer_id": two}])["data"]
    (segment,) = store.segments.create([{"name": "VIP"}])["data"]
    store.segments.add(segment["id"], [p["id"] for p in profiles])
    store.v2_delete_customer(str(one))
    assert [m["resource_id"] for m in store.metafields.everything()] == [two]
    assert [p["customer_id"] for p in store.segments.profiles_of(segment["id"], {})["data"]] == [two]


def test_segment_writes_are_capped_at_ten_in_flight(store: SandboxStore) -> None:
    key = "POST /v3/segments/{id}/shopper-profiles"
    assert all(store.enter(key) is None for _ in range(SEGMENT_CONCURRENCY))
    refused = store.enter(key)
    assert refused is not None and refused.allowed  # a concurrency 429 with requests left
    store.leave(key)
    assert store.enter(key) is None


def test_the_enterprise_flag_of_the_command_line() -> None:
    assert config_from_args(build_parser().parse_args(["--enterprise"])).segments_enabled is True
    assert config_from_args(build_parser().parse_args([])).segments_enabled is False
