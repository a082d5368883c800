"""
Deliver the parts of up to one batch of contacts whose customers exist, and settle each part.

Runs in a worker thread after the customer write (or instead of it, when only parts changed), in
the order a customer's parts depend on it: addresses, attribute values (with the id of the sync's
address), metafields and segments (:mod:`.deliver_fields`), newsletter consent. Every request goes
through the client's one delivery policy. The
exactly-once path and its bound are the customer's (:mod:`.create_once`): address ``POST``s go
through :func:`.create_once.deliver_once` (an answer lost or leaving addresses out is resolved by
looking the customers' addresses up; a refused batch is resent one by one), a subscriber ``POST``
through ``create_once``. Attribute values are an upsert, sent once more after a lost answer
(:func:`.create_once.resend_idempotent`); an address ``PUT`` whose answer was lost is reported
failed. A part that fails does not undo the parts before it; its outcome says ``failed``
(transient) or ``rejected`` (the store refused it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_bigcommerce.api import (
    ADDRESS_BATCH_SIZE,
    ATTRIBUTE_VALUE_BATCH_SIZE,
    DEFAULT_METAFIELD_PERMISSION,
)
from airflow_bigcommerce.models.address import address_key
from airflow_bigcommerce.sync.client import OutcomeUnknownError, RequestRejectedError, TransientFailureError
from airflow_bigcommerce.sync.counting import CountingClient
from airflow_bigcommerce.sync.create_once import (
    BatchEndpoint,
    deliver_once,
    resend_idempotent,
    split_refused,
)
from airflow_bigcommerce.sync.deliver_fields import FieldDeliverer
from airflow_bigcommerce.sync.deliver_newsletter import NewsletterDelivery
from airflow_bigcommerce.sync.outcome import (
    PartOutcome,
    Status,
    data,
    failed_part,
    failed_part_because,
    part,
    refused_part,
)
from airflow_bigcommerce.sync.plan import ID_RECORDED, Mode, PartPlan
from airflow_bigcommerce.sync.rows import Item, as_id
from airflow_bigcommerce.sync.store_context import StoreContext
from airflow_bigcommerce.sync.subscribers import SubscriberBook

if TYPE_CHECKING:
    from airflow_bigcommerce.models.contact_parts import PartMap
    from airflow_bigcommerce.sync.options import SyncOptions

Outcomes = dict[str, PartOutcome]


class PartDeliverer:
    """
    Settle every pending part of a group of items (each with ``customer_id`` and ``plan``).

    :param dry_run: read (subscribers) but write nothing; outcomes say ``would ...``.
    :param metafield_permission: the ``permission_set`` of the metafields the sync creates.
    """

    def __init__(
        self,
        client: CountingClient,
        context: StoreContext,
        subscribers: SubscriberBook | None,
        *,
        mode: Mode,
        dry_run: bool,
        metafield_permission: str = DEFAULT_METAFIELD_PERMISSION,
    ) -> None:
        self.client = client
        self.context = context
        self.dry_run = dry_run
        self.fields = FieldDeliverer(client, permission=metafield_permission, dry_run=dry_run)
        self.newsletter = NewsletterDelivery(
            client, subscribers, channel_id=context.channel_id, mode=mode, dry_run=dry_run
        )

    @classmethod
    def open(
        cls, client: CountingClient, context: StoreContext, part_map: PartMap, options: SyncOptions
    ) -> PartDeliverer:
        """Make a run's part delivery (the store's subscribers read once, when the newsletter is mapped)."""
        subscribers = None
        if part_map.newsletter is not None:
            subscribers = SubscriberBook.open(client, total=options.total)
        return cls(
            client,
            context,
            subscribers,
            mode=options.mode,
            dry_run=options.dry_run,
            metafield_permission=options.metafield_permission,
        )

    def __call__(self, items: Sequence[Item]) -> dict[int, Outcomes]:
        """Return item index -> part outcomes (each part's, for the parts this step settled)."""
        out: dict[int, Outcomes] = {item.index: {} for item in items}
        work = [item for item in items if item.plan is not None and item.customer_id is not None]
        if self.dry_run:
            for item in work:
                self._dry(item, out[item.index])
            self.fields(work, out)
            return out
        self._inline_addresses(work, out)
        self._post_addresses([i for i in work if _plan(i).address_post], out)
        self._put_addresses([i for i in work if _plan(i).address_put], out)
        self._delete_addresses([i for i in work if _plan(i).address_delete is not None], out)
        self._attribute_values(work, out)
        self.fields(work, out)
        for item in work:
            if _plan(item).newsletter is not None:
                out[item.index]["newsletter"] = self.newsletter(item)
        return out

    # ----------------------------------------------------------------- dry run

    def _dry(self, item: Item, outcomes: Outcomes) -> None:
        plan = _plan(item)
        if plan.inline_address is not None or plan.address_post:
            outcomes["address"] = part(Status.WOULD_CREATE)
        elif plan.address_put:
            outcomes["address"] = part(Status.WOULD_UPDATE, data(", ".join(sorted(plan.address_put[1]))))
        elif plan.address_record is not None:
            outcomes["address"] = PartOutcome(Status.UNCHANGED, note="(would record its id)")
        elif plan.address_delete is not None:
            outcomes["address"] = part(Status.WOULD_DELETE)
        if plan.attribute_values:
            outcomes["attributes"] = PartOutcome(Status.WOULD_WRITE, note=str(len(plan.attribute_values)))
        if plan.newsletter is not None:
            outcomes["newsletter"] = self.newsletter(item)

    # ----------------------------------------------------------------- addresses

    def _inline_addresses(self, items: list[Item], out: dict[int, Outcomes]) -> None:
        """Find the ids of the addresses new customers were created with, to record them."""
        new = [item for item in items if _plan(item).inline_address is not None]
        unknown: list[Item] = []
        for item in new:
            address_id = _matching_id(_addresses_of(item.created), _plan(item).inline_address or {})
            if address_id is None:
                unknown.append(item)
            else:
                _plan(item).address_record = address_id
                out[item.index]["address"] = part(Status.CREATED)
        if not unknown:
            return
        try:
            by_customer = _addresses_by_customer(self.client, unknown)
        except TransientFailureError as exc:
            for item in unknown:
                out[item.index]["address"] = failed_part("created, but its id could not be read", exc)
            return
        for item in unknown:
            address_id = _matching_id(
                by_customer.get(int(item.customer_id or 0), []), _plan(item).inline_address or {}
            )
            if address_id is None:
                out[item.index]["address"] = failed_part_because(
                    "the store did not keep the address sent with the customer"
                )
            else:
                _plan(item).address_record = address_id
                out[item.index]["address"] = part(Status.CREATED)

    def _post_addresses(self, items: list[Item], out: dict[int, Outcomes]) -> None:
        for start in range(0, len(items), ADDRESS_BATCH_SIZE):
            deliver_once(items[start : start + ADDRESS_BATCH_SIZE], _AddressPosts(self.client, out))

    def _put_addresses(self, items: list[Item], out: dict[int, Outcomes]) -> None:
        for start in range(0, len(items), ADDRESS_BATCH_SIZE):
            self._put_batch(items[start : start + ADDRESS_BATCH_SIZE], out)

    def _put_batch(self, batch: list[Item], out: dict[int, Outcomes]) -> None:
        bodies = []
        for item in batch:
            address_id, changes = _plan(item).address_put or (0, {})
            bodies.append({"id": address_id, **changes})
        try:
            self.client.part("address_update", "update_addresses", bodies)
        except (TransientFailureError, OutcomeUnknownError) as exc:
            for item in batch:
                out[item.index]["address"] = failed_part("update failed", exc)
            return
        except RequestRejectedError as exc:
            split_refused(
                exc,
                batch,
                resend_one=lambda item: self._put_batch([item], out),
                refuse_one=lambda item, why: _refuse(out, item, "address", refused_part(why)),
            )
            return
        for item in batch:
            changed = ", ".join(sorted((_plan(item).address_put or (0, {}))[1]))
            out[item.index]["address"] = part(Status.UPDATED, data(changed))

    def _delete_addresses(self, items: list[Item], out: dict[int, Outcomes]) -> None:
        """Delete the sync's own addresses by id (idempotent: sent once more after a lost answer)."""
        for start in range(0, len(items), ADDRESS_BATCH_SIZE):
            batch = items[start : start + ADDRESS_BATCH_SIZE]
            ids = [int(_plan(item).address_delete or 0) for item in batch]
            try:
                resend_idempotent(
                    functools.partial(self.client.part, "address_delete", "delete_addresses", ids)
                )
            except (TransientFailureError, OutcomeUnknownError) as exc:
                for item in batch:
                    out[item.index]["address"] = failed_part("delete failed", exc)
                continue
            except RequestRejectedError as exc:
                for item in batch:
                    out[item.index]["address"] = refused_part(exc)
                continue
            for item in batch:
                out[item.index]["address"] = part(Status.DELETED, data("every address column empty"))

    # ----------------------------------------------------------------- attribute values

    def _attribute_values(self, items: list[Item], out: dict[int, Outcomes]) -> None:
        """Write every pending value (and the ids of the sync's addresses) in requests of up to 10."""
        values: list[tuple[Item, str, dict[str, Any]]] = []
        # with a ledger, the address id goes into the row's ledger row instead (no write)
        record_id = None if self.context.address_ids_in_ledger else self.context.address_attribute_id
        for item in items:
            plan = _plan(item)
            for aid, value in plan.attribute_values.items():
                values.append(
                    (
                        item,
                        "attributes",
                        {"attribute_id": aid, "value": value, "customer_id": item.customer_id},
                    )
                )
            if plan.address_record is not None and record_id is not None:
                body = {
                    "attribute_id": record_id,
                    "value": str(plan.address_record),
                    "customer_id": item.customer_id,
                }
                values.append((item, "address", body))
        for start in range(0, len(values), ATTRIBUTE_VALUE_BATCH_SIZE):
            self._values_batch(values[start : start + ATTRIBUTE_VALUE_BATCH_SIZE], out)
        for item in items:
            plan = _plan(item)
            outcomes = out[item.index]
            if plan.attribute_values and "attributes" not in outcomes:
                outcomes["attributes"] = part(Status.CREATED if item.created is not None else Status.UPDATED)
            if plan.address_record is not None and "address" not in outcomes:
                outcomes["address"] = ID_RECORDED

    def _values_batch(self, batch: list[tuple[Item, str, dict[str, Any]]], out: dict[int, Outcomes]) -> None:
        bodies = [body for _, _, body in batch]
        try:
            resend_idempotent(lambda: self.client.part("attribute_values", "upsert_attribute_values", bodies))
        except OutcomeUnknownError as exc:
            self._fail_values(batch, out, "outcome unknown", exc)
        except TransientFailureError as exc:
            self._fail_values(batch, out, "write failed", exc)
        except RequestRejectedError as exc:
            split_refused(
                exc,
                batch,
                resend_one=lambda one: self._values_batch([one], out),
                refuse_one=_refuse_value(out),
            )

    @staticmethod
    def _fail_values(
        batch: list[tuple[Item, str, dict[str, Any]]], out: dict[int, Outcomes], what: str, exc: BaseException
    ) -> None:
        for item, name, _ in batch:
            # the address's own write landed; the record of its id did not
            said = what if name == "attributes" else "its id not recorded: " + what
            out[item.index][name] = failed_part(said, exc)  # overrides "created": the record did not land


class _AddressPosts(BatchEndpoint[Item, Sequence[Mapping[str, Any]]]):
    """The address ``POST`` endpoint of :func:`.create_once.deliver_once`; settles into ``out``."""

    def __init__(self, client: CountingClient, out: dict[int, Outcomes]) -> None:
        self.client = client
        self.out = out

    def send(self, rows: list[Item]) -> Sequence[Mapping[str, Any]]:
        bodies = [{**(_plan(i).address_post or {}), "customer_id": i.customer_id} for i in rows]
        answer: Sequence[Mapping[str, Any]] = self.client.part("address_create", "create_addresses", bodies)
        return answer

    def accepted(self, rows: list[Item], answer: Sequence[Mapping[str, Any]]) -> list[Item]:
        return _settle_listed(rows, _by_customer(answer), self.out)

    def look_up(self, rows: list[Item]) -> list[Item]:
        """Look up addresses an answer left out (folded as exact duplicates, or the answer was lost)."""
        return _settle_listed(rows, _addresses_by_customer(self.client, rows), self.out)

    def refuse_one(self, row: Item, exc: RequestRejectedError) -> None:
        _refuse(self.out, row, "address", refused_part(exc))

    def give_up(self, row: Item, sends: int) -> None:
        self.out[row.index]["address"] = failed_part_because(f"outcome still unknown after {sends} sends")

    def fail(self, rows: list[Item], exc: TransientFailureError, *, looking: bool) -> None:
        for item in rows:
            self.out[item.index]["address"] = failed_part(
                "outcome unknown" if looking else "create failed", exc
            )


def _refuse(out: dict[int, Outcomes], item: Item, name: str, outcome: PartOutcome) -> None:
    out[item.index][name] = outcome


def _refuse_value(
    out: dict[int, Outcomes],
) -> Callable[[tuple[Item, str, dict[str, Any]], RequestRejectedError], None]:
    def refuse(value: tuple[Item, str, dict[str, Any]], exc: RequestRejectedError) -> None:
        item, name, _ = value
        prefix = "" if name == "attributes" else "its id could not be recorded: "
        out[item.index].setdefault(name, refused_part(exc, prefix))

    return refuse


def _addresses_by_customer(client: CountingClient, items: list[Item]) -> dict[int, list[Mapping[str, Any]]]:
    """Look up the stored addresses of the items' customers, by customer id."""
    ids = [int(i.customer_id or 0) for i in items]
    return _by_customer(client.part("address_lookup", "find_addresses", ids))


def _by_customer(addresses: Sequence[Mapping[str, Any]]) -> dict[int, list[Mapping[str, Any]]]:
    found: dict[int, list[Mapping[str, Any]]] = {}
    for address in addresses:
        cid = as_id(address.get("customer_id"))
        if cid is not None:
            found.setdefault(cid, []).append(address)
    return found


def _settle_listed(
    items: list[Item], by_customer: Mapping[int, list[Mapping[str, Any]]], out: dict[int, Outcomes]
) -> list[Item]:
    """Settle the items whose posted address is among their customer's; return the others."""
    missing: list[Item] = []
    for item in items:
        address_id = _matching_id(
            by_customer.get(int(item.customer_id or 0), []), _plan(item).address_post or {}
        )
        if address_id is None:
            missing.append(item)
        else:
            _plan(item).address_record = address_id
            out[item.index]["address"] = part(Status.CREATED)
    return missing


def _plan(item: Item) -> PartPlan:
    assert item.plan is not None
    return item.plan


def _addresses_of(customer: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if customer is None:
        return []
    return [a for a in customer.get("addresses") or () if isinstance(a, Mapping)]


def _matching_id(addresses: Sequence[Mapping[str, Any]], wanted: Mapping[str, str]) -> int | None:
    """Return the id of the stored address equal to ``wanted`` (lowest id), or ``None``."""
    key = address_key(wanted)
    ids = [as_id(a.get("id")) for a in addresses if address_key(a) == key]
    known = [i for i in ids if i is not None]
    return min(known) if known else None
