"""
``SyncCustomersOperator``: CRM contacts into store customers with the V3 API, in batches of up to 10.

Thin by design: arguments, templating and Airflow context here; the rows come from
:mod:`airflow_bigcommerce.sources`, the work is :func:`airflow_bigcommerce.sync.engine.sync_customers`.
Only the standard library, ``airflow.sdk`` and light modules are imported at module level, so a DAG
file naming the operator parses as fast as one with ``EmptyOperator``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast

from airflow.sdk import BaseOperator

from airflow_bigcommerce.api import CUSTOMER_BATCH_SIZE, DEFAULT_METAFIELD_PERMISSION
from airflow_bigcommerce.ledger.records import DEFAULT_TABLE, MAX_ATTEMPTS
from airflow_bigcommerce.links import BigCommerceCustomersLink, BigCommerceSyncViewLink, api_root_of
from airflow_bigcommerce.models.empty_values import EmptyValues, check_empty_values
from airflow_bigcommerce.operators.arguments import (
    check_retry_budget,
    check_source,
    is_template,
    rejected_limit,
    rendered_flag,
)
from airflow_bigcommerce.operators.ledger_task import check_ledger_arguments
from airflow_bigcommerce.operators.rejection_alerts import OnRejections, check_on_rejections
from airflow_bigcommerce.sync.option_checks import (
    SyncMode,
    check_batch_size,
    check_channel_id,
    check_managed_segments,
    check_max_concurrency,
    check_metafield_permission,
    check_mode,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_bigcommerce.lineage import Lineage
    from airflow_bigcommerce.sources import Source
    from airflow_bigcommerce.sync.result import SyncResult

#: Rejected (and failed) rows the task log lists one by one; it says how many more the report holds.
ROWS_IN_LOG = 20


#: XCom key of the summary of a run that fails its task (a run that succeeds returns it instead).
FAILED_RUN_SUMMARY_KEY = "bigcommerce_summary"


class SyncCustomersOperator(BaseOperator):
    """
    Sync CRM contacts into store customers with the V3 API, in batches of up to 10.

    Contacts come from ``contacts`` (a list of dicts, or an XComArg), or are streamed from any
    common.sql connection (``sql_conn_id`` + ``sql``) or from a CSV, JSON-lines or Parquet file
    (``contacts_path``, local or in object storage), read in chunks so memory stays flat.
    Rows are mapped with ``field_map``, validated, de-duplicated on the lower-cased e-mail and
    looked up in the store; new ones are created, existing ones skipped (``mode="insert"``) or
    updated when a mapped field differs (``mode="upsert"``). A rejected row is reported, never
    dropped; a write whose outcome is unknown is resolved by a look-up, never by a blind resend.

    Rows the store could not take for a transient reason (an outage beyond ``retry_budget_s``, 5xx,
    no answer, 429s) are *failed*, not rejected: every row is still attempted and the report is
    written, then the task fails, so Airflow's retry (which re-sends only what is missing and
    creates nothing twice) finishes the job. A run never goes green while rows it could deliver are
    missing.

    :param contacts: rows to sync: a list of dicts or an XComArg (templated).
    :param sql_conn_id: connection id of any common.sql database to read contacts from (templated).
    :param sql: query returning one contact per row, or a ``.sql`` file (templated).
    :param parameters: query parameters (templated).
    :param sql_hook_params: extra arguments for the SQL hook.
    :param contacts_path: a CSV, JSON-lines or Parquet file of contacts, one per row: a local path on
        the worker or an ObjectStoragePath URL (``s3://bucket/crm/contacts.csv``, ``gs://...``,
        ``file:///...``; ``s3://aws_crm@bucket/...`` reads with the connection ``aws_crm``) (templated).
        CSV cells are strings (an empty cell is missing); Parquet needs the ``[parquet]`` extra.
    :param contacts_format: ``"csv"``, ``"jsonl"`` or ``"parquet"``; default: from the file's
        extension (``.csv``, ``.jsonl``/``.ndjson``, ``.parquet``/``.pq``; ``.gz`` for text) (templated).
    :param field_map: CRM column -> customer field (``email``, ``first_name``, ``last_name``,
        ``company``, ``phone``, ``notes``, ``tax_exempt_category``, ``customer_group_id``,
        ``password``, ``force_password_reset``, ``accepts_product_review_abandoned_cart_emails``) or
        part of the contact: ``address.<field>`` (one sync-managed address), ``attribute.<name>``
        (a customer attribute's value), ``customer_group`` (a group name), ``newsletter`` (opt-in),
        ``form_field.<name>`` (a sign-up form field's value, sent with the customer),
        ``store_credit`` (the customer's store credit, set to the CRM's amount);
        ``metafield.<namespace>.<key>`` (a customer metafield, text), ``segment`` (the segment
        names: a list or a comma-separated text; Enterprise stores);
        default: columns named like the customer fields (templated).
    :param key_field: column identifying a row in reports (default ``"id"``; row number if absent);
        with a ledger, the CRM id the ledger keys each contact by (required; a row without it is rejected).
    :param mode: ``"insert"`` (create new, skip existing), ``"upsert"`` (also update changed) or
        ``"update"`` (update changed, create nothing: a row without a customer is skipped) (templated).
    :param empty_values: ``"keep"`` (default: an empty CRM value leaves the store's value alone) or
        ``"clear"`` (it clears the store's optional value: text fields emptied, attribute and form
        field values emptied, group none, store credit 0, a metafield deleted, the managed segments
        left, the sync's own address deleted when every address column is empty). An empty e-mail,
        first or last name rejects the row either way.
    :param notify_new_customers: the customers the sync creates get BigCommerce's account-created
        e-mail (``trigger_account_created_notification``); existing customers never do. Default off.
    :param dry_run: look up and report what would happen, write nothing (templated).
    :param max_rejected: fail the task, after everything valid was sent, if more rows were rejected:
        a number of rows, or a share of the run's rows as text (``"2%"``).
        ``None`` (default): fail only when the run read rows and rejected every one of them (a mapping
        or source mistake, most likely); a run without rows succeeds.
    :param report_path: local path or ObjectStoragePath URL for a JSON-lines report, one line per
        input row with its outcome (templated).
    :param batch_size: customers per V3 request, 1 to 10.
    :param max_concurrency: requests in flight at once. ``None`` (default) adapts: the number grows
        while the window has requests left and answers stay fast, up to 8, and shrinks when the store
        pushes back (429s with requests left, slower answers, errors). An int 1 to 8 is a fixed
        limit. BigCommerce's documented per-endpoint caps (PUT ``/v3/customers``: 3) apply either way.
    :param quota_reserve: requests per rate-limit window the sync leaves unused for the store's other
        apps (ERP, shipping, reviews); default 0. 10-20 % of the quota is a good start on a store with
        other integrations.
    :param fetch_size: rows fetched from the SQL cursor, or decoded from a Parquet file, at a time.
    :param retry_budget_s: how long the run keeps trying while the store's writes or reads fail (an
        outage), with backoff and one probe at a time, before it settles the rows as failed;
        overrides the connection's ``retry_budget_s`` extra (default 300).
    :param channel_id: Multi-Storefront channel to sync to: a customer exists when it can log in
        there (``channel_ids`` holds it, or is null and the channel allows global logins); new
        customers get ``origin_channel_id`` and, where the channel has no global logins,
        ``channel_ids=[channel_id]``. Existing customers' ``channel_ids`` are never changed.
        ``None`` (default): the store's own behaviour.
    :param create_attributes: create the ``attribute.<name>`` attributes the store lacks (type
        string) instead of failing at start.
    :param metafield_permission: ``permission_set`` of the metafields the sync creates: ``app_only``
        (default: private to the API account), ``read``, ``write``, ``read_and_sf_access`` or
        ``write_and_sf_access``.
    :param create_segments: create the segments a row names that the store lacks, instead of
        rejecting the row (which then names the segments the store has).
    :param managed_segments: segment names the sync owns: in ``upsert`` a row naming segments also
        takes the customer out of the managed segments it does not name (``clear``: an empty value
        leaves all of them). Segments not listed are never touched.
    :param ledger_conn_id: a common.sql connection (SQLite, PostgreSQL, MySQL, ...) to keep the sync's
        ledger in (templated): one row per store, channel and CRM key with the customer id, the last
        outcome and reason. With it, a contact keeps its customer through e-mail changes, and rows not
        delivered (failed, or refused for the store's state) are tried again by later runs, up to
        ``max_attempts``. ``None`` (default): the e-mail is the only identity, as before.
    :param ledger_table: the ledger's table, created when missing (default ``bigcommerce_sync_ledger``).
    :param max_attempts: runs a row not delivered is tried in before the ledger gives it up (default 5).
    :param on_rejections: called once when the run completes with rejections (every row settled,
        some refused by validation or the store; its status ``completed with rejections``, also
        when ``max_rejected`` then fails the task): a callable ``(context, summary)``, or an Airflow
        notifier (``SlackNotifier``, ``SmtpNotifier``, ...; the summary is in its context, and its
        templates, as ``bigcommerce_summary``). An exception in it is logged, not raised: the rows
        are delivered by then, and a retry would not mend an alert channel.
    :param bigcommerce_conn_id: connection of type ``bigcommerce`` (templated).
    :return: the summary (``created``, ``updated``, ``skipped``, ``rejected``, ``failed``, ``total``,
        ``rejections`` and ``failures``: capped lists of ``{row, email, reason}``, ``report_path``,
        ``ledger``: where this run's ledger rows are, or ``None``; ...), pushed to XCom.
    :raises BigCommerceTransientError: rows failed (after every row was attempted and the report
        written); retrying the task is safe.
    """

    template_fields: Sequence[str] = (
        "contacts",
        "sql",
        "parameters",
        "field_map",
        "mode",
        "dry_run",
        "report_path",
        "sql_conn_id",
        "contacts_path",
        "contacts_format",
        "bigcommerce_conn_id",
        "ledger_conn_id",
        "ledger_table",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "sql": "sql",
        "parameters": "json",
        "field_map": "json",
    }
    ui_color = "#34313f"
    operator_extra_links = (BigCommerceCustomersLink(), BigCommerceSyncViewLink())
    #: Set by ``execute`` for the extra link and lineage: the store written to, customers created + updated.
    bigcommerce_store_hash: str | None = None
    #: The connection's API host (where the extra links go for a sandbox store, see links.py).
    bigcommerce_api_root: str | None = None
    bigcommerce_rows_written: int = 0

    def __init__(
        self,
        *,
        contacts: Any = None,
        sql_conn_id: str | None = None,
        sql: str | None = None,
        parameters: Mapping[str, Any] | Sequence[Any] | None = None,
        sql_hook_params: Mapping[str, Any] | None = None,
        contacts_path: str | None = None,
        contacts_format: str | None = None,
        field_map: Mapping[str, str] | None = None,
        key_field: str | None = "id",
        mode: SyncMode = "insert",
        empty_values: EmptyValues = "keep",
        notify_new_customers: bool = False,
        dry_run: bool = False,
        max_rejected: int | str | None = None,
        report_path: str | None = None,
        batch_size: int = CUSTOMER_BATCH_SIZE,
        max_concurrency: int | None = None,
        quota_reserve: int = 0,
        fetch_size: int = 1000,
        retry_budget_s: float | None = None,
        channel_id: int | None = None,
        create_attributes: bool = False,
        metafield_permission: str = DEFAULT_METAFIELD_PERMISSION,
        create_segments: bool = False,
        managed_segments: Sequence[str] | None = None,
        ledger_conn_id: str | None = None,
        ledger_table: str = DEFAULT_TABLE,
        max_attempts: int = MAX_ATTEMPTS,
        bigcommerce_conn_id: str = "bigcommerce_default",
        on_rejections: OnRejections | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_on_rejections(on_rejections)
        check_channel_id(channel_id)
        check_source(contacts, sql_conn_id, sql, contacts_path, contacts_format)
        if not is_template(mode):
            check_mode(mode)
        check_empty_values(empty_values)
        check_batch_size(batch_size)
        check_max_concurrency(max_concurrency)
        if isinstance(quota_reserve, bool) or not isinstance(quota_reserve, int) or quota_reserve < 0:
            raise ValueError(f"quota_reserve must be a number of requests, 0 or more, got {quota_reserve!r}")
        rejected_limit(max_rejected)  # a count or a share ("2%"), checked at parse
        if fetch_size < 1:
            raise ValueError(f"fetch_size must be at least 1, got {fetch_size}")
        check_retry_budget(retry_budget_s)
        check_ledger_arguments(ledger_conn_id, ledger_table, key_field, max_attempts)
        check_metafield_permission(metafield_permission)
        self.managed_segments = check_managed_segments(managed_segments)
        self.contacts = contacts
        self.sql_conn_id = sql_conn_id
        self.sql = sql
        self.parameters = parameters
        self.sql_hook_params = dict(sql_hook_params or {})
        self.contacts_path = contacts_path
        self.contacts_format = contacts_format
        self.field_map = field_map
        self.key_field = key_field
        self.mode = mode
        self.empty_values: EmptyValues = empty_values
        self.notify_new_customers = notify_new_customers
        # Shadows BaseOperator.dry_run(), which nothing in Airflow 3 calls: the argument name is the contract.
        self.dry_run = dry_run  # type: ignore[method-assign,assignment]
        self.max_rejected = max_rejected
        self.report_path = report_path
        self.batch_size = batch_size
        self.max_concurrency = max_concurrency
        self.quota_reserve = quota_reserve
        self.fetch_size = fetch_size
        self.retry_budget_s = retry_budget_s
        self.channel_id = channel_id
        self.create_attributes = create_attributes
        self.metafield_permission = metafield_permission
        self.create_segments = create_segments
        self.ledger_conn_id = ledger_conn_id
        self.ledger_table = ledger_table
        self.max_attempts = max_attempts
        self.bigcommerce_conn_id = bigcommerce_conn_id
        self.on_rejections = on_rejections

    def execute(self, context: Context) -> dict[str, Any]:
        """Read the contacts, sync them, log and return the summary."""
        from airflow_bigcommerce.exceptions import BigCommerceError, BigCommerceTransientError
        from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
        from airflow_bigcommerce.operators.errors import ActionableErrors
        from airflow_bigcommerce.operators.ledger_task import open_ledger, run_ids
        from airflow_bigcommerce.operators.preflight import preflight
        from airflow_bigcommerce.operators.run_messages import failed_message, rejected_message
        from airflow_bigcommerce.storage import OpenedOnFirstWrite
        from airflow_bigcommerce.sync.engine import run_sync
        from airflow_bigcommerce.sync.options import SyncOptions
        from airflow_bigcommerce.sync.progress import ProgressReporter
        from airflow_bigcommerce.sync.report import JsonlReportWriter

        dry_run = rendered_flag(self.dry_run, "dry_run")
        # Every option is checked (field_map included) before the connection is read.
        options = SyncOptions(
            field_map=self.field_map,
            mode=self.mode,
            dry_run=dry_run,
            key_field=self.key_field,
            batch_size=self.batch_size,
            max_concurrency=self.max_concurrency,  # None: the hook adapts what is in flight
            channel_id=self.channel_id,
            create_attributes=self.create_attributes,
            max_attempts=self.max_attempts,
            empty_values=self.empty_values,
            notify_new_customers=bool(self.notify_new_customers),
            metafield_permission=self.metafield_permission,
            create_segments=self.create_segments,
            managed_segments=self.managed_segments,
        )
        hook = BigCommerceHook(
            bigcommerce_conn_id=self.bigcommerce_conn_id,
            retry_budget_s=self.retry_budget_s,
            max_concurrency=self.max_concurrency,
            quota_reserve=self.quota_reserve,
        )
        ledger_options: dict[str, Any] = {}
        with ExitStack() as stack:
            if self.ledger_conn_id:
                # Before the source is read: the ledger may live in the CRM's own SQLite file, which it
                # switches to WAL first so that the streaming query and the ledger's writes coexist.
                run_id, owner = run_ids(context)
                ledger = stack.enter_context(
                    open_ledger(
                        str(self.ledger_conn_id), str(self.ledger_table), hook.store_hash, self.channel_id
                    )
                )
                ledger_options = {"ledger": ledger, "run_id": run_id, "ledger_owner": owner}
            # Every check that needs no store write, all problems in one message, before store setup.
            source = preflight(hook, self._open_source, field_map=self.field_map, key_field=self.key_field)
            self.bigcommerce_store_hash = hook.store_hash
            self.bigcommerce_api_root = api_root_of(hook)
            rows, total = source.rows, source.total
            # A streamed source is closed (cursor and connection) however the sync ends.
            stack.callback(source.close)
            # The report is created at its first row: a run that fails before any leaves no empty file.
            report_file = OpenedOnFirstWrite(str(self.report_path)) if self.report_path else None
            report = None
            if report_file is not None:
                stack.callback(report_file.close)
                report = JsonlReportWriter(cast("IO[str]", report_file))
            progress = ProgressReporter(self.log.info, total=total)
            with ActionableErrors():
                run_options = replace(
                    options, **ledger_options, report=report, progress=progress, total=total
                )
                result = run_sync(rows, hook, run_options)
            if report_file is not None:
                report_file.create()  # a finished run without rows: its report is there, empty
        summary = self._summary(result, ledger_options)
        self.bigcommerce_rows_written = 0 if dry_run else result.created + result.updated
        self._log_result(result, summary, dry_run)
        self._announce(summary, context)
        rejected = rejected_message(result, rejected_limit(self.max_rejected), self.report_path)
        push = getattr(context.get("ti"), "xcom_push", None)
        if (result.failed or rejected) and push is not None:
            # A failing task returns nothing: the sync view reads the summary from here instead.
            push(key=FAILED_RUN_SUMMARY_KEY, value=summary)
        if result.failed:
            raise BigCommerceTransientError(failed_message(result, self.report_path))
        if rejected:
            raise BigCommerceError(rejected)
        return summary

    def _summary(self, result: SyncResult, ledger_options: Mapping[str, Any]) -> dict[str, Any]:
        """Return the run's summary: the result, and where its report and its ledger rows are."""
        from airflow_bigcommerce.operators.ledger_task import ledger_reference

        summary = result.to_dict()
        summary["report_path"] = str(self.report_path) if self.report_path else None
        summary["ledger"] = (
            ledger_reference(str(self.ledger_conn_id), ledger_options["ledger"], ledger_options["run_id"])
            if ledger_options
            else None
        )
        return summary

    def _announce(self, summary: Mapping[str, Any], context: Context) -> None:
        """Send the run's metrics, and call ``on_rejections`` when it completed with rejections."""
        from airflow_bigcommerce.operators.metrics import send_sync_metrics
        from airflow_bigcommerce.operators.rejection_alerts import notify_rejections

        send_sync_metrics(summary, self.bigcommerce_store_hash, context, self.log)
        notify_rejections(self.on_rejections, context, summary, self.log)

    def _log_result(self, result: SyncResult, summary: dict[str, Any], dry_run: bool) -> None:
        """Log the counts, the ledger's work, each part, and the first rejected and failed rows."""
        self.log.info(
            "Sync %s: %s created, %s updated, %s skipped, %s rejected, %s failed of %s rows in %.1f s%s",
            "dry run" if dry_run else "done",
            result.created,
            result.updated,
            result.skipped,
            result.rejected,
            result.failed,
            result.total,
            result.duration_s,
            f"; report at {self.report_path}" if self.report_path else "",
        )
        if self.ledger_conn_id:
            self.log.info(
                "Ledger %s: %s rows retried from it, %s e-mail changes",
                self.ledger_table,
                result.retried,
                result.email_changes,
            )
        for part, counts in result.parts.items():
            self.log.info("Part %s: %s", part, ", ".join(f"{n} {outcome}" for outcome, n in counts.items()))
        self._log_rows("Rejected", summary["rejections"], result.rejected)
        self._log_rows("Failed", summary["failures"], result.failed)

    def _log_rows(self, what: str, listed: list[dict[str, Any]], count: int) -> None:
        """Log the first listed rows of an outcome, and how many more there are and where."""
        for row in listed[:ROWS_IN_LOG]:
            self.log.warning("%s row %s (%s): %s", what, row["row"], row["email"], row["reason"])
        more = count - min(count, len(listed), ROWS_IN_LOG)
        if more:
            where = (
                f"in the report at {self.report_path}" if self.report_path else "not listed (set report_path)"
            )
            self.log.warning("... and %d more %s rows, %s", more, what.lower(), where)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Lineage | None:
        """Report the source (the query's tables, the file; none for XCom contacts) in, the customers out."""
        from airflow_bigcommerce.lineage import customers_lineage

        return customers_lineage(
            store_hash=self.bigcommerce_store_hash,
            rows_written=self.bigcommerce_rows_written,
            sql_conn_id=self.sql_conn_id if self.sql is not None else None,
            sql=self.sql,
            sql_hook_params=self.sql_hook_params,
            file_path=str(self.contacts_path) if self.contacts_path is not None else None,
        )

    def _open_source(self) -> Source:
        """Open the contacts' source: a query runs, a file is found, before the store is touched."""
        from airflow_bigcommerce.sources import open_contacts, open_file, open_sql

        if self.contacts_path is not None:
            return open_file(
                str(self.contacts_path),
                file_format=str(self.contacts_format) if self.contacts_format else None,
                chunk_rows=self.fetch_size,
            )
        if self.sql is None:
            return open_contacts(self.contacts)
        return open_sql(
            str(self.sql_conn_id),
            self.sql,
            parameters=self.parameters,
            sql_hook_params=self.sql_hook_params,
            fetch_size=self.fetch_size,
        )
