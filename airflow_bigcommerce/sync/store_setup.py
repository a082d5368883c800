"""
What a run resolves once, before the first row: attribute ids, group ids, the channel's login rule.

Names in ``field_map`` (``attribute.<name>``, ``customer_group`` values) become ids here, so a name the
store lacks fails the run at start with a message saying what the store has, before any write.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow_bigcommerce.api import MAX_STORE_ATTRIBUTES, NO_SEGMENTS_STATUSES, UNKNOWN_CHANNEL_STATUSES
from airflow_bigcommerce.models.contact_parts import PartMap
from airflow_bigcommerce.sync.client import RequestRejectedError, TransientFailureError
from airflow_bigcommerce.sync.create_once import create_once, in_use_text
from airflow_bigcommerce.sync.rows import as_id
from airflow_bigcommerce.sync.segments import SegmentDirectory
from airflow_bigcommerce.sync.source_checks import closest
from airflow_bigcommerce.sync.store_context import (
    AmbiguousNameError,
    StoreContext,
    global_logins_of,
    id_for,
    ids_by_name,
    plan_lacks_groups,
)

__all__ = ["ADDRESS_ID_ATTRIBUTE", "StoreContext", "StoreSetupError", "resolve_store"]

log = logging.getLogger("airflow_bigcommerce.sync")

#: The customer attribute in which the sync records the id of the address it manages per customer
#: (the store has no other place to mark an address as the sync's; see ``sync.plan``).
ADDRESS_ID_ATTRIBUTE = "crm_sync_address_id"


#: How alike (0..1) a new attribute's name and one the store has must be to be taken for a typo:
#: ``hubspt_id`` / ``hubspot_id`` (0.95) is; ``erp_id`` / ``crm_id`` (0.67), ``phone2`` / ``phone1`` not.
TYPO = 0.85


class StoreSetupError(ValueError):
    """The store cannot take what ``field_map`` asks for (unknown attribute, no customer groups, ...)."""


def resolve_store(
    client: Any,
    part_map: PartMap,
    *,
    channel_id: int | None,
    create_attributes: bool,
    dry_run: bool,
    ledger: bool = False,
    create_segments: bool = False,
    managed_segments: tuple[str, ...] = (),
) -> StoreContext:
    """
    Resolve names to ids and read the channel's login rule (a handful of requests per run).

    Everything is read and checked first (attributes, groups, channel); attributes are created only
    after all of that passed, so a mistake found at start leaves the store as it was.

    :param client: the counting client (``sync.counting.CountingClient``).
    :param create_attributes: create attributes the store lacks (type ``string``) instead of failing;
        a dry run creates nothing and reports the values as would-be writes. A name one typo away
        from an attribute the store has is never created: it fails, naming the store's attribute.
    :param ledger: the run has a ledger, which records the ids of the sync's addresses: the
        :data:`ADDRESS_ID_ATTRIBUTE` is read when the store has it (the record of earlier runs without
        a ledger) and never created.
    :param create_segments: create the segments rows name that the store lacks (when they are read).
    :param managed_segments: the segments the sync may take customers out of.
    :raises StoreSetupError: an unknown, mistyped or ambiguous attribute (names follow
        ``store_context.name_key``), a store without customer groups, a store without the
        Segmentation API (Enterprise plans) when ``segment`` is mapped, an unknown channel.
    """
    known, missing = _attributes(client, part_map, create_attributes, record_address=not ledger)
    groups = _groups(client) if part_map.group is not None else []
    segments = None
    if part_map.fields.segment is not None:
        segments = SegmentDirectory(
            client, _segments(client), create=create_segments, dry_run=dry_run, managed=managed_segments
        )
    global_logins = True if channel_id is None else _global_logins(client, channel_id)
    for placeholder, name in enumerate(missing, 1):
        if name != ADDRESS_ID_ATTRIBUTE or not dry_run:
            known[name] = -placeholder if dry_run else _create(client, name)
    attribute_ids = {name: known[name] for name in dict.fromkeys(part_map.attributes.values())}
    address_attribute_id = known.get(ADDRESS_ID_ATTRIBUTE) if part_map.address else None
    names = tuple(sorted(str(g.get("name")) for g in groups))
    return StoreContext(
        attribute_ids,
        address_attribute_id,
        ids_by_name(groups),
        channel_id,
        global_logins,
        names,
        segments=segments,
        address_ids_in_ledger=ledger and bool(part_map.address),
    )


def _attributes(
    client: Any, part_map: PartMap, create_attributes: bool, *, record_address: bool = True
) -> tuple[dict[str, int], list[str]]:
    """
    Return the ids of the attributes the store has, and the names to create (after every check).

    The mapped attributes may be created only with ``create_attributes``; :data:`ADDRESS_ID_ATTRIBUTE`
    (the sync's own, when ``field_map`` maps an address) always is, unless ``record_address`` is
    false (a ledger records the address ids).
    """
    wanted = list(dict.fromkeys(part_map.attributes.values()))
    if not wanted and not part_map.address:
        return {}, []
    listed = client.part("setup", "list_customer_attributes")
    index = ids_by_name(listed)
    known: dict[str, int] = {}
    for name in {*wanted, ADDRESS_ID_ATTRIBUTE}:
        try:
            aid = id_for("customer attribute", name, index)
        except AmbiguousNameError as exc:
            raise StoreSetupError(f"field_map: {exc}; rename one of them in the store") from None
        if aid is not None:
            known[name] = aid
    missing = [name for name in wanted if name not in known]
    have = sorted(str(a.get("name")) for a in listed if as_id(a.get("id")) is not None)
    if missing and not create_attributes:
        raise StoreSetupError(
            f"field_map maps attribute(s) {', '.join(map(repr, missing))} that the store does not have"
            f" (it has: {', '.join(have) or 'none'}); create them in the control panel, or pass"
            " create_attributes=True"
        )
    theirs = [name for name in have if name != ADDRESS_ID_ATTRIBUTE]
    typos = [(name, match) for name in missing if (match := closest(name, theirs, TYPO)) is not None]
    if typos:
        raise StoreSetupError(
            "field_map maps "
            + ", ".join(
                f"attribute {name!r}, which the store lacks but has {match!r}" for name, match in typos
            )
            + "; an attribute cannot be deleted once it holds values, so create_attributes creates no"
            " name this close to one the store has: fix the name in field_map (or create it in the"
            " control panel if it is meant)"
        )
    if part_map.address and record_address and ADDRESS_ID_ATTRIBUTE not in known:
        missing.append(ADDRESS_ID_ATTRIBUTE)
    return known, missing


def _groups(client: Any) -> list[dict[str, Any]]:
    try:
        groups: list[dict[str, Any]] = client.part("setup", "list_customer_groups")
    except RequestRejectedError as exc:
        if plan_lacks_groups(exc):
            raise StoreSetupError(
                "field_map maps customer_group, but this store has no customer groups (they need"
                f" the Plus plan or higher; the store answered {exc.status})"
            ) from None
        raise
    return groups


def _segments(client: Any) -> list[dict[str, Any]]:
    """Read the store's segments; a plan without the Segmentation API fails the run here, before any write."""
    try:
        segments: list[dict[str, Any]] = client.part("setup", "list_segments")
    except RequestRejectedError as exc:
        if exc.status in NO_SEGMENTS_STATUSES:
            raise StoreSetupError(
                "field_map maps segment, but this store has no Customer Segmentation API: it is an"
                f" Enterprise feature (the store answered {exc.status}); remove segment from field_map"
                " or sync to an Enterprise store"
            ) from None
        raise
    return segments


def _global_logins(client: Any, channel_id: int) -> bool:
    try:
        settings = client.part("setup", "get_channel_settings", channel_id)
    except RequestRejectedError as exc:
        if exc.status in UNKNOWN_CHANNEL_STATUSES:
            raise StoreSetupError(f"channel_id {channel_id}: the store has no such channel") from None
        raise
    allowed = global_logins_of(settings, channel_id)
    log.info("Channel %d: global logins %s", channel_id, "allowed" if allowed else "not allowed")
    return allowed


def _create(client: Any, name: str) -> int:
    """Create a string attribute once: after a lost answer, look for it before sending again."""

    def find() -> dict[str, Any] | None:
        listed = client.part("setup", "list_customer_attributes")
        aid = id_for("customer attribute", name, ids_by_name(listed))
        return None if aid is None else {"id": aid, "name": name}

    try:
        outcome = create_once(
            lambda: client.part("setup", "create_customer_attribute", name, "string"),
            find,
            # another run created it meanwhile: the look-up finds it; other refusals (the store's
            # cap) are the setup's error
            in_use=lambda exc: bool(in_use_text(exc)),
        )
    except RequestRejectedError as exc:
        raise StoreSetupError(
            f"could not create the customer attribute {name!r} (the store allows at most "
            f"{MAX_STORE_ATTRIBUTES}): {exc}"
        ) from None
    if outcome.record is None:
        raise TransientFailureError(f"creating the customer attribute {name!r}: no answer")
    log.info("Created customer attribute %r (id %s)", name, outcome.record.get("id"))
    return int(outcome.record["id"])
