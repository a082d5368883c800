"""Rows given in memory: a list of dicts, or one dict, usually an upstream task's XCom value."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from airflow_bigcommerce.sources.base import Source


def contact_rows(contacts: Any) -> tuple[Iterator[Mapping[str, Any]], int]:
    """
    Return an iterator over rendered ``contacts`` and how many there are.

    :param contacts: a list of dicts (one dict is taken as a list of one).
    :raises ValueError: ``contacts`` is not a list of dicts.
    """
    rows = _as_list(contacts)
    return iter(rows), len(rows)


def open_contacts(contacts: Any) -> Source:
    """
    Open ``contacts`` as a source; its columns are every key any row has, in first-seen order.

    Without a single dict among them (an empty list: an hourly window without contacts) its columns
    are unknown, not missing.
    """
    rows = _as_list(contacts)
    columns: dict[str, None] | None = None
    for row in rows:
        if isinstance(row, Mapping):
            columns = columns if columns is not None else {}
            columns.update((str(key), None) for key in row)
    known = tuple(columns) if columns is not None else None
    return Source("contacts", iter(rows), columns=known, total=len(rows), sparse=True)


def _as_list(contacts: Any) -> Sequence[Any]:
    if isinstance(contacts, Mapping):
        return [contacts]
    if not isinstance(contacts, Sequence) or isinstance(contacts, str | bytes):
        raise ValueError(f"contacts must be a list of dicts, got {type(contacts).__name__}")
    return contacts
