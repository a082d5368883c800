"""
The sync engine: stream CRM rows into a store as customers, accounting for every row.

Rows are read ``chunk_size`` at a time, mapped and validated, de-duplicated on the normalised e-mail,
looked up in the store, then created or updated in batches of at most 10 (the V3 limit). A refused
batch is never assumed all-or-nothing: its e-mails are looked up and the rest resent one at a time.
A write whose outcome is unknown (timeout, dropped connection) is never resent blindly: a look-up
decides. Every input row ends as exactly one of created, updated, skipped or rejected.

Pure Python: the client is injected (``BigCommerceHook`` in production, ``FakeCustomerClient`` in
tests), so this module imports neither Airflow nor an HTTP library.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypeVar

from airflow_bigcommerce.models.contact import (
    COMPARABLE_FIELDS,
    ContactRejected,
    customer_differs,
    map_contact,
    match_key,
    validate_field_map,
)
from airflow_bigcommerce.sync.client import (
    LOOKUP_BATCH_SIZE,
    MAX_BATCH_SIZE,
    CustomerClient,
    OutcomeUnknownError,
    RequestRejectedError,
)
from airflow_bigcommerce.sync.progress import ProgressReporter
from airflow_bigcommerce.sync.report import ReportWriter
from airflow_bigcommerce.sync.result import Outcome, SyncResult

log = logging.getLogger("airflow_bigcommerce.sync")

#: Stores with at most this many customers are read once (≤10 pages of 250) instead of looked up per chunk.
INDEX_LIMIT = 2_500
#: Page size used to read the whole store (the V3 maximum).
LIST_PAGE_SIZE = 250
#: Sends of one row whose outcome stayed unknown before the row is reported rejected.
MAX_UNKNOWN_ATTEMPTS = 5
#: Upper bound for ``max_concurrency``: more parallel writes only buy 429s under a shared store quota.
MAX_CONCURRENCY = 8
#: Statuses that concern the whole run (bad token, missing scope): raised, never split row by row.
FATAL_STATUSES = frozenset({401, 403})
#: Row keys, e-mails and reasons are clipped to this many characters in results, report and logs.
CLIP = 320

_T = TypeVar("_T")
_R = TypeVar("_R")


def _clip(text: str, limit: int = CLIP) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Line(NamedTuple):
    """The settled outcome of one input row (report line, counters, rejection entry)."""

    pos: int  # 1-based row number: the report is written in input order
    key: str
    email: str | None
    outcome: Outcome
    reason: str | None = None
    customer_id: int | None = None


@dataclass(slots=True)
class _Item:
    """A valid, de-duplicated row on its way to the store; owned by one batch at a time."""

    index: int
    key: str
    email: str
    mk: str
    target: Mapping[str, Any]  # the mapped payload: may hold a password, never leaves the engine
    body: Mapping[str, Any]  # what is sent: the payload (create) or {"id", **changed} (update)
    customer_id: int | None = None
    unknown: int = 0  # sends whose outcome stayed unknown

    def line(self, outcome: Outcome, reason: str | None = None, customer_id: int | None = None) -> _Line:
        cid = customer_id if customer_id is not None else self.customer_id
        return _Line(self.index, self.key, _clip(self.email), outcome, reason, cid)


def _as_id(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _field_of(key: str) -> str:
    """Map a V3 error key to a field name: ``0.email`` -> ``email``; ``.customer_create`` -> ``""``."""
    if not key or key.startswith("."):
        return ""
    head, _, rest = key.partition(".")
    return rest if head.isdigit() else key


def _store_reason(exc: RequestRejectedError) -> str:
    """Turn the store's refusal into ``field: message`` parts, as validation reasons read."""
    parts = []
    for key, message in exc.errors.items():
        field = _field_of(str(key))
        parts.append(f"{field}: {message}" if field else str(message))
    if not parts:
        parts.append(exc.title or str(exc) or "refused")
    return _clip(f"{'; '.join(parts)} (HTTP {exc.status})", 1000)


def _in_use_text(exc: RequestRejectedError) -> str:
    """Return the lower-cased messages saying an e-mail is already taken, or ``""``."""
    texts = [exc.title, *map(str, exc.errors.values())]
    hits = [t.lower() for t in texts if "already in use" in t.lower() or "already exists" in t.lower()]
    if exc.status == 409 and not hits:
        hits = [t.lower() for t in texts] or ["409"]
    return " ".join(hits)


def _client_stats(client: object) -> dict[str, int | float]:
    stats = getattr(client, "stats", None)
    if not isinstance(stats, Mapping):
        return {}
    return {str(k): v for k, v in stats.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


class _CountingClient:
    """Wrap the client to count calls by kind (thread-safe); the hook's own retries are not seen."""

    def __init__(self, client: CustomerClient) -> None:
        self.client = client
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _count(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self.counts[kind] += n

    def find(self, emails: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Look e-mails up; return match key -> customer (lowest id wins, should the store hold two)."""
        self._count("lookup")
        found: dict[str, dict[str, Any]] = {}
        for customer in sorted(
            self.client.find_customers_by_email(list(emails)), key=lambda c: _as_id(c.get("id")) or 0
        ):
            email = customer.get("email")
            if isinstance(email, str):
                found.setdefault(match_key(email), customer)
        return found

    def write(
        self, kind: Literal["create", "update"], bodies: list[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        self._count(kind)
        if kind == "create":
            return self.client.create_customers(bodies)
        return self.client.update_customers(bodies)

    def count(self) -> int:
        self._count("list")
        return self.client.count_customers()

    def iter_all(self) -> Iterator[dict[str, Any]]:
        n = 0
        try:
            for customer in self.client.iter_customers(LIST_PAGE_SIZE):
                n += 1
                yield customer
        finally:
            self._count("list", n // LIST_PAGE_SIZE + 1)


class _Deliverer:
    """
    Send one batch and settle every row of it; runs in a worker thread, touches no engine state.

    A refused batch: look its e-mails up (it may have written some), settle what is there, resend
    the rest one at a time. An unknown outcome: look up, settle what is there, resend the rest as a
    batch, at most :data:`MAX_UNKNOWN_ATTEMPTS` sends per row.
    """

    def __init__(self, client: _CountingClient, kind: Literal["create", "update"]) -> None:
        self.client = client
        self.kind = kind

    def __call__(self, items: list[_Item]) -> tuple[list[_Line], int]:
        lines: list[_Line] = []
        resolved = 0
        queue: deque[list[_Item]] = deque([items])
        while queue:
            batch = queue.popleft()
            try:
                response = self.client.write(self.kind, [item.body for item in batch])
            except RequestRejectedError as exc:
                if exc.status in FATAL_STATUSES:
                    raise
                queue.extend([item] for item in self._refused(batch, exc, lines))
            except OutcomeUnknownError:
                resolved += len(batch)
                again = self._unknown(batch, lines)
                if again:
                    queue.append(again)
            else:
                done, missing = self._succeeded(batch, response)
                lines.extend(done)
                if missing:  # a 2xx that does not list every row: settle those like an unknown outcome
                    resolved += len(missing)
                    again = self._unknown(missing, lines)
                    if again:
                        queue.append(again)
        return lines, resolved

    def _refused(self, batch: list[_Item], exc: RequestRejectedError, lines: list[_Line]) -> list[_Item]:
        """Settle a refused batch; return the rows to resend one at a time."""
        if len(batch) == 1:
            lines.append(self._single_refused(batch[0], exc))
            return []
        found = self.client.find([item.email for item in batch])
        in_use = _in_use_text(exc) if self.kind == "create" else ""
        resend = []
        for item in batch:
            line = self._settle(item, found.get(item.mk), in_use=in_use)
            if line is None:
                resend.append(item)
            else:
                lines.append(line)
        return resend

    def _unknown(self, batch: list[_Item], lines: list[_Line]) -> list[_Item]:
        """Settle a batch whose outcome is unknown by a look-up; return the rows to send again."""
        found = self.client.find([item.email for item in batch])
        again: list[_Item] = []
        for item in batch:
            item.unknown += 1
            line = self._settle(item, found.get(item.mk))
            if line is not None:
                lines.append(line)
            elif item.unknown >= MAX_UNKNOWN_ATTEMPTS:
                lines.append(item.line("rejected", f"outcome unknown after {item.unknown} attempts"))
            else:
                again.append(item)
        return again

    def _succeeded(
        self, batch: list[_Item], response: Sequence[Mapping[str, Any]]
    ) -> tuple[list[_Line], list[_Item]]:
        """Settle the rows the store's answer lists; return them and the rows it leaves out."""
        ids: dict[str, int | None] = {}
        for customer in response or ():
            if isinstance(customer, Mapping) and isinstance(customer.get("email"), str):
                ids[match_key(customer["email"])] = _as_id(customer.get("id"))
        listed = [item for item in batch if item.mk in ids]
        missing = [item for item in batch if item.mk not in ids]
        if self.kind == "create":
            return [item.line("created", None, ids[item.mk]) for item in listed], missing
        return [item.line("updated", _changed_reason(item.body)) for item in listed], missing

    def _settle(self, item: _Item, current: Mapping[str, Any] | None, in_use: str = "") -> _Line | None:
        """Decide a row from what the store now holds; ``None`` means it is not written: send it again."""
        if current is None:
            return None
        cid = _as_id(current.get("id"))
        confirmed = "confirmed by look-up after an unknown outcome" if item.unknown else None
        if self.kind == "create":
            # In use before we wrote, or, after an unknown outcome, holding someone else's data (a
            # storefront sign-up meanwhile): our write did not land.
            named_in_use = in_use and not item.unknown and item.email.strip().lower() in in_use
            if named_in_use or (item.unknown and not _looks_like_ours(item, current)):
                return item.line("skipped", f"exists in store (id {cid})", cid)
            return item.line("created", confirmed, cid)
        try:
            pending = customer_differs(item.target, current)
        except Exception:
            return None
        if pending:
            return None
        return item.line("updated", confirmed or _changed_reason(item.body))

    def _single_refused(self, item: _Item, exc: RequestRejectedError) -> _Line:
        if self.kind == "create" and _in_use_text(exc):
            current = self.client.find([item.email]).get(item.mk)
            if current is not None:
                cid = _as_id(current.get("id"))
                if item.unknown and _looks_like_ours(item, current):
                    # our own earlier send, whose answer was lost, got there after all
                    return item.line("created", "confirmed by look-up after an unknown outcome", cid)
                return item.line("skipped", f"exists in store (id {cid})", cid)
            # The store says the e-mail is taken, yet a look-up cannot see it (e.g. a filter that
            # matches case-sensitively): it exists, so it is not ours to create, nor a bad row.
            if item.unknown:
                return item.line("created", "store reports the e-mail in use after an unknown outcome")
            return item.line("skipped", "exists in store (e-mail already in use)")
        return item.line("rejected", _store_reason(exc))


def _looks_like_ours(item: _Item, current: Mapping[str, Any]) -> bool:
    """
    Whether the customer found after an unknown outcome holds what we sent (so it is our write).

    A customer whose fields differ from our payload was created by someone else in the meantime
    (e.g. a storefront sign-up): our write did not land, and the row counts as skipped, not created.
    """
    try:
        return not customer_differs(item.target, current)
    except Exception:
        return True


def _changed_reason(body: Mapping[str, Any]) -> str:
    return _clip("changed: " + ", ".join(sorted(k for k in body if k != "id")))


def _lookups_needed(total: int, chunk_size: int) -> int:
    full, rest = divmod(total, chunk_size)
    return full * math.ceil(chunk_size / LOOKUP_BATCH_SIZE) + math.ceil(rest / LOOKUP_BATCH_SIZE)


class _Run:
    """State of one sync run; every method but the workers' runs in the calling thread."""

    def __init__(
        self,
        client: CustomerClient,
        *,
        field_map: dict[str, str],
        mode: Literal["insert", "upsert"],
        dry_run: bool,
        key_field: str | None,
        batch_size: int,
        max_concurrency: int,
        max_rejections_listed: int,
        report: ReportWriter | None,
        progress: ProgressReporter | None,
        total: int | None,
        index_limit: int,
        chunk_size: int,
    ) -> None:
        self.raw_client = client
        self.client = _CountingClient(client)
        self.field_map = field_map
        self.email_columns = [col for col, target in field_map.items() if target == "email"] or ["email"]
        self.mode = mode
        self.dry_run = dry_run
        self.key_field = key_field
        self.batch_size = batch_size
        self.max_concurrency = max_concurrency
        self.max_rejections_listed = max_rejections_listed
        self.report = report
        self.progress = progress
        self.expected_total = total
        self.index_limit = index_limit
        self.chunk_size = chunk_size
        self.counts: Counter[str] = Counter()
        self.read = 0
        self.resolved = 0
        self.rejections: list[dict[str, str | None]] = []
        self.rejections_truncated = False
        self.seen: dict[str, str] = {}  # match key -> row key of its first row in this run
        self.index: dict[str, dict[str, Any]] | None = None
        self.executor: ThreadPoolExecutor | None = None
        self.pending_lines: list[_Line] = []

    # ----------------------------------------------------------------- outline

    def run(self, rows: Iterable[Mapping[str, Any]]) -> None:
        if self.progress is not None:
            self.progress.start()
        if self.max_concurrency > 1:
            self.executor = ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="bigcommerce-sync")
        try:
            self.index = self._load_index()
            iterator = iter(rows)
            while chunk := list(itertools.islice(iterator, self.chunk_size)):
                start = self.read + 1
                self.read += len(chunk)
                try:
                    self._chunk(list(enumerate(chunk, start)))
                finally:
                    self._write_report()
        finally:
            if self.executor is not None:
                self.executor.shutdown(wait=True, cancel_futures=True)
            if self.report is not None:
                self.report.flush()
        if self.progress is not None:
            self.progress.finish(*self._progress_counts(), total=self.expected_total, stats=self._stats())

    def _load_index(self) -> dict[str, dict[str, Any]] | None:
        """Read a small store once when that costs fewer requests than looking rows up per chunk."""
        if self.index_limit <= 0:
            return None
        budget = None
        if self.expected_total is not None:
            budget = _lookups_needed(self.expected_total, self.chunk_size)
            if budget <= 1:  # one look-up at most: cheaper than even counting the store
                return None
        count = self.client.count()
        pages = math.ceil(count / LIST_PAGE_SIZE)
        if count > self.index_limit or (budget is not None and pages > budget):
            log.info("Store holds %d customers: looking contacts up per chunk", count)
            return None
        keep = {"id", "email", *COMPARABLE_FIELDS}
        index: dict[str, dict[str, Any]] = {}
        if count:
            for customer in self.client.iter_all():
                email = customer.get("email")
                if isinstance(email, str):
                    index.setdefault(match_key(email), {k: v for k, v in customer.items() if k in keep})
        log.info(
            "Store holds %d customers: read them once (%d pages) instead of per-chunk look-ups", count, pages
        )
        return index

    def _chunk(self, rows: list[tuple[int, Mapping[str, Any]]]) -> None:
        fresh: list[_Item] = []
        for index, row in rows:
            prepared = self._prepare(index, row)
            if isinstance(prepared, _Line):
                self._emit(prepared)
            else:
                fresh.append(prepared)
        self._progress()
        found = self._lookup(fresh)
        creates: list[_Item] = []
        updates: list[_Item] = []
        for item in fresh:
            line = self._classify(item, found.get(item.mk), creates, updates)
            if line is not None:
                self._emit(line)
        if self.dry_run:
            for item in creates:
                self._emit(item.line("created", "dry run: would create"))
            for item in updates:
                self._emit(item.line("updated", "dry run: would update, " + _changed_reason(item.body)))
            self._progress()
            return
        create, update = _Deliverer(self.client, "create"), _Deliverer(self.client, "update")
        batches = [
            (deliver, items[i : i + self.batch_size])
            for deliver, items in ((create, creates), (update, updates))
            for i in range(0, len(items), self.batch_size)
        ]
        for lines, resolved in self._map(lambda job: job[0](job[1]), batches):
            self.resolved += resolved
            for line in lines:
                self._emit(line)
            self._progress()

    # ----------------------------------------------------------------- steps

    def _row_key(self, index: int, row: Mapping[str, Any]) -> str:
        if self.key_field is not None:
            try:
                value = row.get(self.key_field)
                text = None if value is None else str(value)
            except Exception:
                text = None
            if text is not None and text.strip():
                return _clip(text)
        return f"row {index}"

    def _raw_email(self, row: Mapping[str, Any]) -> str | None:
        try:
            for column in self.email_columns:
                value = row.get(column)
                if isinstance(value, str) and value.strip():
                    return _clip(value.strip())
        except Exception:
            return None
        return None

    def _prepare(self, index: int, row: Mapping[str, Any]) -> _Line | _Item:
        """Map one row; a rejection or an in-run duplicate settles it here, before any request."""
        key = self._row_key(index, row)
        if not isinstance(row, Mapping):
            reason = f"row: not a mapping of column to value (got {type(row).__name__})"
            return _Line(index, key, None, "rejected", reason)
        try:
            payload = map_contact(row, self.field_map)
            email = payload["email"]
            mk = match_key(email)
        except ContactRejected as exc:
            reason = f"{exc.field}: {exc.reason}" if exc.field else str(exc.reason)
            return _Line(index, key, self._raw_email(row), "rejected", _clip(reason, 1000))
        except Exception as exc:  # a bug or an odd row must not stop the run; no message: it may hold data
            return _Line(
                index, key, self._raw_email(row), "rejected", f"could not map row: {type(exc).__name__}"
            )
        first = self.seen.get(mk)
        if first is not None:
            ref = first if first.startswith("row ") else f"row {first}"
            return _Line(index, key, _clip(email), "skipped", f"duplicate of {ref} in this run")
        self.seen[mk] = key
        return _Item(index, key, email, mk, payload, payload)

    def _lookup(self, items: list[_Item]) -> dict[str, Mapping[str, Any]]:
        if self.index is not None:
            return {item.mk: self.index[item.mk] for item in items if item.mk in self.index}
        groups = [
            [item.email for item in items[i : i + LOOKUP_BATCH_SIZE]]
            for i in range(0, len(items), LOOKUP_BATCH_SIZE)
        ]
        found: dict[str, Mapping[str, Any]] = {}
        for part in self._map(self.client.find, groups):
            for mk, customer in part.items():
                found.setdefault(mk, customer)
        return found

    def _classify(
        self, item: _Item, existing: Mapping[str, Any] | None, creates: list[_Item], updates: list[_Item]
    ) -> _Line | None:
        if existing is None:
            creates.append(item)
            return None
        cid = _as_id(existing.get("id"))
        if self.mode == "insert":
            return item.line("skipped", f"exists in store (id {cid})", cid)
        try:
            changed = customer_differs(item.target, existing)
        except Exception as exc:
            return item.line(
                "rejected", f"could not compare with the stored customer: {type(exc).__name__}", cid
            )
        if not changed:
            return item.line("skipped", "unchanged", cid)
        item.customer_id = cid
        item.body = {"id": cid, **changed}
        updates.append(item)
        return None

    def _map(self, fn: Callable[[_T], _R], jobs: Sequence[_T]) -> Iterator[_R]:
        """
        Run ``fn`` over ``jobs`` (in the pool if there is one) and yield results as they finish.

        On a failure, no further job starts, running ones finish and are yielded, then it re-raises:
        what was done still reaches the report.
        """
        if self.executor is None or len(jobs) <= 1:
            for job in jobs:
                yield fn(job)
            return
        futures: set[Future[_R]] = {self.executor.submit(fn, job) for job in jobs}
        error: BaseException | None = None
        while futures:
            done, futures = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                if future.cancelled():
                    continue
                exc = future.exception()
                if exc is not None:
                    if error is None:
                        error = exc
                        for other in futures:
                            other.cancel()
                    continue
                yield future.result()
        if error is not None:
            raise error

    # ----------------------------------------------------------------- bookkeeping

    def _emit(self, line: _Line) -> None:
        self.counts[line.outcome] += 1
        self.pending_lines.append(line)
        if line.outcome == "rejected":
            if len(self.rejections) < self.max_rejections_listed:
                self.rejections.append({"row": line.key, "email": line.email, "reason": line.reason})
            else:
                self.rejections_truncated = True
        # Rows created by this run need no entry in the store index: ``seen`` settles every later
        # row with the same match key as a duplicate before any look-up, at no extra memory.

    def _write_report(self) -> None:
        lines, self.pending_lines = self.pending_lines, []
        if self.report is None:
            return
        for line in sorted(lines, key=lambda ln: ln.pos):
            self.report.write(line.key, line.email, line.outcome, line.reason, line.customer_id)

    def _progress_counts(self) -> tuple[int, int, int, int, int]:
        c = self.counts
        done = c["created"] + c["updated"] + c["skipped"] + c["rejected"]
        return done, c["created"], c["updated"], c["skipped"], c["rejected"]

    def _stats(self) -> dict[str, int | float]:
        return _client_stats(self.raw_client)

    def _progress(self) -> None:
        if self.progress is not None:
            self.progress.update(*self._progress_counts(), total=self.expected_total, stats=self._stats())


def sync_customers(
    rows: Iterable[Mapping[str, Any]],
    client: CustomerClient,
    *,
    field_map: Mapping[str, str] | None = None,
    mode: Literal["insert", "upsert"] = "insert",
    dry_run: bool = False,
    key_field: str | None = "id",
    batch_size: int = 10,
    max_concurrency: int = 1,
    chunk_size: int = 500,
    max_rejections_listed: int = 100,
    report: ReportWriter | None = None,
    progress: ProgressReporter | None = None,
    total: int | None = None,
    index_limit: int = INDEX_LIMIT,
) -> SyncResult:
    """
    Create (``insert``) or create-and-update (``upsert``) store customers from CRM rows.

    Rows are streamed ``chunk_size`` at a time; memory grows only with the set of e-mails seen (for
    de-duplication within the run). Each row ends as exactly one outcome, also written to ``report``.

    :param rows: CRM rows (mappings); consumed once.
    :param client: the store, e.g. ``BigCommerceHook`` or ``FakeCustomerClient``.
    :param field_map: CRM column -> customer field (see ``models.contact.validate_field_map``).
    :param mode: ``"insert"`` skips contacts already in the store; ``"upsert"`` updates the changed
        fields of those, and skips unchanged ones.
    :param dry_run: look up but write nothing; ``created``/``updated`` then count what *would* be
        written (report reasons say ``dry run: ...``) and the result has ``dry_run=True``. Rows the
        store itself would refuse cannot be known without writing, so they count as would-be writes.
    :param key_field: column identifying a row in the report and rejections; rows without it are
        named ``row N`` (1-based).
    :param batch_size: customers per write request, 1..10.
    :param max_concurrency: write batches (and look-ups) in flight at once, 1..8; the client must be
        thread-safe.
    :param chunk_size: rows read, validated and looked up together.
    :param max_rejections_listed: cap of ``SyncResult.rejections`` (the report lists them all).
    :param report: receives one line per input row.
    :param progress: receives counters as the run advances (throttled by itself).
    :param total: expected row count, for the progress ETA and to pick the cheaper look-up strategy.
    :param index_limit: stores with at most this many customers are read whole once instead of
        looked up per chunk (when that costs fewer requests); 0 always looks up per chunk.
    :return: the summary; ``created + updated + skipped + rejected == total``.
    :raises ValueError: an argument is out of range or ``field_map`` is invalid.
    :raises Exception: whatever a look-up, a 401/403 write or ``rows`` raised; the report is flushed
        first, with a line for every row settled until then.
    """
    if mode not in ("insert", "upsert"):
        raise ValueError(f"mode must be 'insert' or 'upsert', not {mode!r}")
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}, not {batch_size}")
    if not 1 <= max_concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"max_concurrency must be between 1 and {MAX_CONCURRENCY}, not {max_concurrency}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    if max_rejections_listed < 0:
        raise ValueError(f"max_rejections_listed must not be negative, not {max_rejections_listed}")
    started = time.monotonic()
    run = _Run(
        client,
        field_map=validate_field_map(field_map),
        mode=mode,
        dry_run=dry_run,
        key_field=key_field,
        batch_size=batch_size,
        max_concurrency=max_concurrency,
        max_rejections_listed=max_rejections_listed,
        report=report,
        progress=progress,
        total=total,
        index_limit=index_limit,
        chunk_size=chunk_size,
    )
    log.info(
        "Sync started: mode=%s dry_run=%s batch_size=%d concurrency=%d",
        mode,
        dry_run,
        batch_size,
        max_concurrency,
    )
    run.run(rows)
    result = SyncResult(
        created=run.counts["created"],
        updated=run.counts["updated"],
        skipped=run.counts["skipped"],
        rejected=run.counts["rejected"],
        total=run.read,
        dry_run=dry_run,
        mode=mode,
        requests={kind: run.client.counts[kind] for kind in ("lookup", "create", "update", "list")},
        retries_resolved=run.resolved,
        rejections=tuple(run.rejections),
        rejections_truncated=run.rejections_truncated,
        duration_s=round(time.monotonic() - started, 3),
        client_stats=_client_stats(client),
    )
    log.info(
        "Sync done: %d rows, created %d, updated %d, skipped %d, rejected %d, %s requests in %.1fs",
        result.total,
        result.created,
        result.updated,
        result.skipped,
        result.rejected,
        sum(result.requests.values()),
        result.duration_s,
    )
    return result
