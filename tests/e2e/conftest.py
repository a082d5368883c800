"""Fixtures shared by the e2e modules: the example DAGs run once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from example_runs import Scenario, example_dags


@pytest.fixture(scope="session", name="example_dags")
def example_dags_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    """
    Both example DAGs, run by ``airflow dags test`` once for every test that asserts on them.

    The second and the later sync run only when a test of the session asks for them (through
    ``test_example_dags.py``'s ``scenario`` fixture); ``test_lineage.py`` alone needs neither.
    """
    full = any("scenario" in item.fixturenames for item in request.session.items)
    with example_dags(tmp_path_factory.mktemp("example-dags"), full=full) as scenario:
        yield scenario
