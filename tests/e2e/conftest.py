"""Fixtures shared by the e2e modules: the example DAGs run once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from example_runs import Scenario, example_dags


@pytest.fixture(scope="session", name="example_dags")
def example_dags_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """Both example DAGs, run by ``airflow dags test`` once for every test that asserts on them."""
    with example_dags(tmp_path_factory.mktemp("example-dags")) as scenario:
        yield scenario
