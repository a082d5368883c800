"""The bigcommerce:// asset scheme: registered with Airflow, normalised, converted for OpenLineage."""

from __future__ import annotations

from importlib import import_module
from typing import Any
from urllib.parse import urlsplit

import pytest
from airflow.sdk import Asset

from airflow_bigcommerce.get_provider_info import get_provider_info
from airflow_bigcommerce.lineage import (
    convert_asset_to_openlineage,
    create_asset,
    customers_lineage,
    sanitize_uri,
)
from airflow_bigcommerce.links import (
    BigCommerceCustomerLink,
    BigCommerceCustomersLink,
    BigCommerceSyncViewLink,
)
from airflow_bigcommerce.operators.customers import CreateCustomerOperator, SyncCustomersOperator


def import_string(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


def test_asset_uris_and_extra_links_name_importable_objects() -> None:
    info = get_provider_info()
    (entry,) = info["asset-uris"]
    assert entry["schemes"] == ["bigcommerce"]
    assert import_string(entry["handler"]) is sanitize_uri
    assert import_string(entry["factory"]) is create_asset
    assert import_string(entry["to_openlineage_converter"]) is convert_asset_to_openlineage
    links = [import_string(path) for path in info["extra-links"]]
    assert links == [BigCommerceCustomersLink, BigCommerceCustomerLink, BigCommerceSyncViewLink]
    assert [type(link) for link in CreateCustomerOperator.operator_extra_links] == links
    assert [type(link) for link in SyncCustomersOperator.operator_extra_links] == [
        BigCommerceCustomersLink,
        BigCommerceSyncViewLink,
    ]


def test_airflow_uses_the_provider_to_normalise_the_scheme() -> None:
    """Airflow finds the handler through provider discovery: an Asset's URI comes out normalised."""
    assert Asset("bigcommerce://ABC123/customers/").uri == "bigcommerce://abc123/customers"
    with pytest.raises(ValueError, match="needs the store"):
        Asset("bigcommerce:///customers")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("bigcommerce://abc123/customers", "bigcommerce://abc123/customers"),
        ("bigcommerce://ABC123/customers/", "bigcommerce://abc123/customers"),
        ("bigcommerce://bigcommerce_default/customers", "bigcommerce://bigcommerce_default/customers"),
    ],
)
def test_sanitize_uri(uri: str, expected: str) -> None:
    assert sanitize_uri(urlsplit(uri)).geturl() == expected


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("bigcommerce:///customers", "needs the store"),
        ("bigcommerce://abc123", "needs a resource"),
        ("bigcommerce://abc123/", "needs a resource"),
        ("bigcommerce://abc123/customers?x=1", "no query"),
    ],
)
def test_sanitize_uri_refuses_incomplete_uris(uri: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sanitize_uri(urlsplit(uri))


def test_factory_and_converter_agree_with_the_operators_output() -> None:
    asset = create_asset(store_hash="ABC123")
    assert asset.uri == "bigcommerce://abc123/customers"
    dataset = convert_asset_to_openlineage(asset, None)
    lineage = customers_lineage(store_hash="abc123", rows_written=5)
    assert lineage is not None
    (output,) = lineage.outputs
    assert (
        (dataset.namespace, dataset.name)
        == (output.namespace, output.name)
        == ("bigcommerce://abc123", "customers")
    )


def test_no_lineage_before_the_task_reached_a_store() -> None:
    assert customers_lineage(store_hash=None, rows_written=0) is None
