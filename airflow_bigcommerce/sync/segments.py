"""
The store's customer segments by name: what a row's segment names are, and the segments the sync manages.

Read once at start (``GET /v3/segments``, Enterprise plans only; :func:`.store_setup.resolve_store`
fails the run before any write on another plan). Names compare as every store name does
(:func:`~.store_context.name_key`). A name the store lacks rejects the row, naming the segments the
store has, unless ``create_segments``: then it is created once, on the calling thread, looked up
before any resend after a lost answer (:func:`.create_once.create_once`); a dry run creates nothing
and plans with a stand-in id. Used only by the calling thread (rows are prepared there).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow_bigcommerce.api import CONFLICT_STATUS
from airflow_bigcommerce.sync.client import RequestRejectedError, TransientFailureError
from airflow_bigcommerce.sync.create_once import create_once
from airflow_bigcommerce.sync.store_context import name_key

__all__ = ["DRY_RUN_ID_PREFIX", "SegmentDirectory", "UnknownSegmentError"]

log = logging.getLogger("airflow_bigcommerce.sync")

#: The stand-in id of a segment a dry run would create.
DRY_RUN_ID_PREFIX = "(new) "
#: Segment names listed in an unknown segment's rejection, at most.
_LISTED = 10


class UnknownSegmentError(ValueError):
    """A row names segments the store lacks (or names ambiguously); the message lists what it has."""


def _index(segments: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    found: dict[str, list[Mapping[str, Any]]] = {}
    for segment in segments:
        if isinstance(segment.get("id"), str) and isinstance(segment.get("name"), str):
            found.setdefault(name_key(segment["name"]), []).append(segment)
    return found


class SegmentDirectory:
    """
    The store's segments by name, and the ids of the managed ones.

    :param client: the counting client (creates segments when ``create``).
    :param segments: the store's segments as ``GET /v3/segments`` lists them.
    :param managed: the ``managed_segments`` names (those the store lacks are created on first use).
    """

    def __init__(
        self,
        client: Any,
        segments: Sequence[Mapping[str, Any]],
        *,
        create: bool,
        dry_run: bool,
        managed: Sequence[str] = (),
    ) -> None:
        self.client = client
        self.create = create
        self.dry_run = dry_run
        self._by_name = _index(segments)
        self._managed = {name_key(n) for n in managed}

    @property
    def names(self) -> list[str]:
        """The store's segment names (sorted, for messages)."""
        return sorted(str(s["name"]) for found in self._by_name.values() for s in found)

    @property
    def managed_ids(self) -> frozenset[str]:
        """The ids of the managed segments the store has (never a segment outside ``managed_segments``)."""
        return frozenset(
            str(found[0]["id"]) for key in self._managed if len(found := self._by_name.get(key, [])) == 1
        )

    def name_of(self, segment_id: str) -> str:
        """Return a segment's name (its id when unknown)."""
        for found in self._by_name.values():
            for segment in found:
                if segment["id"] == segment_id:
                    return str(segment["name"])
        return segment_id

    def ids_for(self, names: Sequence[str]) -> tuple[str, ...]:
        """
        Return the ids of the segments called ``names``, creating the missing ones when allowed.

        :raises UnknownSegmentError: a name the store lacks (without ``create_segments``), or one two
            segments share.
        :raises TransientFailureError: a segment could not be created for a transient reason.
        """
        ids: list[str] = []
        missing: list[str] = []
        for name in names:
            found = self._by_name.get(name_key(name), [])
            if len(found) > 1:
                listed = ", ".join(str(s["id"]) for s in found)
                raise UnknownSegmentError(
                    f"segment name {name[:80]!r} is ambiguous: segments {listed} have it"
                )
            if found:
                ids.append(str(found[0]["id"]))
            elif self.create:
                ids.append(self._create(name))
            else:
                missing.append(name)
        if missing:
            have = self.names
            listed = ", ".join(have[:_LISTED]) + (", ..." if len(have) > _LISTED else "")
            raise UnknownSegmentError(
                f"the store has no segment {', '.join(repr(n[:80]) for n in missing)}"
                f" (it has: {listed or 'none'}); create it, or pass create_segments=True"
            )
        return tuple(ids)

    def _create(self, name: str) -> str:
        """Create one segment once: after a lost answer, or a 409 for its name, look it up first."""
        if self.dry_run:
            record: Mapping[str, Any] = {"id": DRY_RUN_ID_PREFIX + name, "name": name}
        else:

            def find() -> Mapping[str, Any] | None:
                listed = self.client.part("setup", "list_segments")
                return next((s for s in listed if name_key(str(s.get("name"))) == name_key(name)), None)

            def send() -> Mapping[str, Any]:
                created: list[Mapping[str, Any]] = self.client.part(
                    "segment_create", "create_segments", [name]
                )
                return created[0]

            try:
                outcome = create_once(send, find, in_use=lambda exc: exc.status == CONFLICT_STATUS)
            except RequestRejectedError as exc:  # the store's cap of segments, a name it refuses
                raise UnknownSegmentError(
                    f"the store refused to create segment {name[:80]!r}: {exc}"
                ) from None
            if outcome.record is None:
                raise TransientFailureError(f"creating the segment {name[:80]!r}: no answer")
            record = outcome.record
            log.info("Created segment %r (id %s)", name, record.get("id"))
        self._by_name.setdefault(name_key(name), []).append(record)
        return str(record["id"])
