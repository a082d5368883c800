"""The pytest fixtures of :mod:`airflow_bigcommerce.testing`: one sandbox per session, a clean store per test.

Loaded by pytest through ``airflow_bigcommerce.testing`` (the ``pytest11`` entry point names it, and it
lists this module in ``pytest_plugins``), so ``testing.run_sandbox`` itself never needs pytest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_bigcommerce.testing import SandboxHandle, run_sandbox


@pytest.fixture(scope="session")
def bigcommerce_sandbox_options() -> dict[str, Any]:
    """Override to change the session sandbox's settings (keyword arguments of ``run_sandbox``)."""
    return {}


@pytest.fixture(scope="session")
def bigcommerce_sandbox_server(bigcommerce_sandbox_options: dict[str, Any]) -> Iterator[SandboxHandle]:
    """Start one sandbox server for the whole session."""
    with run_sandbox(**bigcommerce_sandbox_options) as handle:
        yield handle


@pytest.fixture
def bigcommerce_sandbox(
    bigcommerce_sandbox_server: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> SandboxHandle:
    """Give a test a clean sandbox (no customers, default settings) and ``bigcommerce_default``."""
    bigcommerce_sandbox_server.store.reset()
    for name, value in bigcommerce_sandbox_server.env().items():
        monkeypatch.setenv(name, value)
    return bigcommerce_sandbox_server
