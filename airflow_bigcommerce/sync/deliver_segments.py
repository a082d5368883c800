"""
Deliver the segment memberships of a batch of contacts whose customers exist (Enterprise stores).

A shopper profile is created for each customer without one (``POST /v3/shopper-profiles``; a
customer that has one refuses the batch: looked up, never created twice, through
:func:`.create_once.deliver_once`), then one add per segment (at most 50 profiles per request; a
profile in it already answers 409 for its item, so an add is idempotent and resent once after a lost
answer) and one removal per managed segment left (by profile id; the profiles stay).
"""

from __future__ import annotations

from collections.abc import Mapping

from airflow_bigcommerce.sync.client import OutcomeUnknownError, RequestRejectedError, TransientFailureError
from airflow_bigcommerce.sync.counting import CountingClient
from airflow_bigcommerce.sync.create_once import LookUpRefused, deliver_once, resend_idempotent, split_refused
from airflow_bigcommerce.sync.field_settle import FieldSettle, Outcomes, field_plan
from airflow_bigcommerce.sync.outcome import failed_part, failed_part_because, refused_part
from airflow_bigcommerce.sync.plan_fields import SEGMENTS_PART
from airflow_bigcommerce.sync.rows import Item

__all__ = ["SegmentDelivery"]


class SegmentDelivery:
    """Settle the segment memberships of a group of items; a dry run writes nothing and says ``would ...``."""

    def __init__(self, client: CountingClient, *, dry_run: bool) -> None:
        self.client = client
        self.dry_run = dry_run

    def __call__(self, items: list[Item], out: dict[int, Outcomes]) -> None:
        """Settle the ``segments`` part of each item into ``out``."""
        settle = FieldSettle(SEGMENTS_PART)
        if self.dry_run:
            for item in items:
                settle.did(item, field_plan(item).segment_change)
            settle.finish(items, out, dry_run=True)
            return
        without = [i for i in items if field_plan(i).profile_id is None]
        if without:
            deliver_once(without, _ProfileCreates(self.client, settle))
        ready = [i for i in items if field_plan(i).profile_id is not None and i.index not in settle.bad]
        joins: dict[str, list[Item]] = {}
        leaves: dict[str, list[Item]] = {}
        for item in ready:
            for segment_id in field_plan(item).join:
                joins.setdefault(segment_id, []).append(item)
            for segment_id in field_plan(item).leave:
                leaves.setdefault(segment_id, []).append(item)
        for segment_id, members in joins.items():
            self._membership("segment_add", "add_segment_profiles", segment_id, members, settle)
        for segment_id, members in leaves.items():
            self._membership("segment_remove", "remove_segment_profiles", segment_id, members, settle)
        for item in ready:
            if item.index not in settle.bad:
                settle.did(item, field_plan(item).segment_change)
        settle.finish(items, out, dry_run=False)

    def _membership(
        self, kind: str, method: str, segment_id: str, members: list[Item], settle: FieldSettle
    ) -> None:
        """Add profiles to (or take them out of) one segment: idempotent, resent once after a lost answer."""
        profiles = [str(field_plan(i).profile_id) for i in members]
        try:
            resend_idempotent(lambda: self.client.part(kind, method, segment_id, profiles))
        except (TransientFailureError, OutcomeUnknownError) as exc:
            for item in members:
                settle.worse(item, failed_part("segment write failed", exc))
        except RequestRejectedError as exc:
            split_refused(
                exc,
                members,
                resend_one=lambda item: self._membership(kind, method, segment_id, [item], settle),
                refuse_one=lambda item, why: settle.worse(item, refused_part(why)),
            )


class _ProfileCreates(LookUpRefused[Item, Mapping[int, str]]):
    """The shopper profile ``POST`` of :func:`.create_once.deliver_once`: one profile per customer."""

    def __init__(self, client: CountingClient, settle: FieldSettle) -> None:
        self.client = client
        self.settle = settle

    def send(self, rows: list[Item]) -> Mapping[int, str]:
        ids = [int(i.customer_id or 0) for i in rows]
        answer: Mapping[int, str] = self.client.part("profile_create", "create_shopper_profiles", ids)
        return answer

    def accepted(self, rows: list[Item], answer: Mapping[int, str]) -> list[Item]:
        return self._settle_found(rows, answer)

    def look_up(self, rows: list[Item]) -> list[Item]:
        ids = [int(i.customer_id or 0) for i in rows]
        return self._settle_found(rows, self.client.part("profile_lookup", "find_shopper_profiles", ids))

    def refused(self, row: Item, exc: RequestRejectedError) -> None:
        self.settle.worse(row, refused_part(exc, "shopper profile: "))

    def give_up(self, row: Item, sends: int) -> None:
        self.settle.worse(
            row, failed_part_because(f"shopper profile: outcome still unknown after {sends} sends")
        )

    def fail(self, rows: list[Item], exc: TransientFailureError, *, looking: bool) -> None:
        for item in rows:
            what = "shopper profile: outcome unknown" if looking else "shopper profile not created"
            self.settle.worse(item, failed_part(what, exc))

    @staticmethod
    def _settle_found(rows: list[Item], found: Mapping[int, str]) -> list[Item]:
        missing: list[Item] = []
        for item in rows:
            profile = found.get(int(item.customer_id or 0))
            if profile:
                field_plan(item).profile_id = str(profile)
            else:
                missing.append(item)
        return missing
