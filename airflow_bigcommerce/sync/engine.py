"""
The sync engine: stream CRM rows into a store as customers, accounting for every row.

Rows are read ``chunk_size`` at a time, mapped and validated, de-duplicated on the normalised e-mail
(:mod:`.prepare`), looked up in the store (:mod:`.lookup`), classified against it (:mod:`.classify`),
then created or updated in batches of at most 10, the V3 limit (:mod:`.deliver_customers`), their
parts after them (:mod:`.deliver_parts`). Rows that would make a chunk's last batch short wait for
the next chunk's, so only the run's last batch of each kind is short: every write request counts
against the store's quota. Every input row ends as exactly one of created, updated, skipped,
rejected (the row's data) or failed (a transient reason: a later run can deliver it): a typed
outcome (:mod:`.outcome`), counted by status (:mod:`.tally`).

Pure Python: the client is injected (``BigCommerceHook`` in production, the in-process sandbox
``airflow_bigcommerce.testing.InProcessStore`` in tests), so this package imports neither Airflow
nor an HTTP library.
"""

from __future__ import annotations

import functools
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airflow_bigcommerce.api import CUSTOMER_BATCH_SIZE, DEFAULT_METAFIELD_PERMISSION
from airflow_bigcommerce.models.contact_parts import PartMap
from airflow_bigcommerce.models.empty_values import EmptyValues
from airflow_bigcommerce.sync.batch_job import BatchJob, Job, JobKind
from airflow_bigcommerce.sync.client import CustomerClient, TransientFailureError
from airflow_bigcommerce.sync.counting import CountingClient, client_stats
from airflow_bigcommerce.sync.deliver_customers import Deliverer, WriteKind
from airflow_bigcommerce.sync.deliver_parts import PartDeliverer
from airflow_bigcommerce.sync.ledger_sync import Found, decide, open_ledger
from airflow_bigcommerce.sync.lookup import INDEX_LIMIT, StoreLookup
from airflow_bigcommerce.sync.option_checks import SyncMode
from airflow_bigcommerce.sync.options import MAX_CONCURRENCY, SyncOptions
from airflow_bigcommerce.sync.outcome import Status, data, failure_reason
from airflow_bigcommerce.sync.pool import WorkerPool
from airflow_bigcommerce.sync.prepare import RowPreparer
from airflow_bigcommerce.sync.progress import ProgressReporter
from airflow_bigcommerce.sync.report import ReportWriter, write_line
from airflow_bigcommerce.sync.result import SyncResult
from airflow_bigcommerce.sync.rows import Item, Line, changed_reason
from airflow_bigcommerce.sync.store_context import StoreContext
from airflow_bigcommerce.sync.store_setup import resolve_store
from airflow_bigcommerce.sync.tally import Tally

__all__ = ["MAX_CONCURRENCY", "MAX_HELD_LINES", "SyncOptions", "run_sync", "sync_customers"]

log = logging.getLogger("airflow_bigcommerce.sync")

#: Settled report lines held back behind a row still waiting to fill a batch (the report is in input
#: order) before that row is sent in a short batch: bounds memory when one kind of write is rare.
MAX_HELD_LINES = 20_000


class _Run:
    """
    The state of one sync run, owned by the calling thread: only it reads or changes these fields.

    The calling thread reads rows, prepares and classifies them, queues and batches writes, counts
    outcomes and writes the report in input order. Pool workers run :class:`~.batch_job.BatchJob`
    (the writes, with items handed over per job) and the look-ups (:class:`~.lookup.StoreLookup`),
    and the prefetch thread runs the next chunk's look-up; none of them touches this object. What
    they share with it is thread-safe: the counting client, the subscriber book.
    """

    def __init__(self, client: CustomerClient, options: SyncOptions) -> None:
        self.options = options
        self.raw_client = client
        self.client = CountingClient(client)  # thread-safe: shared with workers
        self.part_map = PartMap.from_field_map(options.fields)
        self.context = StoreContext()
        self.prepare = RowPreparer.of(options, self.context)
        self.index_limit = options.index_limit
        self.tally = Tally(options.max_rejections_listed)
        self.read = 0
        self.resolved = 0
        self.settled: list[Line] = []  # not yet in the report
        self.waiting: dict[JobKind, list[Item]] = {"create": [], "update": [], "parts": []}  # input order
        self.deliver: dict[WriteKind, Deliverer] = {
            kind: Deliverer(self.client, kind) for kind in ("create", "update")
        }
        self.job = BatchJob(self.deliver, None, options.dry_run)  # immutable: called by workers
        self.looking: list[Item] = []  # rows whose look-up is under way (in input order)
        self.duplicates: dict[int, list[Line]] = {}  # first row's pos -> its duplicates, until it settles
        self.base_lines: dict[int, Line] = {}  # parts-only rows: their customer's line, by row index
        self.max_held = max(MAX_HELD_LINES, options.chunk_size)
        self.ledger = open_ledger(options, self.client)  # None: the e-mail is the only identity

    def _open_store(self) -> None:
        """Resolve names and the channel once, and tell the client what look-ups must include."""
        if not self.part_map and self.options.channel_id is None:
            return
        self.context = resolve_store(
            self.client,
            self.part_map,
            channel_id=self.options.channel_id,
            create_attributes=self.options.create_attributes,
            dry_run=self.options.dry_run,
            ledger=self.ledger is not None,
            create_segments=self.options.create_segments,
            managed_segments=self.options.managed_segments,
        )
        self.prepare = RowPreparer.of(self.options, self.context)
        self.client.include = self.part_map.includes
        if self.options.channel_id is not None:
            self.client.visible = self.context.on_channel
            self.index_limit = 0  # one e-mail may have a customer per channel: look up per chunk
        parts = PartDeliverer.open(self.client, self.context, self.part_map, self.options)
        self.job = BatchJob(self.deliver, parts, self.options.dry_run)

    def run(self, rows: Iterable[Mapping[str, Any]]) -> None:
        if self.options.progress is not None:
            self.options.progress.start()
        pool = WorkerPool(self.options.workers)
        # With parallel workers, the next chunk is looked up while this chunk's writes are in
        # flight, so capped write endpoints never idle through a chunk's look-ups.
        prefetch = ThreadPoolExecutor(1, "bigcommerce-lookup") if self.options.workers > 1 else None
        try:
            self._open_store()
            lookup = StoreLookup.open(
                self.client,
                pool,
                index_limit=self.index_limit,
                total=self.options.total,
                chunk_size=self.options.chunk_size,
            )
            iterator = iter(rows if self.ledger is None else self.ledger.rows(rows))
            pending: tuple[list[Item], Callable[[], Found]] | None = None
            while True:
                chunk = list(itertools.islice(iterator, self.options.chunk_size))
                ahead = None
                if chunk:
                    start = self.read + 1
                    self.read += len(chunk)
                    fresh = self._prepare(list(enumerate(chunk, start)))
                    ahead = (fresh, self._look_up(lookup, fresh, prefetch))
                if prefetch is None:  # one request at a time: settle each chunk before reading on
                    pending, ahead = ahead, None
                if pending is not None:
                    self._settle(*pending, pool)
                    self._write_out()
                    if len(self.settled) > self.max_held:
                        log.debug("%d report lines wait for a short batch: sending it now", len(self.settled))
                        self._send(pool, last=True)
                        self._write_report()
                pending = ahead
                if not chunk:
                    break
            self._send(pool, last=True)
        finally:
            # On a failure too: every row settled so far, once; rows still waiting for a batch (or
            # for a look-up) were not sent, and a retry of the run delivers them.
            if prefetch is not None:
                prefetch.shutdown(wait=True, cancel_futures=True)
            pool.close()
            for waiting in self.duplicates.values():  # a failed run: their first rows were not sent
                self._keep(*(line._replace(duplicate_of=None) for line in waiting))
            self._write_out(everything=True)
            if self.options.report is not None:
                self.options.report.flush()
        self._progress(final=True)

    def _prepare(self, rows: list[tuple[int, Mapping[str, Any]]]) -> list[Item]:
        """Map and validate a chunk; settle what needs no request; return the rows to look up."""
        fresh: list[Item] = []
        for index, row in rows:
            prepared = (self.ledger.check(index, row) if self.ledger else None) or self.prepare(index, row)
            if isinstance(prepared, Line):
                self._emit(prepared)
            else:
                fresh.append(prepared)
        self.looking.extend(fresh)
        self._progress()
        return fresh

    def _look_up(
        self, lookup: StoreLookup, fresh: list[Item], prefetch: ThreadPoolExecutor | None
    ) -> Callable[[], Found]:
        """Start the chunk's look-up ahead (in ``prefetch``) or leave it for when it is settled."""
        if self.ledger is None:
            find: Callable[[], Found] = functools.partial(lookup.find, fresh)
        else:  # the chunk's one ledger read (here, on the calling thread), then its identities
            find = functools.partial(self.ledger.find, lookup, self.ledger.read(fresh))
        return find if prefetch is None else prefetch.submit(find).result

    def _settle(self, fresh: list[Item], found_of: Callable[[], Found], pool: WorkerPool) -> None:
        """Classify a looked-up chunk against the store and queue (and send) its writes."""
        try:
            found = found_of()
        except TransientFailureError as exc:
            # The store could not be read: nothing is written blindly; a later run retries these rows.
            for item in fresh:
                self._emit(item.line(Status.FAILED, failure_reason("look-up failed", exc)))
            self._progress()
            return
        finally:
            del self.looking[: len(fresh)]
        creates: list[Item] = []
        updates: list[Item] = []
        parts_only: list[Item] = []
        for item in fresh:
            need, line = decide(found, item, self.context, self.options.mode)  # the ledger's identity first
            if need == "create":
                creates.append(item)
            elif need == "update":
                updates.append(item)
            elif need == "parts" and line is not None:
                self.base_lines[item.index] = line
                parts_only.append(item)
            elif line is not None:
                self._emit(line if need == "done" else self.job.finish(item, line, {}))
        if self.options.dry_run:
            self._dry_run(creates, updates, parts_only)
            return
        self.waiting["create"].extend(creates)
        self.waiting["update"].extend(updates)
        self.waiting["parts"].extend(parts_only)
        self._send(pool)

    def _dry_run(self, creates: list[Item], updates: list[Item], parts_only: list[Item]) -> None:
        """Report what each row would change, part by part, reading but writing nothing."""
        lines = [item.line(Status.CREATED, data("dry run: would create")) for item in creates]
        lines += [
            item.line(Status.UPDATED, data("dry run: would update, " + changed_reason(item.body).text))
            for item in updates
        ]
        lines += [self.base_lines.pop(item.index) for item in parts_only]
        items = [*creates, *updates, *parts_only]
        if self.job.parts is not None:
            for item in items:
                item.customer_id = item.customer_id or 0  # a would-be customer: parts are planned only
            outcomes = self.job.parts(items)
            by_index = {line.pos: line for line in lines}
            for item in items:
                self._emit(self.job.finish(item, by_index[item.index], outcomes.get(item.index, {})))
        else:
            for line in lines:
                self._emit(line)
        self._progress()

    def _send(self, pool: WorkerPool, *, last: bool = False) -> None:
        """Deliver the waiting rows in full batches; with ``last``, the short rest too."""
        jobs: list[Job] = []
        size = self.options.batch_size
        for kind, items in self.waiting.items():
            ready = len(items) if last else len(items) - len(items) % size
            for i in range(0, ready, size):
                batch = items[i : i + size]
                bases = [self.base_lines.pop(item.index) for item in batch] if kind == "parts" else []
                jobs.append(Job(kind, batch, bases))
            self.waiting[kind] = items[ready:]
        for lines, resolved in pool.map(self.job, jobs):
            self.resolved += resolved
            for line in lines:
                self._emit(line)
            self._progress()

    # ----------------------------------------------------------------- bookkeeping

    def _emit(self, line: Line) -> None:
        self.tally.add(line)
        if line.duplicate_of is not None:  # its report line waits for the first row's customer id
            self.duplicates.setdefault(line.duplicate_of, []).append(line)
            return
        self._keep(line)
        self.prepare.settled(line)
        for duplicate in self.duplicates.pop(line.pos, ()):
            self._keep(duplicate._replace(customer_id=line.customer_id, duplicate_of=None))
        # Rows created by this run need no entry in the store index: the preparer settles every later
        # row with the same match key as a duplicate before any look-up, at no extra memory.

    def _keep(self, *lines: Line) -> None:
        """Hold settled lines for the report; the ledger records them (written at its next flush)."""
        self.settled.extend(lines)
        if self.ledger is not None:
            self.ledger.record(*lines)

    def _write_out(self, *, everything: bool = False) -> None:
        """Write the report's settled lines, and the ledger's (one ledger write per chunk)."""
        self._write_report(everything=everything)
        if self.ledger is not None:
            self.ledger.flush()

    def _write_report(self, *, everything: bool = False) -> None:
        """Write the settled lines in input order: those before the first row still waiting for a batch."""
        if self.options.report is None:
            self.settled = []
            return
        heads = [items[0].index for items in (*self.waiting.values(), self.looking) if items]
        if everything or not heads:
            lines, self.settled = self.settled, []
        else:
            first = min(heads)
            lines = [line for line in self.settled if line.pos < first]
            self.settled = [line for line in self.settled if line.pos >= first]
        for line in sorted(lines, key=lambda ln: ln.pos):
            write_line(self.options.report, line)

    def _progress(self, *, final: bool = False) -> None:
        """Hand the counters to the reporter: throttled while running, always at the end."""
        if self.options.progress is None:
            return
        counts = self.tally.progress()
        stats = client_stats(self.raw_client)
        if final:
            self.options.progress.finish(*counts, total=self.options.total, stats=stats)
        else:
            self.options.progress.update(*counts, total=self.options.total, stats=stats)


def sync_customers(
    rows: Iterable[Mapping[str, Any]],
    client: CustomerClient,
    *,
    field_map: Mapping[str, str] | None = None,
    mode: SyncMode = "insert",
    dry_run: bool = False,
    key_field: str | None = "id",
    batch_size: int = CUSTOMER_BATCH_SIZE,
    max_concurrency: int | None = 1,
    chunk_size: int = 500,
    max_rejections_listed: int = 100,
    report: ReportWriter | None = None,
    progress: ProgressReporter | None = None,
    total: int | None = None,
    index_limit: int = INDEX_LIMIT,
    channel_id: int | None = None,
    create_attributes: bool = False,
    empty_values: EmptyValues = "keep",
    notify_new_customers: bool = False,
    metafield_permission: str = DEFAULT_METAFIELD_PERMISSION,
    create_segments: bool = False,
    managed_segments: Sequence[str] = (),
) -> SyncResult:
    """
    Create (``insert``) or create-and-update (``upsert``) store customers from CRM rows.

    Rows are streamed ``chunk_size`` at a time (with more than one worker, the next chunk is read
    and looked up while this one's writes are in flight: two chunks at most); memory grows only with
    the set of e-mails seen (for de-duplication within the run). Each row ends as exactly one
    outcome, also written to ``report``.

    :param rows: CRM rows (mappings); consumed once.
    :param client: the store, e.g. ``BigCommerceHook`` or ``testing.InProcessStore``.
    :param field_map: CRM column -> customer field (see ``models.contact.validate_field_map``).
    :param mode: ``"insert"`` skips contacts already in the store; ``"upsert"`` updates the changed
        fields of those, and skips unchanged ones; ``"update"`` is upsert that creates nothing (a
        row without a customer is skipped: "not in the store (update mode creates nothing)").
    :param dry_run: look up but write nothing; ``created``/``updated`` then count what *would* be
        written (report reasons say ``dry run: ...``) and the result has ``dry_run=True``. Rows the
        store itself would refuse cannot be known without writing, so they count as would-be writes.
    :param key_field: column identifying a row in the report and rejections; rows without it are
        named ``row N`` (1-based).
    :param batch_size: customers per write request, 1..10; only the run's last create batch and last
        update batch hold fewer (or one whose rows kept :data:`MAX_HELD_LINES` report lines waiting).
    :param max_concurrency: write batches (and look-ups) in flight at once, 1..8; ``None`` means
        adaptive: the client limits what is in flight, so the engine offers it
        :data:`MAX_CONCURRENCY` workers. The client must be thread-safe.
    :param chunk_size: rows read, validated and looked up together; up to ``batch_size - 1`` rows of
        each kind wait for the next chunk to fill a batch.
    :param max_rejections_listed: cap of ``SyncResult.rejections`` and ``SyncResult.failures`` (the
        report lists them all).
    :param report: receives one line per input row.
    :param progress: receives counters as the run advances (throttled by itself).
    :param total: expected row count, for the progress ETA and to pick the cheaper look-up strategy.
    :param index_limit: stores with at most this many customers are read whole once instead of
        looked up per chunk (when that costs fewer requests); 0 always looks up per chunk.
    :param channel_id: a Multi-Storefront channel: a customer exists when it can log in there, and
        new customers are created on it (see ``sync.store_context.StoreContext.on_channel``).
    :param create_attributes: create the ``attribute.<name>`` attributes the store lacks (type
        ``string``) instead of failing at start.
    :param empty_values, notify_new_customers, metafield_permission, create_segments, managed_segments:
        see ``SyncOptions``.
    :return: the summary; ``created + updated + skipped + rejected + failed == total``. Rows the
        client could not deliver for a transient reason (its ``TransientFailureError``) are
        ``failed``; the run goes on with the next rows, so every row is attempted.
    :raises ValueError: an argument is out of range or ``field_map`` is invalid;
        ``StoreSetupError`` (a ``ValueError``) when the store lacks what ``field_map`` names.
    :raises Exception: whatever a 401/403, another non-transient look-up error or ``rows`` raised;
        the report is flushed first, with a line for every row settled until then (rows waiting to
        fill a batch were not sent and have none).
    """
    options = SyncOptions(
        field_map=field_map,
        mode=mode,
        dry_run=dry_run,
        key_field=key_field,
        batch_size=batch_size,
        max_concurrency=max_concurrency,
        chunk_size=chunk_size,
        max_rejections_listed=max_rejections_listed,
        report=report,
        progress=progress,
        total=total,
        index_limit=index_limit,
        channel_id=channel_id,
        create_attributes=create_attributes,
        empty_values=empty_values,
        notify_new_customers=notify_new_customers,
        metafield_permission=metafield_permission,
        create_segments=create_segments,
        managed_segments=tuple(managed_segments),
    )
    return run_sync(rows, client, options)


def run_sync(rows: Iterable[Mapping[str, Any]], client: CustomerClient, options: SyncOptions) -> SyncResult:
    """Run a sync with its options as one value (``sync_customers`` builds it from keywords)."""
    started = time.monotonic()
    run = _Run(client, options)
    mode, dry_run, workers = options.mode, options.dry_run, options.workers
    log.info(
        "Sync started: mode=%s dry_run=%s batch_size=%d concurrency=%s",
        mode,
        dry_run,
        options.batch_size,
        f"adaptive (up to {workers})" if options.max_concurrency is None else workers,
    )
    run.run(rows)
    requests = {kind: run.client.counts[kind] for kind in ("lookup", "create", "update", "list")}
    requests.update(sorted((k, n) for k, n in run.client.counts.items() if k not in requests))
    result = SyncResult(
        total=run.read,
        dry_run=dry_run,
        mode=mode,
        requests=requests,
        requests_per_row=round(sum(requests.values()) / run.read, 3) if run.read else 0.0,
        retries_resolved=run.resolved,
        duration_s=round(time.monotonic() - started, 3),
        client_stats=client_stats(client),
        retried=run.ledger.retried if run.ledger else 0,
        email_changes=run.ledger.email_changes if run.ledger else 0,
        **run.tally.summary(),
    )
    log.info("Sync done: %s", result.describe())
    return result
