"""
Create one customer at most once: the V2 and V3 flows behind ``CreateCustomerOperator``.

Each flow checks the payload before any request, looks the e-mail up where the version allows it,
and creates through the one create-once path of the sync (:mod:`airflow_bigcommerce.sync.create_once`):
an unknown outcome is resolved by a look-up, never by a blind resend. Imported by ``execute`` only
(it imports pydantic and the hook's errors).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from airflow_bigcommerce.api import CONFLICT_STATUS
from airflow_bigcommerce.exceptions import (
    BigCommerceConfigError,
    BigCommerceDuplicateCustomerError,
    BigCommerceError,
    BigCommerceOutcomeUnknownError,
    BigCommerceTransientError,
)
from airflow_bigcommerce.models.customer import CustomerV2Create, format_validation_error
from airflow_bigcommerce.models.fields import EMAIL_MAX_LENGTH
from airflow_bigcommerce.operators import create_v3
from airflow_bigcommerce.sync.create_once import Settled, attribute_found, create_once

if TYPE_CHECKING:
    from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
    from airflow_bigcommerce.operators.create_customer import IfExists

#: What a flow returns: whether this run created the customer, and the customer as the store has it.
Created = tuple[bool, dict[str, Any]]
#: Keys of a customer answer that hold secrets (V2 ``_authentication``, V3 ``authentication``).
SECRET_KEYS = frozenset({"_authentication", "authentication"})


def prepare_v2(fields: Mapping[str, Any]) -> CustomerV2Create:
    """
    Check a V2 create before any request.

    :raises BigCommerceConfigError: naming every invalid field, never a secret.
    """
    try:
        return CustomerV2Create.model_validate(dict(fields))
    except ValidationError as exc:
        record = str(fields.get("email"))[:EMAIL_MAX_LENGTH]
        raise BigCommerceConfigError(
            "Invalid customer payload: " + format_validation_error(exc, record=record)
        ) from None


def create_v2(
    hook: BigCommerceHook, customer: CustomerV2Create, *, if_exists: IfExists, max_sends: int
) -> Created:
    """Create one customer with ``POST /v2/customers``; its e-mail is looked up after an unknown outcome."""
    payload = customer.to_payload()
    return _create(
        hook,
        customer.email,
        payload,
        create=lambda: hook.create_customer_v2(payload),
        find=lambda: hook.find_customer_v2_by_email(customer.email),
        path="v2/customers",
        if_exists=if_exists,
        max_sends=max_sends,
    )


def create_v3_customer(
    hook: BigCommerceHook, prepared: create_v3.PreparedCustomer, *, if_exists: IfExists, max_sends: int
) -> Created:
    """
    Create one customer with ``POST /v3/customers``: look the e-mail up, resolve names, create once.

    :param prepared: the arguments checked by :func:`~.create_v3.prepare` (before any request).
    :raises BigCommerceConfigError: an unknown attribute or group name (before any write).
    """
    email, channel_ids = prepared.email, prepared.customer.channel_ids

    def find() -> dict[str, Any] | None:
        return create_v3.find_existing(hook, email, channel_ids)

    try:
        existing = find()
        customer = create_v3.resolve(hook, prepared)
    except BigCommerceTransientError as exc:
        raise BigCommerceTransientError(
            f"Customer {email} was not created: {exc}. Retrying the task is safe."
        ) from None
    if existing is not None:
        return False, _existing(existing, email, "v3/customers", if_exists)
    payload = customer.to_payload()
    return _create(
        hook,
        email,
        payload,
        create=lambda: _first_created(hook.create_customers([payload])),
        find=find,
        path="v3/customers",
        if_exists=if_exists,
        max_sends=max_sends,
    )


def without_secrets(customer: Mapping[str, Any]) -> dict[str, Any]:
    """Return the customer as XCom may hold it: without its authentication block."""
    return {key: value for key, value in customer.items() if key not in SECRET_KEYS}


def _create(
    hook: BigCommerceHook,
    email: str,
    payload: Mapping[str, Any],
    *,
    create: Callable[[], dict[str, Any]],
    find: Callable[[], dict[str, Any] | None],
    path: str,
    if_exists: IfExists,
    max_sends: int,
) -> Created:
    """
    Create through the one create-once path and map how it ended to the task's outcome.

    A customer the look-up finds counts as created by this task only after an unknown outcome, and
    only if it holds what was sent (``payload``): one that differs signed up meanwhile.

    The hook paces each resend (backoff, one probe at a time during an outage) and gives up with a
    transient error once its retry budget is spent.
    """
    log = logging.getLogger("airflow_bigcommerce.operators")
    try:
        outcome = create_once(
            create,
            find,
            in_use=lambda exc: isinstance(exc, BigCommerceDuplicateCustomerError),
            is_ours=lambda found: attribute_found(payload, found, committed=True),
            confirm=hook.confirm_write,
            on_unknown=lambda exc: log.warning("%s; looking the e-mail up before sending again", exc),
            max_sends=max_sends,
        )
    except BigCommerceTransientError as exc:
        raise BigCommerceTransientError(
            f"Customer {email} was not created: {exc}. Retrying the task is safe: it looks the "
            "e-mail up first and creates the customer once."
        ) from None
    found = outcome.record
    if outcome.settled is Settled.CREATED and found is not None:
        return True, found
    if outcome.settled is Settled.EXISTS:
        if if_exists == "skip" and found is not None:
            return False, found
        raise BigCommerceDuplicateCustomerError(
            status=outcome.refusal.status if outcome.refusal is not None else CONFLICT_STATUS,
            method="POST",
            path=path,
            detail=(
                f"a customer with e-mail {email} already exists"
                + (f" (id {found['id']})" if found else "")
                + "; use if_exists='skip' to accept it"
            ),
        ) from None
    raise BigCommerceError(
        f"Creating the customer {email} failed {max_sends} times with no definite "
        "answer from the store, and the e-mail is not in the store; retry the task later."
    )


def _existing(existing: dict[str, Any], email: str, path: str, if_exists: IfExists) -> dict[str, Any]:
    """Return the existing customer with ``if_exists="skip"``; otherwise fail naming it."""
    if if_exists == "skip":
        return existing
    raise BigCommerceDuplicateCustomerError(
        status=CONFLICT_STATUS,
        method="POST",
        path=path,
        detail=(
            f"a customer with e-mail {email} already exists (id {existing.get('id')}); "
            "use if_exists='skip' to accept it"
        ),
    )


def _first_created(customers: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the one customer a V3 create answered with; an answer without it is an unknown outcome."""
    if customers:
        return customers[0]
    raise BigCommerceOutcomeUnknownError(
        "POST v3/customers answered without the customer", method="POST", path="v3/customers"
    )
