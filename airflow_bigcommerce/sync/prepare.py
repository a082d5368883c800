"""
Turn raw CRM rows into items for the store, settling on the spot what needs no request.

A row that does not map (missing e-mail, bad value, not even a mapping) is rejected, and a row whose
e-mail an earlier row of the run already had is skipped, before any look-up or write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_bigcommerce.models.contact import ContactRejected, map_contact, match_key
from airflow_bigcommerce.models.contact_parts import GROUP_TARGET, PartMap, PartRejected, map_parts
from airflow_bigcommerce.models.empty_values import (
    CLEARABLE_TEXT_TARGETS,
    EmptyValues,
    check_empty_values,
    on_empty,
)
from airflow_bigcommerce.models.field_targets import SEGMENT_TARGET
from airflow_bigcommerce.models.values import is_blank
from airflow_bigcommerce.sync.client import TransientFailureError
from airflow_bigcommerce.sync.outcome import Status, data, failure_reason, store
from airflow_bigcommerce.sync.rows import Item, Line, clip
from airflow_bigcommerce.sync.segments import UnknownSegmentError
from airflow_bigcommerce.sync.store_context import AmbiguousNameError, StoreContext

if TYPE_CHECKING:
    from airflow_bigcommerce.sync.options import SyncOptions

#: Group names listed in an unknown group's rejection, at most.
_GROUPS_LISTED = 10


class _First:
    """The first row of an e-mail in this run: what its later duplicates report."""

    __slots__ = ("customer_id", "key", "pos", "settled")

    def __init__(self, key: str, pos: int) -> None:
        self.key = key
        self.pos = pos
        self.settled = False
        self.customer_id: int | None = None


class RowPreparer:
    """
    Map, validate and de-duplicate rows; called once per row, in input order, from one thread.

    Memory grows with the e-mails seen (one entry per distinct e-mail), which is what lets rows created
    by this run be told apart from later duplicates without a store index.

    :param field_map: a validated CRM column -> customer field map.
    :param key_field: the column naming a row in the report; rows without it are ``row N``.
    :param context: what the run resolved in the store (group ids), when ``field_map`` maps parts.
    :param empty_values: what an empty cell means (``clear``: the store's optional value is cleared).
    :param notify_new_customers: ask the store to send its account-created e-mail to each customer
        the run creates (``trigger_account_created_notification``, a ``customer_Post`` field only).
    """

    def __init__(
        self,
        field_map: dict[str, str],
        key_field: str | None,
        context: StoreContext | None = None,
        *,
        empty_values: EmptyValues = "keep",
        notify_new_customers: bool = False,
    ) -> None:
        self.field_map = field_map
        self.key_field = key_field
        self.part_map = PartMap.from_field_map(field_map)
        self.context = context or StoreContext()
        self.empty_values = check_empty_values(empty_values)
        self.notify = notify_new_customers
        #: CRM column -> the customer field an empty cell clears, and the value (``clear`` only)
        self.clearing = _clearing(field_map) if self.empty_values == "clear" else {}
        self.email_column = next(col for col, target in field_map.items() if target == "email")
        self.seen: dict[str, _First] = {}  # match key -> the first row in this run with it

    @classmethod
    def of(cls, options: SyncOptions, context: StoreContext) -> RowPreparer:
        """Return the preparer of a run with these options, once ``context`` is resolved."""
        return cls(
            options.fields,
            options.key_field,
            context,
            empty_values=options.empty_values,
            notify_new_customers=options.notify_new_customers,
        )

    def __call__(self, index: int, row: Mapping[str, Any]) -> Line | Item:
        """Map one row (1-based ``index``); return its settled line or the item to look up."""
        key = self._row_key(index, row)
        if not isinstance(row, Mapping):
            reason = f"row: not a mapping of column to value (got {type(row).__name__})"
            return Line(index, key, None, Status.REJECTED, data(reason))
        try:
            payload = map_contact(row, self.field_map)
            email = payload["email"]
            mk = match_key(email)
            parts = None
            if self.part_map:
                parts = map_parts(
                    row,
                    self.part_map,
                    first_name=payload["first_name"],
                    last_name=payload["last_name"],
                    empty_values=self.empty_values,
                )
                if parts.group is not None:
                    payload["customer_group_id"] = self._group_id(parts.group)
                if parts.fields.segments:
                    parts.fields.segment_ids = self._segment_ids(parts.fields.segments)
            cleared = {
                name: value
                for column, (name, value) in self.clearing.items()
                if name not in payload and is_blank(row.get(column))
            }
        except (ContactRejected, PartRejected) as exc:
            field = exc.field if isinstance(exc, ContactRejected) else exc.target
            store_side = isinstance(exc, PartRejected) and exc.store_side  # the store lacks what it names
            reason = (store if store_side else data)(clip(str(exc), 1000), field)
            return Line(index, key, self._raw_email(row), Status.REJECTED, reason)
        except TransientFailureError as exc:  # a segment the row names could not be created: retry later
            return Line(index, key, self._raw_email(row), Status.FAILED, failure_reason("segment", exc))
        except Exception as exc:  # a bug or an odd row must not stop the run; no message: it may hold data
            reason = data(f"could not map row: {type(exc).__name__}")
            return Line(index, key, self._raw_email(row), Status.REJECTED, reason)
        first = self.seen.get(mk)
        if first is not None:
            ref = first.key if first.key.startswith("row ") else f"row {first.key}"
            reason = data(f"duplicate of {ref} in this run")
            waiting = None if first.settled else first.pos
            return Line(
                index, key, clip(email), Status.SKIPPED, reason, first.customer_id, duplicate_of=waiting
            )
        self.seen[mk] = _First(key, index)
        if self.notify:
            payload["trigger_account_created_notification"] = True
        return Item(index, key, email, mk, payload, payload, parts=parts, cleared=cleared)

    def settled(self, line: Line) -> None:
        """Note that a first row settled, and its customer id, for the duplicates read after it."""
        first = None if line.email is None else self.seen.get(match_key(line.email))
        if first is not None and first.pos == line.pos:
            first.settled, first.customer_id = True, line.customer_id

    def _group_id(self, name: str) -> int:
        try:
            gid = self.context.group_id(name)
        except AmbiguousNameError as exc:  # two store groups match: never guessed
            raise PartRejected(GROUP_TARGET, str(exc), store_side=True) from None
        if gid is None:
            names = self.context.group_names
            listed = ", ".join(names[:_GROUPS_LISTED]) + (", ..." if len(names) > _GROUPS_LISTED else "")
            raise PartRejected(
                GROUP_TARGET,
                f"the store has no group of that name (it has: {listed or 'none'})",
                store_side=True,  # a group created in the store lets the row through, unchanged
            )
        return gid

    def _segment_ids(self, names: tuple[str, ...]) -> tuple[str, ...]:
        if self.context.segments is None:  # not resolved (a preparer built before the store was opened)
            raise PartRejected(SEGMENT_TARGET, "the store's segments were not read")
        try:
            return self.context.segments.ids_for(names)
        except UnknownSegmentError as exc:  # the store's state: a segment created there lets it through
            raise PartRejected(SEGMENT_TARGET, str(exc), store_side=True) from None

    def _row_key(self, index: int, row: Mapping[str, Any]) -> str:
        if self.key_field is not None:
            try:
                value = row.get(self.key_field)
                text = None if value is None else str(value)
            except Exception:
                text = None
            if text is not None and text.strip():
                return clip(text)
        return f"row {index}"

    def _raw_email(self, row: Mapping[str, Any]) -> str | None:
        """Best-effort e-mail of a rejected row, so the report can still name it."""
        try:
            value = row.get(self.email_column)
            if isinstance(value, str) and value.strip():
                return clip(value.strip())
        except Exception:
            return None
        return None


def _clearing(field_map: dict[str, str]) -> dict[str, tuple[str, object]]:
    """Return CRM column -> (customer field, cleared value) for the customer fields ``clear`` empties."""
    clearing: dict[str, tuple[str, object]] = {}
    for column, target in field_map.items():
        if target in CLEARABLE_TEXT_TARGETS:
            clearing[column] = (target, on_empty(target, "clear").value)
        elif target in ("customer_group_id", GROUP_TARGET):
            clearing[column] = ("customer_group_id", on_empty("customer_group", "clear").value)
    return clearing
