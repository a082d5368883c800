"""
The checks of a sync's options, stated once: ``SyncOptions`` and ``SyncCustomersOperator`` both run them.

Standard library and :mod:`airflow_bigcommerce.api` only, so the operator checks its plain arguments
when the DAG is parsed without loading the engine.
"""

from __future__ import annotations

from typing import Any, Literal

from airflow_bigcommerce.api import (
    CUSTOMER_BATCH_SIZE,
    MAX_IN_FLIGHT,
    MAX_STORE_SEGMENTS,
    METAFIELD_PERMISSION_SETS,
)

#: What ``mode`` may be: create new customers only, create and update, or update existing ones only.
SyncMode = Literal["insert", "upsert", "update"]
SYNC_MODES: tuple[SyncMode, ...] = ("insert", "upsert", "update")


def check_mode(mode: Any) -> None:
    """Refuse a mode the sync does not have."""
    if mode not in SYNC_MODES:
        raise ValueError(f"mode must be one of {SYNC_MODES}, got {mode!r}")


def check_batch_size(batch_size: Any) -> None:
    """Refuse a batch size outside the V3 API's 1 to 10 customers per request."""
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int)
        or not 1 <= batch_size <= CUSTOMER_BATCH_SIZE
    ):
        raise ValueError(
            f"batch_size must be 1 to {CUSTOMER_BATCH_SIZE} (the V3 API's limit per request), "
            f"got {batch_size}"
        )


def check_max_concurrency(max_concurrency: Any) -> None:
    """Refuse a fixed in-flight limit outside 1 to 8 (``None`` adapts)."""
    if max_concurrency is not None and (
        isinstance(max_concurrency, bool)
        or not isinstance(max_concurrency, int)
        or not 1 <= max_concurrency <= MAX_IN_FLIGHT
    ):
        raise ValueError(
            f"max_concurrency must be 1 to {MAX_IN_FLIGHT}, or None to adapt, got {max_concurrency}"
        )


def check_channel_id(channel_id: Any) -> None:
    """Refuse a channel id that is not a channel's (1 or more); ``None`` is the store's behaviour."""
    if channel_id is not None and (
        isinstance(channel_id, bool) or not isinstance(channel_id, int) or channel_id < 1
    ):
        raise ValueError(f"channel_id must be a channel's id (1 or more) or None, got {channel_id!r}")


def check_ledger(has_ledger: bool, key_field: Any, max_attempts: Any) -> None:
    """Refuse a ledger without a ``key_field`` (its rows are keyed by it) and a ``max_attempts`` below 1."""
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ValueError(f"max_attempts must be a whole number of at least 1, not {max_attempts!r}")
    if has_ledger and (not isinstance(key_field, str) or not key_field.strip()):
        raise ValueError(
            "a sync with a ledger needs key_field: the column holding each row's CRM id (the ledger's key)"
        )


def check_metafield_permission(permission: Any) -> None:
    """Refuse a ``metafield_permission`` that is not one of the API's ``permission_set`` values."""
    if permission not in METAFIELD_PERMISSION_SETS:
        raise ValueError(
            f"metafield_permission must be one of {', '.join(METAFIELD_PERMISSION_SETS)}, got {permission!r}"
        )


def check_managed_segments(managed: Any) -> tuple[str, ...]:
    """
    Return ``managed_segments`` as a tuple of names (trimmed, inner spaces collapsed, each once).

    :raises ValueError: not a list of non-empty names, or more names than a store can have segments.
    """
    if managed is None:
        return ()
    if isinstance(managed, str) or not isinstance(managed, list | tuple | set | frozenset):
        raise ValueError(f"managed_segments must be a list of segment names, got {type(managed).__name__}")
    names: dict[str, str] = {}
    for name in sorted(managed) if isinstance(managed, set | frozenset) else managed:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("managed_segments must hold segment names (non-empty text)")
        text = " ".join(name.split())
        names.setdefault(text.casefold(), text)
    if len(names) > MAX_STORE_SEGMENTS:
        raise ValueError(f"managed_segments names more than a store's {MAX_STORE_SEGMENTS} segments")
    return tuple(names.values())
