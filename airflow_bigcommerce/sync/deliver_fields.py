"""
Deliver the metafields and segment memberships of a batch of contacts whose customers exist.

Called by :class:`.deliver_parts.PartDeliverer` (in the worker thread of the batch), through the
client's one delivery policy, with the exactly-once path of the customer (:mod:`.create_once`):

- **Metafields.** One look-up of the batch's existing customers' metafields (a customer the run
  created has none), then the differences: a batch ``POST`` of the missing ones (through
  :func:`.create_once.deliver_once`: after a lost answer, or a batch refused in part, the customers'
  metafields are looked up and only the missing ones sent again, so no namespace and key is ever
  created twice), a ``PUT`` of the changed ones by id (idempotent: sent once more after a lost
  answer), a ``DELETE`` by id of the ones an empty value clears (after a lost answer, only those still
  there are sent again). ``insert`` only creates.
- **Segments.** A shopper profile is created for each customer without one (``POST
  /v3/shopper-profiles``, a customer that has one refuses the batch: looked up, never created twice),
  then one add per segment (at most 50 profiles per request; a profile in it already answers 409 for
  its item, so an add is idempotent and resent once after a lost answer) and one removal per managed
  segment left (by profile id; the profiles stay).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_bigcommerce.models.field_targets import MetafieldKey
from airflow_bigcommerce.sync.client import OutcomeUnknownError, RequestRejectedError, TransientFailureError
from airflow_bigcommerce.sync.counting import CountingClient
from airflow_bigcommerce.sync.create_once import (
    IDEMPOTENT_SENDS,
    BatchEndpoint,
    deliver_once,
    resend_idempotent,
    split_refused,
)
from airflow_bigcommerce.sync.outcome import (
    PartOutcome,
    Status,
    data,
    failed_part,
    failed_part_because,
    part,
    refused_part,
    store,
)
from airflow_bigcommerce.sync.plan_fields import METAFIELDS_PART, SEGMENTS_PART, FieldPlan
from airflow_bigcommerce.sync.rows import Item, as_id

__all__ = ["FieldDeliverer"]

Outcomes = dict[str, PartOutcome]
_INSERT_MODE_VALUE = store("insert mode changes no stored value")


def _fields(item: Item) -> FieldPlan:
    assert item.plan is not None
    assert item.plan.fields is not None
    return item.plan.fields


def _name(key: MetafieldKey) -> str:
    return f"{key[0]}.{key[1]}"


@dataclass
class _Meta:
    """One metafield write of one contact: its item, its key, and the body sent."""

    item: Item
    key: MetafieldKey
    body: dict[str, Any]


@dataclass
class _Settle:
    """How a part of each contact went: its worst outcome so far, what was written, what was skipped."""

    part: str
    bad: dict[int, PartOutcome] = field(default_factory=dict)
    wrote: dict[int, list[str]] = field(default_factory=dict)
    skipped: set[int] = field(default_factory=set)

    def worse(self, item: Item, outcome: PartOutcome) -> None:
        """Record a failure or refusal (a failure outranks a refusal)."""
        current = self.bad.get(item.index)
        if current is None or (current.status is Status.REJECTED and outcome.status is Status.FAILED):
            self.bad[item.index] = outcome

    def did(self, item: Item, what: str) -> None:
        self.wrote.setdefault(item.index, []).append(what)

    def finish(self, items: Iterable[Item], out: dict[int, Outcomes], *, dry_run: bool) -> None:
        """Settle each item's part: failed or rejected, else created or updated, else unchanged."""
        for item in items:
            if item.index in self.bad:
                out[item.index][self.part] = self.bad[item.index]
                continue
            wrote = self.wrote.get(item.index)
            if wrote:
                new = _fields(item).new_customer
                status = (
                    (Status.WOULD_CREATE if new else Status.WOULD_UPDATE)
                    if dry_run
                    else (Status.CREATED if new else Status.UPDATED)
                )
                out[item.index][self.part] = part(status, None if new else data(", ".join(wrote)))
            elif item.index in self.skipped:
                out[item.index][self.part] = part(Status.SKIPPED, _INSERT_MODE_VALUE)
            else:
                out[item.index].setdefault(self.part, part(Status.UNCHANGED))


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

    def __call__(self, items: Sequence[Item], out: dict[int, Outcomes]) -> None:
        """Settle the metafields and segments of ``items`` into ``out`` (item index -> part outcomes)."""
        work = [i for i in items if i.plan is not None and i.plan.fields is not None]
        metafields = [i for i in work if _fields(i).metafields]
        segments = [i for i in work if _fields(i).join or _fields(i).leave]
        if metafields:
            self._metafields(metafields, out)
        if segments:
            self._segments(segments, out)

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
        settle = _Settle(METAFIELDS_PART)
        known = [i for i in items if not _fields(i).new_customer and (i.customer_id or 0) > 0]
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
        self, creates: list[_Meta], updates: list[_Meta], deletes: list[_Meta], settle: _Settle
    ) -> None:
        """Create, then update (with what another writer created meanwhile, in upsert), then delete."""
        if creates:
            posts = _MetafieldPosts(self, settle)
            deliver_once(creates, posts)
            for meta in posts.differing:
                if _fields(meta.item).upsert:
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
        settle: _Settle,
        writes: tuple[list[_Meta], list[_Meta], list[_Meta]],
    ) -> None:
        """Sort one contact's metafields into creates, updates and deletes (``insert``: creates only)."""
        creates, updates, deletes = writes
        plan = _fields(item)
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

    def _update(self, batch: list[_Meta], settle: _Settle) -> None:
        try:
            resend_idempotent(
                lambda: self.client.part("metafield_update", "update_metafields", [m.body for m in batch])
            )
        except (TransientFailureError, OutcomeUnknownError) as exc:
            for meta in batch:
                settle.worse(meta.item, failed_part("update failed", exc))
            return
        except RequestRejectedError as exc:
            split_refused(
                exc,
                batch,
                resend_one=lambda meta: self._update([meta], settle),
                refuse_one=lambda meta, why: settle.worse(
                    meta.item, refused_part(why, _name(meta.key) + ": ")
                ),
            )
            return
        for meta in batch:
            settle.did(meta.item, _name(meta.key))

    def _delete(self, batch: list[_Meta], settle: _Settle) -> None:
        """Delete by id; after a lost answer or a refusal, only the ones still there are sent again."""
        rest = batch
        for _send in range(IDEMPOTENT_SENDS):
            try:
                self.client.part("metafield_delete", "delete_metafields", [m.body["id"] for m in rest])
            except TransientFailureError as exc:
                for meta in rest:
                    settle.worse(meta.item, failed_part("delete failed", exc))
                return
            except (OutcomeUnknownError, RequestRejectedError) as exc:
                try:
                    there = self.stored(sorted({int(m.item.customer_id or 0) for m in rest}))
                except TransientFailureError as lookup_exc:
                    for meta in rest:
                        settle.worse(meta.item, failed_part("outcome unknown", lookup_exc))
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
                        refuse_one=lambda meta, why: settle.worse(
                            meta.item, refused_part(why, _name(meta.key) + ": ")
                        ),
                    )
                    return
                continue
            for meta in rest:
                settle.did(meta.item, "cleared " + _name(meta.key))
            return
        for meta in rest:
            settle.worse(meta.item, failed_part_because("delete: outcome still unknown"))

    # ----------------------------------------------------------------- segments

    def _segments(self, items: list[Item], out: dict[int, Outcomes]) -> None:
        settle = _Settle(SEGMENTS_PART)
        if self.dry_run:
            for item in items:
                settle.did(item, _fields(item).segment_change)
            settle.finish(items, out, dry_run=True)
            return
        without = [i for i in items if _fields(i).profile_id is None]
        if without:
            deliver_once(without, _ProfileCreates(self.client, settle))
        ready = [i for i in items if _fields(i).profile_id is not None and i.index not in settle.bad]
        joins: dict[str, list[Item]] = {}
        leaves: dict[str, list[Item]] = {}
        for item in ready:
            for segment_id in _fields(item).join:
                joins.setdefault(segment_id, []).append(item)
            for segment_id in _fields(item).leave:
                leaves.setdefault(segment_id, []).append(item)
        for segment_id, members in joins.items():
            self._membership("segment_add", "add_segment_profiles", segment_id, members, settle)
        for segment_id, members in leaves.items():
            self._membership("segment_remove", "remove_segment_profiles", segment_id, members, settle)
        for item in ready:
            if item.index not in settle.bad:
                settle.did(item, _fields(item).segment_change)
        settle.finish(items, out, dry_run=False)

    def _membership(
        self, kind: str, method: str, segment_id: str, members: list[Item], settle: _Settle
    ) -> None:
        """Add profiles to (or take them out of) one segment: idempotent, resent once after a lost answer."""
        profiles = [str(_fields(i).profile_id) for i in members]
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


class _MetafieldPosts(BatchEndpoint[_Meta, Sequence[Mapping[str, Any]]]):
    """The batch metafield ``POST`` of :func:`.create_once.deliver_once`: never a namespace and key twice."""

    def __init__(self, owner: FieldDeliverer, settle: _Settle) -> None:
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

    def settle_refused(self, rows: list[_Meta], exc: RequestRejectedError) -> list[_Meta]:
        """Look up what a batch refused in part wrote; return only the others, to resend."""
        try:
            return self.look_up(rows)
        except TransientFailureError as lookup_exc:
            self.fail(rows, lookup_exc, looking=True)
            return []

    def refuse_one(self, row: _Meta, exc: RequestRejectedError) -> None:
        """Refused alone: unless the store holds it after all (written by an earlier, lost send)."""
        try:
            if not self.look_up([row]):
                return
        except TransientFailureError as lookup_exc:
            self.fail([row], lookup_exc, looking=True)
            return
        self.settle.worse(row.item, refused_part(exc, _name(row.key) + ": "))

    def give_up(self, row: _Meta, sends: int) -> None:
        self.settle.worse(row.item, failed_part_because(f"outcome still unknown after {sends} sends"))

    def fail(self, rows: list[_Meta], exc: TransientFailureError, *, looking: bool) -> None:
        for meta in rows:
            self.settle.worse(meta.item, failed_part("outcome unknown" if looking else "create failed", exc))

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


class _ProfileCreates(BatchEndpoint[Item, Mapping[int, str]]):
    """The shopper profile ``POST`` of :func:`.create_once.deliver_once`: one profile per customer."""

    def __init__(self, client: CountingClient, settle: _Settle) -> None:
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

    def settle_refused(self, rows: list[Item], exc: RequestRejectedError) -> list[Item]:
        """Look up the profiles of a refused batch's customers (some had one); return the others."""
        try:
            return self.look_up(rows)
        except TransientFailureError as lookup_exc:
            self.fail(rows, lookup_exc, looking=True)
            return []

    def refuse_one(self, row: Item, exc: RequestRejectedError) -> None:
        try:
            if not self.look_up([row]):
                return
        except TransientFailureError as lookup_exc:
            self.fail([row], lookup_exc, looking=True)
            return
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
                _fields(item).profile_id = str(profile)
            else:
                missing.append(item)
        return missing
