"""Metafields and segments synced to the sandbox over HTTP (the Segmentation API on: an Enterprise store)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.sync.store_setup import StoreSetupError
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration

FIELD_MAP = {
    "email": "email",
    "first": "first_name",
    "last": "last_name",
    "ltv": "metafield.crm.lifetime_value",
    "owner": "metafield.crm.owner",
    "lists": "segment",
}
MANAGED = ("VIP", "Newsletter", "Churn risk")
FIELD_WRITES = (
    "create",
    "update",
    "metafield_create",
    "metafield_update",
    "metafield_delete",
    "profile_create",
    "segment_add",
    "segment_remove",
    "segment_create",
)


def contact(i: int, **changes: Any) -> dict[str, Any]:
    row = {
        "id": i,
        "email": f"Field{i}@Example.com",
        "first": "Fi",
        "last": f"Eld{i}",
        "ltv": 100 + i,
        "owner": "ann" if i % 2 == 0 else "bob",
        "lists": ["VIP", "Newsletter"] if i % 2 == 0 else "Newsletter",
    }
    return row | changes


def writes(result: Any) -> dict[str, int]:
    return {k: v for k, v in result.requests.items() if k in FIELD_WRITES and v}


def sync(rows: list[dict[str, Any]], **options: Any) -> Any:
    options = {"field_map": FIELD_MAP, "mode": "upsert", "managed_segments": MANAGED, **options}
    return sync_customers(rows, BigCommerceHook(), **options)


@pytest.fixture
def store(bigcommerce_sandbox: SandboxHandle) -> SandboxHandle:
    bigcommerce_sandbox.store.configure(segments_enabled=True)
    BigCommerceHook().create_segments(["VIP", "Newsletter", "Churn risk", "Staff picks"])
    return bigcommerce_sandbox


def segment_ids() -> dict[str, str]:
    return {s["name"]: s["id"] for s in BigCommerceHook().list_segments()}


def customer_id(email: str) -> int:
    (found,) = BigCommerceHook().find_customers_by_email([email])
    return int(found["id"])


def metafields(email: str) -> dict[str, dict[str, Any]]:
    found = BigCommerceHook().find_metafields([customer_id(email)])
    return {f"{m['namespace']}.{m['key']}": m for m in found}


def segments_of(email: str) -> set[str]:
    (found,) = BigCommerceHook().find_customers_by_email([email], include=("segment_ids",))
    names = {v: k for k, v in segment_ids().items()}
    return {names[s] for s in found.get("segment_ids") or ()}


def test_first_sync_unchanged_resync_and_one_change(store: SandboxHandle) -> None:
    rows = [contact(i) for i in range(20)]
    first = sync(rows)
    assert (first.created, first.rejected, first.failed) == (20, 0, 0), first.rejections[:2]
    # per batch of 10: one metafield POST, one profile POST, one add per segment the batch names
    assert writes(first) == {"create": 2, "metafield_create": 2, "profile_create": 2, "segment_add": 4}
    assert first.parts["metafields"] == {"created": 20}
    assert first.parts["segments"] == {"created": 20}
    stored = metafields("field4@example.com")
    assert {k: m["value"] for k, m in stored.items()} == {"crm.lifetime_value": "104", "crm.owner": "ann"}
    assert {m["permission_set"] for m in stored.values()} == {"app_only"}
    assert segments_of("field4@example.com") == {"VIP", "Newsletter"}
    assert segments_of("field5@example.com") == {"Newsletter"}

    again = sync(rows)
    assert (again.skipped, again.updated, again.failed) == (20, 0, 0)
    assert writes(again) == {}
    assert again.parts["metafields"] == {"unchanged": 20}
    assert again.parts["segments"] == {"unchanged": 20}
    assert again.requests["metafield_lookup"] == 2  # the one read a metafield needs: per batch of 10

    changed = [contact(0, owner="cy"), contact(1, lists="Newsletter, VIP"), *rows[2:]]
    third = sync(changed)
    assert (third.updated, third.skipped) == (2, 18)
    assert writes(third) == {"metafield_update": 1, "segment_add": 1}
    assert metafields("field0@example.com")["crm.owner"]["value"] == "cy"
    assert segments_of("field1@example.com") == {"VIP", "Newsletter"}
    assert len(store.store.all_customers()) == 20
    assert len(store.store.metafields.everything()) == 40


def test_upsert_leaves_managed_segments_only_and_insert_leaves_none(store: SandboxHandle) -> None:
    ids = segment_ids()
    sync([contact(0)])
    cid = customer_id("field0@example.com")
    profile = BigCommerceHook().find_shopper_profiles([cid])[cid]
    BigCommerceHook().add_segment_profiles(ids["Staff picks"], [profile])  # a segment the CRM does not own

    insert = sync([contact(0, lists="Newsletter")], mode="insert")
    assert insert.parts["segments"] == {"skipped": 1}
    assert writes(insert) == {}
    assert segments_of("field0@example.com") == {"VIP", "Newsletter", "Staff picks"}

    upsert = sync([contact(0, lists="Newsletter")])
    assert writes(upsert) == {"segment_remove": 1}
    assert segments_of("field0@example.com") == {"Newsletter", "Staff picks"}  # Staff picks: not managed
    assert upsert.parts["segments"] == {"updated": 1}


def test_keep_and_clear_empty_values(store: SandboxHandle) -> None:
    ids = segment_ids()
    sync([contact(0)])
    cid = customer_id("field0@example.com")
    profile = BigCommerceHook().find_shopper_profiles([cid])[cid]
    BigCommerceHook().add_segment_profiles(ids["Staff picks"], [profile])
    empty = contact(0, owner="  ", lists=None)

    kept = sync([empty], empty_values="keep")
    assert writes(kept) == {}
    assert set(metafields("field0@example.com")) == {"crm.lifetime_value", "crm.owner"}
    assert segments_of("field0@example.com") == {"VIP", "Newsletter", "Staff picks"}

    in_insert = sync([empty], empty_values="clear", mode="insert")
    assert writes(in_insert) == {}  # insert changes nothing the store holds

    cleared = sync([empty], empty_values="clear")
    assert writes(cleared) == {"metafield_delete": 1, "segment_remove": 2}
    assert set(metafields("field0@example.com")) == {"crm.lifetime_value"}
    assert segments_of("field0@example.com") == {"Staff picks"}  # every managed segment left, no other
    assert cleared.parts["metafields"] == {"updated": 1}

    again = sync([empty], empty_values="clear")
    assert writes(again) == {}


def test_unknown_segments_reject_the_row_unless_created(store: SandboxHandle) -> None:
    refused = sync([contact(0, lists="VIP, Gold"), contact(1)])
    assert (refused.rejected, refused.created) == (1, 1)
    reason = refused.rejections[0]["reason"]
    assert "segment" in reason
    assert "'Gold'" in reason
    assert "Churn risk, Newsletter, Staff picks, VIP" in reason

    created = sync([contact(0, lists="VIP, Gold"), contact(2, lists="gold")], create_segments=True)
    assert created.created == 2
    assert created.requests["segment_create"] == 1  # once, though two rows name it
    assert sorted(segment_ids()) == ["Churn risk", "Gold", "Newsletter", "Staff picks", "VIP"]
    assert segments_of("field2@example.com") == {"Gold"}


def test_metafield_permission_and_dry_run(store: SandboxHandle) -> None:
    dry = sync([contact(0)], dry_run=True)
    assert dry.parts["metafields"] == {"would create": 1}
    assert dry.parts["segments"] == {"would create": 1}
    assert writes(dry) == {}
    assert store.store.all_customers() == []

    sync([contact(0)], metafield_permission="read")
    assert {m["permission_set"] for m in metafields("field0@example.com").values()} == {"read"}
    with pytest.raises(ValueError, match="metafield_permission"):
        sync([contact(0)], metafield_permission="public")


def test_a_store_without_the_segmentation_api_fails_at_start(bigcommerce_sandbox: SandboxHandle) -> None:
    rows = [contact(i) for i in range(3)]
    hook = BigCommerceHook()
    with pytest.raises(StoreSetupError, match="Enterprise"):
        sync_customers(rows, hook, field_map=FIELD_MAP, mode="upsert", create_attributes=True)
    assert bigcommerce_sandbox.store.all_customers() == []
    assert bigcommerce_sandbox.store.metafields.everything() == []
    # without segment the same rows sync: metafields need no Enterprise plan
    no_segments = {k: v for k, v in FIELD_MAP.items() if v != "segment"}
    result = sync_customers(rows, BigCommerceHook(), field_map=no_segments)
    assert (result.created, result.parts["metafields"]) == (3, {"created": 3})


def test_operator_summary_and_report_carry_metafields_and_segments(
    store: SandboxHandle, tmp_path: Any
) -> None:
    from airflow_bigcommerce.operators.customers import SyncCustomersOperator

    report = tmp_path / "report.jsonl"
    operator = SyncCustomersOperator(
        task_id="sync",
        contacts=[contact(0), contact(1, lists="Gold")],
        field_map=FIELD_MAP,
        mode="upsert",
        managed_segments=list(MANAGED),
        empty_values="clear",
        report_path=str(report),
    )
    summary = operator.execute(context={})  # type: ignore[arg-type]
    assert (summary["created"], summary["rejected"]) == (1, 1)
    assert summary["parts"]["metafields"] == {"created": 1}
    assert summary["parts"]["segments"] == {"created": 1}
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert lines[0]["parts"]["metafields"] == "created"
    assert lines[0]["parts"]["segments"] == "created"
    assert lines[1]["outcome"] == "rejected"
    assert "segment: the store has no segment 'Gold'" in lines[1]["reason"]


def test_operator_checks_the_new_arguments_at_parse() -> None:
    from airflow_bigcommerce.operators.customers import SyncCustomersOperator

    def op(**kw: Any) -> Any:
        return SyncCustomersOperator(task_id="s", contacts=[], **kw)

    with pytest.raises(ValueError, match="empty_values must be one of keep, clear"):
        op(empty_values="wipe")
    with pytest.raises(ValueError, match="metafield_permission"):
        op(metafield_permission="private")
    with pytest.raises(ValueError, match="managed_segments"):
        op(managed_segments="VIP, Gold")
    with pytest.raises(ValueError, match="managed_segments"):
        op(managed_segments=["VIP", " "])
    assert op(managed_segments=["  VIP ", "vip", "Gold  list"]).managed_segments == ("VIP", "Gold list")


@pytest.mark.parametrize("fault", ["commit_then_drop", "commit_then_500"])
def test_lost_answers_are_looked_up_never_written_twice(store: SandboxHandle, fault: str) -> None:
    for operation in (
        "POST /v3/customers/metafields",
        "POST /v3/shopper-profiles",
        "POST /v3/segments/{id}/shopper-profiles",
    ):
        store.store.script_faults(operation, [fault])
    result = sync([contact(i) for i in range(4)])
    assert (result.created, result.failed, result.rejected) == (4, 0, 0), result.failures
    assert store.store.pending_faults() == 0
    assert result.requests["metafield_lookup"] == 1  # the lost create looked up before its resend
    assert result.requests["profile_lookup"] == 1
    keys = [(m["resource_id"], m["key"]) for m in store.store.metafields.everything()]
    assert len(keys) == len(set(keys)) == 8
    state = store.store.segments.everything()
    assert len(state["shopper_profiles"]) == 4
    names = {s["id"]: s["name"] for s in state["segments"]}
    sizes = {names[s]: len(members) for s, members in state["members"].items()}
    assert sizes == {"VIP": 2, "Newsletter": 4, "Churn risk": 0, "Staff picks": 0}
    assert all(len(m) == len(set(m)) for m in state["members"].values())
    assert segments_of("field0@example.com") == {"VIP", "Newsletter"}
    assert segments_of("field1@example.com") == {"Newsletter"}


@pytest.mark.parametrize("fault", ["commit_then_drop", "commit_then_500"])
def test_lost_answers_to_changes_and_clears_end_as_the_crm_says(store: SandboxHandle, fault: str) -> None:
    rows = [contact(i) for i in range(4)]
    sync(rows)
    for operation in (
        "PUT /v3/customers/metafields",
        "DELETE /v3/customers/metafields",
        "DELETE /v3/segments/{id}/shopper-profiles",
    ):
        store.store.script_faults(operation, [fault])
    changed = [contact(0, ltv=999), contact(1, owner=None), contact(2, lists="Newsletter"), rows[3]]
    result = sync(changed, empty_values="clear")
    assert (result.updated, result.skipped, result.failed, result.rejected) == (3, 1, 0, 0), result.failures
    assert store.store.pending_faults() == 0
    assert metafields("field0@example.com")["crm.lifetime_value"]["value"] == "999"
    assert set(metafields("field1@example.com")) == {"crm.lifetime_value"}
    assert segments_of("field2@example.com") == {"Newsletter"}
    again = sync(changed, empty_values="clear")
    assert writes(again) == {}


def test_the_task_fails_at_start_on_a_store_without_segments(bigcommerce_sandbox: SandboxHandle) -> None:
    from airflow_bigcommerce.operators.customers import SyncCustomersOperator

    operator = SyncCustomersOperator(
        task_id="sync", contacts=[contact(0), contact(1)], field_map=FIELD_MAP, mode="upsert"
    )
    with pytest.raises(Exception, match="Enterprise feature") as caught:
        operator.execute(context={})  # type: ignore[arg-type]
    assert "segment" in str(caught.value)
    assert bigcommerce_sandbox.store.all_customers() == []
