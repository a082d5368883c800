"""A 2xx whose body does not list every row of the batch: the rows left out are looked up, not assumed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.testing.in_process import InProcessStore


def rows(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "email": f"p{i}@example.com", "first_name": "P", "last_name": str(i)} for i in range(n)]


class ShortAnswerClient(InProcessStore):
    """Writes the whole batch but lists only the first row in its answer."""

    def create_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return super().create_customers(customers)[:1]


class PartialWriteClient(InProcessStore):
    """The first batch writes (and lists) only its first half; later batches are whole."""

    partial_done = False

    def create_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        if not self.partial_done and len(customers) > 1:
            self.partial_done = True
            return super().create_customers(customers[: len(customers) // 2])
        return super().create_customers(customers)


def test_rows_missing_from_the_answer_but_written_count_as_created_once() -> None:
    client = ShortAnswerClient()
    result = sync_customers(rows(25), client, index_limit=0)
    assert (result.created, result.rejected) == (25, 0)
    assert len(client.customers) == 25
    assert result.retries_resolved == 22  # 9 + 9 + 4 rows left out of three answers


def test_rows_the_store_did_not_write_are_sent_again() -> None:
    client = PartialWriteClient()
    result = sync_customers(rows(10), client, index_limit=0)
    assert (result.created, result.rejected) == (10, 0)
    assert sorted(c["email"] for c in client.customers.values()) == sorted(r["email"] for r in rows(10))
