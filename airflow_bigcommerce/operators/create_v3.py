"""
The steps of ``CreateCustomerOperator(api_version="v3")`` around its one ``POST /v3/customers``.

:func:`prepare` checks every argument before any request; :func:`resolve` reads the store's
attributes and groups (only when names were given) and completes the payload; :func:`find_existing`
is the e-mail look-up used before the create and before any resend. Imported by ``execute`` only
(it imports pydantic).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from airflow_bigcommerce.api import NO_GROUPS_STATUSES
from airflow_bigcommerce.exceptions import BigCommerceAPIError, BigCommerceConfigError
from airflow_bigcommerce.models.customer import format_validation_error
from airflow_bigcommerce.models.customer_post import (
    AttributeValue,
    CustomerV3Post,
    channel_list,
    optional_bool,
    v3_authentication,
    v3_form_fields,
    v3_store_credit,
)
from airflow_bigcommerce.models.fields import EMAIL_MAX_LENGTH
from airflow_bigcommerce.models.inline_address import v3_addresses
from airflow_bigcommerce.models.store_names import attribute_items, attribute_texts, customer_group_id_for
from airflow_bigcommerce.sync.store_context import (
    global_logins_of,
    plan_lacks_groups,
    shares_login,
)

if TYPE_CHECKING:
    from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook

#: Sub-resources read with every look-up, so a found customer looks like a created one.
INCLUDE = ("addresses", "attributes")
__all__ = [
    "INCLUDE",
    "NO_GROUPS_STATUSES",
    "PreparedCustomer",
    "find_existing",
    "prepare",
    "resolve",
    "shares_login",
]


@dataclass(frozen=True)
class PreparedCustomer:
    """A checked V3 create: the payload so far and the names still to resolve against the store."""

    customer: CustomerV3Post
    attribute_texts: dict[str, str]
    customer_group: str | None

    @property
    def email(self) -> str:
        """Return the e-mail as it will be sent."""
        return self.customer.email


def prepare(arguments: Mapping[str, Any]) -> PreparedCustomer:
    """
    Check the operator's rendered arguments and build the ``customer_Post`` item, before any request.

    :param arguments: the operator's payload arguments by name (V2 names: ``authentication``,
        ``store_credit``; names for ``attributes`` and ``customer_group``).
    :raises BigCommerceConfigError: naming the field (and the address index), never a secret.
    """
    record = str(arguments.get("email"))[:EMAIL_MAX_LENGTH]
    try:
        group = arguments.get("customer_group")
        if group is not None and not isinstance(group, str):
            raise ValueError("customer_group must be a group name (text); use customer_group_id for an id")
        group = group.strip() if group else None
        if group and arguments.get("customer_group_id") is not None:
            raise ValueError("give customer_group (a name) or customer_group_id, not both")
        fields = {
            key: arguments.get(key)
            for key in (
                "email",
                "first_name",
                "last_name",
                "company",
                "phone",
                "notes",
                "tax_exempt_category",
                "customer_group_id",
                "origin_channel_id",
            )
        }
        fields |= {
            "channel_ids": channel_list(arguments.get("channel_ids")),
            "store_credit_amounts": v3_store_credit(arguments.get("store_credit")),
            "form_fields": v3_form_fields(arguments.get("form_fields")),
            "authentication": v3_authentication(arguments.get("authentication")),
            "accepts_product_review_abandoned_cart_emails": optional_bool(
                arguments.get("accepts_product_review_abandoned_cart_emails"),
                "accepts_product_review_abandoned_cart_emails",
            ),
            # Off unless asked for: a welcome e-mail to every imported contact would surprise them.
            "trigger_account_created_notification": bool(
                optional_bool(
                    arguments.get("trigger_account_created_notification"),
                    "trigger_account_created_notification",
                )
            ),
        }
        customer = CustomerV3Post.model_validate({k: v for k, v in fields.items() if v is not None})
        addresses = v3_addresses(
            arguments.get("addresses"), first_name=customer.first_name, last_name=customer.last_name
        )
        texts = attribute_texts(arguments.get("attributes"))
    except ValidationError as exc:
        raise BigCommerceConfigError(
            "Invalid customer payload: " + format_validation_error(exc, record=record)
        ) from None
    except ValueError as exc:
        raise BigCommerceConfigError(f"Invalid customer payload: record '{record}': {exc}") from None
    if addresses:
        customer = customer.model_copy(update={"addresses": addresses})
    return PreparedCustomer(customer=customer, attribute_texts=texts, customer_group=group)


def resolve(hook: BigCommerceHook, prepared: PreparedCustomer) -> CustomerV3Post:
    """
    Turn attribute and group names into ids with one read of each list; nothing is written.

    :raises BigCommerceConfigError: an unknown attribute or group name, or a plan without groups.
    """
    update: dict[str, Any] = {}
    try:
        if prepared.attribute_texts:
            items = attribute_items(prepared.attribute_texts, hook.list_customer_attributes())
            update["attributes"] = [AttributeValue.model_validate(item) for item in items]
        if prepared.customer_group:
            update["customer_group_id"] = customer_group_id_for(
                prepared.customer_group, _customer_groups(hook, prepared.customer_group)
            )
    except (ValueError, ValidationError) as exc:
        if isinstance(exc, BigCommerceConfigError):
            raise
        raise BigCommerceConfigError(f"Customer {prepared.email} was not created: {exc}") from None
    return prepared.customer.model_copy(update=update) if update else prepared.customer


def _customer_groups(hook: BigCommerceHook, name: str) -> list[dict[str, Any]]:
    try:
        return hook.list_customer_groups()
    except BigCommerceAPIError as exc:
        if not plan_lacks_groups(exc):
            raise
        raise BigCommerceConfigError(
            f"The store's plan has no customer groups (GET v2/customer_groups answered {exc.status}; "
            f"groups need a Plus plan or higher), so customer_group={name[:80]!r} cannot be set: leave it "
            "out, or upgrade the store's plan."
        ) from None


def find_existing(hook: BigCommerceHook, email: str, channel_ids: list[int] | None) -> dict[str, Any] | None:
    """
    Return the customer with this e-mail who logs in where the new one would, or ``None``.

    With Multi-Storefront an e-mail is unique per channel, not per store, so a candidate counts
    only if it shares a login channel with ``channel_ids`` (``None``: every channel allowing global
    logins, read from the channel settings only when needed). The lowest id wins.
    """
    key = email.strip().lower()
    candidates = [
        c
        for c in hook.find_customers_by_email([email], include=INCLUDE)
        if str(c.get("email", "")).strip().lower() == key
    ]
    settings: dict[int, bool] = {}

    def global_logins(channel_id: int) -> bool:
        if channel_id not in settings:
            settings[channel_id] = global_logins_of(hook.get_channel_settings(channel_id), channel_id)
        return settings[channel_id]

    matches = [c for c in candidates if shares_login(channel_ids, c.get("channel_ids"), global_logins)]
    return min(matches, key=lambda c: int(c.get("id") or 0)) if matches else None
