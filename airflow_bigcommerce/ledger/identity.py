"""
Which store customer a CRM row is, with a ledger: the one its ledger row names, else the one with its e-mail.

Pure rules, applied per chunk in three steps so that the store is asked in batches, never per row:
:func:`ids_to_check` (the ledger's customer ids, one batched look-up by id), :func:`needs_email_lookup`
(the rows whose e-mail must still be looked up, batched as today), then :func:`identify` per row.

- The ledger's customer, still in the store, with the row's e-mail: that customer.
- The ledger's customer with another e-mail (the CRM changed it): in ``upsert`` the customer's e-mail
  is updated (never a second customer), unless another customer holds the new e-mail: then the row
  is rejected naming that customer, and nothing changes. In ``insert`` the customer is left alone.
- The ledger's customer gone from the store (deleted), or no ledger row: matched by e-mail as
  without a ledger (an empty ledger adopts the store's customers), else created.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from airflow_bigcommerce.ledger.records import LedgerRow
from airflow_bigcommerce.models.contact import match_key
from airflow_bigcommerce.sync.counting import AMBIGUOUS
from airflow_bigcommerce.sync.option_checks import SyncMode as Mode
from airflow_bigcommerce.sync.outcome import Reason, store
from airflow_bigcommerce.sync.rows import as_id

#: ``match``: classify against ``customer`` as usual; ``create``: no customer; ``reject``/``skip``: settled.
Action = Literal["match", "create", "reject", "skip"]
#: How the row's customer was found: by its ledger row, by its e-mail, or not at all.
Via = Literal["ledger", "email", "none"]


@dataclass(frozen=True)
class Identified:
    """
    What a row's identity decides.

    :param customer: the stored customer to classify the row against (``match``).
    :param customer_id: the row's customer (``match``, and the one a ``reject``/``skip`` leaves alone).
    :param email_change: the update must set the customer's e-mail to the row's (``match`` in upsert).
    :param replaced: the ledger's customer id the store no longer has (matched again or created anew).
    """

    action: Action
    via: Via
    customer: Mapping[str, Any] | None = None
    customer_id: int | None = None
    reason: Reason | None = None
    email_change: bool = False
    replaced: int | None = None


def ids_to_check(ledger_rows: Iterable[LedgerRow]) -> list[int]:
    """Return the customer ids the ledger names, to look up in the store in one batch (in key order)."""
    ids = [row.customer_id for row in sorted(ledger_rows, key=lambda r: r.crm_key)]
    return list(dict.fromkeys(i for i in ids if i is not None))


def needs_email_lookup(mk: str, ledger_row: LedgerRow | None, by_id: Mapping[int, Mapping[str, Any]]) -> bool:
    """
    Return whether the row's e-mail must be looked up: unless its ledger customer is there with that e-mail.

    Then the e-mail is the customer's own: no other customer can hold it (on that channel).
    """
    customer = _ledger_customer(ledger_row, by_id)
    return customer is None or _mk(customer) != mk


def identify(
    mk: str,
    ledger_row: LedgerRow | None,
    by_id: Mapping[int, Mapping[str, Any]],
    by_email: Mapping[str, Mapping[str, Any]],
    mode: Mode,
) -> Identified:
    """
    Decide the customer of one row (its match key ``mk``) from its ledger row and the store's answers.

    :param by_id: customer id -> stored customer, for the ids of :func:`ids_to_check` the store has.
    :param by_email: match key -> stored customer (or ``{AMBIGUOUS: ids}``), for the looked-up e-mails.
    """
    customer = _ledger_customer(ledger_row, by_id)
    if customer is not None:
        cid = as_id(customer.get("id"))
        if _mk(customer) == mk:
            return Identified("match", "ledger", customer, cid)
        if mode == "insert":
            said = f"e-mail changed in the CRM; insert mode changes no stored customer (id {cid})"
            return Identified("skip", "ledger", customer, cid, store(said))
        others = [i for i in _holders(by_email.get(mk)) if i != cid]
        if others:
            names = ", ".join(str(i) for i in others)
            said = f"the new e-mail belongs to another customer (id {names}); customer {cid} left as it is"
            return Identified("reject", "ledger", customer, cid, store(said))
        return Identified("match", "ledger", customer, cid, email_change=True)
    gone = ledger_row.customer_id if ledger_row is not None else None
    held = by_email.get(mk)
    if held is not None:
        return Identified("match", "email", held, as_id(held.get("id")), replaced=gone)
    return Identified("create", "none", replaced=gone)


def _ledger_customer(
    ledger_row: LedgerRow | None, by_id: Mapping[int, Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    if ledger_row is None or ledger_row.customer_id is None:
        return None
    return by_id.get(ledger_row.customer_id)


def _mk(customer: Mapping[str, Any]) -> str | None:
    email = customer.get("email")
    return match_key(email) if isinstance(email, str) else None


def _holders(customer: Mapping[str, Any] | None) -> list[int]:
    if customer is None:
        return []
    if AMBIGUOUS in customer:
        return [i for i in (as_id(x) for x in customer[AMBIGUOUS]) if i is not None]
    cid = as_id(customer.get("id"))
    return [] if cid is None else [cid]
