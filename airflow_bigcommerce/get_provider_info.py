"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_bigcommerce import __version__
from airflow_bigcommerce.api import DEFAULT_API_HOST, STORE_HASH_PATTERN

__all__ = ["DEFAULT_API_HOST", "STORE_HASH_PATTERN", "get_provider_info"]


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata; the Airflow 3.2+ UI draws the connection form from it."""
    return {
        "package-name": "airflow-provider-bigcommerce",
        "name": "BigCommerce",
        "description": "Sync CRM contacts into `BigCommerce <https://www.bigcommerce.com/>`__ stores.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "BigCommerce",
                "external-doc-url": "https://developer.bigcommerce.com/docs/rest-management/customers",
                "tags": ["service"],
            }
        ],
        "operators": [
            {
                "integration-name": "BigCommerce",
                "python-modules": [
                    "airflow_bigcommerce.operators.customers",
                    "airflow_bigcommerce.operators.create_customer",
                    "airflow_bigcommerce.operators.sync_customers",
                ],
            }
        ],
        "hooks": [
            {"integration-name": "BigCommerce", "python-modules": ["airflow_bigcommerce.hooks.bigcommerce"]}
        ],
        # bigcommerce://{store_hash}/customers is a first-class asset: normalised by Airflow, and an
        # OpenLineage dataset (namespace bigcommerce://{store_hash}, name customers) like the operators'.
        "asset-uris": [
            {
                "schemes": ["bigcommerce"],
                "handler": "airflow_bigcommerce.lineage.sanitize_uri",
                "factory": "airflow_bigcommerce.lineage.create_asset",
                "to_openlineage_converter": "airflow_bigcommerce.lineage.convert_asset_to_openlineage",
            }
        ],
        "extra-links": [
            "airflow_bigcommerce.links.BigCommerceCustomersLink",
            "airflow_bigcommerce.links.BigCommerceCustomerLink",
            "airflow_bigcommerce.links.BigCommerceSyncViewLink",
        ],
        "connection-types": [
            {
                "hook-class-name": "airflow_bigcommerce.hooks.bigcommerce.BigCommerceHook",
                "hook-name": "BigCommerce",
                "connection-type": "bigcommerce",
                "ui-field-behaviour": {
                    # ``port`` is hidden: a non-default port travels in the API Host URL
                    # (``http://127.0.0.1:8123`` for the sandbox). ``extra`` is covered by the fields.
                    "hidden-fields": ["login", "schema", "port", "extra"],
                    "relabeling": {"password": "Access Token", "host": "API Host"},
                    "placeholders": {"host": DEFAULT_API_HOST},
                },
                # Placeholders do not apply here; the descriptions say what to type and the default.
                "conn-fields": {
                    "store_hash": {
                        "label": "Store Hash",
                        "description": (
                            "Letters and digits only: the part after /stores/ in the API path shown when "
                            "the store's API account was created, "
                            "https://api.bigcommerce.com/stores/{store_hash}/v3/"
                        ),
                        "schema": {"type": "string", "pattern": STORE_HASH_PATTERN},
                    },
                    "timeout": {
                        "label": "Request Timeout (s)",
                        "description": "Optional. Seconds to wait for each API response; empty means 30.",
                        "schema": {"type": ["integer", "null"], "minimum": 1},
                    },
                    "max_retries": {
                        "label": "Max Retries",
                        "description": (
                            "Optional. Caps how often one request is retried after a 5xx, a network "
                            "error or a 429; empty means as often as the retry budget allows, 0 turns "
                            "retries off."
                        ),
                        "schema": {"type": ["integer", "null"], "minimum": 0},
                    },
                    "retry_budget_s": {
                        "label": "Retry Budget (s)",
                        "description": (
                            "Optional. How long a sync keeps trying while the store's reads or writes "
                            "fail (an outage) before it gives up and fails the task, whose retry is "
                            "safe; empty means 300. Operators' retry_budget_s overrides it."
                        ),
                        "schema": {"type": ["integer", "null"], "minimum": 0},
                    },
                },
            }
        ],
    }
