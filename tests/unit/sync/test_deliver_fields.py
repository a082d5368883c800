"""Metafields and segments delivered in process when the store changed between look-up and write (a race)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_bigcommerce.sandbox.config import SandboxConfig
from airflow_bigcommerce.sandbox.store import SandboxStore
from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.testing import InProcessStore

FIELD_MAP = {
    "email": "email",
    "first": "first_name",
    "last": "last_name",
    "ltv": "metafield.crm.ltv",
    "lists": "segment",
}


class Racing(InProcessStore):
    """A store whose look-ups are one step behind: profiles and metafields written meanwhile go unseen."""

    blind = False

    def find_customers_by_email(
        self, emails: Sequence[str], include: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        found = super().find_customers_by_email(emails, include)
        if self.blind:
            for customer in found:
                customer.pop("shopper_profile_id", None)
                customer["segment_ids"] = []
        return found

    def find_metafields(
        self, customer_ids: Sequence[int], *, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        found = super().find_metafields(customer_ids, namespace=namespace)
        if self.blind:
            self.blind = False  # the next look-up (after the refused create) sees the store
            return []
        return found


def rows(ltv: int, lists: str) -> list[dict[str, Any]]:
    return [
        {"id": i, "email": f"r{i}@example.com", "first": "R", "last": "X", "ltv": ltv + i, "lists": lists}
        for i in range(3)
    ]


def client() -> Racing:
    store = Racing(store=SandboxStore(config=SandboxConfig(segments_enabled=True)))
    store.create_segments(["VIP", "News"])
    return store


def test_a_profile_and_metafields_written_meanwhile_are_looked_up_never_duplicated() -> None:
    store = client()
    first = sync_customers(rows(100, "VIP"), store, field_map=FIELD_MAP, mode="upsert")
    assert (first.created, first.failed, first.rejected) == (3, 0, 0)

    store.blind = True  # the look-up misses the profiles, the memberships and the metafields
    second = sync_customers(rows(200, "VIP, News"), store, field_map=FIELD_MAP, mode="upsert", index_limit=0)
    assert (second.updated, second.failed, second.rejected) == (3, 0, 0), second.rejections or second.failures
    state = store.store.segments.everything()
    assert len(state["shopper_profiles"]) == 3  # the refused profile create was looked up
    assert sorted(len(m) for m in state["members"].values()) == [3, 3]
    metafields = store.store.metafields.everything()
    assert sorted(m["value"] for m in metafields) == ["200", "201", "202"]  # updated, never a second one
    assert second.requests["metafield_update"] == 1
    assert second.requests["profile_lookup"] >= 1

    third = sync_customers(rows(200, "VIP, News"), store, field_map=FIELD_MAP, mode="upsert")
    assert (third.skipped, third.updated) == (3, 0)


def test_insert_keeps_a_value_written_meanwhile() -> None:
    store = client()
    sync_customers(rows(100, "VIP"), store, field_map=FIELD_MAP, mode="insert")
    store.blind = True
    again = sync_customers(rows(300, "VIP"), store, field_map=FIELD_MAP, mode="insert", index_limit=0)
    assert again.parts["metafields"] == {"skipped": 3}
    assert sorted(m["value"] for m in store.store.metafields.everything()) == ["100", "101", "102"]
