"""
Which ledger rows a run tries again, and what the ledger records of a row once it settled.

Pure and clock-injected (``now`` is passed in). A row is tried again from the ledger when it was not
delivered for a reason a later run can overcome: ``failed`` (transient), or ``rejected`` for the
store's state (a missing group or attribute, an e-mail held by another customer, a refusal the store
may lift); a row rejected for its own data waits for the CRM to change it. Each undelivered run counts
an attempt; at ``max_attempts`` the row stays as it is, "gave up after N attempts", and is not tried
again until the CRM row changes (a changed row starts counting anew). The run's own input always wins:
a row settled by this run, or in its input, is not taken from the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator, Mapping
from datetime import datetime
from typing import Any

from airflow_bigcommerce.ledger.records import MAX_ATTEMPTS, MAX_REASON_LENGTH, Ledger, LedgerRow
from airflow_bigcommerce.sync.outcome import Reason, clip

__all__ = ["MAX_ATTEMPTS", "due_rows", "gave_up", "is_due", "is_retriable", "reason_kind", "settle"]
#: Ledger rows read per statement while looking for due retries.
RETRY_PAGE = 500
#: Outcomes that delivered the row (its customer exists as the CRM says, or as ``insert`` leaves it).
DELIVERED = frozenset({"created", "updated", "skipped"})
#: The reason kinds (``sync.outcome.Kind`` names, lower-case) a rejection is retried for.
RETRIED_REJECTIONS = frozenset({"store"})
GAVE_UP = "gave up after {attempts} attempts"


def reason_kind(reason: Reason | None) -> str | None:
    """Return how the ledger names a reason's kind (``data``, ``store``, ``transient``)."""
    return None if reason is None else reason.kind.name.lower()


def is_retriable(outcome: str, reason_kind: str | None) -> bool:
    """Return whether a later run may overcome an outcome: failed, or rejected for the store's state."""
    return outcome == "failed" or (outcome == "rejected" and reason_kind in RETRIED_REJECTIONS)


def is_due(row: LedgerRow, *, max_attempts: int = MAX_ATTEMPTS, run_id: str | None = None) -> bool:
    """Return whether ``row`` is tried again by run ``run_id`` (not one it settled itself)."""
    if run_id is not None and row.run_id == run_id:
        return False
    return is_retriable(row.outcome, row.reason_kind) and row.attempts < max_attempts


def due_rows(
    ledger: Ledger,
    *,
    seen: Container[str] = (),
    run_id: str | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    page: int = RETRY_PAGE,
) -> Iterator[LedgerRow]:
    """
    Yield the ledger's rows due for a retry, in key order, ``page`` read at a time.

    :param seen: keys of the run's input (their input version wins: never taken from the ledger).
    """
    after: str | None = None
    while True:
        rows = ledger.candidates(max_attempts, after, page)
        for row in rows:
            if row.crm_key not in seen and is_due(row, max_attempts=max_attempts, run_id=run_id):
                yield row
        if len(rows) < page:
            return
        after = rows[-1].crm_key


def settle(
    previous: LedgerRow | None,
    *,
    crm_key: str,
    outcome: str,
    email: str | None,
    customer_id: int | None = None,
    reason: str | None = None,
    reason_kind: str | None = None,
    address_id: int | None = None,
    values: Mapping[str, Any] | None = None,
    from_ledger: bool = False,
    now: Callable[[], datetime],
    run_id: str | None,
    max_attempts: int = MAX_ATTEMPTS,
) -> LedgerRow:
    """
    Return the ledger row of a settled CRM row, from its previous ledger row and this run's outcome.

    :param email: the e-mail the customer has after this run (delivered), or the row's (not delivered).
    :param values: the row's mapped CRM values (``None`` for a row taken from the ledger: kept as they were).
    :param from_ledger: the row was taken from the ledger (a retry), not from this run's input.
    """
    kept_values: Mapping[str, Any] = (
        previous.values if previous is not None and (from_ledger or values is None) else values or {}
    )
    known_customer = customer_id if customer_id is not None else (previous.customer_id if previous else None)
    same_customer = previous is not None and previous.customer_id == known_customer
    if address_id is None and same_customer and previous is not None:
        address_id = previous.address_id
    if outcome in DELIVERED:
        return LedgerRow(
            crm_key=crm_key,
            outcome=outcome,
            customer_id=known_customer,
            email=email,
            reason=_clipped(reason),
            reason_kind=reason_kind,
            attempts=0,
            updated_at=now(),
            run_id=run_id,
            address_id=address_id,
            values=kept_values,
        )
    continuing = (
        previous is not None
        and previous.outcome not in DELIVERED
        and (from_ledger or dict(previous.values) == dict(kept_values))
    )
    attempts = (previous.attempts if continuing and previous is not None else 0) + 1
    if is_retriable(outcome, reason_kind) and attempts >= max_attempts:
        said = GAVE_UP.format(attempts=attempts)
        reason = f"{said}: {reason}" if reason else said
    delivered_email = previous.email if previous is not None and previous.customer_id is not None else email
    return LedgerRow(
        crm_key=crm_key,
        outcome=outcome,
        customer_id=known_customer,
        email=delivered_email,
        reason=_clipped(reason),
        reason_kind=reason_kind,
        attempts=attempts,
        updated_at=now(),
        run_id=run_id,
        address_id=address_id,
        values=kept_values,
    )


def gave_up(row: LedgerRow, max_attempts: int = MAX_ATTEMPTS) -> bool:
    """Return whether the ledger gave ``row`` up: retriable, but out of attempts."""
    return is_retriable(row.outcome, row.reason_kind) and row.attempts >= max_attempts


def _clipped(reason: str | None) -> str | None:
    return None if reason is None else clip(reason, MAX_REASON_LENGTH)
