"""The sandbox's read-only customer pages (the extra links' target for a sandbox connection)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from airflow_bigcommerce.sandbox import SandboxStore, create_app
from airflow_bigcommerce.sandbox.http.control_panel import render_customers


def test_the_customer_list_shows_id_email_name_and_group_without_a_token() -> None:
    store = SandboxStore()
    (vip,) = store.seed_groups([{"name": "VIP"}])
    ada, bob = store.seed(
        [
            {
                "email": "ada@example.com",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "customer_group_id": vip["id"],
            },
            {"email": "bob@example.com", "first_name": "<b>Bob</b>", "last_name": "Smith"},
        ]
    )
    client = TestClient(create_app(store))
    page = client.get("/manage/customers")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f"<td>{ada['id']}</td><td>ada@example.com</td><td>Ada Lovelace</td><td>VIP</td>" in page.text
    assert "<td>&lt;b&gt;Bob&lt;/b&gt; Smith</td><td>-</td>" in page.text  # escaped; no group
    one = client.get(f"/manage/customers/{bob['id']}/edit")
    assert one.status_code == 200
    assert "bob@example.com" in one.text
    assert "ada@example.com" not in one.text
    assert client.get("/manage/customers/999/edit").status_code == 404
    assert store.stats()["requests"] == {}  # no quota spent, not counted as API traffic


def test_an_empty_store_says_so() -> None:
    assert "No customers yet." in render_customers([], {})
