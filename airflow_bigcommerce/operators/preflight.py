"""
Everything a sync can check before its first store write, reported at once with each fix.

The order is the issue's: the connection's settings, the source (it opens: the query runs, the file
is found), the ``field_map`` against the source's columns, then the store's answer to one read (the
token, its scope, the store hash). Store setup (attributes, groups, channel) comes after, in the
engine, and creates nothing until its own checks passed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from airflow_bigcommerce.exceptions import (
    BigCommerceConfigError,
    BigCommerceConnectionError,
    BigCommerceTransientError,
)
from airflow_bigcommerce.sources import Source, SourceError
from airflow_bigcommerce.sync.source_checks import column_problems

if TYPE_CHECKING:
    from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook

log = logging.getLogger(__name__)

#: ``key_field``'s default: a source without this column names rows by number, which is fine.
DEFAULT_KEY_FIELD = "id"


class PreflightError(BigCommerceConfigError):
    """The sync did not start: one or more problems, each named with its fix; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        lines = "\n".join(f"  {n}. {problem}" for n, problem in enumerate(problems, 1))
        super().__init__(f"The sync did not start ({count}; nothing was written to the store):\n{lines}")


def preflight(
    hook: BigCommerceHook,
    open_source: Callable[[], Source],
    *,
    field_map: Mapping[str, str] | None,
    key_field: str | None,
) -> Source:
    """
    Open the source and check it and the store's connection; return the opened source.

    :param open_source: opens the run's source (it may raise :class:`SourceError`).
    :param field_map: the map as the user gave it (``None``: columns named like the fields).
    :raises PreflightError: with every problem found; the source is closed first.
    """
    problems: list[str] = []
    try:
        hook.settings  # noqa: B018 - the connection's form: host, store hash, token present
        settings_ok = True
    except BigCommerceConfigError as exc:
        problems.append(f"bigcommerce_conn_id={hook.bigcommerce_conn_id!r}: {exc}")
        settings_ok = False
    source: Source | None = None
    try:
        source = open_source()
    except SourceError as exc:
        problems.append(str(exc))
    try:
        if source is not None and source.columns is not None:
            problems.extend(_column_problems(source, field_map, key_field))
        if settings_ok:
            problems.extend(_access_problems(hook))
        if problems:
            raise PreflightError(problems)
    except BaseException:
        if source is not None:
            source.close()
        raise
    assert source is not None  # no problem means the source opened
    return source


def _column_problems(source: Source, field_map: Mapping[str, str] | None, key_field: str | None) -> list[str]:
    """
    Check ``field_map`` against the source's columns; return the problems.

    A sparse source (dicts that may leave out empty keys) fails only for the e-mail's column and a
    named ``key_field``; a mapped column no row has is logged as a warning, since it may be empty in
    this run only.
    """
    assert source.columns is not None
    checked_key = key_field if key_field != DEFAULT_KEY_FIELD else None
    if not source.sparse or field_map is None:
        return column_problems(field_map, source.columns, key_field=checked_key)
    required = {column: target for column, target in field_map.items() if target == "email"}
    optional = {column: target for column, target in field_map.items() if target != "email"}
    for warning in column_problems(optional, source.columns):
        log.warning("%s: %s; its field stays empty in this run", source.name, warning)
    return column_problems(required, source.columns, key_field=checked_key)


def _access_problems(hook: BigCommerceHook) -> list[str]:
    """
    Make the Test button's read; return its message (naming the connection) when it cannot be made.

    A wrong token, scope or store hash, or a host never reached (within ~30 s) is a problem to fix.
    An outage beyond the retry budget is not: the run goes on, and its rows settle as *failed* at
    once (the budget is spent), in the report, for Airflow's retry to deliver.
    """
    try:
        hook.check_access(quick=False)
    except (BigCommerceConfigError, BigCommerceConnectionError) as exc:
        return [str(exc)]
    except BigCommerceTransientError as exc:
        log.warning("Could not check the store's access (%s); the rows will be settled as failed", exc)
    return []
