"""Customer Segmentation (``/v3/segments``, ``/v3/shopper-profiles``; segments.v3.yml): Enterprise only.

A store whose config has ``segments_enabled: false`` (the default) models a plan below Enterprise:
every endpoint answers 403 saying so (as for any feature the plan lacks, see ``groups.py``). Limits
(segments.v3.yml, SOURCE.md): at most 1,000 segments per store; a name in use answers 409 "Cannot have
multiple segments with the same name"; a shopper profile belongs to one registered customer; at most
50 profiles per add request, and one already in the segment answers 409 per index (the others are
added). Deliberate difference: a ``DELETE`` without ``id:in`` is refused (400) instead of guessed at.
Ids are UUIDs, derived from a counter so that runs repeat.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from airflow_bigcommerce.api import (
    MAX_STORE_SEGMENTS,
    SEGMENT_BATCH_SIZE,
    SEGMENT_PROFILES_BATCH_SIZE,
    SHOPPER_PROFILE_BATCH_SIZE,
)
from airflow_bigcommerce.sandbox.state.book import CustomerBook
from airflow_bigcommerce.sandbox.state.customer import iso
from airflow_bigcommerce.sandbox.state.errors import BatchError, v3_error
from airflow_bigcommerce.sandbox.state.query import v3_page
from airflow_bigcommerce.sandbox.state.schemas import (
    V3SegmentPost,
    V3SegmentPut,
    V3ShopperProfilePost,
    parse_v3_batch,
)

NOT_ON_PLAN = "The Customer Segmentation API is available on Enterprise plans only."
SAME_NAME = "Cannot have multiple segments with the same name."
_ID_NAMESPACE = uuid.UUID("6f1f5a52-6a0c-4c1e-9a38-0d5bd1f0b1c7")


def _ids(query: Mapping[str, str]) -> list[str]:
    """Return the ``id:in`` values; refuse a delete without them (400), never delete everything."""
    ids = [part.strip() for part in query.get("id:in", "").split(",") if part.strip()]
    if not ids:
        raise v3_error(400, "Send the ids to delete in id:in; an unfiltered delete is refused.")
    return ids


class Segments:
    """The store's segments, shopper profiles and which profiles each segment holds."""

    def __init__(
        self, book: CustomerBook, enabled: Callable[[], bool], save: Callable[[list[dict[str, Any]]], None]
    ) -> None:
        self.book = book
        self._enabled = enabled
        self._save = save
        self._segments: dict[str, dict[str, Any]] = {}
        self._profiles: dict[str, dict[str, Any]] = {}
        self._members: dict[str, list[str]] = {}

    def load(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Replace the state with a persisted one (one record: segments, profiles and members)."""
        for record in records:
            self._segments = {k: dict(v) for k, v in record.get("segments", {}).items()}
            self._profiles = {k: dict(v) for k, v in record.get("profiles", {}).items()}
            self._members = {k: list(v) for k, v in record.get("members", {}).items()}

    def clear(self) -> None:
        """Forget every segment and profile (a store reset)."""
        self._segments.clear()
        self._profiles.clear()
        self._members.clear()

    def _changed(self) -> None:
        self._save([{"segments": self._segments, "profiles": self._profiles, "members": self._members}])

    def check_plan(self) -> None:
        """Refuse (403) on a plan below Enterprise: the first thing every route checks."""
        if not self._enabled():
            raise v3_error(403, NOT_ON_PLAN)

    def _new_id(self, kind: str) -> str:
        return str(uuid.uuid5(_ID_NAMESPACE, f"{kind}/{self.book.next_id(kind)}"))

    def _segment(self, segment_id: str) -> dict[str, Any]:
        found = self._segments.get(segment_id)
        if found is None:
            raise v3_error(404, f"Segment {segment_id} was not found.")
        return found

    # -- segments ----------------------------------------------------------------------------------
    def search(self, query: Mapping[str, str]) -> dict[str, Any]:
        """``GET /v3/segments``: by creation, ``id:in`` filter, paged."""
        self.check_plan()
        page = v3_page(query)
        wanted = {p.strip() for p in query.get("id:in", "").split(",") if p.strip()}
        with self.book.lock:
            found = [dict(s) for s in self._segments.values() if not wanted or s["id"] in wanted]
        return page.answer(found)

    def create(self, body: Any) -> dict[str, Any]:
        """``POST /v3/segments``: all or nothing; 409 on a name in use, 422 beyond 1,000 segments."""
        self.check_plan()
        items = parse_v3_batch(body, V3SegmentPost, SEGMENT_BATCH_SIZE)
        with self.book.lock:
            taken = {s["name"].lower() for s in self._segments.values()}
            clashes: dict[str, str] = {}
            for index, item in enumerate(items):
                if item.name.lower() in taken:
                    clashes[str(index)] = SAME_NAME
                taken.add(item.name.lower())
            if clashes:
                raise BatchError(409, SAME_NAME, [], clashes, len(items), len(clashes))
            if len(self._segments) + len(items) > MAX_STORE_SEGMENTS:
                raise v3_error(
                    422,
                    f"Max total segments allowed per store is {MAX_STORE_SEGMENTS}.",
                    {"name": f"The store has {len(self._segments)} segments."},
                )
            moment = iso(self.book.now())
            created = []
            for item in items:
                segment_id = self._new_id("segment")
                self._segments[segment_id] = {
                    "id": segment_id,
                    "name": item.name,
                    "description": item.description or "",
                    "created_at": moment,
                    "updated_at": moment,
                }
                self._members[segment_id] = []
                created.append(dict(self._segments[segment_id]))
            self._changed()
        return {"data": created, "meta": {}}

    def update(self, body: Any) -> dict[str, Any]:
        """``PUT /v3/segments``: all or nothing; 404 for an unknown id, 409 on a name in use."""
        self.check_plan()
        items = parse_v3_batch(body, V3SegmentPut, SEGMENT_BATCH_SIZE)
        with self.book.lock:
            for item in items:
                self._segment(item.id)
            names = {s["id"]: s["name"].lower() for s in self._segments.values()}
            names.update({i.id: i.name.lower() for i in items if i.name})
            clashes = {
                str(index): SAME_NAME
                for index, item in enumerate(items)
                if item.name and list(names.values()).count(item.name.lower()) > 1
            }
            if clashes:
                raise BatchError(409, SAME_NAME, [], clashes, len(items), len(clashes))
            moment = iso(self.book.now())
            for item in items:
                segment = self._segments[item.id]
                segment.update(item.model_dump(exclude_unset=True, exclude_none=True, exclude={"id"}))
                segment["updated_at"] = moment
            self._changed()
            return {"data": [dict(self._segments[i.id]) for i in items], "meta": {}}

    def delete(self, query: Mapping[str, str]) -> None:
        """``DELETE /v3/segments?id:in=``: the segments go, their profiles stay."""
        self.check_plan()
        with self.book.lock:
            for segment_id in _ids(query):
                self._segments.pop(segment_id, None)
                self._members.pop(segment_id, None)
            self._changed()

    # -- a segment's shopper profiles ----------------------------------------------------------------
    def profiles_of(self, segment_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        """``GET /v3/segments/{id}/shopper-profiles``, paged in the order they were added."""
        self.check_plan()
        page = v3_page(query)
        with self.book.lock:
            self._segment(segment_id)
            found = [dict(self._profiles[p]) for p in self._members[segment_id] if p in self._profiles]
        return page.answer(found)

    def add(self, segment_id: str, body: Any) -> dict[str, Any]:
        """``POST /v3/segments/{id}/shopper-profiles``: up to 50 ids; 409 per one already in it."""
        self.check_plan()
        if not isinstance(body, list) or not body or not all(isinstance(p, str) for p in body):
            raise v3_error(422, "Send a non-empty array of shopper profile ids.", {"body": "invalid"})
        if len(body) > SEGMENT_PROFILES_BATCH_SIZE:
            raise v3_error(
                413, f"The limit of shopper profiles per request is {SEGMENT_PROFILES_BATCH_SIZE}."
            )
        with self.book.lock:
            self._segment(segment_id)
            unknown = {str(i): f"Shopper profile `{p}` does not exist." for i, p in enumerate(body)}
            unknown = {i: m for i, m in unknown.items() if body[int(i)] not in self._profiles}
            if unknown:
                raise v3_error(422, "Unable to add shopper profiles to segment.", unknown)
            members = self._members[segment_id]
            added: list[dict[str, Any]] = []
            conflicts: dict[str, str] = {}
            for index, profile_id in enumerate(body):
                if profile_id in members:
                    conflicts[str(index)] = (
                        f"Shopper profile `{profile_id}` already exists for segment `{segment_id}`."
                    )
                    continue
                members.append(profile_id)
                added.append(dict(self._profiles[profile_id]))
            self._changed()
            if conflicts:
                title = "Unable to add shopper profiles to segment due to conflicts."
                raise BatchError(409, title, added, conflicts, len(body), len(conflicts))
        return {"data": added}

    def remove(self, segment_id: str, query: Mapping[str, str]) -> None:
        """``DELETE /v3/segments/{id}/shopper-profiles?id:in=``: the association only."""
        self.check_plan()
        with self.book.lock:
            self._segment(segment_id)
            gone = set(_ids(query))
            self._members[segment_id] = [p for p in self._members[segment_id] if p not in gone]
            self._changed()

    # -- shopper profiles ------------------------------------------------------------------------------
    def profiles(self, query: Mapping[str, str]) -> dict[str, Any]:
        """``GET /v3/shopper-profiles``, paged by creation."""
        self.check_plan()
        page = v3_page(query)
        with self.book.lock:
            return page.answer([dict(p) for p in self._profiles.values()])

    def create_profiles(self, body: Any) -> dict[str, Any]:
        """``POST /v3/shopper-profiles``: all or nothing; a registered customer with no profile yet each."""
        self.check_plan()
        items = parse_v3_batch(body, V3ShopperProfilePost, SHOPPER_PROFILE_BATCH_SIZE)
        with self.book.lock:
            owners = {p["customer_id"] for p in self._profiles.values()}
            errors: dict[str, str] = {}
            for index, item in enumerate(items):
                if self.book.customer(item.customer_id) is None:
                    errors[f"{index}.customer_id"] = f"Customer {item.customer_id} does not exist."
                elif item.customer_id in owners:
                    errors[f"{index}.customer_id"] = (
                        f"Customer {item.customer_id} already has a shopper profile."
                    )
                owners.add(item.customer_id)
            if errors:
                raise v3_error(422, "Unable to create shopper profiles.", errors)
            moment = iso(self.book.now())
            created = []
            for item in items:
                profile_id = self._new_id("shopper_profile")
                self._profiles[profile_id] = {
                    "id": profile_id,
                    "customer_id": item.customer_id,
                    "created_at": moment,
                    "updated_at": moment,
                }
                created.append(dict(self._profiles[profile_id]))
            self._changed()
        return {"data": created, "meta": {}}

    def delete_profiles(self, query: Mapping[str, str]) -> None:
        """``DELETE /v3/shopper-profiles?id:in=``: the profiles and their memberships."""
        self.check_plan()
        with self.book.lock:
            gone = set(_ids(query))
            for profile_id in gone:
                self._profiles.pop(profile_id, None)
            for segment_id, members in self._members.items():
                self._members[segment_id] = [p for p in members if p not in gone]
            self._changed()

    def forget_customers(self, customer_ids: Iterable[int]) -> None:
        """Drop the shopper profiles (and memberships) of deleted customers."""
        gone = set(customer_ids)
        with self.book.lock:
            doomed = {p for p, record in self._profiles.items() if record["customer_id"] in gone}
            if not doomed:
                return
            for profile_id in doomed:
                del self._profiles[profile_id]
            for segment_id, members in self._members.items():
                self._members[segment_id] = [p for p in members if p not in doomed]
            self._changed()

    def segments_of(self, profile_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        """``GET /v3/shopper-profiles/{id}/segments``, paged."""
        self.check_plan()
        page = v3_page(query)
        with self.book.lock:
            if profile_id not in self._profiles:
                raise v3_error(404, f"Shopper profile {profile_id} was not found.")
            found = [dict(self._segments[s]) for s, m in self._members.items() if profile_id in m]
        return page.answer(found)

    def membership(self, customer_id: int) -> tuple[str | None, list[str]]:
        """Return a customer's shopper profile id and segment ids (for ``include=segment_ids``)."""
        with self.book.lock:
            profile = next(
                (p["id"] for p in self._profiles.values() if p["customer_id"] == customer_id), None
            )
            if profile is None:
                return None, []
            return profile, [s for s, members in self._members.items() if profile in members]

    def everything(self) -> dict[str, Any]:
        """Return segments, profiles and memberships (admin view: also on a store without the feature)."""
        with self.book.lock:
            return {
                "segments": [dict(s) for s in self._segments.values()],
                "shopper_profiles": [dict(p) for p in self._profiles.values()],
                "members": {k: list(v) for k, v in self._members.items()},
            }
