"""
Deliver customer write batches (create or update) and settle every row of them.

The customer endpoint of :func:`.create_once.deliver_once`: a refused batch is never assumed
all-or-nothing, and a write whose outcome is unknown (timeout, dropped connection), or a 2xx that
leaves rows out, is never resent blindly: a look-up decides which rows are written, and only the
rest is sent again (at most :data:`MAX_UNKNOWN_SENDS` sends). How long to keep resending is the
client's outage policy (its retry budget): once the client gives up with a
``TransientFailureError``, the rows still unsettled are *failed*, never *rejected*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from airflow_bigcommerce.models.contact import customer_differs, match_key
from airflow_bigcommerce.sync.client import RequestRejectedError, TransientFailureError
from airflow_bigcommerce.sync.counting import CountingClient
from airflow_bigcommerce.sync.create_once import (
    MAX_UNKNOWN_SENDS,
    BatchEndpoint,
    attribute_found,
    deliver_once,
    in_use_text,
)
from airflow_bigcommerce.sync.outcome import Status, data, failure_reason, store, transient
from airflow_bigcommerce.sync.plan import customer_fields_differ
from airflow_bigcommerce.sync.rows import Item, Line, as_id, changed_reason, clip

_CONFIRMED = store("confirmed by look-up after an unknown outcome")
#: The two writes a row can need.
WriteKind = Literal["create", "update"]
_Answer = Sequence[Mapping[str, Any]]


class Deliverer:
    """
    Send one batch and settle every row of it; runs in a worker thread, touches no engine state.

    A refused batch: look its e-mails up (it may have written some), settle what is there, resend
    the rest one at a time. An unknown outcome: look up, settle what is there, resend the rest as a
    batch (the client paces the resend), at most :data:`MAX_UNKNOWN_SENDS` sends per row. A
    transient failure of a write or a look-up settles the batch's unsettled rows as failed.
    """

    def __init__(self, client: CountingClient, kind: WriteKind) -> None:
        self.client = client
        self.kind = kind

    def __call__(self, items: list[Item]) -> tuple[list[Line], int]:
        """Return the settled lines and how many rows a look-up resolved after an unknown outcome."""
        batch = _CustomerBatch(self)
        resolved = deliver_once(items, batch, max_sends=MAX_UNKNOWN_SENDS)
        return batch.lines, resolved


class _CustomerBatch(BatchEndpoint[Item, _Answer]):
    """One call of a :class:`Deliverer`: the customer endpoint's rules, and the lines it settled."""

    def __init__(self, deliverer: Deliverer) -> None:
        self.client = deliverer.client
        self.kind = deliverer.kind
        self.lines: list[Line] = []

    def send(self, rows: list[Item]) -> _Answer:
        return self.client.write(self.kind, [item.body for item in rows])

    def fail(self, rows: list[Item], exc: TransientFailureError, *, looking: bool) -> None:
        what = f"{self.kind} failed" if not any(i.unknown for i in rows) else "outcome unknown"
        self.lines.extend(item.line(Status.FAILED, failure_reason(what, exc)) for item in rows)

    def settle_refused(self, rows: list[Item], exc: RequestRejectedError) -> list[Item]:
        """
        Settle a refused batch; return the rows to resend one at a time.

        A refusal is definitive: a customer the look-up finds was not created by this request
        (another run, a sign-up, or a store that wrote part of a refused batch: it said no), so it
        is ``skipped``, unless an earlier send of the row had an unknown outcome and the customer
        holds what was sent. Nothing found is resent.
        """
        found = self.client.find([item.email for item in rows])
        resend = []
        for item in rows:
            current = found.get(item.mk)
            if self.kind == "create":
                line = self._settle_create(item, current, committed=False)
            else:
                line = self._settle(item, current)
            if line is None:
                resend.append(item)
            else:
                self.lines.append(line)
        return resend

    def look_up(self, rows: list[Item]) -> list[Item]:
        """Settle rows whose write may have landed by a look-up; return the rows to send again."""
        for item in rows:
            item.unknown += 1
        found = self.client.find([item.email for item in rows])
        again: list[Item] = []
        confirmed = False
        for item in rows:
            line = self._settle(item, found.get(item.mk))
            if line is not None:
                self.lines.append(line)
                confirmed = confirmed or line.outcome in (Status.CREATED, Status.UPDATED)
            else:
                again.append(item)
        if confirmed:
            self.client.confirm_write()
        return again

    def give_up(self, row: Item, sends: int) -> None:
        reason = transient(f"outcome still unknown after {row.unknown} attempts")
        self.lines.append(row.line(Status.FAILED, reason))

    def accepted(self, rows: list[Item], answer: _Answer) -> list[Item]:
        """Settle the rows the store's answer lists; return the rows it leaves out."""
        ids: dict[str, int | None] = {}
        answered: dict[str, Mapping[str, Any]] = {}
        for customer in answer or ():
            if isinstance(customer, Mapping) and isinstance(customer.get("email"), str):
                ids[match_key(customer["email"])] = as_id(customer.get("id"))
                answered[match_key(customer["email"])] = customer
        listed = [item for item in rows if item.mk in ids]
        missing = [item for item in rows if item.mk not in ids]
        if self.kind == "create":
            for item in listed:
                item.created = answered[item.mk]  # with its addresses' ids, for the parts that follow
            self.lines.extend(item.line(Status.CREATED, None, ids[item.mk]) for item in listed)
        else:
            self.lines.extend(item.line(Status.UPDATED, changed_reason(item.body)) for item in listed)
        return missing

    def _settle_create(
        self, item: Item, current: Mapping[str, Any] | None, *, committed: bool
    ) -> Line | None:
        """
        Decide a create from what the store now holds; ``None``: not there, send it again.

        ``committed``: the send this look-up follows may have written the row (an unknown outcome,
        or a refused batch before its first refused row). Only then, and only if the customer holds
        what was sent, is it this run's; otherwise it was already there (:func:`attribute_found`).
        """
        if current is None:
            return None
        cid = as_id(current.get("id"))
        if not attribute_found(item.target, current, committed=committed or item.unknown > 0):
            return item.exists(cid)
        item.created = current
        return item.line(Status.CREATED, _CONFIRMED if item.unknown else None, cid)

    def _settle(self, item: Item, current: Mapping[str, Any] | None) -> Line | None:
        """Decide a row from what the store now holds; ``None`` means it is not written: send it again."""
        if self.kind == "create":
            return self._settle_create(item, current, committed=True)
        if current is None:
            return None
        confirmed = _CONFIRMED if item.unknown else None
        try:
            pending = customer_differs(item.target, current) or customer_fields_differ(item.body, current)
        except Exception:
            return None
        if pending:
            return None
        return item.line(Status.UPDATED, confirmed or changed_reason(item.body))

    def refuse_one(self, row: Item, exc: RequestRejectedError) -> None:
        self.lines.append(self._single_refused(row, exc))

    def _single_refused(self, item: Item, exc: RequestRejectedError) -> Line:
        if self.kind == "create" and in_use_text(exc):
            current = self.client.find([item.email]).get(item.mk)
            if current is not None:
                # ours only if an earlier send, whose answer was lost, got there after all
                line = self._settle_create(item, current, committed=False)
                assert line is not None
                return line
            # The store says the e-mail is taken, yet a look-up cannot see it (e.g. a filter that
            # matches case-sensitively): it exists, so it is not ours to create, nor a bad row.
            if item.unknown:
                return item.line(
                    Status.CREATED, store("store reports the e-mail in use after an unknown outcome")
                )
            return item.line(Status.SKIPPED, store("exists in store (e-mail already in use)"))
        return item.line(Status.REJECTED, data(_store_reason(exc)))


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
    return clip(f"{'; '.join(parts)} (HTTP {exc.status})", 1000)
