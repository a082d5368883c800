"""What a contact's metafields and segments need (pure planning): joins, managed leaves, keep and clear."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled

from airflow_bigcommerce.models.field_targets import FieldValues
from airflow_bigcommerce.sync.outcome import PartOutcome, Status
from airflow_bigcommerce.sync.plan_fields import SEGMENTS_PART, plan_fields
from airflow_bigcommerce.sync.segments import SegmentDirectory
from airflow_bigcommerce.sync.store_setup import StoreContext

SEGMENTS = [{"id": f"s-{n.lower()}", "name": n} for n in ("VIP", "News", "Churn", "Staff")]
MANAGED = ("VIP", "News", "Churn")


def context(managed: tuple[str, ...] = MANAGED) -> StoreContext:
    return StoreContext(
        segments=SegmentDirectory(None, SEGMENTS, create=False, dry_run=False, managed=managed)
    )


def values(*names: str, metafields: dict[tuple[str, str], str | None] | None = None) -> FieldValues:
    ids = context().segments.ids_for(names) if names else ()  # type: ignore[union-attr]
    return FieldValues(metafields=metafields or {}, segments=names, segment_ids=ids)


def customer(*segment_ids: str, profile: str | None = "p-1") -> dict[str, Any]:
    return {"id": 5, "shopper_profile_id": profile, "segment_ids": list(segment_ids)}


def test_a_new_customer_joins_each_named_segment() -> None:
    outcomes: dict[str, PartOutcome] = {}
    plan = plan_fields(values("VIP", "Staff"), None, context(), upsert=False, outcomes=outcomes)
    assert plan is not None
    assert (plan.join, plan.leave, plan.profile_id, plan.new_customer) == (
        ("s-vip", "s-staff"),
        (),
        None,
        True,
    )
    assert plan.segment_change == "joined VIP, Staff"


def test_upsert_leaves_managed_segments_not_named_and_never_another() -> None:
    outcomes: dict[str, PartOutcome] = {}
    stored = customer("s-vip", "s-churn", "s-staff")
    plan = plan_fields(values("News"), stored, context(), upsert=True, outcomes=outcomes)
    assert plan is not None
    assert (plan.join, plan.leave, plan.profile_id) == (("s-news",), ("s-churn", "s-vip"), "p-1")
    assert plan.segment_change == "joined News; left Churn, VIP"


def test_insert_joins_but_leaves_nothing() -> None:
    outcomes: dict[str, PartOutcome] = {}
    assert (
        plan_fields(values("News"), customer("s-vip", "s-news"), context(), upsert=False, outcomes=outcomes)
        is None
    )
    assert outcomes[SEGMENTS_PART].status is Status.SKIPPED
    plan = plan_fields(values("Churn"), customer("s-vip"), context(), upsert=False, outcomes={})
    assert plan is not None
    assert (plan.join, plan.leave) == (("s-churn",), ())


def test_unchanged_memberships_need_no_request() -> None:
    outcomes: dict[str, PartOutcome] = {}
    plan = plan_fields(values("VIP"), customer("s-vip", "s-staff"), context(), upsert=True, outcomes=outcomes)
    assert plan is None
    assert outcomes[SEGMENTS_PART].status is Status.UNCHANGED


def test_clear_leaves_every_managed_segment_keep_leaves_them_alone() -> None:
    stored = customer("s-vip", "s-news", "s-staff")
    cleared = plan_fields(FieldValues(segments=()), stored, context(), upsert=True, outcomes={})
    assert cleared is not None
    assert (cleared.join, cleared.leave) == ((), ("s-news", "s-vip"))
    assert plan_fields(FieldValues(segments=None), stored, context(), upsert=True, outcomes={}) is None


def test_metafields_of_existing_customers_are_compared_at_delivery_and_new_ones_skip_clears() -> None:
    mf = {("crm", "owner"): "ann", ("crm", "ltv"): None}
    existing = plan_fields(FieldValues(metafields=mf), customer(), context(), upsert=True, outcomes={})
    assert existing is not None
    assert existing.metafields == mf
    new = plan_fields(FieldValues(metafields=mf), None, context(), upsert=False, outcomes={})
    assert new is not None
    assert new.metafields == {("crm", "owner"): "ann"}  # nothing to delete on a customer just created
    outcomes: dict[str, PartOutcome] = {}
    assert (
        plan_fields(
            FieldValues(metafields={("crm", "ltv"): None}), None, context(), upsert=False, outcomes=outcomes
        )
        is None
    )
    assert outcomes["metafields"].status is Status.UNCHANGED


NAMES = [s["name"] for s in SEGMENTS]


@settings(max_examples=scaled(200))
@given(
    named=st.lists(st.sampled_from(NAMES), unique=True),
    current=st.sets(st.sampled_from([s["id"] for s in SEGMENTS])),
    managed=st.lists(st.sampled_from(NAMES), unique=True),
    upsert=st.booleans(),
    clear=st.booleans(),
)
def test_memberships_end_as_the_crm_says_within_managed_segments_only(
    named: list[str], current: set[str], managed: list[str], upsert: bool, clear: bool
) -> None:
    ctx = context(tuple(managed))
    ids = {s["name"]: s["id"] for s in SEGMENTS}
    if named:
        fields = FieldValues(segments=tuple(named), segment_ids=tuple(ids[n] for n in named))
    else:
        fields = FieldValues(segments=() if clear else None)
    plan = plan_fields(fields, customer(*current), ctx, upsert=upsert, outcomes={})
    join = set(plan.join) if plan else set()
    leave = set(plan.leave) if plan else set()
    managed_ids = {ids[n] for n in managed}
    after = (current | join) - leave
    assert not join & current
    assert leave <= managed_ids & current  # never a segment outside managed_segments
    assert {ids[n] for n in named} <= after  # every named segment joined
    if not upsert:
        assert not leave
    elif fields.segments is not None:
        assert after & managed_ids == {ids[n] for n in named} & managed_ids
    if fields.segments is None:
        assert plan is None
