"""Request models of the Customers API, written from BigCommerce's OpenAPI reference.

These are the sandbox's own reading of the reference (customers.v2.yml ``customer_Base``,
customers.v3.yml ``customer_Post`` / ``customer_Put``); they never import the provider's models, so
the fake cannot copy the provider's bugs. Parsing turns pydantic errors into BigCommerce-shaped
errors: V2 answers 400 naming the field, V3 answers 422 with ``errors["<index>.<field>"]``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from airflow_bigcommerce.api import (
    ADDRESS_BATCH_SIZE,
    ATTRIBUTE_VALUE_MAX_LENGTH,
    CUSTOMER_BATCH_SIZE,
    INLINE_ADDRESSES_MAX,
    INLINE_ATTRIBUTES_MAX,
    METAFIELD_DESCRIPTION_MAX_LENGTH,
    METAFIELD_KEY_MAX_LENGTH,
    METAFIELD_NAMESPACE_MAX_LENGTH,
    METAFIELD_VALUE_MAX_LENGTH,
)
from airflow_bigcommerce.sandbox.state.errors import ApiError, v2_error, v3_error

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
INT32_MAX = 2**31 - 1
MAX_BATCH = CUSTOMER_BATCH_SIZE
"""V3 create/update take at most 10 customers per call; an 11th gives 413."""

V2_READ_ONLY = ("id", "date_created", "date_modified", "accepts_marketing", "addresses", "form_fields")
V3_VALIDATION_TITLE = "JSON data is missing or invalid"

Int32 = Annotated[int, Field(ge=0, le=INT32_MAX)]
M2 = TypeVar("M2", bound=BaseModel)


def _check_email(value: str | None) -> str | None:
    if value is not None and not EMAIL_RE.match(value.strip()):
        raise ValueError("must be a valid email address")
    return value


def _check_credit(value: str | float | None) -> str | int | float | None:
    """Accept the documented "Float, Float as String, Integer" forms of V2 ``store_credit`` only."""
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not number.is_finite() or number < 0:
        raise ValueError("must be a non-negative number")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False)


class V2Authentication(_Strict):
    """The nested ``_authentication`` object of V2 ``customer_Base``."""

    password: str | None = Field(None, max_length=100)
    password_confirmation: str | None = Field(None, max_length=100)
    force_reset: bool | None = None


class V2CustomerCreate(_Strict):
    """V2 ``customer_Base``: required first_name, last_name, email; unknown fields rejected."""

    email: str = Field(min_length=3, max_length=255)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    company: str | None = Field(None, max_length=255)
    phone: str | None = Field(None, max_length=50)
    store_credit: str | int | float | None = None
    registration_ip_address: str | None = Field(None, max_length=30)
    customer_group_id: Int32 | None = None
    notes: str | None = Field(None, max_length=65535)
    tax_exempt_category: str | None = Field(None, max_length=255)
    reset_pass_on_login: bool | None = None
    authentication: V2Authentication | None = Field(None, alias="_authentication")

    _email = field_validator("email")(_check_email)

    _credit = field_validator("store_credit")(_check_credit)


class V3Authentication(_Strict):
    """``customerAuthentication_PostPut``: the password is write-only."""

    force_password_reset: bool | None = None
    new_password: str | None = Field(None, min_length=1, max_length=100)


class V3FormField(_Strict):
    """``formFieldValue``: a named value (string, number or list of strings)."""

    name: str = Field(max_length=255)
    value: str | float | list[str]


class V3AddressPost(_Strict):
    """``customerAddresses_CustomerPost``."""

    first_name: str = Field(min_length=1, max_length=255)
    last_name: str = Field(min_length=1, max_length=255)
    company: str | None = Field(None, max_length=255)
    address1: str = Field(max_length=255)
    address2: str | None = Field(None, max_length=255)
    city: str = Field(max_length=100)
    state_or_province: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=30)
    country_code: str = Field(min_length=2, max_length=2)
    phone: str | None = Field(None, max_length=50)
    address_type: Literal["residential", "commercial"] | None = None
    form_fields: list[V3FormField] | None = None


class V3Attribute(_Strict):
    """``customerAttributes_Base``."""

    attribute_id: Int32
    attribute_value: str = Field(max_length=ATTRIBUTE_VALUE_MAX_LENGTH)


class V3StoreCredit(_Strict):
    """One entry of ``CustomerStoredCreditAmounts``."""

    amount: float = Field(ge=0, allow_inf_nan=False)


class _V3CustomerCommon(_Strict):
    company: str | None = Field(None, max_length=255)
    phone: str | None = Field(None, max_length=50)
    notes: str | None = Field(None, max_length=65535)
    tax_exempt_category: str | None = Field(None, max_length=255)
    customer_group_id: Int32 | None = None
    authentication: V3Authentication | None = None
    accepts_product_review_abandoned_cart_emails: bool | None = None
    store_credit_amounts: list[V3StoreCredit] | None = Field(None, max_length=10)
    origin_channel_id: Int32 | None = None
    channel_ids: list[Int32] | None = Field(None, min_length=1, max_length=100)
    form_fields: list[V3FormField] | None = Field(None, max_length=100)


class V3CustomerPost(_V3CustomerCommon):
    """``customer_Post``: one item of the V3 create batch."""

    email: str = Field(min_length=3, max_length=250)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    addresses: list[V3AddressPost] | None = Field(None, max_length=INLINE_ADDRESSES_MAX)
    attributes: list[V3Attribute] | None = Field(None, max_length=INLINE_ATTRIBUTES_MAX)
    trigger_account_created_notification: bool | None = None

    _email = field_validator("email")(_check_email)


class V3CustomerPut(_V3CustomerCommon):
    """``customer_Put``: one item of the V3 update batch, identified by ``id``."""

    id: Annotated[int, Field(ge=1, le=INT32_MAX)]
    email: str | None = Field(None, min_length=3, max_length=255)
    first_name: str | None = Field(None, min_length=1, max_length=100)
    last_name: str | None = Field(None, min_length=1, max_length=100)
    registration_ip_address: str | None = Field(None, max_length=30)

    _email = field_validator("email")(_check_email)


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def parse_v2_create(body: Any) -> V2CustomerCreate:
    """Validate a V2 create body; raise a 400 naming the first offending field."""
    if not isinstance(body, dict):
        raise v2_error(400, "The request body must be a JSON object.")
    for field in V2_READ_ONLY:
        if field in body:
            raise v2_error(400, f"The field '{field}' cannot be written to.", invalid_reason="read-only")
    try:
        return V2CustomerCreate.model_validate(body)
    except ValidationError as exc:
        raise _v2_from_validation(exc) from None


def _v2_from_validation(exc: ValidationError) -> ApiError:
    errors = exc.errors(include_url=False, include_input=False)
    by_priority = sorted(errors, key=lambda e: {"extra_forbidden": 0, "missing": 1}.get(e["type"], 2))
    first = by_priority[0]
    field = str(first["loc"][-1]) if first["loc"] else "body"
    if first["type"] == "extra_forbidden":
        return v2_error(400, f"The field '{field}' is not supported by this resource.")
    if first["type"] == "missing":
        return v2_error(400, f"The required field '{field}' was not supplied.")
    return v2_error(400, f"The field '{field}' is invalid.", invalid_reason=first["msg"])


def check_v2_passwords(auth: V2Authentication | None) -> None:
    """Reject a ``password_confirmation`` that does not match ``password``."""
    if auth is None or auth.password_confirmation is None:
        return
    if auth.password != auth.password_confirmation:
        raise v2_error(
            400,
            "The field 'password_confirmation' is invalid.",
            invalid_reason="Password confirmation does not match the password.",
        )


def _batch(body: Any, title: str) -> list[Any]:
    if not isinstance(body, list):
        raise v3_error(422, title, {"body": "The request body must be a JSON array of customers."})
    if not body:
        raise v3_error(422, title, {"body": "The request body must contain at least one customer."})
    if len(body) > MAX_BATCH:
        raise v3_error(
            413, "The request payload is too large. The maximum number of items allowed in the array is 10."
        )
    return body


def parse_v3_items(
    body: Any, model: type[V3CustomerPost] | type[V3CustomerPut]
) -> list[tuple[BaseModel | None, dict[str, str]]]:
    """Validate a V3 batch; return per item the parsed model (or None) and its errors keyed ``i.field``."""
    items = _batch(body, V3_VALIDATION_TITLE)
    parsed: list[tuple[BaseModel | None, dict[str, str]]] = []
    for index, item in enumerate(items):
        try:
            parsed.append((model.model_validate(item), {}))
        except ValidationError as exc:
            errors: dict[str, str] = {}
            for error in exc.errors(include_url=False, include_input=False):
                key = _loc((index, *error["loc"]))
                if error["type"] == "extra_forbidden":
                    message = f"Additional properties are not allowed ('{error['loc'][-1]}' was unexpected)"
                elif error["type"] == "missing":
                    message = "This field is required."
                else:
                    message = error["msg"]
                errors.setdefault(key, message)
            parsed.append((None, errors))
    return parsed


# -- nested resources (customers.v3.yml, customers.v2.yml, subscribers.v3.yml) -------------------------
#: Items per call of the nested V3 batch endpoints (addresses, attributes, attribute values).
MAX_NESTED_BATCH = ADDRESS_BATCH_SIZE


class V3AddressCreate(_Strict):
    """``address_Post``: required names, street, city, country, state and postal code (may be "")."""

    customer_id: Annotated[int, Field(ge=1, le=INT32_MAX)]
    first_name: str = Field(min_length=1, max_length=255)
    last_name: str = Field(min_length=1, max_length=255)
    company: str | None = Field(None, max_length=255)
    address1: str = Field(max_length=255)
    address2: str | None = Field(None, max_length=255)
    city: str = Field(max_length=100)
    state_or_province: str = Field(max_length=100)
    postal_code: str = Field(max_length=30)
    country_code: str = Field(min_length=2, max_length=2)
    phone: str | None = Field(None, max_length=50)
    address_type: Literal["residential", "commercial"] | None = None
    form_fields: list[V3FormField] | None = None


class V3AddressUpdate(_Strict):
    """``address_Put``: ``id`` plus the fields to change."""

    id: Annotated[int, Field(ge=1, le=INT32_MAX)]
    first_name: str | None = Field(None, min_length=1, max_length=255)
    last_name: str | None = Field(None, min_length=1, max_length=255)
    company: str | None = Field(None, max_length=255)
    address1: str | None = Field(None, max_length=255)
    address2: str | None = Field(None, max_length=255)
    city: str | None = Field(None, max_length=100)
    state_or_province: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=30)
    country_code: str | None = Field(None, min_length=2, max_length=2)
    phone: str | None = Field(None, max_length=50)
    address_type: Literal["residential", "commercial"] | None = None
    form_fields: list[V3FormField] | None = None


class V3AttributePost(_Strict):
    """``attribute_Post``: a name and a type fixed for the attribute's life."""

    name: str = Field(min_length=1, max_length=255)
    type: Literal["string", "number", "date"]


class V3AttributePut(_Strict):
    """``attribute_Put``: only the name can change ("Once the data type is set, it can not be changed")."""

    id: Annotated[int, Field(ge=1, le=INT32_MAX)]
    name: str = Field(min_length=1, max_length=255)


class V3AttributeValue(_Strict):
    """``attributeValue_Base``: one upserted value, always a string whatever the attribute's type."""

    id: Int32 | None = None
    attribute_id: Annotated[int, Field(ge=1, le=INT32_MAX)]
    value: str = Field(max_length=ATTRIBUTE_VALUE_MAX_LENGTH)
    customer_id: Annotated[int, Field(ge=1, le=INT32_MAX)]


Consent = Literal["marketing_newsletter", "abandoned_cart"]


class V3SubscriberPost(_Strict):
    """``subscriber_Base`` as POST takes it: ``email`` required."""

    email: str = Field(min_length=3, max_length=255)
    first_name: str | None = Field(None, max_length=255)
    last_name: str | None = Field(None, max_length=255)
    source: str | None = Field(None, max_length=255)
    order_id: Annotated[int, Field(ge=1, le=INT32_MAX)] | None = None
    channel_id: Annotated[int, Field(ge=1, le=INT32_MAX)] | None = None
    consents: list[Consent] | None = None

    _email = field_validator("email")(_check_email)


class V3SubscriberPut(_Strict):
    """``subscriber_Base`` as PUT takes it: every field optional."""

    email: str | None = Field(None, min_length=3, max_length=255)
    first_name: str | None = Field(None, max_length=255)
    last_name: str | None = Field(None, max_length=255)
    source: str | None = Field(None, max_length=255)
    order_id: Annotated[int, Field(ge=1, le=INT32_MAX)] | None = None
    channel_id: Annotated[int, Field(ge=1, le=INT32_MAX)] | None = None
    consents: list[Consent] | None = None

    _email = field_validator("email")(_check_email)


class V3ChannelSettings(_Strict):
    """``CustomerChannelSettingsObject`` as PUT takes it."""

    class Privacy(_Strict):
        """``privacy_settings``."""

        ask_shopper_for_tracking_consent: bool | None = None
        policy_url: str | None = None

    class Groups(_Strict):
        """``customer_group_settings``."""

        guest_customer_group_id: Int32 | None = None
        default_customer_group_id: Int32 | None = None

    privacy_settings: Privacy | None = None
    customer_group_settings: Groups | None = None
    allow_global_logins: bool | None = None


class V2CustomerUpdate(_Strict):
    """V2 ``customer_Put``: every ``customer_Base`` field optional."""

    email: str | None = Field(None, min_length=3, max_length=255)
    first_name: str | None = Field(None, min_length=1, max_length=100)
    last_name: str | None = Field(None, min_length=1, max_length=100)
    company: str | None = Field(None, max_length=255)
    phone: str | None = Field(None, max_length=50)
    store_credit: str | int | float | None = None
    registration_ip_address: str | None = Field(None, max_length=30)
    customer_group_id: Int32 | None = None
    notes: str | None = Field(None, max_length=65535)
    tax_exempt_category: str | None = Field(None, max_length=255)
    reset_pass_on_login: bool | None = None
    authentication: V2Authentication | None = Field(None, alias="_authentication")

    _email = field_validator("email")(_check_email)
    _credit = field_validator("store_credit")(_check_credit)


class V2AddressCreate(_Strict):
    """V2 ``customerAddress_Base``: V2 names (street_1, zip, state, full country name)."""

    first_name: str = Field(min_length=1, max_length=255)
    last_name: str = Field(min_length=1, max_length=255)
    company: str | None = Field(None, max_length=255)
    street_1: str = Field(max_length=255)
    street_2: str | None = Field(None, max_length=255)
    city: str = Field(max_length=100)
    state: str = Field(max_length=100)
    zip: str = Field(max_length=30)
    country: str = Field(min_length=1, max_length=100)
    phone: str = Field(max_length=50)
    address_type: Literal["residential", "commercial"] | None = None


class V2AddressUpdate(_Strict):
    """V2 address PUT: the ``customerAddress_Base`` fields, all optional."""

    first_name: str | None = Field(None, min_length=1, max_length=255)
    last_name: str | None = Field(None, min_length=1, max_length=255)
    company: str | None = Field(None, max_length=255)
    street_1: str | None = Field(None, max_length=255)
    street_2: str | None = Field(None, max_length=255)
    city: str | None = Field(None, max_length=100)
    state: str | None = Field(None, max_length=100)
    zip: str | None = Field(None, max_length=30)
    country: str | None = Field(None, min_length=1, max_length=100)
    phone: str | None = Field(None, max_length=50)
    address_type: Literal["residential", "commercial"] | None = None


class V2GroupCreate(_Strict):
    """V2 ``customerGroup_Post_Put``: a name; rules and category access kept as given."""

    name: str = Field(min_length=1, max_length=255)
    is_default: bool | None = None
    category_access: dict[str, Any] | None = None
    discount_rules: list[dict[str, Any]] | None = None


def parse_v2_body(body: Any, model: type[M2]) -> M2:
    """Validate a V2 JSON object against ``model``; raise the 400 naming the first offending field."""
    if not isinstance(body, dict):
        raise v2_error(400, "The request body must be a JSON object.")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise _v2_from_validation(exc) from None


def parse_v3_body(body: Any, model: type[M2]) -> M2:
    """Validate one V3 JSON object against ``model``; raise the 422 keyed by field."""
    if not isinstance(body, dict):
        raise v3_error(422, V3_VALIDATION_TITLE, {"body": "The request body must be a JSON object."})
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise v3_error(422, V3_VALIDATION_TITLE, _v3_errors(exc, ())) from None


def parse_v3_batch(body: Any, model: type[M2], limit: int = MAX_NESTED_BATCH) -> list[M2]:
    """Validate a whole V3 array of ``model`` (1..limit); any bad item rejects the call with a 422."""
    if not isinstance(body, list) or not body:
        raise v3_error(422, V3_VALIDATION_TITLE, {"body": "The request body must be a non-empty JSON array."})
    if len(body) > limit:
        raise v3_error(
            413,
            f"The request payload is too large. The maximum number of items allowed in the array is {limit}.",
        )
    items: list[M2] = []
    errors: dict[str, str] = {}
    for index, raw in enumerate(body):
        try:
            items.append(model.model_validate(raw))
        except ValidationError as exc:
            errors.update(_v3_errors(exc, (index,)))
    if errors:
        raise v3_error(422, V3_VALIDATION_TITLE, errors)
    return items


def _v3_errors(exc: ValidationError, prefix: tuple[int, ...]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        key = _loc((*prefix, *error["loc"])) or "body"
        if error["type"] == "extra_forbidden":
            message = f"Additional properties are not allowed ('{error['loc'][-1]}' was unexpected)"
        elif error["type"] == "missing":
            message = "This field is required."
        else:
            message = error["msg"]
        errors.setdefault(key, message)
    return errors


# -- metafields (customers.v3.yml MetafieldBase_Post / MetafieldBase_Put) --------------------------------
class _MetafieldCommon(_Strict):
    permission_set: Literal["app_only", "read", "write", "read_and_sf_access", "write_and_sf_access"]
    namespace: str = Field(min_length=1, max_length=METAFIELD_NAMESPACE_MAX_LENGTH)
    key: str = Field(min_length=1, max_length=METAFIELD_KEY_MAX_LENGTH)
    value: str = Field(min_length=1, max_length=METAFIELD_VALUE_MAX_LENGTH)
    description: str | None = Field(None, max_length=METAFIELD_DESCRIPTION_MAX_LENGTH)


class V3MetafieldPost(_MetafieldCommon):
    """``MetafieldBase_Post`` (``resource_id`` comes from the path on ``/customers/{id}/metafields``)."""

    resource_id: Int32 | None = None


class V3MetafieldPut(_Strict):
    """``MetafieldBase_Put`` with the ``id`` of the metafield to change (every other field optional)."""

    id: Int32
    permission_set: (
        Literal["app_only", "read", "write", "read_and_sf_access", "write_and_sf_access"] | None
    ) = None
    namespace: str | None = Field(None, min_length=1, max_length=METAFIELD_NAMESPACE_MAX_LENGTH)
    key: str | None = Field(None, min_length=1, max_length=METAFIELD_KEY_MAX_LENGTH)
    value: str | None = Field(None, min_length=1, max_length=METAFIELD_VALUE_MAX_LENGTH)
    description: str | None = Field(None, max_length=METAFIELD_DESCRIPTION_MAX_LENGTH)


# -- segments (segments.v3.yml SegmentPost / SegmentPut / ShopperProfilePost) -----------------------------
class V3SegmentPost(_Strict):
    """``SegmentPost``: a name (required) and a description."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(None, max_length=255)


class V3SegmentPut(_Strict):
    """``SegmentPut``: the segment's ``id`` and the fields to change."""

    id: str = Field(min_length=1, max_length=64)
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=255)


class V3ShopperProfilePost(_Strict):
    """``ShopperProfilePost``: the registered customer the profile belongs to."""

    customer_id: Annotated[int, Field(ge=1, le=INT32_MAX)]


def item_errors(model: type[M2], raw: Any, index: int) -> tuple[M2 | None, dict[str, str]]:
    """Validate one item of a batch that may partly succeed: the item, or its errors keyed by index."""
    try:
        return model.model_validate(raw), {}
    except ValidationError as exc:
        return None, _v3_errors(exc, (index,))
