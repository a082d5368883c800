"""
Sync new and changed CRM contacts into a BigCommerce store as customers, every hour.

Each scheduled run reads the contacts whose ``updated_at`` lies in its window,
``start <= updated_at < data_interval_end``, where ``start`` is the end of the last *successful*
run's interval (``prev_data_interval_end_success``), or ``data_interval_start`` when there is none.
Normally that is just the run's own hour; but when a run failed (say the store was down longer than
the sync's retry budget and the task's retries) and was never cleared, the next successful run
covers the missed hour too. So no contact is missed, and re-reading one is harmless: contacts already
in the store are skipped, or updated in ``upsert`` mode, never created twice.

A manual run (the "Trigger" button, ``airflow dags trigger``, ``airflow dags test``) covers the whole
history instead; set the ``window`` param to ``interval`` to make a manual run behave like a
scheduled one (``all`` does the opposite).

The sync task retries 3 times, 5 minutes apart: a run whose rows *failed* (store unavailable,
overloaded) fails its task after every row was attempted, and the retry re-sends only what is
missing. Set the environment variable ``BIGCOMMERCE_EXAMPLE_SYNC_RETRIES`` (read when the file is
parsed) to change the count, e.g. ``0`` to see a failure at once in ``airflow dags test``.

The sync task writes one JSON line per contact to
``{bigcommerce_report_dir}/crm_contacts_to_bigcommerce/{run_id}.jsonl`` (Airflow Variable
``bigcommerce_report_dir``, e.g. ``AIRFLOW_VAR_BIGCOMMERCE_REPORT_DIR``; default
``$AIRFLOW_HOME/bigcommerce-reports``; an ``s3://`` or other ObjectStoragePath URL works too). The
reports hold e-mails and names: local ones are created readable by their owner only (files 0600,
new folders 0700), and the default is not a shared place such as ``/tmp``. The ``report`` task logs
a table of created / updated / skipped / rejected / failed with each rejected row's key and reason.
The sync task updates the asset ``bigcommerce://bigcommerce_default/customers``, so
downstream DAGs can be scheduled on it.

Besides the customer, the default ``field_map`` syncs each contact's parts: its address (state codes
and country names normalised; an incomplete address is skipped, the customer still synced), its
``lifecycle_stage`` as a customer group name (the store must have the group, else the row is
rejected), its ``crm_id`` as the customer attribute ``crm_id`` (created, type string, when the store
lacks it: ``create_attributes=True``) and its newsletter opt-in. The ``report`` task logs each
part's outcomes too.

A run that completes but rejects rows calls the sync's ``on_rejections``: here a
``LogRejectionsNotifier``, one warning in the task log ("... completed with rejections: 12 of 200
rows rejected; report at ..."); any Airflow notifier (Slack, e-mail, SMTP) takes its place.

The sync keeps a ledger (table ``bigcommerce_sync_ledger``, created when missing) in the CRM's own
database by default: a contact keeps its customer when its e-mail changes, rows a run could not
deliver (or that named a group the store lacked) are retried by the next runs, and the CRM can join
each contact's customer id, outcome and reason back (see the docs' guide "The ledger and
writeback", ``docs/guides/ledger.md``). The ``ledger_conn_id`` param puts it on another common.sql
connection (a CRM the sync may only read); ``null`` runs without one (the e-mail is then a contact's
only identity).

To point it at another CRM: change the ``crm_conn_id`` (any common.sql connection), and ``table``
or ``sql`` and ``field_map`` if your columns differ. The default query uses ``:start`` / ``:end``
parameters (SQLite, Oracle, Snowflake with ``paramstyle=named``); for Postgres or MySQL give
``sql`` with ``%(start)s`` / ``%(end)s``.

This file imports only ``airflow.sdk`` and the light operator module at parse time.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta, timezone
from typing import Any

from airflow.sdk import Asset, Param, dag, task

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow < 3.2
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef,unused-ignore]

from airflow_bigcommerce.notifications import LogRejectionsNotifier
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.sync.report import default_report_dir

DAG_ID = "crm_contacts_to_bigcommerce"
#: The store the sync writes to, as a data-aware asset: ``bigcommerce://<connection id>/customers``.
CUSTOMERS_ASSET = Asset("bigcommerce://bigcommerce_default/customers", group="bigcommerce")
#: CRM column -> customer field or part (``created_at`` and ``updated_at`` are not sent). The store
#: must have the groups ``lifecycle_stage`` names and the attribute ``crm_id`` (the demo seeds them).
# [START default_field_map]
DEFAULT_FIELD_MAP = {
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "phone": "phone",
    "company": "company",
    "street": "address.address1",
    "city": "address.city",
    "state": "address.state_or_province",
    "postal_code": "address.postal_code",
    "country": "address.country_code",
    "lifecycle_stage": "customer_group",
    "crm_id": "attribute.crm_id",
    "newsletter_opt_in": "newsletter",
}
# [END default_field_map]
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
    "{{ var.value.get('bigcommerce_report_dir', report_home()) }}/{{ dag.dag_id }}/{{ run_id }}.jsonl"
)
#: Retries of the sync task: a run with failed rows fails, and its retry sends only what is missing.
SYNC_RETRIES = int(os.environ.get("BIGCOMMERCE_EXAMPLE_SYNC_RETRIES", "3"))
SYNC_RETRY_DELAY = timedelta(minutes=5)
#: The task logger: its lines land in the task log in order (a print would follow "Done. Returned...").
log = logging.getLogger("airflow.task")


def sync_window(
    dag_run: Any,
    data_interval_start: Any,
    data_interval_end: Any,
    window: str = "auto",
    prev_data_interval_end_success: Any = None,
) -> dict[str, str]:
    """
    Return the ``updated_at`` bounds a run syncs, ``{"start", "end", "label"}`` (start inclusive).

    ``window="auto"``: for scheduled and backfill runs, from the end of the last successful run's
    interval (or this run's ``data_interval_start`` when there is none, or when it is later) to this
    run's ``data_interval_end``, so an interval whose run failed is covered by the next successful
    run; everything for a manual run or a run without a data interval. ``"interval"`` / ``"all"``
    force one or the other.
    """
    run_type = str(getattr(getattr(dag_run, "run_type", None), "value", getattr(dag_run, "run_type", "")))
    whole = window == "all" or (window == "auto" and run_type == "manual")
    if whole or data_interval_start is None or data_interval_end is None:
        return {"start": BEGINNING_OF_TIME, "end": END_OF_TIME, "label": "whole history (manual run)"}
    begin = data_interval_start
    # A lazy context proxy wrapping None is falsy, so truthiness (not ``is None``) tells "no success".
    if prev_data_interval_end_success and prev_data_interval_end_success < data_interval_start:
        begin = prev_data_interval_end_success
    start = begin.astimezone(timezone.utc).strftime(CRM_TIMESTAMP_FORMAT)
    end = data_interval_end.astimezone(timezone.utc).strftime(CRM_TIMESTAMP_FORMAT)
    caught_up = " (since the last successful run)" if begin is not data_interval_start else ""
    return {"start": start, "end": end, "label": f"updated in [{start}, {end}) UTC{caught_up}"}


def _window(key: str) -> str:
    """Return the template of one key (``start``, ``end``, ``label``) of the run's :func:`sync_window`."""
    call = (
        "sync_window(dag_run, data_interval_start, data_interval_end, params.window, "
        "prev_data_interval_end_success)"
    )
    return "{{ " + call + "['" + key + "'] }}"


@dag(
    dag_id=DAG_ID,
    schedule=CronDataIntervalTimetable("@hourly", timezone="UTC"),
    catchup=False,
    max_active_runs=1,
    render_template_as_native_obj=True,
    user_defined_macros={"sync_window": sync_window, "report_home": default_report_dir},
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
            enum=["insert", "upsert", "update"],
            description=(
                "insert: create new, skip existing; upsert: also update changed customers;"
                " update: update changed customers, create none."
            ),
        ),
        "dry_run": Param(False, type="boolean", description="Look up and report, write nothing."),
        "ledger_conn_id": Param(
            "",
            type=["null", "string"],
            description="A common.sql connection for the sync's ledger; empty: the CRM's; null: no ledger.",
        ),
        "window": Param(
            "auto",
            enum=["auto", "interval", "all"],
            description="auto: data interval when scheduled, whole history when manual.",
        ),
    },
)
def crm_contacts_to_bigcommerce() -> None:
    # [START howto_sync_customers_hourly]
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
        # empty: the CRM's connection; null renders None (native rendering): no ledger
        ledger_conn_id="{{ params.crm_conn_id if params.ledger_conn_id == '' else params.ledger_conn_id }}",
        create_attributes=True,  # a store without the attribute crm_id gets it (type string)
        outlets=[CUSTOMERS_ASSET],
        retries=SYNC_RETRIES,
        retry_delay=SYNC_RETRY_DELAY,
        # A run that completes but rejects rows says so in the task log; give a SlackNotifier or an
        # SmtpNotifier instead (its templates read {{ bigcommerce_summary.rejected }}) to be told.
        on_rejections=LogRejectionsNotifier(),
    )
    # [END howto_sync_customers_hourly]

    @task
    def report(summary: dict[str, Any], report_path: str, window: str) -> dict[str, Any]:
        """Log a table of what the sync did, each part's outcomes, and every rejected row's key and reason."""
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
        log.info("%s", format_report(summary, rejections, window=window, report_path=report_path))
        keys = ("created", "updated", "skipped", "rejected", "failed", "total")
        return {**{key: summary.get(key, 0) for key in keys}, "parts": summary.get("parts", {})}

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
        f"  {'failed':<10}{summary.get('failed', 0):>7}",
        f"  {'total':<10}{summary.get('total', 0):>7}   in {float(summary.get('duration_s', 0)):.1f} s",
    ]
    parts = summary.get("parts") or {}
    if parts:
        lines += ["", "Parts (rows by outcome):"]
        lines += [
            f"  {part:<11} " + ", ".join(f"{outcome} {n}" for outcome, n in sorted(counts.items()))
            for part, counts in parts.items()
        ]
    requests = {kind: n for kind, n in (summary.get("requests") or {}).items() if n}
    if requests:
        per_row = float(summary.get("requests_per_row", 0))
        listed = ", ".join(f"{kind} {n}" for kind, n in requests.items())
        lines += ["", f"Requests ({per_row:.3f} per row): {listed}"]
    if rejections:
        lines += ["", f"Rejected rows ({len(rejections)}):", f"  {'row':>6}  {'email':<36} reason"]
        lines += [
            f"  {r.get('row')!s:>6}  {str(r.get('email') or '-').strip()[:36]:<36} {r.get('reason')}"
            for r in rejections
        ]
    lines += ["", f"Per-row report: {report_path}"]
    return "\n".join(lines)


crm_contacts_to_bigcommerce()
