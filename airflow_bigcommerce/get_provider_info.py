"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_bigcommerce import __version__

#: What a store hash looks like: the path segment after ``/stores/`` (letters and digits only).
STORE_HASH_PATTERN = "^[A-Za-z0-9]+$"


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
            {"integration-name": "BigCommerce", "python-modules": ["airflow_bigcommerce.operators.customers"]}
        ],
        "hooks": [
            {"integration-name": "BigCommerce", "python-modules": ["airflow_bigcommerce.hooks.bigcommerce"]}
        ],
        "connection-types": [
            {
                "hook-class-name": "airflow_bigcommerce.hooks.bigcommerce.BigCommerceHook",
                "hook-name": "BigCommerce",
                "connection-type": "bigcommerce",
                "ui-field-behaviour": {
                    "hidden-fields": ["login", "schema", "extra"],
                    "relabeling": {"password": "Access Token", "host": "API Host"},
                    "placeholders": {"host": "https://api.bigcommerce.com"},
                },
                "conn-fields": {
                    "store_hash": {
                        "label": "Store Hash",
                        "description": (
                            "The letters and digits after /stores/ in the API path shown when the API "
                            "account was created: https://api.bigcommerce.com/stores/{store_hash}/v3/"
                        ),
                        "schema": {"type": "string", "pattern": STORE_HASH_PATTERN},
                    },
                    "timeout": {
                        "label": "Request Timeout (s)",
                        "description": "Seconds to wait for each API response (default 30).",
                        "schema": {"type": ["integer", "null"], "minimum": 1},
                    },
                    "max_retries": {
                        "label": "Max Retries",
                        "description": "Retries of a request after a 429, 5xx or network error (default 5).",
                        "schema": {"type": ["integer", "null"], "minimum": 0},
                    },
                },
            }
        ],
    }
