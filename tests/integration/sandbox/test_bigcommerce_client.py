"""The official ``bigcommerce`` PyPI client's customer calls against the sandbox on loopback.

The client is installed by the ``bench`` extra (part of the dev venv); a missing client fails here.

The client reads its API host from ``BC_API_ENDPOINT`` but hard-codes ``https://``; as in
``benchmarks/_peers.py``, only ``full_path`` of this one connection is rebuilt on ``http://``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bigcommerce.api import BigcommerceApi  # type: ignore[import-untyped]  # no stubs
from bigcommerce.exception import ClientRequestException  # type: ignore[import-untyped]

from airflow_bigcommerce.testing import SandboxHandle, run_sandbox

pytestmark = pytest.mark.integration


def listed(result: Any) -> list[Any]:
    """Return a V2 list answer as a list: on a 204 (nothing there) the client returns an empty object."""
    if isinstance(result, list):
        return result
    assert not any(key for key in result if key != "_connection"), result
    return []


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with run_sandbox(quota=0) as handle:
        yield handle


@pytest.fixture
def api(sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> Any:
    port = sandbox.url.rsplit(":", 1)[1]
    monkeypatch.setenv("BC_API_ENDPOINT", f"127.0.0.1:{port}")
    client = BigcommerceApi(
        client_id="test-client", store_hash=sandbox.store_hash, access_token=sandbox.token
    )
    connection = client.connection

    def full_path(url: str) -> str:
        return f"http://{connection.host}{connection.api_path.format(connection.store_hash, url)}"

    connection.full_path = full_path
    return client


def test_customer_create_get_update_delete(api: Any, sandbox: SandboxHandle) -> None:
    created = api.Customers.create(first_name="Ann", last_name="Lee", email="ann@example.com")
    fetched = api.Customers.get(created.id)
    assert fetched.email == "ann@example.com"
    updated = fetched.update(company="Acme", notes="vip")
    assert updated.company == "Acme"
    assert api.Customers.get(created.id).notes == "vip"
    fetched.delete()
    assert sandbox.store.count() == 0


def test_customer_addresses(api: Any) -> None:
    customer = api.Customers.create(first_name="Ann", last_name="Lee", email="ann@example.com")
    assert listed(api.Customers.get(customer.id).addresses()) == []
    added = api.CustomerAddresses.create(
        customer.id,
        first_name="Ann",
        last_name="Lee",
        street_1="1 Main St",
        city="Austin",
        state="Texas",
        zip="78701",
        country="United States",
        phone="",
    )
    (only,) = listed(api.Customers.get(customer.id).addresses())
    assert only.id == added.id
    assert only.street_1 == "1 Main St"
    one = api.Customers.get(customer.id).addresses(added.id)
    assert one.update(city="Dallas").city == "Dallas"
    one.delete()
    assert listed(api.Customers.get(customer.id).addresses()) == []


def test_customer_groups(api: Any, sandbox: SandboxHandle) -> None:
    assert listed(api.CustomerGroups.all()) == []
    sandbox.store.seed_groups([{"name": "Wholesale"}])
    created = api.CustomerGroups.create(name="Retail")
    assert [g.name for g in listed(api.CustomerGroups.all())] == ["Wholesale", "Retail"]
    assert [g.name for g in listed(api.CustomerGroups.all(name="Retail"))] == ["Retail"]
    assert api.CustomerGroups.get(created.id).name == "Retail"
    assert api.CustomerGroups.count() == 2


def test_unfiltered_collection_deletes_are_refused(api: Any, sandbox: SandboxHandle) -> None:
    customer = api.Customers.create(first_name="Ann", last_name="Lee", email="ann@example.com")
    with pytest.raises(ClientRequestException):
        api.Customers.delete_all()
    with pytest.raises(ClientRequestException):
        api.CustomerAddresses.delete_all(customer.id)
    assert sandbox.store.count() == 1
