"""
Sync new and changed CRM contacts into a BigCommerce store as customers, every hour.

Each scheduled run reads the contacts whose ``updated_at`` lies in the run's data interval,
``data_interval_start <= updated_at < data_interval_end``: consecutive intervals touch without
overlapping, so no contact is missed and none is counted twice. A manual run (the "Trigger" button,
``airflow dags trigger``, ``airflow dags test``) covers the whole history instead; set the ``window``
param to ``interval`` to make a manual run behave like a scheduled one (``all`` does the opposite).
Re-running is safe: contacts already in the store are skipped, or updated in ``upsert`` mode.

The sync task writes one JSON line per contact to
``{bigcommerce_report_dir}/crm_contacts_to_bigcommerce/{run_id}.jsonl`` (Airflow Variable
``bigcommerce_report_dir``, e.g. ``AIRFLOW_VAR_BIGCOMMERCE_REPORT_DIR``; default
``/tmp/bigcommerce-reports``; an ``s3://`` or other ObjectStoragePath URL works too), and the
``report`` task logs a table of created / updated / skipped / rejected with each rejected row's key
and reason. The sync task updates the asset ``bigcommerce://bigcommerce_default/customers``, so
downstream DAGs can be scheduled on it.

To point it at another CRM: change the ``crm_conn_id`` (any common.sql connection), and ``table``
or ``sql`` and ``field_map`` if your columns differ. The default query uses ``:start`` / ``:end``
parameters (SQLite, Oracle, Snowflake with ``paramstyle=named``); for Postgres or MySQL give
``sql`` with ``%(start)s`` / ``%(end)s``.

This file imports only ``airflow.sdk`` and the light operator module at parse time.
"""

from __future__ import annotations

from datetime import timezone
from typing import Any

from airflow.sdk import Asset, Param, dag, task

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow < 3.2
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef,unused-ignore]

from airflow_bigcommerce.operators.customers import SyncCustomersOperator

DAG_ID = "crm_contacts_to_bigcommerce"
#: The store the sync writes to, as a data-aware asset: ``bigcommerce://<connection id>/customers``.
CUSTOMERS_ASSET = Asset("bigcommerce://bigcommerce_default/customers", group="bigcommerce")
#: CRM column -> customer field. ``lifecycle_stage``, ``created_at`` and ``updated_at`` are not sent.
DEFAULT_FIELD_MAP = {
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "phone": "phone",
    "company": "company",
}
#: Timestamps in the CRM are UTC text in this format, so comparing strings compares instants.
CRM_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
#: The bounds of "the whole history" in that format.
BEGINNING_OF_TIME = "0001-01-01 00:00:00"
END_OF_TIME = "9999-12-31 23:59:59"

#: ``params.sql`` if given, else the contacts of ``params.table`` updated in the window, oldest first.
SQL = (
    "{% if params.sql %}{{ params.sql }}{% else %}"
    "SELECT * FROM {{ params.table }} WHERE updated_at >= :start AND updated_at < :end"
    " ORDER BY updated_at, id{% endif %}"
)
REPORT_PATH = (
    "{{ var.value.get('bigcommerce_report_dir', '/tmp/bigcommerce-reports') }}"
    "/{{ dag.dag_id }}/{{ run_id }}.jsonl"
)


def sync_window(
    dag_run: Any, data_interval_start: Any, data_interval_end: Any, window: str = "auto"
) -> dict[str, str]:
    """
    Return the ``updated_at`` bounds a run syncs, ``{"start", "end", "label"}`` (start inclusive).

    ``window="auto"``: the data interval for scheduled and backfill runs, everything for a manual run
    or a run without a data interval; ``"interval"`` / ``"all"`` force one or the other.
    """
    run_type = str(getattr(getattr(dag_run, "run_type", None), "value", getattr(dag_run, "run_type", "")))
    whole = window == "all" or (window == "auto" and run_type == "manual")
    if whole or data_interval_start is None or data_interval_end is None:
        return {"start": BEGINNING_OF_TIME, "end": END_OF_TIME, "label": "whole history (manual run)"}
    start = data_interval_start.astimezone(timezone.utc).strftime(CRM_TIMESTAMP_FORMAT)
    end = data_interval_end.astimezone(timezone.utc).strftime(CRM_TIMESTAMP_FORMAT)
    return {"start": start, "end": end, "label": f"updated in [{start}, {end}) UTC"}


def _window(key: str) -> str:
    """Return the template of one key (``start``, ``end``, ``label``) of the run's :func:`sync_window`."""
    return "{{ sync_window(dag_run, data_interval_start, data_interval_end, params.window)['" + key + "'] }}"


@dag(
    dag_id=DAG_ID,
    schedule=CronDataIntervalTimetable("@hourly", timezone="UTC"),
    catchup=False,
    max_active_runs=1,
    render_template_as_native_obj=True,
    user_defined_macros={"sync_window": sync_window},
    tags=["bigcommerce", "crm", "example"],
    doc_md=__doc__,
    params={
        "bigcommerce_conn_id": Param(
            "bigcommerce_default", type="string", description="Connection of type bigcommerce."
        ),
        "crm_conn_id": Param(
            "crm_default", type="string", description="Any common.sql connection holding the contacts."
        ),
        "table": Param(
            "contacts",
            type="string",
            pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$",
            description="Table (or schema.table) with the contacts; needs an updated_at column.",
        ),
        "sql": Param(
            "",
            type=["null", "string"],
            description="Full query overriding table; use the :start / :end parameters for the window.",
        ),
        "field_map": Param(DEFAULT_FIELD_MAP, type="object", description="CRM column -> customer field."),
        "mode": Param(
            "upsert",
            enum=["insert", "upsert"],
            description="insert: create new, skip existing; upsert: also update changed customers.",
        ),
        "dry_run": Param(False, type="boolean", description="Look up and report, write nothing."),
        "window": Param(
            "auto",
            enum=["auto", "interval", "all"],
            description="auto: data interval when scheduled, whole history when manual.",
        ),
    },
)
def crm_contacts_to_bigcommerce() -> None:
    sync = SyncCustomersOperator(
        task_id="sync_customers",
        bigcommerce_conn_id="{{ params.bigcommerce_conn_id }}",
        sql_conn_id="{{ params.crm_conn_id }}",
        sql=SQL,
        parameters={"start": _window("start"), "end": _window("end")},
        field_map="{{ params.field_map }}",
        mode="{{ params.mode }}",
        dry_run="{{ params.dry_run }}",
        report_path=REPORT_PATH,
        outlets=[CUSTOMERS_ASSET],
    )

    @task
    def report(summary: dict[str, Any], report_path: str, window: str) -> dict[str, Any]:
        """Log a table of what the sync did, with every rejected row's key and reason."""
        from pathlib import Path

        from airflow_bigcommerce.sync.report import read_report

        rejections = list(summary.get("rejections", []))
        local = Path(report_path) if "://" not in report_path else None
        if summary.get("rejections_truncated") and local is not None and local.exists():
            rejections = [
                {"row": r["row"], "email": r["email"], "reason": r["reason"]}
                for r in read_report(local)
                if r["outcome"] == "rejected"
            ]
        print(format_report(summary, rejections, window=window, report_path=report_path))
        return {key: summary.get(key, 0) for key in ("created", "updated", "skipped", "rejected", "total")}

    report(sync.output, report_path=REPORT_PATH, window=_window("label"))


def format_report(
    summary: dict[str, Any], rejections: list[dict[str, Any]], *, window: str, report_path: str
) -> str:
    """Lay the summary out as a small text table, followed by the rejected rows."""
    title = "CRM -> BigCommerce sync" + (" (dry run)" if summary.get("dry_run") else "")
    lines = [
        f"{title}: {window}, mode {summary.get('mode', '?')}",
        "",
        f"  {'created':<10}{summary.get('created', 0):>7}",
        f"  {'updated':<10}{summary.get('updated', 0):>7}",
        f"  {'skipped':<10}{summary.get('skipped', 0):>7}",
        f"  {'rejected':<10}{summary.get('rejected', 0):>7}",
        f"  {'total':<10}{summary.get('total', 0):>7}   in {float(summary.get('duration_s', 0)):.1f} s",
    ]
    if rejections:
        lines += ["", f"Rejected rows ({len(rejections)}):", f"  {'row':>6}  {'email':<36} reason"]
        lines += [
            f"  {r.get('row')!s:>6}  {str(r.get('email') or '-').strip()[:36]:<36} {r.get('reason')}"
            for r in rejections
        ]
    lines += ["", f"Per-row report: {report_path}"]
    return "\n".join(lines)


crm_contacts_to_bigcommerce()
