"""
The whole V3 ``customer_Post`` item that ``CreateCustomerOperator(api_version="v3")`` sends.

:class:`~airflow_bigcommerce.models.customer.CustomerV3Create` holds the fields the sync sends; a
single create can also carry addresses, attribute values, store credit and channels. The operator's
V2-shaped arguments map here: ``authentication`` becomes ``{new_password, force_password_reset}``,
``store_credit`` becomes ``store_credit_amounts``. (``registration_ip_address`` has no V3 create
field: the operator refuses it rather than dropping it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from airflow_bigcommerce.api import (
    ATTRIBUTE_VALUE_MAX_LENGTH,
    FORM_FIELD_NAME_MAX_LENGTH,
    FORM_FIELD_VALUE_MAX_LENGTH,
    INLINE_ADDRESSES_MAX,
    INLINE_ATTRIBUTES_MAX,
)
from airflow_bigcommerce.models.customer import (
    CustomerV2Authentication,
    CustomerV3Authentication,
    CustomerV3Create,
    _Outgoing,
)
from airflow_bigcommerce.models.field_values import form_field_value
from airflow_bigcommerce.models.fields import CUSTOMER_GROUP_ID_MAX, parse_bool, parse_store_credit

__all__ = [
    "AttributeValue",
    "CustomerV3Post",
    "channel_list",
    "optional_bool",
    "v3_authentication",
    "v3_form_fields",
    "v3_store_credit",
]

ChannelId = Annotated[int, Field(ge=1, le=CUSTOMER_GROUP_ID_MAX)]


class AttributeValue(_Outgoing):
    """``customerAttributes_Base``: an attribute id and its value, always a string."""

    attribute_id: int = Field(ge=1, le=CUSTOMER_GROUP_ID_MAX)
    attribute_value: str = Field(max_length=ATTRIBUTE_VALUE_MAX_LENGTH)


class StoreCreditAmount(_Outgoing):
    """One entry of ``CustomerStoredCreditAmounts``."""

    amount: float = Field(ge=0, allow_inf_nan=False)


class FormFieldValue(_Outgoing):
    """``formFieldValue``: a sign-up form field's name and its value (text, as the sync sends it)."""

    name: str = Field(min_length=1, max_length=FORM_FIELD_NAME_MAX_LENGTH)
    value: str = Field(max_length=FORM_FIELD_VALUE_MAX_LENGTH)


class CustomerV3Post(CustomerV3Create):
    """One ``customer_Post`` item with the nested parts a new customer may carry inline."""

    addresses: list[dict[str, str]] | None = Field(default=None, max_length=INLINE_ADDRESSES_MAX)
    attributes: list[AttributeValue] | None = Field(default=None, max_length=INLINE_ATTRIBUTES_MAX)
    store_credit_amounts: list[StoreCreditAmount] | None = None
    form_fields: list[FormFieldValue] | None = None
    origin_channel_id: ChannelId | None = None
    #: "This array cannot be empty": ``None`` (omitted) means global access.
    channel_ids: list[ChannelId] | None = Field(default=None, min_length=1)


class _AuthenticationArgument(_Outgoing):
    """The operator's ``authentication`` argument, so that errors read ``authentication.<field>``."""

    authentication: CustomerV2Authentication


def v3_authentication(authentication: Any) -> CustomerV3Authentication | None:
    """
    Map the operator's V2-shaped ``authentication`` to V3's, checking it as V2 would.

    ``{"password", "password_confirmation", "force_reset"}`` becomes ``{"new_password",
    "force_password_reset"}``; a confirmation that differs from the password is refused.

    :raises pydantic.ValidationError: naming the field, never the password.
    """
    if authentication is None:
        return None
    checked = _AuthenticationArgument.model_validate({"authentication": authentication}).authentication
    if checked.password is None and checked.force_reset is None:
        return None
    return CustomerV3Authentication(new_password=checked.password, force_password_reset=checked.force_reset)


def v3_store_credit(store_credit: Any) -> list[dict[str, float]] | None:
    """Map a V2 ``store_credit`` amount to V3 ``store_credit_amounts`` (one entry), checked as in V2."""
    if store_credit is None or (isinstance(store_credit, str) and not store_credit.strip()):
        return None
    try:
        return [{"amount": float(parse_store_credit(store_credit))}]
    except ValueError as exc:
        raise ValueError(f"store_credit: {exc}") from None


def v3_form_fields(form_fields: Any) -> list[dict[str, str]] | None:
    """
    Map the operator's ``{name: value}`` form fields to ``form_fields: [{name, value}]``.

    Values follow the sync's rule (:func:`~airflow_bigcommerce.models.field_values.form_field_value`):
    text, numbers written out; a blank value is left out.

    :raises ValueError: not a mapping, a blank name, or a value that is not text (naming the field).
    """
    if form_fields is None:
        return None
    if not isinstance(form_fields, Mapping):
        raise ValueError(
            f"form_fields must be a mapping of form field name to value, got {type(form_fields).__name__}"
        )
    items = []
    for name, value in form_fields.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError("form_fields: each name must be a form field's name (text)")
        try:
            text = form_field_value(value)
        except ValueError as exc:
            raise ValueError(f"form_fields.{name.strip()}: {exc}") from None
        if text is not None:
            items.append({"name": name.strip(), "value": text})
    return items or None


def optional_bool(value: Any, name: str) -> bool | None:
    """Read a flag that may arrive rendered as text ("True", "false"); ``None`` stays unset."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_bool(value)
    except ValueError:
        raise ValueError(f"{name} must be true or false") from None


def channel_list(value: Any) -> list[Any] | None:
    """Read ``channel_ids``: a list of ids or one id; an empty list is refused (use ``None``)."""
    if value is None:
        return None
    if isinstance(value, int | str) and not isinstance(value, bool):
        return [value]
    if isinstance(value, Mapping) or not isinstance(value, list | tuple):
        raise ValueError(f"channel_ids must be a list of channel ids, got {type(value).__name__}")
    return list(value)
