"""
Bring each contact's newsletter consent (``marketing_newsletter``) to what the CRM says.

Runs in a pool worker as the last part of a contact (after its customer exists). The subscriber is
read from the run's :class:`~.subscribers.SubscriberBook`; a missing one is created once
(:mod:`.create_once`: looked up before any resend; a 409 means it exists, and it gets the consent);
an existing one has its consents updated (``PUT``, idempotent). Other consents are kept. Insert
mode changes no stored consent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_bigcommerce.api import CONFLICT_STATUS, FATAL_STATUSES
from airflow_bigcommerce.sync.client import RequestRejectedError, TransientFailureError
from airflow_bigcommerce.sync.counting import CountingClient
from airflow_bigcommerce.sync.create_once import (
    MAX_UNKNOWN_SENDS,
    Settled,
    create_once,
)
from airflow_bigcommerce.sync.outcome import (
    CLIP,
    PartOutcome,
    Status,
    clip,
    failed_part_because,
    part,
    refused_part,
    store,
)
from airflow_bigcommerce.sync.plan import Mode
from airflow_bigcommerce.sync.rows import Item
from airflow_bigcommerce.sync.subscribers import NEWSLETTER_CONSENT, SubscriberBook, consents_of


class NewsletterDelivery:
    """
    Settle the newsletter part of one contact; thread-safe (it keeps no state; the book is locked).

    :param channel_id: the channel new subscribers are created on, or ``None``.
    :param dry_run: read but write nothing; outcomes say ``would ...``.
    """

    def __init__(
        self,
        client: CountingClient,
        subscribers: SubscriberBook | None,
        *,
        channel_id: int | None,
        mode: Mode,
        dry_run: bool,
    ) -> None:
        self.client = client
        self.subscribers = subscribers
        self.channel_id = channel_id
        self.mode = mode
        self.dry_run = dry_run

    def __call__(self, item: Item) -> PartOutcome:
        """Bring the e-mail's ``marketing_newsletter`` consent to what the CRM says."""
        if self.subscribers is None:
            return failed_part_because("no subscriber look-up")
        wanted = bool(item.plan is not None and item.plan.newsletter)
        try:
            current = self.subscribers.get(item.email)
            return self._consent(item, current, wanted)
        except TransientFailureError as exc:
            return failed_part_because(clip(str(exc) or type(exc).__name__, CLIP - len("failed: ")))
        except RequestRejectedError as exc:
            if exc.status in FATAL_STATUSES:
                raise
            return refused_part(exc)

    def _consent(self, item: Item, current: Mapping[str, Any] | None, wanted: bool) -> PartOutcome:
        consents = consents_of(current)
        has = NEWSLETTER_CONSENT in consents
        if has == wanted:
            return part(Status.UNCHANGED)
        if current is not None and self.mode == "insert":
            return part(Status.SKIPPED, store("insert mode changes no stored consent"))
        if self.dry_run:
            return part(Status.WOULD_SUBSCRIBE if wanted else Status.WOULD_UNSUBSCRIBE)
        verb = Status.SUBSCRIBED if wanted else Status.UNSUBSCRIBED
        if current is None:  # wanted, not a subscriber yet
            return self._subscribe(item)
        new = [*consents, NEWSLETTER_CONSENT] if wanted else [c for c in consents if c != NEWSLETTER_CONSENT]
        sid = int(current["id"])
        updated = self.client.part("subscriber_update", "update_subscriber", sid, {"consents": new})
        self._remember(item, {**current, **(updated or {}), "consents": new})
        return part(verb)

    def _subscribe(self, item: Item) -> PartOutcome:
        """Create the e-mail's subscriber once (``create_once``); one found meanwhile gets the consent."""
        body: dict[str, Any] = {"email": item.email, "consents": [NEWSLETTER_CONSENT]}
        for name in ("first_name", "last_name"):
            if isinstance(item.target.get(name), str):
                body[name] = item.target[name]
        if self.channel_id is not None:
            body["channel_id"] = self.channel_id
        book = self.subscribers
        assert book is not None
        outcome = create_once(
            lambda: self.client.part("subscriber_create", "create_subscriber", body),
            lambda: book.lookup(item.email),  # after a 409 or a lost answer the index may be stale
            in_use=lambda exc: exc.status == CONFLICT_STATUS,
            is_ours=lambda found: NEWSLETTER_CONSENT in consents_of(found),
        )
        if outcome.settled is Settled.CREATED:
            self._remember(item, outcome.record or body)
            return part(Status.SUBSCRIBED)
        if outcome.settled is Settled.UNKNOWN:
            return failed_part_because(f"outcome still unknown after {MAX_UNKNOWN_SENDS} sends")
        if outcome.record is None:  # 409, yet no subscriber to be found
            assert outcome.refusal is not None
            return refused_part(outcome.refusal)
        return self._consent(item, outcome.record, True)  # someone else's subscriber: give it the consent

    def _remember(self, item: Item, subscriber: Mapping[str, Any]) -> None:
        if self.subscribers is not None:
            self.subscribers.remember(item.email, subscriber)
