"""The field calls of the in-process store client: metafields, segments and shopper profiles.

The same methods as the hook's (``hooks/field_calls.py``), in the same batches, each one operation of
the sandbox's state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

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
from airflow_bigcommerce.models.segment_membership import ProfilesAdded, split_conflicts
from airflow_bigcommerce.sync.client import RequestRejectedError
from airflow_bigcommerce.testing.sandbox_calls import SandboxCalls, data_of

__all__ = ["FieldCalls", "ProfilesAdded"]

_PAGE = str(MAX_PAGE_SIZE)
B = TypeVar("B")
T = TypeVar("T")


class FieldCalls(SandboxCalls):
    """What the sync's metafield and segment deliveries call, answered by the sandbox in process."""

    def _each(self, kind: str, operation: str, method: str, request: B, run: Callable[[B], T]) -> T:
        """Make one call of a batched method: ``run(request)`` under the sandbox's traffic control."""
        return self._call(kind, operation, method, lambda _: run(request))

    def find_metafields(
        self, customer_ids: Sequence[int], *, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        """Return these customers' metafields."""
        found: list[dict[str, Any]] = []
        for group in batches(sorted({int(i) for i in customer_ids}), METAFIELD_LOOKUP_CUSTOMERS):
            query = {"resource_id:in": ",".join(map(str, group)), "limit": _PAGE}
            if namespace is not None:
                query["namespace"] = namespace
            found.extend(
                self._each(
                    "metafield_lookup",
                    "GET /v3/customers/metafields",
                    "GET",
                    query,
                    lambda q: self._pages(self.store.metafields.search, q),
                )
            )
        return found

    def create_metafields(self, metafields: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Create metafields, 50 per call (a batch may partly succeed: 422 naming the failed items)."""
        created: list[dict[str, Any]] = []
        for batch in batches([dict(m) for m in metafields], METAFIELD_BATCH_SIZE):
            created.extend(
                self._each(
                    "metafield_create",
                    "POST /v3/customers/metafields",
                    "POST",
                    batch,
                    lambda b: data_of(self.store.metafields.create(b)),
                )
            )
        return created

    def update_metafields(self, metafields: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Change metafields by id, 50 per call."""
        updated: list[dict[str, Any]] = []
        for batch in batches([dict(m) for m in metafields], METAFIELD_BATCH_SIZE):
            updated.extend(
                self._each(
                    "metafield_update",
                    "PUT /v3/customers/metafields",
                    "PUT",
                    batch,
                    lambda b: data_of(self.store.metafields.update(b)),
                )
            )
        return updated

    def delete_metafields(self, metafield_ids: Sequence[int]) -> list[int]:
        """Delete metafields by id, 50 per call."""
        deleted: list[int] = []
        for batch in batches(sorted({int(i) for i in metafield_ids}), METAFIELD_BATCH_SIZE):
            body = self._each(
                "metafield_delete",
                "DELETE /v3/customers/metafields",
                "DELETE",
                batch,
                self.store.metafields.delete,
            )
            deleted.extend(int(i) for i in body.get("data", []))
        return deleted

    def list_segments(self) -> list[dict[str, Any]]:
        """Return every segment (403 on a plan without the Segmentation API)."""
        return self._read(
            "segment_list",
            "GET /v3/segments",
            lambda: self._pages(self.store.segments.search, {"limit": _PAGE}),
        )

    def create_segments(self, names: Sequence[str]) -> list[dict[str, Any]]:
        """Create segments by name, 50 per call (409 when a name is in use)."""
        created: list[dict[str, Any]] = []
        for batch in batches(list(names), SEGMENT_BATCH_SIZE):
            body = [{"name": name} for name in batch]
            created.extend(
                self._each(
                    "segment_create",
                    "POST /v3/segments",
                    "POST",
                    body,
                    lambda b: data_of(self.store.segments.create(b)),
                )
            )
        return created

    def list_segment_profiles(self, segment_id: str) -> list[dict[str, Any]]:
        """Return the shopper profiles of a segment."""
        return self._read(
            "segment_profiles",
            "GET /v3/segments/{id}/shopper-profiles",
            lambda: self._pages(lambda q: self.store.segments.profiles_of(segment_id, q), {"limit": _PAGE}),
        )

    def add_segment_profiles(self, segment_id: str, profile_ids: Sequence[str]) -> ProfilesAdded:
        """Add profiles to a segment, 50 per call; those in it already (409 per index) are reported."""
        added: list[str] = []
        already: list[str] = []
        for batch in batches(list(dict.fromkeys(profile_ids)), SEGMENT_PROFILES_BATCH_SIZE):
            try:
                self._each(
                    "segment_add",
                    "POST /v3/segments/{id}/shopper-profiles",
                    "POST",
                    batch,
                    lambda b: self.store.segments.add(segment_id, b),
                )
            except RequestRejectedError as error:
                split = split_conflicts(batch, error.errors) if error.status == CONFLICT_STATUS else None
                if split is None:
                    raise
                added.extend(split.added)
                already.extend(split.already_members)
                continue
            added.extend(batch)
        return ProfilesAdded(added, already)

    def remove_segment_profiles(self, segment_id: str, profile_ids: Sequence[str]) -> None:
        """Take profiles out of a segment (by id; the profiles remain)."""
        for batch in batches(sorted(set(profile_ids)), SEGMENT_ID_BATCH_SIZE):
            query = {"id:in": ",".join(batch)}
            self._each(
                "segment_remove",
                "DELETE /v3/segments/{id}/shopper-profiles",
                "DELETE",
                query,
                lambda q: self.store.segments.remove(segment_id, q),
            )

    def find_shopper_profiles(self, customer_ids: Sequence[int]) -> dict[int, str]:
        """Return ``{customer_id: shopper_profile_id}`` for the customers that have one."""
        ids = sorted({int(i) for i in customer_ids})

        def read() -> dict[int, str]:
            found: dict[int, str] = {}
            query = {"id:in": ",".join(map(str, ids)), "include": "shopper_profile_id", "limit": _PAGE}
            for customer in self._pages(self.store.v3_list_customers, query):
                if customer.get("shopper_profile_id"):
                    found[int(customer["id"])] = str(customer["shopper_profile_id"])
            return found

        return self._read("profile_lookup", "GET /v3/customers", read) if ids else {}

    def create_shopper_profiles(self, customer_ids: Sequence[int]) -> dict[int, str]:
        """Create a shopper profile for each customer, 50 per call; return ``{customer_id: profile_id}``."""
        created: dict[int, str] = {}
        for batch in batches(sorted({int(i) for i in customer_ids}), SHOPPER_PROFILE_BATCH_SIZE):
            body = [{"customer_id": i} for i in batch]
            for profile in self._each(
                "profile_create",
                "POST /v3/shopper-profiles",
                "POST",
                body,
                lambda b: data_of(self.store.segments.create_profiles(b)),
            ):
                created[int(profile["customer_id"])] = str(profile["id"])
        return created
