"""A run's options: one frozen value, checked once."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from airflow_bigcommerce.sync.engine import run_sync
from airflow_bigcommerce.sync.options import MAX_CONCURRENCY, SyncOptions
from airflow_bigcommerce.testing.in_process import InProcessStore


def test_options_are_frozen_validated_and_complete_the_field_map() -> None:
    options = SyncOptions(mode="upsert", max_concurrency=None)
    assert options.workers == MAX_CONCURRENCY
    assert options.fields["email"] == "email"  # validate_field_map's defaults
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.mode = "insert"  # type: ignore[misc]
    for bad in ({"mode": "merge"}, {"batch_size": 11}, {"max_concurrency": 9}, {"chunk_size": 0}):
        with pytest.raises(ValueError):
            SyncOptions(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_rejections_listed"):
        SyncOptions(max_rejections_listed=-1)


def test_a_run_takes_its_options_as_one_value() -> None:
    rows = [{"id": i, "email": f"p{i}@example.com", "first_name": "P", "last_name": "Q"} for i in range(12)]
    store = InProcessStore()
    result = run_sync(rows, store, SyncOptions(batch_size=5, index_limit=0))
    assert (result.created, result.requests["create"]) == (12, 3)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"mode": "merge"}, "mode must be one of ('insert', 'upsert', 'update'), got 'merge'"),
        ({"batch_size": 11}, "batch_size must be 1 to 10 (the V3 API's limit per request), got 11"),
        ({"max_concurrency": 9}, "max_concurrency must be 1 to 8, or None to adapt, got 9"),
        ({"channel_id": 0}, "channel_id must be a channel's id (1 or more) or None, got 0"),
        ({"empty_values": "wipe"}, "empty_values must be one of keep, clear, got 'wipe'"),
    ],
)
def test_the_operator_and_the_engine_refuse_an_option_with_one_message(
    arguments: dict[str, Any], message: str
) -> None:
    from airflow_bigcommerce.operators.sync_customers import SyncCustomersOperator

    with pytest.raises(ValueError) as engine:
        SyncOptions(**arguments)
    with pytest.raises(ValueError) as operator:
        SyncCustomersOperator(task_id="sync", contacts=[], **arguments)
    assert str(engine.value) == str(operator.value) == message


def test_the_field_map_of_the_options_cannot_change() -> None:
    options = SyncOptions(field_map={"Email": "email"})
    with pytest.raises(TypeError):
        options.field_map["Phone"] = "phone"  # type: ignore[index]


def test_update_mode_empty_values_and_notify_are_options() -> None:
    options = SyncOptions(mode="update", empty_values="clear", notify_new_customers=True)
    assert (options.mode, options.empty_values, options.notify_new_customers) == ("update", "clear", True)
    assert (SyncOptions().empty_values, SyncOptions().notify_new_customers) == ("keep", False)
