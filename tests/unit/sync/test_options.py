"""A run's options: one frozen value, checked once."""

from __future__ import annotations

import dataclasses

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
