"""
The store calls for customer metafields, segments and shopper profiles.

Each goes through the hook's one request path (pacing, the per-endpoint concurrency caps of
``api.CONCURRENCY_CAPS``, retry budget, never a blind resend of a POST), split into the batches the
API takes (``api.METAFIELD_BATCH_SIZE``, ``api.SEGMENT_PROFILES_BATCH_SIZE``, ...). Deletes always
name their ids: no method here sends an unfiltered ``DELETE``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from airflow_bigcommerce.api import (
    CONFLICT_STATUS,
    MAX_PAGE_SIZE,
    METAFIELD_BATCH_SIZE,
    METAFIELD_LOOKUP_CUSTOMERS,
    SEGMENT_BATCH_SIZE,
    SEGMENT_ID_BATCH_SIZE,
    SEGMENT_PROFILES_BATCH_SIZE,
    SHOPPER_PROFILE_BATCH_SIZE,
    batches,
)
from airflow_bigcommerce.exceptions import BigCommerceAPIError
from airflow_bigcommerce.hooks.part_calls import _data, _Requester
from airflow_bigcommerce.models.segment_membership import ProfilesAdded, split_conflicts

__all__ = ["ProfilesAdded", "StoreFieldsMixin"]


class _CustomerReader(_Requester, Protocol):
    """The hook, as :meth:`StoreFieldsMixin.find_shopper_profiles` reads customers through it."""

    def find_customers_by_id(
        self, ids: Sequence[int], include: Sequence[str] = ()
    ) -> list[dict[str, Any]]: ...


class StoreFieldsMixin:
    """Typed calls for metafields, segments and shopper profiles (mixed into the hook)."""

    # -- metafields ------------------------------------------------------------------------------

    def find_metafields(
        self: _Requester, customer_ids: Sequence[int], *, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        """Return these customers' metafields (``GET /v3/customers/metafields?resource_id:in=``), paged."""
        found: list[dict[str, Any]] = []
        ids = sorted({int(i) for i in customer_ids})
        for group in batches(ids, METAFIELD_LOOKUP_CUSTOMERS):
            params: dict[str, Any] = {"resource_id:in": ",".join(map(str, group)), "limit": MAX_PAGE_SIZE}
            if namespace is not None:
                params["namespace"] = namespace
            found.extend(self._paged("v3/customers/metafields", params))
        return found

    def create_metafields(self: _Requester, metafields: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """
        Create metafields (each with ``resource_id``, ``namespace``, ``key``, ``value``, ``permission_set``).

        One ``POST /v3/customers/metafields`` per 50. A batch may partly succeed: the 422 names the
        failed items, and the caller looks the customers' metafields up before sending any again.
        """
        created: list[dict[str, Any]] = []
        for batch in batches(metafields, METAFIELD_BATCH_SIZE):
            created.extend(
                _data(self._json("POST", "v3/customers/metafields", json=[dict(m) for m in batch]))
            )
        return created

    def update_metafields(self: _Requester, metafields: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Change metafields (each with ``id``), one ``PUT /v3/customers/metafields`` per 50."""
        updated: list[dict[str, Any]] = []
        for batch in batches(metafields, METAFIELD_BATCH_SIZE):
            updated.extend(_data(self._json("PUT", "v3/customers/metafields", json=[dict(m) for m in batch])))
        return updated

    def delete_metafields(self: _Requester, metafield_ids: Sequence[int]) -> list[int]:
        """Delete metafields by id (``DELETE /v3/customers/metafields`` with the ids), 50 per request."""
        deleted: list[int] = []
        for batch in batches(sorted({int(i) for i in metafield_ids}), METAFIELD_BATCH_SIZE):
            body = self._json("DELETE", "v3/customers/metafields", json=batch)
            data = body.get("data") if isinstance(body, Mapping) else None
            deleted.extend(int(i) for i in data or () if isinstance(i, int))
        return deleted

    # -- segments (Enterprise plans only: 403 elsewhere) ------------------------------------------------

    def list_segments(self: _Requester) -> list[dict[str, Any]]:
        """
        Return every segment of the store (``GET /v3/segments``, paged; at most 1,000).

        :raises BigCommerceAPIError: 403 (or 404) on a plan without the Segmentation API.
        """
        return list(self._paged("v3/segments", {"limit": MAX_PAGE_SIZE}))

    def create_segments(self: _Requester, names: Sequence[str]) -> list[dict[str, Any]]:
        """
        Create segments by name (``POST /v3/segments``, 50 per request).

        :raises BigCommerceAPIError: 409 when a name is in use (the batch is refused).
        """
        created: list[dict[str, Any]] = []
        for batch in batches(list(names), SEGMENT_BATCH_SIZE):
            created.extend(_data(self._json("POST", "v3/segments", json=[{"name": n} for n in batch])))
        return created

    def list_segment_profiles(self: _Requester, segment_id: str) -> list[dict[str, Any]]:
        """Return the shopper profiles of a segment (``GET /v3/segments/{id}/shopper-profiles``, paged)."""
        return list(self._paged(f"v3/segments/{segment_id}/shopper-profiles", {"limit": MAX_PAGE_SIZE}))

    def add_segment_profiles(self: _Requester, segment_id: str, profile_ids: Sequence[str]) -> ProfilesAdded:
        """
        Add shopper profiles to a segment, 50 per ``POST /v3/segments/{id}/shopper-profiles``.

        A profile already in the segment answers 409 for its index while the others are added, so a
        resend after a lost answer is safe: such profiles come back as ``already_members``.
        """
        added: list[str] = []
        already: list[str] = []
        for batch in batches(list(dict.fromkeys(profile_ids)), SEGMENT_PROFILES_BATCH_SIZE):
            path = f"v3/segments/{segment_id}/shopper-profiles"
            try:
                body = self._json("POST", path, json=batch)
            except BigCommerceAPIError as error:
                split = split_conflicts(batch, error.errors) if error.status == CONFLICT_STATUS else None
                if split is None:
                    raise
                added.extend(split.added)
                already.extend(split.already_members)
                continue
            answered = {str(p.get("id")) for p in _data(body)}
            added.extend(p for p in batch if p in answered or not answered)
        return ProfilesAdded(added, already)

    def remove_segment_profiles(self: _Requester, segment_id: str, profile_ids: Sequence[str]) -> None:
        """Take profiles out of a segment (``DELETE .../shopper-profiles?id:in=``); the profiles remain."""
        for batch in batches(sorted(set(profile_ids)), SEGMENT_ID_BATCH_SIZE):
            self._json(
                "DELETE", f"v3/segments/{segment_id}/shopper-profiles", params={"id:in": ",".join(batch)}
            )

    # -- shopper profiles ---------------------------------------------------------------------------------

    def find_shopper_profiles(self: _CustomerReader, customer_ids: Sequence[int]) -> dict[int, str]:
        """
        Return ``{customer_id: shopper_profile_id}`` for the customers that have one.

        Read with the customers (``GET /v3/customers?id:in=&include=shopper_profile_id``): the profile
        list itself has no customer filter (segments.v3.yml).
        """
        ids = sorted({int(i) for i in customer_ids})
        customers = self.find_customers_by_id(ids, include=("shopper_profile_id",))
        return {int(c["id"]): str(c["shopper_profile_id"]) for c in customers if c.get("shopper_profile_id")}

    def create_shopper_profiles(self: _Requester, customer_ids: Sequence[int]) -> dict[int, str]:
        """
        Create a shopper profile for each customer (``POST /v3/shopper-profiles``, 50 per request).

        Return ``{customer_id: shopper_profile_id}``. A customer that has one already fails the
        batch (422): look the profiles up first.
        """
        created: dict[int, str] = {}
        for batch in batches(sorted({int(i) for i in customer_ids}), SHOPPER_PROFILE_BATCH_SIZE):
            body = self._json("POST", "v3/shopper-profiles", json=[{"customer_id": i} for i in batch])
            for profile in _data(body):
                created[int(profile["customer_id"])] = str(profile["id"])
        return created
