"""
Customer payload models for the BigCommerce V2 and V3 Customers APIs.

What we send is validated before any HTTP call (``extra="forbid"``, the spec's limits, inputs never
echoed in errors); what we receive is parsed leniently (``extra="ignore"``). The field rules live in
small pure functions (``normalize_*``, ``parse_*``) shared with :mod:`airflow_bigcommerce.models.contact`,
so the per-row hot path and the models accept exactly the same values.

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

import math
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
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

# --- limits (V3 customer_Post unless noted; see the module docstring) ------------------------------
EMAIL_MIN_LENGTH = 3
EMAIL_MAX_LENGTH = 250
#: ``customer_Put.email`` allows 255 where ``customer_Post.email`` allows 250.
EMAIL_MAX_LENGTH_PUT = 255
NAME_MAX_LENGTH = 100
COMPANY_MAX_LENGTH = 255
PHONE_MAX_LENGTH = 50
TAX_EXEMPT_CATEGORY_MAX_LENGTH = 255
#: From ``customer_Put`` / ``customer_Full`` (V2 gives no limit).
REGISTRATION_IP_MAX_LENGTH = 30
#: ``customer_group_id`` is ``format: int32``.
CUSTOMER_GROUP_ID_MAX = 2**31 - 1
#: No documented bound; this one only keeps absurd inputs (``"1e999999"``) out of Decimal arithmetic.
STORE_CREDIT_MAX = Decimal(10) ** 15
#: BigCommerce stores money with four decimals (V2 answers ``"store_credit": "0.0000"``).
STORE_CREDIT_DECIMALS = 4
_STORE_CREDIT_QUANTUM = Decimal(1).scaleb(-STORE_CREDIT_DECIMALS)

#: The fields V2 documents as read-only: sending them is refused, so refuse them first.
V2_READ_ONLY_FIELDS = ("id", "date_created", "date_modified", "accepts_marketing", "addresses", "form_fields")

# C0/C1 control characters and lone surrogates (the latter cannot be encoded to UTF-8 for sending).
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same, but tab and newline are fine in multi-line notes.
_NOTES_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# Deliberately simple: one @, no whitespace or address-list punctuation, a dot inside the domain.
# Unicode (IDN, internationalised local parts) is allowed; the store is the final judge.
_EMAIL_ATOM = r"[^@\s<>()\[\]\\,;:\"]"
_EMAIL_LABEL = r"[^@\s<>()\[\]\\,;:\".]"
_EMAIL_RE = re.compile(rf"{_EMAIL_ATOM}+@{_EMAIL_LABEL}+(?:\.{_EMAIL_LABEL}+)+")
_PHONE_RE = re.compile(r"[0-9+().\- xX]*")
_STORE_CREDIT_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
_TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "off"})

MISSING_REASON = "missing (required)"
CONTROL_REASON = "contains a control or invalid character"
EMAIL_REASON = "not a valid e-mail address"
PHONE_REASON = "contains characters other than digits, spaces and + ( ) - . x"


# --- field rules shared with contact.py: pure, raise ValueError(reason), never echo the value --------
def normalize_text(value: str, *, max_length: int | None) -> str:
    """Trim a single-line text value and check its length and characters; ``""`` means missing."""
    value = value.strip()
    if max_length is not None and len(value) > max_length:
        raise ValueError(f"longer than {max_length} characters")
    if not value.isprintable() and _CONTROL_RE.search(value):
        raise ValueError(CONTROL_REASON)
    return value


def normalize_line_breaks(value: str) -> str:
    """Turn CR/CRLF into LF (how notes are sent, and so how they are compared with the store's)."""
    if "\r" in value:
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def normalize_notes(value: str) -> str:
    """Trim multi-line notes and turn CR/CRLF into LF, so CRM exports from Windows are not refused."""
    value = value.strip()
    if not value.isprintable():
        value = normalize_line_breaks(value)
        if _NOTES_CONTROL_RE.search(value):
            raise ValueError(CONTROL_REASON)
    return value


def normalize_email(value: str, *, max_length: int = EMAIL_MAX_LENGTH) -> str:
    """Trim an e-mail address (case kept: the match key lower-cases, the payload does not) and check it."""
    value = value.strip()
    if not value:
        return value
    if len(value) > max_length:
        raise ValueError(f"longer than {max_length} characters")
    if len(value) < EMAIL_MIN_LENGTH:
        raise ValueError(f"shorter than {EMAIL_MIN_LENGTH} characters")
    if not value.isprintable():  # also invisible format characters (zero-width space, BOM): paste junk
        raise ValueError(CONTROL_REASON)
    if _EMAIL_RE.fullmatch(value) is None:
        raise ValueError(EMAIL_REASON)
    return value


def normalize_phone(value: str) -> str:
    """Trim a phone number, collapse inner whitespace and allow only dialling characters."""
    value = " ".join(value.split())
    if not value.isprintable() and _CONTROL_RE.search(value):
        raise ValueError(CONTROL_REASON)
    if _PHONE_RE.fullmatch(value) is None:
        raise ValueError(PHONE_REASON)
    if len(value) > PHONE_MAX_LENGTH:
        raise ValueError(f"longer than {PHONE_MAX_LENGTH} characters")
    return value


def normalize_password(value: str) -> str:
    """Check a password kept exactly as given; ``""`` (blank) means missing."""
    if not value.strip():
        return ""
    if not value.isprintable() and _CONTROL_RE.search(value):
        raise ValueError(CONTROL_REASON)
    return value


def parse_customer_group_id(value: object) -> int:
    """Read a customer group id: an int, an integral float or a string of ASCII digits, 0..int32 max."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true/false")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            raise ValueError("must be a whole number >= 0")
        if len(text.lstrip("0")) > len(str(CUSTOMER_GROUP_ID_MAX)):
            raise ValueError(f"larger than {CUSTOMER_GROUP_ID_MAX}")
        number = int(text)
    elif isinstance(value, float | Decimal):
        finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
        if not finite or value < 0:
            raise ValueError("must be a whole number >= 0")
        if value > CUSTOMER_GROUP_ID_MAX:
            raise ValueError(f"larger than {CUSTOMER_GROUP_ID_MAX}")
        if value != int(value):
            raise ValueError("must be a whole number >= 0")
        number = int(value)
    else:
        raise ValueError(f"must be a whole number, got {type(value).__name__}")
    if number < 0:
        raise ValueError("must be a whole number >= 0")
    if number > CUSTOMER_GROUP_ID_MAX:
        raise ValueError(f"larger than {CUSTOMER_GROUP_ID_MAX}")
    return number


def parse_bool(value: object) -> bool:
    """Read a CRM flag: a bool, 0/1, or true/false, yes/no, y/n, t/f, on/off in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise ValueError("must be true or false")


def parse_store_credit(value: object) -> Decimal:
    """Read a V2 store credit (int, float, Decimal or plain decimal string), >= 0, at most 4 decimals."""
    if isinstance(value, bool):
        raise ValueError("must be an amount, not true/false")
    if isinstance(value, str):
        text = value.strip()
        if _STORE_CREDIT_RE.fullmatch(text) is None:
            raise ValueError("must be a plain decimal amount such as 10.50")
        amount = Decimal(text)
    elif isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))  # repr gives the shortest round-tripping digits: 0.1 -> "0.1"
    else:
        raise ValueError(f"must be an amount, got {type(value).__name__}")
    if not amount.is_finite() or amount < 0:
        raise ValueError("must be a finite amount >= 0")
    if amount >= STORE_CREDIT_MAX:
        raise ValueError(f"must be less than {STORE_CREDIT_MAX}")
    try:
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -STORE_CREDIT_DECIMALS:
            rounded = amount.quantize(_STORE_CREDIT_QUANTUM)
            if amount != rounded:
                raise ValueError(f"more than {STORE_CREDIT_DECIMALS} decimal places")
            amount = rounded
    except InvalidOperation:
        raise ValueError("must be a plain decimal amount such as 10.50") from None
    return amount


def format_store_credit(amount: Decimal) -> str:
    """Write a store credit as a fixed-point string with at least two decimals: ``10`` -> ``"10.00"``."""
    if amount == amount.quantize(Decimal("0.01")):
        return f"{amount:.2f}"
    return f"{amount.normalize():f}"


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
