"""An opened source of CRM rows, and the one error a source raises."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


class SourceError(ValueError):
    """The source cannot be read: the message names the source, the problem and its fix."""


def _nothing_to_close() -> None:
    return None


@dataclass
class Source:
    """
    An opened source: its rows, what is known before the first row, and how to close it.

    :param name: how messages name the source (``"sql on connection 'crm'"``, a file path).
    :param rows: the rows, consumed once.
    :param columns: the columns every row has, when the source declares them (a query's
        description, a file's header or schema, the keys of an in-memory list); ``None`` when
        they are known only row by row.
    :param total: how many rows there are, when cheap to know (for progress and look-up planning).
    :param close: releases what the source holds (cursor, connection, file); safe to call twice.
    :param sparse: rows may leave out a column (dicts from an API omit null keys): ``columns`` are
        those some row has, and a mapped column none has may be merely empty in this run.
    """

    name: str
    rows: Iterator[Mapping[str, Any]]
    columns: tuple[str, ...] | None = None
    total: int | None = None
    close: Callable[[], None] = field(default=_nothing_to_close)
    sparse: bool = False
