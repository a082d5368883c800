"""
Checks of operator arguments the operators share, light enough for DAG parsing (standard library only).

``__init__`` checks plain arguments at once; a templated value (Jinja text or an XComArg) is checked
in ``execute``, once rendered.
"""

from __future__ import annotations

from typing import Any

#: Rendered templates of an unset flag: ``"{{ params.dry_run }}"`` with no value renders ``"None"``.
_UNSET_FLAG_TEXTS = frozenset({"", "none"})


def is_template(value: Any) -> bool:
    """Whether ``value`` is still to be rendered (Jinja text or an XComArg), so it cannot be checked yet."""
    return (isinstance(value, str) and "{{" in value) or hasattr(value, "resolve")


def check_retry_budget(retry_budget_s: float | None) -> None:
    """Refuse a negative (or true/false) retry budget; ``None`` keeps the connection's."""
    if retry_budget_s is not None and (isinstance(retry_budget_s, bool) or retry_budget_s < 0):
        raise ValueError(f"retry_budget_s must be 0 or more seconds, got {retry_budget_s!r}")


def rejected_limit(max_rejected: int | str | None) -> int | float | None:
    """
    Read ``max_rejected``: a count of rows, or a share of the run's rows as text.

    An int (0 or more) is returned as it is; ``"2%"`` or ``"0.5 %"`` as a float percentage (2.0,
    0.5); ``None`` means no limit was given.

    :raises ValueError: naming the argument and the two forms it takes.
    """
    if max_rejected is None:
        return None
    if isinstance(max_rejected, int) and not isinstance(max_rejected, bool) and max_rejected >= 0:
        return max_rejected
    if isinstance(max_rejected, str) and max_rejected.strip().endswith("%"):
        try:
            share = float(max_rejected.strip()[:-1])
        except ValueError:
            share = -1.0
        if 0 <= share <= 100:
            return share
    raise ValueError(
        f"max_rejected must be a number of rows (0 or more) or a share of the run's rows such as '2%',"
        f" got {max_rejected!r}"
    )


def rendered_flag(value: Any, name: str) -> bool:
    """
    Read a rendered true/false argument with the package's one flag parser; unset means false.

    :raises ValueError: naming the argument, for anything but the words the parser knows.
    """
    if value is None or (isinstance(value, str) and value.strip().lower() in _UNSET_FLAG_TEXTS):
        return False
    from airflow_bigcommerce.models.fields import parse_bool

    try:
        return parse_bool(value)
    except ValueError:
        raise ValueError(f"{name} must be true or false, got {value!r}") from None


def check_source(
    contacts: Any, sql_conn_id: str | None, sql: str | None, contacts_path: Any, contacts_format: Any
) -> None:
    """Refuse anything but exactly one source of contacts, and a file format it cannot read, at parse."""
    if sum(source is not None for source in (contacts, sql, contacts_path)) != 1:
        raise ValueError(
            "Give exactly one source: contacts=..., sql_conn_id=... with sql=..., or contacts_path=..."
        )
    if contacts_format is not None and contacts_path is None:
        raise ValueError("contacts_format= goes with contacts_path=, the file it describes")
    if contacts_path is not None and not is_template(contacts_format):
        from airflow_bigcommerce.sources.files import file_format_of

        # the format, or the extension when it is already known, is checked at parse (a SourceError)
        if contacts_format is not None or not is_template(contacts_path):
            file_format_of("" if is_template(contacts_path) else str(contacts_path), contacts_format)
    if sql is not None and not sql_conn_id:
        raise ValueError("sql= needs sql_conn_id=, the common.sql connection to read contacts from")
