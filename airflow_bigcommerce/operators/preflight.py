"""
Everything a sync can check before its first store write, reported at once with each fix.

The order is the issue's: the connection's settings, the source (it opens: the query runs, the file
is found), the ``field_map`` against the source's columns, then the store's answer to one read (the
token, its scope, the store hash). Store setup (attributes, groups, channel) comes after, in the
engine, and creates nothing until its own checks passed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from airflow_bigcommerce.exceptions import BigCommerceConfigError, BigCommerceConnectionError
from airflow_bigcommerce.sources import Source, SourceError
from airflow_bigcommerce.sync.source_checks import column_problems

if TYPE_CHECKING:
    from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook

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
            checked_key = key_field if key_field != DEFAULT_KEY_FIELD else None
            problems.extend(column_problems(field_map, source.columns, key_field=checked_key))
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


def _access_problems(hook: BigCommerceHook) -> list[str]:
    """
    Make the Test button's read; return its message (naming the connection) when it cannot be made.

    A wrong token, scope or store hash, or a host never reached (within ~30 s) is a problem to fix;
    an outage beyond the retry budget is not, and propagates as the transient error it is.
    """
    try:
        hook.check_access(quick=False)
    except (BigCommerceConfigError, BigCommerceConnectionError) as exc:
        return [str(exc)]
    return []
