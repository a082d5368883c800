"""
After an unknown outcome, a customer found by the look-up is counted as ours only if it holds what
we sent: a storefront sign-up that happened meanwhile is "skipped", not "created" (fake client).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from airflow_bigcommerce.sync.client import OutcomeUnknownError
from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.sync.fake import FakeCustomerClient

pytestmark = pytest.mark.reliability

ROWS = [
    {"id": f"r{i}", "email": f"p{i}@example.com", "first_name": f"P{i}", "last_name": "Q"} for i in range(3)
]


class SignupDuringUnknown(FakeCustomerClient):
    """The first create is lost in transit; meanwhile ``p1`` signs up on the storefront."""

    def __init__(self, *, commit_first: bool) -> None:
        super().__init__()
        self.commit_first = commit_first
        self.creates = 0

    def create_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        self.creates += 1
        if self.creates == 1:
            if self.commit_first:
                super().create_customers(customers)
            else:
                self.add({"email": "P1@example.com", "first_name": "Store", "last_name": "Front"})
            raise OutcomeUnknownError("connection dropped")
        return super().create_customers(customers)


def test_signup_meanwhile_is_skipped_not_created() -> None:
    client = SignupDuringUnknown(commit_first=False)
    result = sync_customers(ROWS, client, index_limit=0)
    assert (result.created, result.skipped) == (2, 1)
    assert client.by_email("p1@example.com")["first_name"] == "Store"  # type: ignore[index]
    assert len(client.customers) == 3


def test_our_own_lost_write_is_still_created() -> None:
    client = SignupDuringUnknown(commit_first=True)
    result = sync_customers(ROWS, client, index_limit=0)
    assert (result.created, result.skipped, result.retries_resolved) == (3, 0, 3)
    assert len(client.customers) == 3
