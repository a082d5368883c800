"""
Check a ``field_map`` against the columns a source declares, before any row is read or store touched.

A column the map names but the source lacks would silently leave its field empty on every row (or
reject every row, for the e-mail); each one is named with the source's columns and the closest match.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

#: Columns listed in a problem, at most (a wide CRM table has hundreds).
COLUMNS_LISTED = 30
#: How alike (0..1, ``difflib``) a column must be to be offered as the closest match.
CLOSE_MATCH = 0.6


def closest(name: str, choices: Sequence[str], cutoff: float = CLOSE_MATCH) -> str | None:
    """Return the choice most like ``name`` (case-insensitively); ``None`` when none is ``cutoff`` alike."""
    by_key = {choice.casefold(): choice for choice in reversed(choices)}
    found = difflib.get_close_matches(name.casefold(), list(by_key), n=1, cutoff=cutoff)
    return by_key[found[0]] if found else None


def listed(columns: Sequence[str]) -> str:
    """Name the columns for a message (the first :data:`COLUMNS_LISTED`, then how many more)."""
    shown = ", ".join(repr(c) for c in columns[:COLUMNS_LISTED]) or "none"
    more = len(columns) - COLUMNS_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def column_problems(
    field_map: Mapping[str, str] | None,
    columns: Sequence[str],
    *,
    key_field: str | None = None,
) -> list[str]:
    """
    Return one sentence per ``field_map`` column (or ``key_field``) the source does not have.

    :param field_map: the map as the user gave it; ``None`` (columns named like the fields) needs only
        an ``email`` column.
    :param columns: the source's columns.
    :param key_field: a column the user named to identify rows in reports (``None``: not checked).
    """
    have = set(columns)
    problems: list[str] = []

    def missing(what: str, column: str) -> str:
        match = closest(column, columns)
        hint = f"; closest: {match!r}" if match is not None else ""
        return f"{what} {column!r} is not a column of the source{hint} (its columns: {listed(columns)})"

    if field_map is None:
        if "email" not in have:
            match = closest("email", columns)
            column = repr(match) if match is not None else "'<column>'"
            fix = f"field_map={{{column}: 'email', ...}}"
            problems.append(
                "no column is named 'email', and without field_map columns map to the customer fields of"
                f" the same name; map the e-mail column: {fix} (its columns: {listed(columns)})"
            )
    else:
        for column, target in field_map.items():
            if column not in have:
                problems.append(missing(f"field_map column (-> {target})", column))
    if key_field is not None and key_field not in have:
        problems.append(missing("key_field", key_field))
    return problems
