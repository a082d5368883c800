"""
``CreateCustomerOperator``: one customer, created at most once, with the V2 or the V3 API.

Thin by design: arguments, templating, masking and Airflow context here; the flows are
:mod:`airflow_bigcommerce.operators.single_create`. Only the standard library, ``airflow.sdk`` and
light modules are imported at module level, so a DAG file naming the operator parses as fast as one
with ``EmptyOperator``; the hook, ``requests`` and pydantic models are imported inside ``execute``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from airflow.sdk import BaseOperator

from airflow_bigcommerce.links import (
    BigCommerceCustomerLink,
    BigCommerceCustomersLink,
    BigCommerceSyncViewLink,
    api_root_of,
)
from airflow_bigcommerce.operators.arguments import check_retry_budget, is_template

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_bigcommerce.lineage import Lineage

IfExists = Literal["fail", "skip"]


_IF_EXISTS = ("fail", "skip")
_API_VERSIONS = ("v2", "v3")
#: Arguments only V3 ``customer_Post`` has (V2 ``POST /customers`` refuses unknown fields).
_V3_ONLY = (
    "addresses",
    "attributes",
    "customer_group",
    "channel_ids",
    "origin_channel_id",
    "accepts_product_review_abandoned_cart_emails",
    "form_fields",
)
#: Arguments V3 ``customer_Post`` has no field for.
_V2_ONLY = ("registration_ip_address",)
_AUTH_SECRET_KEYS = ("password", "password_confirmation")


def _mask_auth_secrets(authentication: Any) -> None:
    """Register the passwords of an ``authentication`` dict with Airflow's secrets masker."""
    if not isinstance(authentication, Mapping):
        return
    from airflow_bigcommerce.masking import mask_secret

    for key in _AUTH_SECRET_KEYS:
        value = authentication.get(key)
        if isinstance(value, str) and value:
            mask_secret(value)


class CreateCustomerOperator(BaseOperator):
    """
    Create one customer with ``POST /v2/customers`` (default) or ``POST /v3/customers``.

    The payload is validated before any HTTP call. If the request's outcome is unknown (timeout,
    dropped connection, 5xx) the e-mail is looked up before anything is sent again, so a retry
    never creates a second customer.
    See https://developer.bigcommerce.com/docs/rest-management/customers-v2#create-a-customer

    With ``api_version="v3"`` the payload is V3 ``customer_Post``
    (https://developer.bigcommerce.com/docs/rest-management/customers#create-customers) and the
    customer can be created with its addresses, attribute values (by attribute name), group (by
    name) and channels in the one request. The e-mail is looked up first (on the customer's login
    channels), so an existing customer costs no write. Arguments map as follows: ``authentication``
    becomes ``{"new_password", "force_password_reset"}``, ``store_credit`` becomes
    ``store_credit_amounts``; ``registration_ip_address`` has no V3 create field and is refused.

    :param email: the customer's e-mail address (templated).
    :param first_name: first name (templated).
    :param last_name: last name (templated).
    :param company: company (templated).
    :param phone: phone number (templated).
    :param notes: store-owner notes (templated).
    :param customer_group_id: customer group id (templated).
    :param store_credit: store credit amount (templated).
    :param tax_exempt_category: tax-exempt category code (templated).
    :param registration_ip_address: IP address the customer registered from (templated; V2 only).
    :param authentication: ``{"password", "password_confirmation", "force_reset"}``, sent as
        ``_authentication`` (V2) or ``authentication: {"new_password", "force_password_reset"}`` (V3)
        (templated; the passwords are masked in logs and rendered fields).
    :param api_version: ``"v2"`` (default) or ``"v3"``; not templated.
    :param addresses: V3 only: up to 10 dicts of ``first_name, last_name, company, address1,
        address2, city, state_or_province, postal_code, country_code, phone, address_type``;
        ``address1``, ``city`` and ``country_code`` (ISO 3166-1 alpha-2) are required, the names
        default to the customer's, ``state_or_province`` is the full name (``Texas``, not ``TX``).
        An invalid address fails the task before any request (templated).
    :param attributes: V3 only: ``{attribute name: value}`` for the store's customer attributes
        (text, numbers, dates; sent as strings, dates ISO 8601); an unknown name fails the task
        before any write, listing the store's names (templated).
    :param customer_group: V3 only: the customer group's name (case-insensitive), instead of
        ``customer_group_id``; fails the task if the store has no such group, or no groups at all
        (plans below Plus) (templated).
    :param channel_ids: V3 only: the channels the customer can log in on (Multi-Storefront);
        ``None`` (default): global access (templated).
    :param origin_channel_id: V3 only: the channel the customer is created on (templated).
    :param form_fields: V3 only: ``{form field name: value}`` for the store's sign-up form fields
        (values as text); a name the store lacks fails the task with the store's reason (templated).
    :param trigger_account_created_notification: V3 only: send the store's welcome e-mail; off
        unless set (templated).
    :param accepts_product_review_abandoned_cart_emails: V3 only: product-review and abandoned-cart
        e-mails (not the newsletter) (templated).
    :param if_exists: ``"fail"`` (default) fails on an e-mail already in the store; ``"skip"``
        returns the existing customer.
    :param retry_budget_s: how long to keep trying while the store's writes or reads fail (an outage),
        with backoff and one probe at a time, before the task fails; overrides the connection's
        ``retry_budget_s`` extra (default 300). Retrying the failed task is safe.
    :param bigcommerce_conn_id: connection of type ``bigcommerce`` (templated).
    :return: the customer as the store returns it (created, or existing with ``if_exists="skip"``),
        without secrets; it is pushed to XCom. V3: a ``customer_Full``, with its ``addresses`` and
        ``attributes`` when the store returns them, without ``authentication``.
    :raises BigCommerceConfigError: an invalid argument (before any request) or, V3, an unknown
        attribute or group name (before any write).
    :raises BigCommerceTransientError: the store stayed unavailable beyond the retry budget; the
        customer was not created (a retry of the task creates it once).
    """

    template_fields: Sequence[str] = (
        "email",
        "first_name",
        "last_name",
        "company",
        "phone",
        "notes",
        "customer_group_id",
        "store_credit",
        "tax_exempt_category",
        "registration_ip_address",
        "authentication",
        "addresses",
        "attributes",
        "customer_group",
        "channel_ids",
        "origin_channel_id",
        "trigger_account_created_notification",
        "accepts_product_review_abandoned_cart_emails",
        "form_fields",
        "bigcommerce_conn_id",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "authentication": "json",
        "addresses": "json",
        "attributes": "json",
        "form_fields": "json",
    }
    ui_color = "#34313f"
    operator_extra_links = (BigCommerceCustomersLink(), BigCommerceCustomerLink(), BigCommerceSyncViewLink())
    #: Set by ``execute`` for the extra links and lineage: the store, the customer's id, 1 if created.
    bigcommerce_store_hash: str | None = None
    #: The connection's API host (where the extra links go for a sandbox store, see links.py).
    bigcommerce_api_root: str | None = None
    bigcommerce_customer_id: int | None = None
    bigcommerce_rows_written: int = 0
    #: Safety net on sends whose outcome stayed unknown; the hook's retry budget (time) ends sooner.
    max_unknown_outcomes = 50

    def __init__(
        self,
        *,
        email: str,
        first_name: str,
        last_name: str,
        company: str | None = None,
        phone: str | None = None,
        notes: str | None = None,
        customer_group_id: int | str | None = None,
        store_credit: float | str | None = None,
        tax_exempt_category: str | None = None,
        registration_ip_address: str | None = None,
        authentication: Mapping[str, Any] | None = None,
        if_exists: IfExists = "fail",
        retry_budget_s: float | None = None,
        bigcommerce_conn_id: str = "bigcommerce_default",
        api_version: str = "v2",
        addresses: Sequence[Mapping[str, Any]] | None = None,
        attributes: Mapping[str, Any] | None = None,
        customer_group: str | None = None,
        channel_ids: Sequence[int] | None = None,
        origin_channel_id: int | None = None,
        trigger_account_created_notification: bool = False,
        accepts_product_review_abandoned_cart_emails: bool | None = None,
        form_fields: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if if_exists not in _IF_EXISTS:
            raise ValueError(f"if_exists must be one of {_IF_EXISTS}, got {if_exists!r}")
        check_retry_budget(retry_budget_s)
        v3_arguments = {
            "addresses": addresses,
            "attributes": attributes,
            "customer_group": customer_group,
            "channel_ids": channel_ids,
            "origin_channel_id": origin_channel_id,
            "accepts_product_review_abandoned_cart_emails": accepts_product_review_abandoned_cart_emails,
            "trigger_account_created_notification": trigger_account_created_notification or None,
            "form_fields": form_fields,
        }
        given = v3_arguments | {"registration_ip_address": registration_ip_address}
        if not is_template(api_version):
            _check_api_version(api_version, {k: v for k, v in given.items() if v is not None})
        if customer_group is not None and customer_group_id is not None:
            raise ValueError("Give customer_group (a name) or customer_group_id, not both")
        _mask_auth_secrets(authentication)
        self.email = email
        self.first_name = first_name
        self.last_name = last_name
        self.company = company
        self.phone = phone
        self.notes = notes
        self.customer_group_id = customer_group_id
        self.store_credit = store_credit
        self.tax_exempt_category = tax_exempt_category
        self.registration_ip_address = registration_ip_address
        self.authentication = authentication
        self.if_exists = if_exists
        self.retry_budget_s = retry_budget_s
        self.bigcommerce_conn_id = bigcommerce_conn_id
        self.api_version = api_version
        self.addresses = addresses
        self.attributes = attributes
        self.customer_group = customer_group
        self.channel_ids = channel_ids
        self.origin_channel_id = origin_channel_id
        self.trigger_account_created_notification = trigger_account_created_notification
        self.accepts_product_review_abandoned_cart_emails = accepts_product_review_abandoned_cart_emails
        self.form_fields = form_fields

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        """Render the fields, then mask rendered passwords before Airflow stores the rendered values."""
        super().render_template_fields(context, jinja_env)
        _mask_auth_secrets(self.authentication)

    def _payload_fields(self) -> dict[str, Any]:
        fields = {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "company": self.company,
            "phone": self.phone,
            "notes": self.notes,
            "customer_group_id": self.customer_group_id,
            "store_credit": self.store_credit,
            "tax_exempt_category": self.tax_exempt_category,
            "registration_ip_address": self.registration_ip_address,
            "authentication": self.authentication,
        }
        return {key: value for key, value in fields.items() if value is not None}

    def execute(self, context: Context) -> dict[str, Any]:
        """Validate the rendered payload, create the customer (at most once) and return it."""
        _check_api_version(self.api_version, self._v3_arguments())
        from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
        from airflow_bigcommerce.operators import create_v3, single_create
        from airflow_bigcommerce.operators.errors import ActionableErrors

        # Everything is checked before the connection is read or any request is sent.
        if self.api_version == "v3":
            prepared = create_v3.prepare({**self._payload_fields(), **self._v3_arguments()})
        else:
            customer_v2 = single_create.prepare_v2(self._payload_fields())
        hook = BigCommerceHook(
            bigcommerce_conn_id=self.bigcommerce_conn_id, retry_budget_s=self.retry_budget_s
        )
        self.bigcommerce_store_hash = hook.store_hash
        self.bigcommerce_api_root = api_root_of(hook)
        options: dict[str, Any] = {"if_exists": self.if_exists, "max_sends": self.max_unknown_outcomes}
        with ActionableErrors():
            if self.api_version == "v3":
                created, customer = single_create.create_v3_customer(hook, prepared, **options)
            else:
                created, customer = single_create.create_v2(hook, customer_v2, **options)
        self.bigcommerce_customer_id = customer.get("id")
        self.bigcommerce_rows_written = int(created)
        verb = "Created" if created else "Found existing"
        self.log.info("%s customer id=%s for %s", verb, customer.get("id"), customer.get("email"))
        return single_create.without_secrets(customer)

    def _v3_arguments(self) -> dict[str, Any]:
        """Return the V3-only arguments that are set (the notification flag only when true)."""
        values = {
            name: getattr(self, name)
            for name in (*_V3_ONLY, "trigger_account_created_notification", *_V2_ONLY)
        }
        return {name: value for name, value in values.items() if value is not None and value is not False}

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Lineage | None:
        """Report the store's customers as this task's output (one row written if it created one)."""
        from airflow_bigcommerce.lineage import customers_lineage

        return customers_lineage(
            store_hash=self.bigcommerce_store_hash, rows_written=self.bigcommerce_rows_written
        )


def _check_api_version(api_version: Any, given: Mapping[str, Any]) -> None:
    """Refuse an unknown ``api_version`` and arguments the chosen version has no field for."""
    if api_version not in _API_VERSIONS:
        raise ValueError(f"api_version must be one of {_API_VERSIONS}, got {api_version!r}")
    if api_version == "v2":
        wrong = [name for name in (*_V3_ONLY, "trigger_account_created_notification") if name in given]
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)}: only with api_version='v3' (V2 POST /customers has no such fields)"
            )
    else:
        wrong = [name for name in _V2_ONLY if name in given]
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)}: V3 customer_Post has no such field (only V2 and customer_Put have it); "
                "leave it out or use api_version='v2'"
            )
