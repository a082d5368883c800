from __future__ import annotations

import pytest

from airflow_bigcommerce.testing.in_process import InProcessStore


@pytest.fixture
def store() -> InProcessStore:
    return InProcessStore()
