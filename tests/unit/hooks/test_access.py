"""The one rule for refusals of the connection itself (token, scope, store hash)."""

from __future__ import annotations

import pytest

from airflow_bigcommerce.api import NO_GROUPS_STATUSES, NO_SEGMENTS_STATUSES
from airflow_bigcommerce.exceptions import BigCommerceAPIError, BigCommerceAuthError, BigCommerceConfigError
from airflow_bigcommerce.hooks.access import CUSTOMERS_SCOPE, INFORMATION_SCOPE, access_problem, scope_for
from airflow_bigcommerce.sync.client import RequestRejectedError, TransientFailureError


def test_a_401_is_the_token_on_every_path() -> None:
    for path in ("v3/customers", "v3/customers/attributes", "v2/customer_groups", "v2/time"):
        problem = access_problem(401, path, [], "abc123")
        assert problem is not None and problem.startswith("BigCommerce rejected the access token (401")
        assert "paste the API account's Access Token into the password field" in problem


@pytest.mark.parametrize(
    ("path", "grant"),
    [
        ("v3/customers", "'Customers: modify'"),
        ("v3/customers/attributes", "'Customers: modify'"),
        ("v3/customers/attribute-values", "'Customers: modify'"),
        ("v3/customers/subscribers", "'Customers: modify'"),
        ("v3/customers/settings/channels/2", "'Customers: modify'"),
        ("v2/customers/5", "'Customers: modify'"),
        ("v2/time", "'Information & settings: read-only'"),
        ("v2/store", "'Information & settings: read-only'"),
    ],
)
def test_a_403_names_the_scope_the_endpoint_needs(path: str, grant: str) -> None:
    problem = access_problem(403, path, ["You don't have a required scope"], "abc123")
    assert problem is not None
    assert f"give the API account {grant} in the store's control panel (Settings > API accounts)" in problem
    assert "(403 Forbidden)" in problem


def test_scopes() -> None:
    assert scope_for("v2/time") is INFORMATION_SCOPE
    assert scope_for("/v3/customers/subscribers?email=x") is CUSTOMERS_SCOPE
    assert CUSTOMERS_SCOPE.grant == "Customers: modify"


@pytest.mark.parametrize("status", sorted(NO_GROUPS_STATUSES))
def test_a_plan_without_customer_groups_is_not_an_access_problem(status: int) -> None:
    assert access_problem(status, "v2/customer_groups", ["Not found"], "abc123") is None
    assert access_problem(status, "v2/customer_groups/7", [], "abc123") is None


def test_a_404_is_the_store_hash_only_when_the_store_is_unknown() -> None:
    expected = (
        "Unknown store hash 'abc123' (404 Not Found): use the letters and digits after /stores/ in "
        "the API path shown with the API account."
    )
    # the store's own words, on any path (the sandbox and the API say "Store not found.")
    assert access_problem(404, "v3/customers/attributes", ["Store not found."], "abc123") == expected
    assert access_problem(404, "v2/customer_groups", ["Store not found."], "abc123") == expected
    # a path every store has
    assert access_problem(404, "v3/customers", [""], "abc123") == expected
    assert access_problem(404, "v2/time", [], "abc123") == expected
    # one record that is not there: an ordinary refusal
    assert access_problem(404, "v2/customers/99", ["The requested resource was not found."], "abc123") is None
    assert access_problem(404, "v3/customers/settings/channels/9", ["Channel not found"], "abc123") is None
    assert access_problem(404, "v3/customers/subscribers/4", [], "abc123") is None


def test_other_refusals_are_not_access_problems() -> None:
    for status in (400, 409, 413, 422):
        assert access_problem(status, "v3/customers", ["bad"], "abc123") is None


def test_the_auth_error_stops_a_run_and_is_not_retried() -> None:
    error = BigCommerceAuthError(
        "Fix it.", connection="shop", status=401, request="GET v3/customers/attributes"
    )
    assert isinstance(error, BigCommerceConfigError)
    assert not isinstance(error, RequestRejectedError)  # never one row's refusal
    assert not isinstance(error, TransientFailureError)  # retrying cannot help
    assert str(error) == "Connection 'shop': Fix it. Refused request: GET v3/customers/attributes."
    assert str(BigCommerceAuthError("Fix it.", connection="shop", status=401)) == "Connection 'shop': Fix it."


@pytest.mark.parametrize("status", sorted(NO_SEGMENTS_STATUSES))
@pytest.mark.parametrize("path", ["v3/segments", "v3/segments/abc/shopper-profiles", "v3/shopper-profiles"])
def test_a_plan_without_segmentation_is_not_an_access_problem(status: int, path: str) -> None:
    assert access_problem(status, path, ["available on Enterprise plans only"], "abc") is None


def test_a_batch_refusal_names_its_failed_items() -> None:
    body = {
        "data": [{"id": 1}],
        "errors": [
            {"status": 409, "title": "Unable to add shopper profiles.", "errors": {"0": "already exists"}}
        ],
        "meta": {"total": 2, "success": 1, "failed": 1},
    }
    error = BigCommerceAPIError(status=409, method="POST", path="v3/segments/x/shopper-profiles", body=body)
    assert error.errors == {"0": "already exists"}
    assert "Unable to add shopper profiles." in str(error)
