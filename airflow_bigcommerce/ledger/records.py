"""
What the ledger keeps of a contact: a :class:`LedgerRow` per (store, channel, CRM key); the Ledger interface.

The ledger is the sync's memory: the customer a CRM key was delivered to, the e-mail as delivered, the
last outcome and why, how many runs in a row did not deliver it, and what a later run needs to try it
again (the row's mapped CRM values, never a password). Pure: no database, no Airflow.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

#: The table a ledger uses unless told otherwise.
DEFAULT_TABLE = "bigcommerce_sync_ledger"
#: The ``channel_id`` of a sync without a channel (the column is part of the key: never null).
NO_CHANNEL = 0
#: Longest CRM key the ledger holds (a ``VARCHAR`` in a primary key: MySQL caps an index's bytes).
MAX_KEY_LENGTH = 255
#: Longest reason kept (the report has the full text).
MAX_REASON_LENGTH = 1000
#: Runs a row is tried in before the ledger gives it up (``max_attempts``' default).
MAX_ATTEMPTS = 5
#: The outcomes a retry may start from (the rule of :mod:`.retries` decides among them).
RETRY_OUTCOMES = frozenset({"failed", "rejected"})
#: The row outcomes a ledger row may have.
OUTCOMES = frozenset({"created", "updated", "skipped", "rejected", "failed"})
#: Target fields never kept in the ledger (a retried row is sent without them).
SECRET_TARGETS = frozenset({"password"})


@dataclass(frozen=True)
class Scope:
    """Whose rows a ledger reads and writes: one store, one channel (``NO_CHANNEL`` without one)."""

    store_hash: str
    channel_id: int = NO_CHANNEL


@dataclass(frozen=True)
class LedgerRow:
    """
    The ledger's record of one CRM key in one scope.

    :param customer_id: the store's customer, ``None`` until delivered.
    :param email: the e-mail as last delivered (or as last tried, before any delivery).
    :param outcome: the last run's outcome (one of :data:`OUTCOMES`).
    :param reason_kind: the kind of ``reason`` (``data``, ``store``, ``transient``): what a retry needs.
    :param attempts: consecutive runs that did not deliver the row (0 once delivered).
    :param updated_at: when the row was written, UTC.
    :param run_id: the run that wrote it.
    :param address_id: the store's id of the address the sync delivered, when it knows it.
    :param values: the row's mapped CRM values (column -> value), what a retry sends; never a password.
    """

    crm_key: str
    outcome: str
    customer_id: int | None = None
    email: str | None = None
    reason: str | None = None
    reason_kind: str | None = None
    attempts: int = 0
    updated_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    run_id: str | None = None
    address_id: int | None = None
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"ledger outcome {self.outcome!r} is not one of {sorted(OUTCOMES)}")
        if len(self.crm_key) > MAX_KEY_LENGTH:
            raise ValueError(f"a ledger key is at most {MAX_KEY_LENGTH} characters")


def retained_values(row: Mapping[str, Any], field_map: Mapping[str, str], key_field: str) -> dict[str, Any]:
    """Return what the ledger keeps of a CRM row: its key and mapped columns, never one mapped to a secret."""
    kept = {key_field: row.get(key_field)} if key_field in row else {}
    for column, target in field_map.items():
        if column in row and target not in SECRET_TARGETS:
            kept[column] = row[column]
    return kept


def encode_values(values: Mapping[str, Any]) -> str:
    """Return the values as JSON text (dates, decimals and other CRM types as their text)."""
    return json.dumps(dict(values), default=str, sort_keys=True, ensure_ascii=False)


def decode_values(text: str | None) -> dict[str, Any]:
    """Return the values a ledger row keeps (``{}`` for none or unreadable text)."""
    if not text:
        return {}
    try:
        decoded = json.loads(text)
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def as_utc(value: object) -> datetime:
    """Return a stored timestamp as an aware UTC datetime (databases hand back naive ones, or text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a timestamp: {type(value).__name__}")
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Ledger(Protocol):
    """A ledger of one scope: batched reads by key, the rows due for a retry, batched idempotent writes."""

    scope: Scope

    def read(self, keys: Iterable[str]) -> dict[str, LedgerRow]:
        """Return the rows of these keys the ledger holds (a few statements, one per chunk of keys)."""

    def write(self, rows: Sequence[LedgerRow]) -> None:
        """Insert or replace these rows (an idempotent upsert: writing a row twice leaves one)."""

    def candidates(self, max_attempts: int, after: str | None, limit: int) -> list[LedgerRow]:
        """
        Return up to ``limit`` rows after key ``after`` (in key order) that may be due for a retry.

        Those whose outcome is ``failed`` or ``rejected`` with fewer than ``max_attempts`` attempts:
        the retry rule (:mod:`.retries`) decides which of them are due.
        """
