"""
The engine's use of a ledger: rows keyed by CRM key, identity before classify, every settled row kept.

:class:`LedgerSync` is what ``engine._Run`` holds when the sync has a ledger (``SyncOptions.ledger``);
without one the engine never builds it and behaves as before. Per chunk: :meth:`~LedgerSync.check`
rejects a row without a usable key, :meth:`~LedgerSync.read` reads the chunk's ledger rows (one ledger
read, on the calling thread), :meth:`~LedgerSync.find` looks the ledger's customers up by id (one
request per 250) and only the e-mails still unknown by e-mail, :meth:`~LedgerFound.classify` applies
the identity rules (:mod:`airflow_bigcommerce.ledger.identity`) before the usual classification,
:meth:`~LedgerSync.record` keeps each settled line and :meth:`~LedgerSync.flush` writes them (one
ledger write: a killed task leaves what it settled). :meth:`~LedgerSync.rows` chains the rows due for
a retry after the input (the run's input wins).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from airflow_bigcommerce.ledger.identity import Identified, identify, ids_to_check, needs_email_lookup
from airflow_bigcommerce.ledger.records import MAX_ATTEMPTS, Ledger, LedgerRow
from airflow_bigcommerce.ledger.run import RunLedger, key_problem
from airflow_bigcommerce.sync.classify import Classified, classify
from airflow_bigcommerce.sync.counting import CountingClient
from airflow_bigcommerce.sync.lookup import StoreLookup
from airflow_bigcommerce.sync.options import SyncOptions
from airflow_bigcommerce.sync.outcome import Status
from airflow_bigcommerce.sync.plan import Mode
from airflow_bigcommerce.sync.rows import Item, Line, as_id, clip
from airflow_bigcommerce.sync.store_context import StoreContext


class LedgerFound:
    """A looked-up chunk's identities (row index -> :class:`Identified`), classified on the calling thread."""

    def __init__(
        self,
        owner: LedgerSync,
        identities: Mapping[int, Identified],
        address_ids: Mapping[int, int] | None = None,
    ) -> None:
        self.owner = owner
        self.identities = identities
        self.address_ids = address_ids or {}  # row index -> the sync's address id its ledger row keeps

    def classify(self, item: Item, context: StoreContext, mode: Mode) -> Classified:
        """Classify a row against the customer its identity names (an e-mail change adds ``email``)."""
        found = self.identities[item.index]
        if found.action == "reject":
            return Classified("done", item.line(Status.REJECTED, found.reason, found.customer_id))
        if found.action == "skip":
            customer = found.customer or {}
            kept = customer.get("email")
            if isinstance(kept, str):
                self.owner.kept_email[item.index] = kept
            return Classified("done", item.line(Status.SKIPPED, found.reason, found.customer_id))
        if found.action == "match":  # the ledger's address id is only its own customer's
            item.address_id = self.address_ids.get(item.index) if found.via == "ledger" else None
        need, line = classify(item, found.customer if found.action == "match" else None, context, mode)
        if not found.email_change or need == "done":
            return Classified(need, line)
        self.owner.changing.add(item.index)
        cid = found.customer_id
        if need == "update":
            item.body = {**item.body, "email": item.email}
        else:  # unchanged otherwise: the e-mail alone is the update
            item.body = {"id": cid, "email": item.email}
        item.customer_id = cid
        return Classified("update")


class LedgerSync:
    """
    The ledger as the engine's chunk loop uses it; owned by the calling thread (``find`` runs anywhere).

    :param ledger: the ledger of the run's store and channel (``SyncOptions.ledger``).
    :param record: write what rows settled (``False`` in a dry run: the ledger is read, never written).
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        client: CountingClient,
        field_map: Mapping[str, str],
        key_field: str,
        mode: Mode,
        run_id: str | None,
        max_attempts: int = MAX_ATTEMPTS,
        owner: str | None = None,
        record: bool = True,
    ) -> None:
        self.run = RunLedger(
            ledger,
            run_id=run_id,
            field_map=field_map,
            key_field=key_field,
            max_attempts=max_attempts,
            owner=owner,
        )
        self.client = client
        self.key_field = key_field
        self.mode = mode
        self.writes = record
        self.rows_of: dict[int, Mapping[str, Any]] = {}  # row index -> its CRM row, until recorded
        self.keys: dict[int, str] = {}  # row index -> its CRM key, until recorded
        self.kept_email: dict[int, str] = {}  # rows whose customer kept its e-mail (insert)
        self.changing: set[int] = set()  # rows whose update changes the customer's e-mail
        self.email_changes = 0

    @property
    def retried(self) -> int:
        """Return how many rows the run took from the ledger."""
        return len(self.run.from_ledger)

    def rows(self, rows: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """Yield the input rows, then the rows due for a retry that the input did not have."""
        for row in rows:
            if isinstance(row, Mapping) and key_problem(row, self.key_field) is None:
                self.run.seen.add(str(row[self.key_field]))
            yield row
        yield from self.run.retry_rows()

    def check(self, index: int, row: Mapping[str, Any]) -> Line | None:
        """Return the rejection of a row without a usable key (not recorded: it has none), else ``None``."""
        if not isinstance(row, Mapping):
            return None  # the preparer rejects it
        problem = key_problem(row, self.key_field)
        if problem is None:
            self.rows_of[index] = row
            self.keys[index] = str(row[self.key_field])
            return None
        value = row.get(self.key_field)
        key = clip(str(value)) if value is not None and str(value).strip() else f"row {index}"
        return Line(index, key, None, Status.REJECTED, problem)

    def read(self, fresh: list[Item]) -> list[tuple[Item, LedgerRow | None]]:
        """Read the ledger rows of a chunk's rows to look up (one ledger read); pair each row with its own."""
        keyed = [self.rows_of[item.index] for item in fresh if item.index in self.rows_of]
        known = self.run.read_chunk(keyed) if keyed else {}
        return [(item, known.get(self.keys.get(item.index, ""))) for item in fresh]

    def find(self, lookup: StoreLookup, pairs: list[tuple[Item, LedgerRow | None]]) -> LedgerFound:
        """Look up the ledger's customers by id, then by e-mail the rows still unknown; decide each row."""
        ids = ids_to_check(row for _, row in pairs if row is not None)
        by_id: dict[int, Mapping[str, Any]] = {}
        if ids and lookup.index is not None:  # a small store read whole: its index has them
            wanted = set(ids)
            by_id = {c: v for v in lookup.index.values() if (c := as_id(v.get("id"))) in wanted}
        elif ids:
            by_id = dict(self.client.find_ids(ids))
        need = [item for item, row in pairs if needs_email_lookup(item.mk, row, by_id)]
        by_email = lookup.find(need) if need else {}
        identities = {item.index: identify(item.mk, row, by_id, by_email, self.mode) for item, row in pairs}
        addresses = {item.index: row.address_id for item, row in pairs if row and row.address_id is not None}
        return LedgerFound(self, identities, addresses)

    def record(self, *lines: Line) -> None:
        """Keep settled lines in the ledger (written at the next :meth:`flush`); keyless rows are not kept."""
        for line in lines:
            self._record(line)

    def _record(self, line: Line) -> None:
        row = self.rows_of.pop(line.pos, None)
        key = self.keys.pop(line.pos, None)
        kept = self.kept_email.pop(line.pos, None)
        if line.pos in self.changing:
            self.changing.discard(line.pos)
            self.email_changes += line.outcome is Status.UPDATED
        if key is None or not self.writes:
            return
        self.run.record(line._replace(key=key), row, email=kept, address_id=line.address_id)

    def flush(self) -> int:
        """Write what settled since the last flush (one ledger write); return how many rows."""
        return self.run.flush() if self.writes else 0


def open_ledger(options: SyncOptions, client: CountingClient) -> LedgerSync | None:
    """Return the run's use of its ledger, or ``None`` without one (the sync behaves as before)."""
    if options.ledger is None or options.key_field is None:
        return None
    return LedgerSync(
        options.ledger,
        client=client,
        field_map=options.fields,
        key_field=options.key_field,
        mode=options.mode,
        run_id=options.run_id,
        max_attempts=options.max_attempts,
        owner=options.ledger_owner,
        record=not options.dry_run,
    )


#: What a look-up returns without a ledger: match key -> the stored customer.
FoundCustomers = dict[str, Mapping[str, Any]]
#: What a chunk's look-up gives: stored customers by match key, or with a ledger each row's identity.
Found = FoundCustomers | LedgerFound


def decide(found: Found, item: Item, context: StoreContext, mode: Mode) -> Classified:
    """Classify a looked-up row: by its identity with a ledger, else against the customer with its e-mail."""
    if isinstance(found, LedgerFound):
        return found.classify(item, context, mode)
    return classify(item, found.get(item.mk), context, mode)
