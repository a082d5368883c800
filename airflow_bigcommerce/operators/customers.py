"""
Operators that create BigCommerce customers: one at a time (V2) or a CRM sync in batches (V3).

Only the standard library and ``airflow.sdk`` are imported here at module level, so a DAG file
that names these operators parses as fast as one with ``EmptyOperator``; the hook, ``requests``,
pydantic models and SQL hooks are imported inside ``execute``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from airflow.sdk import BaseOperator

from airflow_bigcommerce.links import BigCommerceCustomerLink, BigCommerceCustomersLink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
    from airflow_bigcommerce.lineage import Lineage
    from airflow_bigcommerce.sync.result import SyncResult

IfExists = Literal["fail", "skip"]
SyncMode = Literal["insert", "upsert"]
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
)
#: Arguments V3 ``customer_Post`` has no field for.
_V2_ONLY = ("registration_ip_address",)
_SYNC_MODES = ("insert", "upsert")
_AUTH_SECRET_KEYS = ("password", "password_confirmation")
#: Failed rows named in the message of the task's failure (the log and the report list them all).
FAILURE_REASONS_IN_MESSAGE = 3


def _is_template(value: Any) -> bool:
    """Whether ``value`` is still to be rendered (Jinja text or an XComArg), so it cannot be checked yet."""
    return (isinstance(value, str) and "{{" in value) or hasattr(value, "resolve")


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
    :param trigger_account_created_notification: V3 only: send the store's welcome e-mail; off
        unless set (templated).
    :param accepts_product_review_abandoned_cart_emails: V3 only: product-review and abandoned-cart
        e-mails (not the newsletter) (templated).
    :param if_exists: ``"fail"`` (default) fails on an e-mail already in the store; ``"skip"``
        returns the existing customer.
    :param retry_budget_s: how long to keep trying while the store's writes or reads fail (an outage),
        with backoff and one probe at a time, before the task fails; overrides the connection's
        ``retry_budget_s`` extra (default 300). Retrying the failed task is safe.
    :param bigcommerce_conn_id: connection of type ``bigcommerce``.
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
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "authentication": "json",
        "addresses": "json",
        "attributes": "json",
    }
    ui_color = "#34313f"
    operator_extra_links = (BigCommerceCustomersLink(), BigCommerceCustomerLink())
    #: Set by ``execute`` for the extra links and lineage: the store, the customer's id, 1 if created.
    bigcommerce_store_hash: str | None = None
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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if if_exists not in _IF_EXISTS:
            raise ValueError(f"if_exists must be one of {_IF_EXISTS}, got {if_exists!r}")
        _check_retry_budget(retry_budget_s)
        v3_arguments = {
            "addresses": addresses,
            "attributes": attributes,
            "customer_group": customer_group,
            "channel_ids": channel_ids,
            "origin_channel_id": origin_channel_id,
            "accepts_product_review_abandoned_cart_emails": accepts_product_review_abandoned_cart_emails,
            "trigger_account_created_notification": trigger_account_created_notification or None,
        }
        given = v3_arguments | {"registration_ip_address": registration_ip_address}
        if not _is_template(api_version):
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
        if self.api_version == "v3":
            return self._execute_v3()
        from pydantic import ValidationError

        from airflow_bigcommerce.exceptions import BigCommerceConfigError
        from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
        from airflow_bigcommerce.models.customer import CustomerV2Create, format_validation_error

        try:
            customer = CustomerV2Create.model_validate(self._payload_fields())
        except ValidationError as exc:
            raise BigCommerceConfigError(
                "Invalid customer payload: " + format_validation_error(exc, record=str(self.email)[:250])
            ) from None
        hook = BigCommerceHook(
            bigcommerce_conn_id=self.bigcommerce_conn_id, retry_budget_s=self.retry_budget_s
        )
        self.bigcommerce_store_hash = hook.store_hash
        created, result = self._create_once(
            hook,
            customer.to_payload(),
            customer.email,
            create=hook.create_customer_v2,
            find=hook.find_customer_v2_by_email,
            path="v2/customers",
        )
        return self._finish(created, result, customer.email)

    def _v3_arguments(self) -> dict[str, Any]:
        """Return the V3-only arguments that are set (the notification flag only when true)."""
        values = {
            name: getattr(self, name)
            for name in (*_V3_ONLY, "trigger_account_created_notification", *_V2_ONLY)
        }
        return {name: value for name, value in values.items() if value is not None and value is not False}

    def _execute_v3(self) -> dict[str, Any]:
        """Check everything, look the e-mail up, resolve names, then create once (``POST /v3/customers``)."""
        from airflow_bigcommerce.exceptions import BigCommerceTransientError
        from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
        from airflow_bigcommerce.operators import create_v3

        prepared = create_v3.prepare({**self._payload_fields(), **self._v3_arguments()})
        email, channel_ids = prepared.email, prepared.customer.channel_ids
        hook = BigCommerceHook(
            bigcommerce_conn_id=self.bigcommerce_conn_id, retry_budget_s=self.retry_budget_s
        )
        self.bigcommerce_store_hash = hook.store_hash

        def find(address: str) -> dict[str, Any] | None:
            return create_v3.find_existing(hook, address, channel_ids)

        def create(payload: dict[str, Any]) -> dict[str, Any]:
            return _first_created(hook.create_customers([payload]))

        try:
            existing = find(email)
            customer = create_v3.resolve(hook, prepared)
        except BigCommerceTransientError as exc:
            raise BigCommerceTransientError(
                f"Customer {email} was not created: {exc}. Retrying the task is safe."
            ) from None
        if existing is not None:
            return self._finish(False, self._existing(existing, email, "v3/customers"), email)
        created, result = self._create_once(
            hook, customer.to_payload(), email, create=create, find=find, path="v3/customers"
        )
        return self._finish(created, result, email)

    def _existing(self, existing: dict[str, Any], email: str, path: str) -> dict[str, Any]:
        """Return the existing customer with ``if_exists="skip"``; otherwise fail naming it."""
        from airflow_bigcommerce.exceptions import BigCommerceDuplicateCustomerError

        if self.if_exists == "skip":
            return existing
        raise BigCommerceDuplicateCustomerError(
            status=409,
            method="POST",
            path=path,
            detail=(
                f"a customer with e-mail {email} already exists (id {existing.get('id')}); "
                "use if_exists='skip' to accept it"
            ),
        )

    def _finish(self, created: bool, result: dict[str, Any], email: str) -> dict[str, Any]:
        """Record the outcome for links and lineage, log it and return the customer without secrets."""
        self.bigcommerce_customer_id = result.get("id")
        self.bigcommerce_rows_written = int(created)
        verb = "Created" if created else "Found existing"
        self.log.info("%s customer id=%s for %s", verb, result.get("id"), email)
        return _without_secrets(result)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Lineage | None:
        """Report the store's customers as this task's output (one row written if it created one)."""
        from airflow_bigcommerce.lineage import customers_lineage

        return customers_lineage(
            store_hash=self.bigcommerce_store_hash, rows_written=self.bigcommerce_rows_written
        )

    def _create_once(
        self,
        hook: BigCommerceHook,
        payload: dict[str, Any],
        email: str,
        *,
        create: Callable[[dict[str, Any]], dict[str, Any]],
        find: Callable[[str], dict[str, Any] | None],
        path: str,
    ) -> tuple[bool, dict[str, Any]]:
        """
        Create the customer; resolve unknown outcomes by looking the e-mail up, never by resending.

        The hook paces each resend (backoff, one probe at a time during an outage) and gives up with
        a transient error once its retry budget is spent.
        """
        from airflow_bigcommerce.exceptions import BigCommerceTransientError

        try:
            return self._create_until_known(hook, payload, email, create=create, find=find, path=path)
        except BigCommerceTransientError as exc:
            raise BigCommerceTransientError(
                f"Customer {email} was not created: {exc}. Retrying the task is safe: it looks the "
                "e-mail up first and creates the customer once."
            ) from None

    def _create_until_known(
        self,
        hook: BigCommerceHook,
        payload: dict[str, Any],
        email: str,
        *,
        create: Callable[[dict[str, Any]], dict[str, Any]],
        find: Callable[[str], dict[str, Any] | None],
        path: str,
    ) -> tuple[bool, dict[str, Any]]:
        """Create through the one create-once path (``sync.create_once``) and map its end to the task's."""
        from airflow_bigcommerce.exceptions import BigCommerceDuplicateCustomerError, BigCommerceError
        from airflow_bigcommerce.sync.create_once import Settled, create_once

        outcome = create_once(
            lambda: create(payload),
            lambda: find(email),
            in_use=lambda exc: isinstance(exc, BigCommerceDuplicateCustomerError),
            confirm=hook.confirm_write,
            on_unknown=lambda exc: self.log.warning("%s; looking the e-mail up before sending again", exc),
            max_sends=self.max_unknown_outcomes,
        )
        existing = outcome.record
        if outcome.settled is Settled.CREATED and existing is not None:
            return True, existing
        if outcome.settled is Settled.EXISTS:
            if self.if_exists == "skip" and existing is not None:
                return False, existing
            raise BigCommerceDuplicateCustomerError(
                status=outcome.refusal.status if outcome.refusal is not None else 409,
                method="POST",
                path=path,
                detail=(
                    f"a customer with e-mail {email} already exists"
                    + (f" (id {existing['id']})" if existing else "")
                    + "; use if_exists='skip' to accept it"
                ),
            ) from None
        raise BigCommerceError(
            f"Creating the customer {email} failed {self.max_unknown_outcomes} times with no definite "
            "answer from the store, and the e-mail is not in the store; retry the task later."
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


def _first_created(customers: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the one customer a V3 create answered with; an answer without it is an unknown outcome."""
    if customers:
        return customers[0]
    from airflow_bigcommerce.exceptions import BigCommerceOutcomeUnknownError

    raise BigCommerceOutcomeUnknownError(
        "POST v3/customers answered without the customer", method="POST", path="v3/customers"
    )


def _check_retry_budget(retry_budget_s: float | None) -> None:
    if retry_budget_s is not None and (isinstance(retry_budget_s, bool) or retry_budget_s < 0):
        raise ValueError(f"retry_budget_s must be 0 or more seconds, got {retry_budget_s!r}")


def _without_secrets(customer: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in customer.items() if key not in {"_authentication", "authentication"}}


class SyncCustomersOperator(BaseOperator):
    """
    Sync CRM contacts into store customers with the V3 API, in batches of up to 10.

    Contacts come from ``contacts`` (a list of dicts, or an XComArg) or are streamed from any
    common.sql connection (``sql_conn_id`` + ``sql``), fetched in chunks so memory stays flat.
    Rows are mapped with ``field_map``, validated, de-duplicated on the lower-cased e-mail and
    looked up in the store; new ones are created, existing ones skipped (``mode="insert"``) or
    updated when a mapped field differs (``mode="upsert"``). A rejected row is reported, never
    dropped; a write whose outcome is unknown is resolved by a look-up, never by a blind resend.

    Rows the store could not take for a transient reason (an outage beyond ``retry_budget_s``, 5xx,
    no answer, 429s) are *failed*, not rejected: every row is still attempted and the report is
    written, then the task fails, so Airflow's retry (which re-sends only what is missing and
    creates nothing twice) finishes the job. A run never goes green while rows it could deliver are
    missing.

    :param contacts: rows to sync: a list of dicts or an XComArg (templated).
    :param sql_conn_id: connection id of any common.sql database to read contacts from (templated).
    :param sql: query returning one contact per row, or a ``.sql`` file (templated).
    :param parameters: query parameters (templated).
    :param sql_hook_params: extra arguments for the SQL hook.
    :param field_map: CRM column -> customer field (``email``, ``first_name``, ``last_name``,
        ``company``, ``phone``, ``notes``, ``tax_exempt_category``, ``customer_group_id``,
        ``password``, ``force_password_reset``, ``accepts_product_review_abandoned_cart_emails``) or
        part of the contact: ``address.<field>`` (one sync-managed address), ``attribute.<name>``
        (a customer attribute's value), ``customer_group`` (a group name), ``newsletter`` (opt-in);
        default: columns named like the customer fields (templated).
    :param key_field: column identifying a row in reports (default ``"id"``; row number if absent).
    :param mode: ``"insert"`` (create new, skip existing) or ``"upsert"`` (also update changed) (templated).
    :param dry_run: look up and report what would happen, write nothing (templated).
    :param max_rejected: fail the task, after everything valid was sent, if more rows were rejected.
    :param report_path: local path or ObjectStoragePath URL for a JSON-lines report, one line per
        input row with its outcome (templated).
    :param batch_size: customers per V3 request, 1 to 10.
    :param max_concurrency: requests in flight at once. ``None`` (default) adapts: the number grows
        while the window has requests left and answers stay fast, up to 8, and shrinks when the store
        pushes back (429s with requests left, slower answers, errors). An int 1 to 8 is a fixed
        limit. BigCommerce's documented per-endpoint caps (PUT ``/v3/customers``: 3) apply either way.
    :param quota_reserve: requests per rate-limit window the sync leaves unused for the store's other
        apps (ERP, shipping, reviews); default 0. 10-20 % of the quota is a good start on a store with
        other integrations.
    :param fetch_size: rows fetched from the SQL cursor at a time.
    :param retry_budget_s: how long the run keeps trying while the store's writes or reads fail (an
        outage), with backoff and one probe at a time, before it settles the rows as failed;
        overrides the connection's ``retry_budget_s`` extra (default 300).
    :param channel_id: Multi-Storefront channel to sync to: a customer exists when it can log in
        there (``channel_ids`` holds it, or is null and the channel allows global logins); new
        customers get ``origin_channel_id`` and, where the channel has no global logins,
        ``channel_ids=[channel_id]``. Existing customers' ``channel_ids`` are never changed.
        ``None`` (default): the store's own behaviour.
    :param create_attributes: create the ``attribute.<name>`` attributes the store lacks (type
        string) instead of failing at start.
    :param bigcommerce_conn_id: connection of type ``bigcommerce`` (templated).
    :return: the summary (``created``, ``updated``, ``skipped``, ``rejected``, ``failed``, ``total``,
        ``rejections`` and ``failures``: capped lists of ``{row, email, reason}``, ...), pushed to XCom.
    :raises BigCommerceTransientError: rows failed (after every row was attempted and the report
        written); retrying the task is safe.
    """

    template_fields: Sequence[str] = (
        "contacts",
        "sql",
        "parameters",
        "field_map",
        "mode",
        "dry_run",
        "report_path",
        "sql_conn_id",
        "bigcommerce_conn_id",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "sql": "sql",
        "parameters": "json",
        "field_map": "json",
    }
    ui_color = "#34313f"
    operator_extra_links = (BigCommerceCustomersLink(),)
    #: Set by ``execute`` for the extra link and lineage: the store written to, customers created + updated.
    bigcommerce_store_hash: str | None = None
    bigcommerce_rows_written: int = 0

    def __init__(
        self,
        *,
        contacts: Any = None,
        sql_conn_id: str | None = None,
        sql: str | None = None,
        parameters: Mapping[str, Any] | Sequence[Any] | None = None,
        sql_hook_params: Mapping[str, Any] | None = None,
        field_map: Mapping[str, str] | None = None,
        key_field: str | None = "id",
        mode: SyncMode = "insert",
        dry_run: bool = False,
        max_rejected: int | None = None,
        report_path: str | None = None,
        batch_size: int = 10,
        max_concurrency: int | None = None,
        quota_reserve: int = 0,
        fetch_size: int = 1000,
        retry_budget_s: float | None = None,
        channel_id: int | None = None,
        create_attributes: bool = False,
        bigcommerce_conn_id: str = "bigcommerce_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if channel_id is not None and (
            isinstance(channel_id, bool) or not isinstance(channel_id, int) or channel_id < 1
        ):
            raise ValueError(f"channel_id must be a channel's id (1 or more) or None, got {channel_id!r}")
        if (contacts is None) == (sql is None):
            raise ValueError("Give exactly one source: contacts=... or sql_conn_id=... with sql=...")
        if sql is not None and not sql_conn_id:
            raise ValueError("sql= needs sql_conn_id=, the common.sql connection to read contacts from")
        if not _is_template(mode) and mode not in _SYNC_MODES:
            raise ValueError(f"mode must be one of {_SYNC_MODES}, got {mode!r}")
        if not 1 <= batch_size <= 10:
            raise ValueError(f"batch_size must be 1 to 10 (the V3 API's limit per request), got {batch_size}")
        if max_concurrency is not None and not 1 <= max_concurrency <= 8:
            raise ValueError(f"max_concurrency must be 1 to 8, or None to adapt, got {max_concurrency}")
        if isinstance(quota_reserve, bool) or not isinstance(quota_reserve, int) or quota_reserve < 0:
            raise ValueError(f"quota_reserve must be a number of requests, 0 or more, got {quota_reserve!r}")
        if max_rejected is not None and max_rejected < 0:
            raise ValueError(f"max_rejected must be 0 or more, got {max_rejected}")
        if fetch_size < 1:
            raise ValueError(f"fetch_size must be at least 1, got {fetch_size}")
        _check_retry_budget(retry_budget_s)
        self.contacts = contacts
        self.sql_conn_id = sql_conn_id
        self.sql = sql
        self.parameters = parameters
        self.sql_hook_params = dict(sql_hook_params or {})
        self.field_map = field_map
        self.key_field = key_field
        self.mode = mode
        # Shadows BaseOperator.dry_run(), which nothing in Airflow 3 calls: the argument name is the contract.
        self.dry_run = dry_run  # type: ignore[method-assign,assignment]
        self.max_rejected = max_rejected
        self.report_path = report_path
        self.batch_size = batch_size
        self.max_concurrency = max_concurrency
        self.quota_reserve = quota_reserve
        self.fetch_size = fetch_size
        self.retry_budget_s = retry_budget_s
        self.channel_id = channel_id
        self.create_attributes = create_attributes
        self.bigcommerce_conn_id = bigcommerce_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        """Read the contacts, sync them, log and return the summary."""
        from airflow_bigcommerce.exceptions import BigCommerceError, BigCommerceTransientError
        from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
        from airflow_bigcommerce.models.contact import validate_field_map
        from airflow_bigcommerce.sync.engine import sync_customers
        from airflow_bigcommerce.sync.progress import ProgressReporter
        from airflow_bigcommerce.sync.report import JsonlReportWriter

        if self.mode not in _SYNC_MODES:
            raise ValueError(f"mode must be one of {_SYNC_MODES}, got {self.mode!r}")
        dry_run = _as_bool(self.dry_run, "dry_run")
        field_map = validate_field_map(self.field_map)
        hook = BigCommerceHook(
            bigcommerce_conn_id=self.bigcommerce_conn_id,
            retry_budget_s=self.retry_budget_s,
            max_concurrency=self.max_concurrency,
            quota_reserve=self.quota_reserve,
        )
        hook.settings  # noqa: B018 - fail at task start on a bad connection, before reading any row
        self.bigcommerce_store_hash = hook.store_hash
        rows, total = self._rows()
        with ExitStack() as stack:
            report = None
            if self.report_path:
                report = JsonlReportWriter(stack.enter_context(_open_text(str(self.report_path))))
            result = sync_customers(
                rows,
                hook,
                field_map=field_map,
                mode=self.mode,
                dry_run=dry_run,
                key_field=self.key_field,
                batch_size=self.batch_size,
                max_concurrency=self.max_concurrency,  # None: the hook adapts what is in flight
                report=report,
                progress=ProgressReporter(self.log.info, total=total),
                total=total,
                channel_id=self.channel_id,
                create_attributes=self.create_attributes,
            )
        summary = result.to_dict()
        self.bigcommerce_rows_written = 0 if dry_run else result.created + result.updated
        self.log.info(
            "Sync %s: %s created, %s updated, %s skipped, %s rejected, %s failed of %s rows in %.1f s%s",
            "dry run" if dry_run else "done",
            result.created,
            result.updated,
            result.skipped,
            result.rejected,
            result.failed,
            result.total,
            result.duration_s,
            f"; report at {self.report_path}" if self.report_path else "",
        )
        for part, counts in result.parts.items():
            self.log.info("Part %s: %s", part, ", ".join(f"{n} {outcome}" for outcome, n in counts.items()))
        for rejection in summary.get("rejections", [])[:20]:
            self.log.warning(
                "Rejected row %s (%s): %s", rejection["row"], rejection["email"], rejection["reason"]
            )
        for failure in summary.get("failures", [])[:20]:
            self.log.warning("Failed row %s (%s): %s", failure["row"], failure["email"], failure["reason"])
        if result.failed:
            raise BigCommerceTransientError(_failed_message(result, self.report_path))
        if self.max_rejected is not None and result.rejected > self.max_rejected:
            raise BigCommerceError(
                f"{result.rejected} rows were rejected, more than max_rejected={self.max_rejected}; "
                "every valid row was sent. See the log or the report for the reasons."
            )
        return summary

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Lineage | None:
        """Report the SQL source's tables as inputs (none for XCom contacts) and the store's customers out."""
        from airflow_bigcommerce.lineage import customers_lineage

        return customers_lineage(
            store_hash=self.bigcommerce_store_hash,
            rows_written=self.bigcommerce_rows_written,
            sql_conn_id=self.sql_conn_id if self.sql is not None else None,
            sql=self.sql,
            sql_hook_params=self.sql_hook_params,
        )

    def _rows(self) -> tuple[Iterator[Mapping[str, Any]], int | None]:
        """Return the contact rows and, when cheap to know, how many there are."""
        if self.sql is None:
            contacts = self.contacts
            if isinstance(contacts, Mapping):
                contacts = [contacts]
            if not isinstance(contacts, Sequence) or isinstance(contacts, str | bytes):
                raise ValueError(f"contacts must be a list of dicts, got {type(contacts).__name__}")
            return iter(contacts), len(contacts)
        return self._stream_sql(), None

    def _stream_sql(self) -> Iterator[Mapping[str, Any]]:
        """Yield rows of ``sql`` as dicts, ``fetch_size`` at a time (never the whole result)."""
        from airflow_bigcommerce.compat import BaseHook

        connection = BaseHook.get_connection(str(self.sql_conn_id))
        sql_hook = connection.get_hook(hook_params=self.sql_hook_params)  # type: ignore[no-untyped-call]
        conn = sql_hook.get_conn()
        try:
            cursor = conn.cursor()
            cursor.execute(self.sql, self.parameters or ())
            columns = [str(col[0]) for col in cursor.description or ()]
            while batch := cursor.fetchmany(self.fetch_size):
                for values in batch:
                    yield dict(zip(columns, values, strict=False))
            cursor.close()
        finally:
            conn.close()


def _failed_message(result: SyncResult, report_path: str | None) -> str:
    """Say how many rows failed, the first reasons, and that a retry of the task is safe."""
    reasons = "; ".join(
        f"row {f['row']}: {f['reason']}" for f in result.failures[:FAILURE_REASONS_IN_MESSAGE]
    )
    more = result.failed - min(result.failed, FAILURE_REASONS_IN_MESSAGE)
    return (
        f"{result.failed} of {result.total} rows failed for a transient reason (store unavailable or "
        f"overloaded) and were not delivered: {reasons}{f'; and {more} more' if more else ''}. "
        f"{result.created} created, {result.updated} updated, {result.skipped} skipped, "
        f"{result.rejected} rejected"
        + (f"; every row is in the report at {report_path}" if report_path else "")
        + ". Retrying the task is safe: it re-sends only what is missing and creates nothing twice."
    )


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no", "", "none"}:
        return False
    raise ValueError(f"{name} must be true or false, got {value!r}")


def _open_text(path: str) -> Any:
    """Open a local path or an ObjectStoragePath URL (``s3://``, ``file://``, ...) for writing text."""
    if "://" in path:
        from airflow.sdk import ObjectStoragePath

        target = ObjectStoragePath(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target.open("w")  # type: ignore[no-untyped-call]
    from airflow_bigcommerce.sync.report import open_private

    return open_private(path)
