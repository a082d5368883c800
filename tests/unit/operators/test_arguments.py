"""The operators' shared argument checks, and the one flag parser behind rendered true/false arguments."""

from __future__ import annotations

import pytest

from airflow_bigcommerce.operators.arguments import check_retry_budget, is_template, rendered_flag


@pytest.mark.parametrize("value", [True, "true", "True", " yes ", "1", 1, "on", "y"])
def test_rendered_flag_true(value: object) -> None:
    assert rendered_flag(value, "dry_run") is True


@pytest.mark.parametrize("value", [False, "false", "no", "0", 0, "off", "", "None", None])
def test_rendered_flag_false_or_unset(value: object) -> None:
    assert rendered_flag(value, "dry_run") is False


def test_rendered_flag_names_the_argument() -> None:
    with pytest.raises(ValueError, match=r"dry_run must be true or false, got 'maybe'"):
        rendered_flag("maybe", "dry_run")


def test_is_template_and_retry_budget() -> None:
    assert is_template("{{ ds }}") and not is_template("plain")
    check_retry_budget(None)
    check_retry_budget(0)
    with pytest.raises(ValueError, match="retry_budget_s must be 0 or more seconds"):
        check_retry_budget(-1)
    with pytest.raises(ValueError):
        check_retry_budget(True)  # type: ignore[arg-type]
