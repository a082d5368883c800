"""
Two shapes of a big load: one store's initial load split over mapped tasks, and one CRM fanned out
over several stores.

``initial_load_to_bigcommerce`` splits the CRM table into ``partitions`` by ``id % partitions`` and
runs one ``SyncCustomersOperator`` per partition (``.partial(...).expand(parameters=...)``). The
tasks write to one store, so they share its request quota: they all run in the Airflow pool
``bigcommerce_default`` (create it with as many slots as tasks should run at once, e.g.
``airflow pools set bigcommerce_default 4 "BigCommerce store default"``). Each task keeps to what the
rate-limit headers say is left, and near a window's end claims only its share of it, so together
they fill the quota without racing for its last requests. More tasks than about 4 add nothing: the
quota is the bound, not the workers. Partitions never overlap, so a retried partition re-sends only
its own missing contacts.

``crm_to_several_stores`` syncs the same contacts into each store named in ``stores`` (one
``bigcommerce`` connection per store), one mapped task per store. Each store has a quota of its own,
so these tasks do not compete and may all run at once; give each store its own pool if other DAGs
also write to it.

Both are manual (``schedule=None``): trigger them with conf to change the params. This file imports
only ``airflow.sdk`` and the light operator module at parse time.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task

from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.sync.report import default_report_dir

#: CRM column -> customer field (as in ``crm_contacts_to_bigcommerce``).
FIELD_MAP = {
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "phone": "phone",
    "company": "company",
}
#: One partition of the table: SQLite / Snowflake style named parameters (use ``%(part)s`` on Postgres).
PARTITION_SQL = "SELECT * FROM {{ params.table }} WHERE id % :parts = :part ORDER BY id"
REPORT_PATH = (
    "{{ var.value.get('bigcommerce_report_dir', report_home()) }}/{{ dag.dag_id }}/{{ run_id }}/"
    "{{ task.task_id }}-{{ ti.map_index }}.jsonl"
)


#: Params both DAGs take: where the contacts are.
CRM_PARAMS = {
    "crm_conn_id": Param("crm_default", type="string", description="Any common.sql connection."),
    "table": Param("contacts", type="string", pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$"),
}


@dag(
    dag_id="initial_load_to_bigcommerce",
    schedule=None,
    catchup=False,
    tags=["bigcommerce", "crm", "example"],
    doc_md=__doc__,
    user_defined_macros={"report_home": default_report_dir},
    params={**CRM_PARAMS, "partitions": Param(4, type="integer", minimum=1, maximum=16)},
)
def initial_load_to_bigcommerce() -> None:
    @task
    def partitions(params: dict[str, Any] | None = None) -> list[dict[str, int]]:
        """Return one query-parameter set per partition of the table."""
        parts = int((params or {}).get("partitions", 4))
        return [{"part": part, "parts": parts} for part in range(parts)]

    # [START howto_partitioned_load]
    SyncCustomersOperator.partial(
        task_id="load_partition",
        sql_conn_id="{{ params.crm_conn_id }}",
        sql=PARTITION_SQL,
        field_map=FIELD_MAP,
        mode="insert",
        report_path=REPORT_PATH,
        pool="bigcommerce_default",
        bigcommerce_conn_id="bigcommerce_default",
        map_index_template="partition {{ task.parameters['part'] }}",
    ).expand(parameters=partitions())
    # [END howto_partitioned_load]


@dag(
    dag_id="crm_to_several_stores",
    schedule=None,
    catchup=False,
    tags=["bigcommerce", "crm", "example"],
    doc_md=__doc__,
    user_defined_macros={"report_home": default_report_dir},
    params={
        **CRM_PARAMS,
        "stores": Param(
            ["bigcommerce_default"], type="array", description="One bigcommerce connection id per store."
        ),
    },
)
def crm_to_several_stores() -> None:
    @task
    def stores(params: dict[str, Any] | None = None) -> list[str]:
        """Return the connection ids of the stores to sync into."""
        return [str(conn_id) for conn_id in (params or {}).get("stores", ["bigcommerce_default"])]

    # [START howto_several_stores]
    SyncCustomersOperator.partial(
        task_id="sync_store",
        sql_conn_id="{{ params.crm_conn_id }}",
        sql="SELECT * FROM {{ params.table }} ORDER BY id",
        field_map=FIELD_MAP,
        mode="upsert",
        report_path=REPORT_PATH,
        map_index_template="{{ task.bigcommerce_conn_id }}",
    ).expand(bigcommerce_conn_id=stores())
    # [END howto_several_stores]


initial_load_to_bigcommerce()
crm_to_several_stores()
