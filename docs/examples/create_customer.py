"""
The ``CreateCustomerOperator`` page's examples: one customer (V2), and one with its parts (V3).

``tests/integration/test_docs_examples.py`` renders and runs both against the sandbox store; the docs
include them between the ``[START ...]`` / ``[END ...]`` markers.
"""

from __future__ import annotations

# [START howto_create_customer]
from airflow.sdk import dag

from airflow_bigcommerce.operators.customers import CreateCustomerOperator


@dag(schedule=None)
def one_customer() -> None:
    CreateCustomerOperator(
        task_id="create_customer",
        email="{{ params.email }}",
        first_name="Ada",
        last_name="Lovelace",
        company="Analytical Engines Ltd",
        authentication={"password": "{{ var.value.initial_pw }}", "force_reset": True},
        if_exists="skip",  # default "fail": a duplicate e-mail fails the task with a clear message
        params={"email": "ada@example.com"},
    )


one_customer()
# [END howto_create_customer]


@dag(schedule=None)
def one_customer_v3() -> None:
    # [START howto_create_customer_v3]
    CreateCustomerOperator(
        task_id="create_customer_v3",
        api_version="v3",
        email="{{ params.email }}",
        first_name="Ada",
        last_name="Lovelace",
        addresses=[
            {
                "address1": "12 Crescent Rd",
                "city": "Austin",
                "state_or_province": "TX",  # sent as "Texas": BigCommerce refuses codes
                "postal_code": "78701",
                "country_code": "US",  # ISO 3166-1 alpha-2 or alpha-3, or an English name
            }
        ],
        attributes={"crm_id": "{{ params.crm_id }}", "first_order": "2024-05-01"},  # by attribute name
        customer_group="Wholesale",  # by name, case-insensitive
        authentication={"password": "{{ var.value.initial_pw }}", "force_reset": True},
        if_exists="skip",
        params={"email": "ada@example.com", "crm_id": "C-17"},
    )
    # [END howto_create_customer_v3]


one_customer_v3()
