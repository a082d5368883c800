"""A store whose e-mail filter cannot see a customer that its uniqueness check can (case, collation)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.testing.in_process import InProcessStore


class BlindLookupClient(InProcessStore):
    def find_customers_by_email(self, emails: Sequence[str]) -> list[dict[str, Any]]:
        return [c for c in super().find_customers_by_email(emails) if c["email"] == c["email"].lower()]


def rows(n: int) -> list[dict[str, Any]]:
    return [
        {"id": i, "email": f"user{i}@example.com", "first_name": "U", "last_name": str(i)} for i in range(n)
    ]


def test_in_use_but_invisible_customers_count_as_skipped_not_rejected() -> None:
    client = BlindLookupClient(
        customers=[{"email": "USER3@Example.com", "first_name": "Pre", "last_name": "X"}]
    )
    result = sync_customers(rows(12), client, index_limit=0)
    assert (result.created, result.skipped, result.rejected) == (11, 1, 0)
    emails = sorted(c["email"].lower() for c in client.customers.values())
    assert emails == sorted(f"user{i}@example.com" for i in range(12))


def test_a_bare_409_counts_as_in_use() -> None:
    from airflow_bigcommerce.sync.client import RequestRejectedError
    from airflow_bigcommerce.sync.create_once import in_use_text as _in_use_text

    assert _in_use_text(RequestRejectedError("conflict", status=409))
    assert not _in_use_text(RequestRejectedError("bad", status=422, errors={"0.email": "invalid"}))
