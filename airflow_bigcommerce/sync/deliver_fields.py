"""
Deliver the metafields and segment memberships of a batch of contacts whose customers exist.

Called by :class:`.deliver_parts.PartDeliverer` (in the worker thread of the batch), through the
client's one delivery policy, with the exactly-once path of the customer (:mod:`.create_once`).
Metafields: one look-up of the batch's existing customers' metafields (a customer the run created
has none), then the differences: a batch ``POST`` of the missing ones (through
:func:`.create_once.deliver_once`: after a lost answer, or a batch refused in part, the customers'
metafields are looked up and only the missing ones sent again, so no namespace and key is ever
created twice; one another writer created meanwhile is updated), a ``PUT`` of the changed ones by id
(idempotent: sent once more after a lost answer), a ``DELETE`` by id of the ones an empty value
clears (after a lost answer, only those still there are sent again). ``insert`` only creates.
Segments: :mod:`.deliver_segments`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_bigcommerce.models.field_targets import MetafieldKey
from airflow_bigcommerce.sync.client import OutcomeUnknownError, RequestRejectedError, TransientFailureError
from airflow_bigcommerce.sync.counting import CountingClient
from airflow_bigcommerce.sync.create_once import (
    IDEMPOTENT_SENDS,
    LookUpRefused,
    deliver_once,
    resend_idempotent,
    split_refused,
)
from airflow_bigcommerce.sync.deliver_segments import SegmentDelivery
from airflow_bigcommerce.sync.field_settle import FieldSettle, Outcomes, field_plan
from airflow_bigcommerce.sync.outcome import failed_part, failed_part_because, refused_part
from airflow_bigcommerce.sync.plan_fields import METAFIELDS_PART
from airflow_bigcommerce.sync.rows import Item, as_id

__all__ = ["FieldDeliverer"]


def _name(key: MetafieldKey) -> str:
    return f"{key[0]}.{key[1]}"


@dataclass
class _Meta:
    """One metafield write of one contact: its item, its key, and the body sent."""

    item: Item
    key: MetafieldKey
    body: dict[str, Any]


class FieldDeliverer:
    """
    Settle the metafields and segments of a group of items (each with ``customer_id`` and a field plan).

    :param permission: the ``permission_set`` of the metafields it creates.
    :param dry_run: read (metafields) but write nothing; outcomes say ``would ...``.
    """

    def __init__(self, client: CountingClient, *, permission: str, dry_run: bool) -> None:
        self.client = client
        self.permission = permission
        self.dry_run = dry_run
        self.segments = SegmentDelivery(client, dry_run=dry_run)

    def __call__(self, items: Sequence[Item], out: dict[int, Outcomes]) -> None:
        """Settle the metafields and segments of ``items`` into ``out`` (item index -> part outcomes)."""
        work = [i for i in items if i.plan is not None and i.plan.fields is not None]
        metafields = [i for i in work if field_plan(i).metafields]
        segments = [i for i in work if field_plan(i).join or field_plan(i).leave]
        if metafields:
            self._metafields(metafields, out)
        if segments:
            self.segments(segments, out)

    # ----------------------------------------------------------------- metafields

    def stored(self, customer_ids: Sequence[int]) -> dict[tuple[int, str, str], Mapping[str, Any]]:
        """Look up the customers' metafields: (customer id, namespace, key) -> metafield."""
        found: dict[tuple[int, str, str], Mapping[str, Any]] = {}
        if not customer_ids:
            return found
        for record in self.client.part("metafield_lookup", "find_metafields", list(customer_ids)):
            owner = as_id(record.get("resource_id"))
            if owner is not None:
                found[(owner, str(record.get("namespace")), str(record.get("key")))] = record
        return found

    def _metafields(self, items: list[Item], out: dict[int, Outcomes]) -> None:
        settle = FieldSettle(METAFIELDS_PART)
        known = [i for i in items if not field_plan(i).new_customer and (i.customer_id or 0) > 0]
        try:
            stored = self.stored(sorted({int(i.customer_id or 0) for i in known}))
        except TransientFailureError as exc:
            for item in known:
                settle.worse(item, failed_part("look-up failed", exc))
            stored = {}
        creates: list[_Meta] = []
        updates: list[_Meta] = []
        deletes: list[_Meta] = []
        for item in items:
            if item.index not in settle.bad:
                self._compare(item, stored, settle, (creates, updates, deletes))
        if self.dry_run:
            for meta in (*creates, *updates):
                settle.did(meta.item, _name(meta.key))
            for meta in deletes:
                settle.did(meta.item, "cleared " + _name(meta.key))
        else:
            self._write(creates, updates, deletes, settle)
        settle.finish(items, out, dry_run=self.dry_run)

    def _write(
        self, creates: list[_Meta], updates: list[_Meta], deletes: list[_Meta], settle: FieldSettle
    ) -> None:
        """Create, then update (with what another writer created meanwhile, in upsert), then delete."""
        if creates:
            posts = _MetafieldPosts(self, settle)
            deliver_once(creates, posts)
            for meta in posts.differing:
                if field_plan(meta.item).upsert:
                    updates.append(meta)
                else:
                    settle.skipped.add(meta.item.index)
        if updates:
            self._update(updates, settle)
        if deletes:
            self._delete(deletes, settle)

    def _compare(
        self,
        item: Item,
        stored: Mapping[tuple[int, str, str], Mapping[str, Any]],
        settle: FieldSettle,
        writes: tuple[list[_Meta], list[_Meta], list[_Meta]],
    ) -> None:
        """Sort one contact's metafields into creates, updates and deletes (``insert``: creates only)."""
        creates, updates, deletes = writes
        plan = field_plan(item)
        cid = int(item.customer_id or 0)
        for key, value in plan.metafields.items():
            current = stored.get((cid, *key))
            if current is None:
                if value is not None:
                    body = {"resource_id": cid, "namespace": key[0], "key": key[1], "value": value}
                    creates.append(_Meta(item, key, {**body, "permission_set": self.permission}))
            elif value is not None and str(current.get("value")) == value:
                continue
            elif not plan.upsert:
                settle.skipped.add(item.index)
            elif value is None:
                deletes.append(_Meta(item, key, {"id": int(current["id"])}))
            else:
                updates.append(_Meta(item, key, {"id": int(current["id"]), "value": value}))

    def _update(self, batch: list[_Meta], settle: FieldSettle) -> None:
        try:
            resend_idempotent(
                lambda: self.client.part("metafield_update", "update_metafields", [m.body for m in batch])
            )
        except (TransientFailureError, OutcomeUnknownError) as exc:
            _fail(settle, batch, "update failed", exc)
            return
        except RequestRejectedError as exc:
            split_refused(
                exc,
                batch,
                resend_one=lambda meta: self._update([meta], settle),
                refuse_one=lambda meta, why: _refuse(settle, meta, why),
            )
            return
        for meta in batch:
            settle.did(meta.item, _name(meta.key))

    def _delete(self, batch: list[_Meta], settle: FieldSettle) -> None:
        """Delete by id; after a lost answer or a refusal, only the ones still there are sent again."""
        rest = batch
        for _send in range(IDEMPOTENT_SENDS):
            try:
                self.client.part("metafield_delete", "delete_metafields", [m.body["id"] for m in rest])
            except TransientFailureError as exc:
                _fail(settle, rest, "delete failed", exc)
                return
            except (OutcomeUnknownError, RequestRejectedError) as exc:
                try:
                    there = self.stored(sorted({int(m.item.customer_id or 0) for m in rest}))
                except TransientFailureError as lookup_exc:
                    _fail(settle, rest, "outcome unknown", lookup_exc)
                    return
                ids = {int(r["id"]) for r in there.values()}
                for meta in rest:
                    if meta.body["id"] not in ids:
                        settle.did(meta.item, "cleared " + _name(meta.key))
                rest = [m for m in rest if m.body["id"] in ids]
                if not rest:
                    return
                if isinstance(exc, RequestRejectedError):
                    split_refused(
                        exc,
                        rest,
                        resend_one=lambda meta: self._delete([meta], settle),
                        refuse_one=lambda meta, why: _refuse(settle, meta, why),
                    )
                    return
                continue
            for meta in rest:
                settle.did(meta.item, "cleared " + _name(meta.key))
            return
        for meta in rest:
            settle.worse(meta.item, failed_part_because("delete: outcome still unknown"))

    # ----------------------------------------------------------------- segments


class _MetafieldPosts(LookUpRefused[_Meta, Sequence[Mapping[str, Any]]]):
    """The batch metafield ``POST`` of :func:`.create_once.deliver_once`: never a namespace and key twice."""

    def __init__(self, owner: FieldDeliverer, settle: FieldSettle) -> None:
        self.owner = owner
        self.settle = settle
        #: metafields another writer created meanwhile with another value: updated in upsert
        self.differing: list[_Meta] = []

    def send(self, rows: list[_Meta]) -> Sequence[Mapping[str, Any]]:
        answer: Sequence[Mapping[str, Any]] = self.owner.client.part(
            "metafield_create", "create_metafields", [m.body for m in rows]
        )
        return answer

    def accepted(self, rows: list[_Meta], answer: Sequence[Mapping[str, Any]]) -> list[_Meta]:
        listed = {
            (as_id(r.get("resource_id")), str(r.get("namespace")), str(r.get("key"))): r for r in answer
        }
        return self._settle_found(rows, listed)

    def look_up(self, rows: list[_Meta]) -> list[_Meta]:
        """After a lost answer (or one leaving rows out): settle what the store holds, return the rest."""
        stored = self.owner.stored(sorted({int(m.item.customer_id or 0) for m in rows}))
        return self._settle_found(rows, {(cid, ns, key): record for (cid, ns, key), record in stored.items()})

    def refused(self, row: _Meta, exc: RequestRejectedError) -> None:
        _refuse(self.settle, row, exc)

    def give_up(self, row: _Meta, sends: int) -> None:
        self.settle.worse(row.item, failed_part_because(f"outcome still unknown after {sends} sends"))

    def fail(self, rows: list[_Meta], exc: TransientFailureError, *, looking: bool) -> None:
        _fail(self.settle, rows, "outcome unknown" if looking else "create failed", exc)

    def _settle_found(
        self, rows: list[_Meta], found: Mapping[tuple[int | None, str, str], Mapping[str, Any]]
    ) -> list[_Meta]:
        """Settle the rows the store holds; one holding another value (written meanwhile) is for an update."""
        missing: list[_Meta] = []
        for meta in rows:
            record = found.get((meta.item.customer_id, *meta.key))
            if record is None:
                missing.append(meta)
            elif str(record.get("value")) == meta.body["value"]:
                self.settle.did(meta.item, _name(meta.key))
            else:
                self.differing.append(
                    _Meta(meta.item, meta.key, {"id": record["id"], "value": meta.body["value"]})
                )
        return missing


def _fail(settle: FieldSettle, metas: list[_Meta], what: str, exc: BaseException) -> None:
    """Settle metafield writes not delivered for a transient reason."""
    for meta in metas:
        settle.worse(meta.item, failed_part(what, exc))


def _refuse(settle: FieldSettle, meta: _Meta, why: RequestRejectedError) -> None:
    """Settle a metafield write the store refused, naming the metafield."""
    settle.worse(meta.item, refused_part(why, _name(meta.key) + ": "))
