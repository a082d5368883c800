"""
Create a store customer for each new sign-up, one mapped task per customer.

An upstream task returns the sign-ups (here a fixed handful; in real life a form, a webhook payload
passed as DAG-run conf, or a small query), and ``CreateCustomerOperator`` is fanned out over them
with ``.partial(...).expand_kwargs(...)``: every customer gets its own task instance, with its own
log, retries and rendered fields, and ``if_exists="skip"`` makes a re-run harmless.

One task per customer costs a task-instance start and one V2 request each; switch to the batched
``SyncCustomersOperator`` (see ``crm_contacts_to_bigcommerce``) when a run carries more than a few
dozen contacts: it sends 10 customers per request, looks e-mails up in bulk and reports rejected
rows instead of failing tasks.

Trigger it with conf to create your own: ``{"signups": [{"email": ..., "first_name": ...,
"last_name": ...}]}``.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task

from airflow_bigcommerce.operators.customers import CreateCustomerOperator

DEFAULT_SIGNUPS = [
    {
        "email": "ada.lovelace@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Analytical",
    },
    {
        "email": "Grace.Hopper@Example.com",
        "first_name": "Grace",
        "last_name": "Hopper",
        "phone": "+1 555 0100",
    },
    {"email": "alan.turing@example.org", "first_name": "Alan", "last_name": "Turing"},
    {"email": "zoe.bronte@example.net", "first_name": "Zoë", "last_name": "Brontë"},
]


@dag(
    dag_id="new_signups_to_bigcommerce",
    schedule=None,
    catchup=False,
    tags=["bigcommerce", "example"],
    doc_md=__doc__,
    params={
        "signups": Param(DEFAULT_SIGNUPS, type="array", description="New sign-ups: email, first_name, ..."),
    },
)
def new_signups_to_bigcommerce() -> None:
    @task
    def new_signups(params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Return the sign-ups to create, as keyword arguments of ``CreateCustomerOperator``."""
        signups = (params or {}).get("signups") or DEFAULT_SIGNUPS
        allowed = {"email", "first_name", "last_name", "company", "phone"}
        return [{key: value for key, value in signup.items() if key in allowed} for signup in signups]

    # [START howto_create_customers_mapped]
    CreateCustomerOperator.partial(
        task_id="create_customer",
        if_exists="skip",
        notes="Signed up on {{ ds }}; created by {{ dag.dag_id }}, run {{ run_id }}",
        bigcommerce_conn_id="bigcommerce_default",
        map_index_template="{{ task.email }}",
    ).expand_kwargs(new_signups())
    # [END howto_create_customers_mapped]


new_signups_to_bigcommerce()
