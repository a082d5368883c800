from __future__ import annotations

import pytest

from airflow_bigcommerce.sync.fake import FakeCustomerClient


@pytest.fixture
def store() -> FakeCustomerClient:
    return FakeCustomerClient()
