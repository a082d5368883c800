"""
Customer payload models for the BigCommerce V2 and V3 Customers APIs.

What we send is validated before any HTTP call (``extra="forbid"``, the spec's limits, inputs never
echoed in errors); what we receive is parsed leniently (``extra="ignore"``). The field rules live in
small pure functions (``normalize_*``, ``parse_*``) in :mod:`airflow_bigcommerce.models.fields`, shared
with :mod:`airflow_bigcommerce.models.contact`, so the per-row hot path and the models accept exactly
the same values (re-exported here).

Spec choices (the specs are ``customers.v2.yml`` / ``customers.v3.yml`` of bigcommerce/docs):

* Lengths: V2 ``customer_Base`` gives none, so both versions use V3 ``customer_Post``: email 3..250,
  first/last name 1..100, company and tax_exempt_category <= 255, phone <= 50, notes unlimited;
  ``registration_ip_address`` <= 30 comes from ``customer_Put``; ``CustomerV3Update.email`` keeps
  ``customer_Put``'s 255.
* V2 ``store_credit`` is an integer in the inline ``POST`` schema but a string described as "Float,
  Float as String, Integer" in ``customer_Base`` (and responses carry ``"0.0000"``): we accept int,
  float or a plain decimal string and send a decimal *string* (e.g. ``"10.00"``), the one form that
  carries cents exactly and that the schema shared by requests and responses declares.
* Blank optional strings count as missing and are not sent; strings are trimmed; passwords are kept
  exactly as given (trimming would silently change a credential) but may not be blank.

Reference: https://developer.bigcommerce.com/docs/rest-management/customers
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, TypeVar

import pydantic
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    Strict,
    field_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from airflow_bigcommerce.models.fields import (
    COMPANY_MAX_LENGTH,
    CUSTOMER_GROUP_ID_MAX,
    EMAIL_MAX_LENGTH,
    EMAIL_MAX_LENGTH_PUT,
    EMAIL_MIN_LENGTH,
    MISSING_REASON,
    NAME_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    REGISTRATION_IP_MAX_LENGTH,
    TAX_EXEMPT_CATEGORY_MAX_LENGTH,
    V2_READ_ONLY_FIELDS,
    format_store_credit,
    normalize_email,
    normalize_line_breaks,
    normalize_notes,
    normalize_password,
    normalize_phone,
    normalize_text,
    parse_bool,
    parse_customer_group_id,
    parse_store_credit,
)

__all__ = [
    "COMPANY_MAX_LENGTH",
    "CUSTOMER_GROUP_ID_MAX",
    "EMAIL_MAX_LENGTH",
    "EMAIL_MIN_LENGTH",
    "NAME_MAX_LENGTH",
    "PHONE_MAX_LENGTH",
    "REGISTRATION_IP_MAX_LENGTH",
    "TAX_EXEMPT_CATEGORY_MAX_LENGTH",
    "CustomerV2Authentication",
    "CustomerV2Create",
    "CustomerV3",
    "CustomerV3Authentication",
    "CustomerV3Create",
    "CustomerV3Update",
    "format_validation_error",
    "normalize_email",
    "normalize_line_breaks",
    "normalize_notes",
    "normalize_password",
    "normalize_phone",
    "normalize_text",
    "parse_bool",
    "parse_customer_group_id",
    "parse_store_credit",
]

# --- adapters from the shared rules to pydantic validators -----------------------------------------
_T = TypeVar("_T")
_ERROR_TYPE = "customer_field"


def _pydantic(check: Callable[[_T], _T]) -> Callable[[_T], _T]:
    """Turn a rule's ``ValueError(reason)`` into a pydantic error whose message is just the reason."""

    def run(value: _T) -> _T:
        try:
            return check(value)
        except ValueError as exc:
            raise PydanticCustomError(_ERROR_TYPE, str(exc)) from None

    return run


def _required(check: Callable[[str], str]) -> Callable[[str], str]:
    def run(value: str) -> str:
        cleaned = check(value)
        if not cleaned:
            raise ValueError(MISSING_REASON)
        return cleaned

    return run


def _optional(check: Callable[[str], str]) -> Callable[[str], str | None]:
    def run(value: str) -> str | None:
        return check(value) or None

    return run


def _text_rule(max_length: int | None) -> Callable[[str], str]:
    def run(value: str) -> str:
        return normalize_text(value, max_length=max_length)

    return run


def _secret_rule(value: SecretStr) -> SecretStr:
    if not normalize_password(value.get_secret_value()):
        raise ValueError("must not be blank")
    return value


def _email_rule(max_length: int) -> Callable[[str], str]:
    def run(value: str) -> str:
        return normalize_email(value, max_length=max_length)

    return run


Email = Annotated[str, Strict(), AfterValidator(_pydantic(_required(_email_rule(EMAIL_MAX_LENGTH))))]
EmailPut = Annotated[str, Strict(), AfterValidator(_pydantic(_required(_email_rule(EMAIL_MAX_LENGTH_PUT))))]
Name = Annotated[str, Strict(), AfterValidator(_pydantic(_required(_text_rule(NAME_MAX_LENGTH))))]
Company = Annotated[str, Strict(), AfterValidator(_pydantic(_optional(_text_rule(COMPANY_MAX_LENGTH))))]
Phone = Annotated[str, Strict(), AfterValidator(_pydantic(_optional(normalize_phone)))]
Notes = Annotated[str, Strict(), AfterValidator(_pydantic(_optional(normalize_notes)))]
TaxExemptCategory = Annotated[
    str, Strict(), AfterValidator(_pydantic(_optional(_text_rule(TAX_EXEMPT_CATEGORY_MAX_LENGTH))))
]
RegistrationIp = Annotated[
    str, Strict(), AfterValidator(_pydantic(_optional(_text_rule(REGISTRATION_IP_MAX_LENGTH))))
]
CustomerGroupId = Annotated[int, BeforeValidator(_pydantic(parse_customer_group_id))]
Password = Annotated[SecretStr, Strict(), AfterValidator(_pydantic(_secret_rule))]
StoreCredit = Annotated[
    Decimal,
    BeforeValidator(_pydantic(parse_store_credit)),
    PlainSerializer(format_store_credit, return_type=str),
]


def _field_error(model: type[BaseModel], errors: list[tuple[str, str, Any]]) -> pydantic.ValidationError:
    """Build a ValidationError located at named fields (a model validator's own errors have no loc)."""
    return pydantic.ValidationError.from_exception_data(
        model.__name__,
        [
            InitErrorDetails(type=PydanticCustomError(_ERROR_TYPE, reason), loc=(name,), input=value)
            for name, reason, value in errors
        ],
        hide_input=True,
    )


#: Reveals secrets in ``model_dump``; only ``to_payload`` passes it.
_REVEAL = {"reveal_secrets": True}


def _secret_out(value: SecretStr | None, info: pydantic.SerializationInfo) -> str | None:
    if value is None:
        return None
    if isinstance(info.context, dict) and info.context.get("reveal_secrets"):
        return value.get_secret_value()
    return str(value)


class _Outgoing(BaseModel):
    """A payload we send: unknown keys refused, inputs never echoed in error messages."""

    model_config = ConfigDict(
        extra="forbid", hide_input_in_errors=True, validate_by_name=True, validate_by_alias=True
    )

    #: ``model_dump`` exclude spec that removes every secret (overridden per payload).
    _secret_fields: ClassVar[dict[str, Any]] = {}

    def to_payload(self) -> dict[str, Any]:
        """Return the JSON-ready request body, real passwords included: for sending only."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, context=_REVEAL)

    def redacted(self) -> dict[str, Any]:
        """Return the request body without any password: safe for logs, XCom and error reports."""
        body = self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude=self._secret_fields)
        for key, value in list(body.items()):
            if value == {}:  # an authentication object that held only passwords
                del body[key]
        return body


# --- V2 ----------------------------------------------------------------------------------------------
class CustomerV2Authentication(_Outgoing):
    """The V2 ``_authentication`` object: optional password (with confirmation) and forced reset."""

    password: Password | None = None
    password_confirmation: Password | None = None
    force_reset: bool | None = None

    @field_serializer("password", "password_confirmation", when_used="json")
    def _dump_secret(self, value: SecretStr | None, info: pydantic.SerializationInfo) -> str | None:
        return _secret_out(value, info)

    @model_validator(mode="after")
    def _confirmation_matches(self) -> CustomerV2Authentication:
        """Refuse a confirmation that differs from the password, without echoing either."""
        confirmation = self.password_confirmation
        if confirmation is None:
            return self
        if self.password is None:
            reason = "given without password"
        elif not secrets.compare_digest(
            confirmation.get_secret_value().encode("utf-8", "surrogatepass"),
            self.password.get_secret_value().encode("utf-8", "surrogatepass"),
        ):
            reason = "does not match password"
        else:
            return self
        raise _field_error(type(self), [("password_confirmation", reason, confirmation)])


class CustomerV2Create(_Outgoing):
    """
    Body of V2 ``POST /stores/{store_hash}/v2/customers`` (``customer_Base`` of customers.v2.yml).

    Read-only fields and a top-level ``force_reset`` are refused by name, as BigCommerce would.
    """

    first_name: Name
    last_name: Name
    email: Email
    company: Company | None = None
    phone: Phone | None = None
    notes: Notes | None = None
    customer_group_id: CustomerGroupId | None = None
    store_credit: StoreCredit | None = None
    tax_exempt_category: TaxExemptCategory | None = None
    registration_ip_address: RegistrationIp | None = None
    reset_pass_on_login: bool | None = None
    authentication: CustomerV2Authentication | None = Field(default=None, alias="_authentication")

    _secret_fields: ClassVar[dict[str, Any]] = {"authentication": {"password", "password_confirmation"}}

    @model_validator(mode="before")
    @classmethod
    def _refuse_read_only(cls, data: Any) -> Any:
        """Name read-only fields and a misplaced ``force_reset`` before the generic unknown-field error."""
        if not isinstance(data, dict):
            return data
        errors = [
            (name, "read-only: BigCommerce sets it", data[name])
            for name in V2_READ_ONLY_FIELDS
            if name in data
        ]
        if "force_reset" in data:
            errors.append(
                (
                    "force_reset",
                    "not a top-level field: it belongs under _authentication",
                    data["force_reset"],
                )
            )
        if errors:
            raise _field_error(cls, errors)
        return data


# --- V3 ----------------------------------------------------------------------------------------------
class CustomerV3Authentication(_Outgoing):
    """V3 ``customerAuthentication_PostPut``: a new password and/or a forced reset."""

    new_password: Password | None = None
    force_password_reset: bool | None = None

    @field_serializer("new_password", when_used="json")
    def _dump_secret(self, value: SecretStr | None, info: pydantic.SerializationInfo) -> str | None:
        return _secret_out(value, info)


class _CustomerV3Fields(_Outgoing):
    first_name: Name | None = None
    last_name: Name | None = None
    company: Company | None = None
    phone: Phone | None = None
    notes: Notes | None = None
    tax_exempt_category: TaxExemptCategory | None = None
    customer_group_id: CustomerGroupId | None = None
    accepts_product_review_abandoned_cart_emails: bool | None = None
    authentication: CustomerV3Authentication | None = None

    _secret_fields: ClassVar[dict[str, Any]] = {"authentication": {"new_password"}}


class CustomerV3Create(_CustomerV3Fields):
    """One item of V3 ``POST /v3/customers`` (the ``customer_Post`` fields we send)."""

    email: Email
    first_name: Name
    last_name: Name
    trigger_account_created_notification: bool | None = None


class CustomerV3Update(_CustomerV3Fields):
    """One item of V3 ``PUT /v3/customers`` (``customer_Put``: ``id`` plus the fields to change)."""

    id: int = Field(ge=1, le=CUSTOMER_GROUP_ID_MAX)
    email: EmailPut | None = None


class CustomerV3(BaseModel):
    """A customer as the store returns it (V3 ``customer_Full``); unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    id: int
    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    phone: str = ""
    notes: str = ""
    tax_exempt_category: str = ""
    customer_group_id: int = 0
    registration_ip_address: str = ""
    accepts_product_review_abandoned_cart_emails: bool | None = None
    origin_channel_id: int | None = None
    channel_ids: list[int] | None = None
    address_count: int | None = None
    attribute_count: int | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = None


# --- errors ------------------------------------------------------------------------------------------
_MESSAGES = {
    "missing": MISSING_REASON,
    "extra_forbidden": "unknown field, not accepted by BigCommerce",
}


#: Unknown keys come from the caller's data: cap what of them reaches a log line.
_LOC_MAX_LENGTH = 80


def _describe_loc(loc: tuple[int | str, ...]) -> str:
    """Write an error location as ``a.b.0``, escaping and capping keys that come from the input."""
    where = ".".join(str(part) for part in loc)
    if not where.isprintable() or "'" in where:
        where = where.encode("unicode_escape").decode("ascii").replace("'", "\\'")
    if len(where) > _LOC_MAX_LENGTH:
        where = where[: _LOC_MAX_LENGTH - 3] + "..."
    return where


def format_validation_error(exc: pydantic.ValidationError, *, record: str | None = None) -> str:
    """
    Describe a validation failure one line per error, naming the field and never the input value.

    pydantic's own ``str(exc)`` prints ``input_value``, which may be a password or personal data.

    :param exc: the error from validating a payload model.
    :param record: a row key or e-mail to prefix each line with, if any.
    :return: e.g. ``record 'c-17': field 'email': not a valid e-mail address``.
    """
    lines = []
    prefix = f"record '{record}': " if record is not None else ""
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        message = _MESSAGES.get(error["type"], error["msg"])
        where = _describe_loc(error["loc"])
        lines.append(f"{prefix}field '{where}': {message}" if where else f"{prefix}{message}")
    return "\n".join(lines)
