"""CreateCustomerOperator(api_version="v3") without a store: mapping, checks before HTTP, outcomes."""

from __future__ import annotations

import json
from typing import Any

import pytest

import airflow_bigcommerce.hooks.bigcommerce as hook_module
from airflow_bigcommerce.exceptions import (
    BigCommerceAPIError,
    BigCommerceConfigError,
    BigCommerceDuplicateCustomerError,
    BigCommerceOutcomeUnknownError,
)
from airflow_bigcommerce.operators.customers import CreateCustomerOperator

PASSWORD = "Pw-unit-v3-4d2c-Secret!"
ADDRESS = {
    "address1": "1 Main St",
    "city": "Austin",
    "country_code": "US",
    "state_or_province": "Texas",
    "postal_code": "78701",
}
ATTRIBUTES = [{"id": 3, "name": "crm_id", "type": "string"}, {"id": 4, "name": "points", "type": "number"}]
GROUPS = [{"id": 1, "name": "Retail"}, {"id": 7, "name": "Wholesale"}]


class FakeV3Hook:
    """An in-memory store for the V3 calls; ``script`` says what each create does."""

    instances: list[FakeV3Hook] = []
    store_hash = "abc123"
    groups_status: int | None = None  # a status makes list_customer_groups fail (a plan without groups)

    def __init__(self, bigcommerce_conn_id: str = "bigcommerce_default", **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.customers: list[dict[str, Any]] = []
        self.sent: list[list[dict[str, Any]]] = []
        self.calls: list[str] = []
        self.script: list[str] = []
        self.confirmed = 0
        self.channel_settings = {1: True}
        FakeV3Hook.instances.append(self)

    def find_customers_by_email(
        self, emails: list[str], include: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        self.calls.append(f"find include={','.join(include)}")
        keys = {e.strip().lower() for e in emails}
        return [dict(c) for c in self.customers if c["email"].lower() in keys]

    def get_channel_settings(self, channel_id: int) -> dict[str, Any]:
        self.calls.append(f"channel {channel_id}")
        return {"allow_global_logins": self.channel_settings.get(channel_id, False)}

    def list_customer_attributes(self) -> list[dict[str, Any]]:
        self.calls.append("attributes")
        return list(ATTRIBUTES)

    def list_customer_groups(self) -> list[dict[str, Any]]:
        self.calls.append("groups")
        if self.groups_status:
            raise BigCommerceAPIError(status=self.groups_status, method="GET", path="v2/customer_groups")
        return list(GROUPS)

    def create_customers(self, customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.calls.append("create")
        step = self.script.pop(0) if self.script else "ok"
        if step == "unknown_before":
            raise BigCommerceOutcomeUnknownError("timeout", method="POST", path="v3/customers")
        if step == "duplicate":
            self._store(customers[0] | {"first_name": "Someone"})
            raise BigCommerceDuplicateCustomerError(status=422, method="POST", path="v3/customers")
        self.sent.append(customers)
        stored = self._store(customers[0])
        if step == "unknown_after":
            raise BigCommerceOutcomeUnknownError("dropped", method="POST", path="v3/customers")
        return [dict(stored)]

    def _store(self, payload: dict[str, Any]) -> dict[str, Any]:
        auth = payload.get("authentication") or {}
        customer = {
            k: v
            for k, v in payload.items()
            if k not in ("authentication", "trigger_account_created_notification")
        }
        customer |= {"id": len(self.customers) + 1, "channel_ids": payload.get("channel_ids")}
        customer["authentication"] = {"force_password_reset": bool(auth.get("force_password_reset"))}
        self.customers.append(customer)
        return customer

    def confirm_write(self) -> None:
        self.confirmed += 1


@pytest.fixture
def fake_hook(monkeypatch: pytest.MonkeyPatch) -> type[FakeV3Hook]:
    FakeV3Hook.instances = []
    FakeV3Hook.groups_status = None
    monkeypatch.setattr(hook_module, "BigCommerceHook", FakeV3Hook)
    return FakeV3Hook


def make_op(**overrides: Any) -> CreateCustomerOperator:
    fields: dict[str, Any] = {
        "task_id": "create",
        "api_version": "v3",
        "email": "Ada@Example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
    }
    return CreateCustomerOperator(**(fields | overrides))


def run(op: CreateCustomerOperator, script: list[str] | None = None, setup: Any = None) -> dict[str, Any]:
    original = FakeV3Hook.__init__

    def init(self: FakeV3Hook, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.script = list(script or [])
        if setup:
            setup(self)

    FakeV3Hook.__init__ = init  # type: ignore[method-assign]
    try:
        return op.execute(context={})  # type: ignore[arg-type]
    finally:
        FakeV3Hook.__init__ = original  # type: ignore[method-assign]


def sent(fake: type[FakeV3Hook]) -> dict[str, Any]:
    ((payload,),) = fake.instances[0].sent
    return payload


# -- parse time --------------------------------------------------------------------------------------
def test_v2_stays_the_default_and_refuses_v3_arguments() -> None:
    op = CreateCustomerOperator(task_id="c", email="a@example.com", first_name="A", last_name="B")
    assert op.api_version == "v2"
    assert op.trigger_account_created_notification is False
    with pytest.raises(ValueError, match=r"addresses, customer_group: only with api_version='v3'"):
        CreateCustomerOperator(
            task_id="c",
            email="a@example.com",
            first_name="A",
            last_name="B",
            addresses=[ADDRESS],
            customer_group="X",
        )
    with pytest.raises(ValueError, match="trigger_account_created_notification: only with api_version='v3'"):
        CreateCustomerOperator(
            task_id="c",
            email="a@example.com",
            first_name="A",
            last_name="B",
            trigger_account_created_notification=True,
        )


def test_unknown_api_version_is_refused() -> None:
    with pytest.raises(ValueError, match=r"api_version must be one of \('v2', 'v3'\), got 'v4'"):
        make_op(api_version="v4")


def test_v3_refuses_what_customer_post_lacks_and_both_group_forms() -> None:
    with pytest.raises(ValueError, match="registration_ip_address: V3 customer_Post has no such field"):
        make_op(registration_ip_address="10.0.0.1")
    with pytest.raises(ValueError, match="customer_group .* or customer_group_id, not both"):
        make_op(customer_group="Wholesale", customer_group_id=7)


# -- payload mapping ---------------------------------------------------------------------------------
def test_full_v3_payload_with_names_resolved_to_ids(fake_hook: type[FakeV3Hook]) -> None:
    result = run(
        make_op(
            company="Analytical",
            addresses=[ADDRESS | {"first_name": "Augusta"}],
            attributes={"crm_id": "C-17", "points": 120},
            customer_group="wholesale",
            channel_ids=[1, 2],
            origin_channel_id=2,
            store_credit="10.50",
            accepts_product_review_abandoned_cart_emails=True,
            authentication={"password": PASSWORD, "password_confirmation": PASSWORD, "force_reset": True},
        )
    )
    payload = sent(fake_hook)
    assert payload["addresses"] == [
        {
            "first_name": "Augusta",
            "last_name": "Lovelace",
            "company": "",
            "address1": "1 Main St",
            "address2": "",
            "city": "Austin",
            "state_or_province": "Texas",
            "postal_code": "78701",
            "country_code": "US",
            "phone": "",
            "address_type": "residential",
        }
    ]
    assert payload["attributes"] == [
        {"attribute_id": 3, "attribute_value": "C-17"},
        {"attribute_id": 4, "attribute_value": "120"},
    ]
    assert payload["customer_group_id"] == 7
    assert (payload["channel_ids"], payload["origin_channel_id"]) == ([1, 2], 2)
    assert payload["store_credit_amounts"] == [{"amount": 10.5}]
    assert payload["accepts_product_review_abandoned_cart_emails"] is True
    assert payload["authentication"] == {"new_password": PASSWORD, "force_password_reset": True}
    assert payload["trigger_account_created_notification"] is False
    assert "_authentication" not in payload
    assert "registration_ip_address" not in payload
    calls = fake_hook.instances[0].calls
    assert calls == ["find include=addresses,attributes", "attributes", "groups", "create"]
    assert result["id"] == 1
    assert "authentication" not in result
    assert PASSWORD not in json.dumps(result)


def test_minimal_payload_reads_nothing_but_the_lookup(fake_hook: type[FakeV3Hook]) -> None:
    run(make_op())
    assert sent(fake_hook) == {
        "email": "Ada@Example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "trigger_account_created_notification": False,
    }
    assert fake_hook.instances[0].calls == ["find include=addresses,attributes", "create"]


@pytest.mark.parametrize("flag", [True, "true"])
def test_welcome_email_only_when_asked(fake_hook: type[FakeV3Hook], flag: Any) -> None:
    run(make_op(trigger_account_created_notification=flag))
    assert sent(fake_hook)["trigger_account_created_notification"] is True


def test_form_fields_are_sent_as_name_value_pairs(fake_hook: type[FakeV3Hook]) -> None:
    run(make_op(form_fields={"License ID": " L-17 ", "Employees": 12, "Referral": "  "}))
    assert sent(fake_hook)["form_fields"] == [
        {"name": "License ID", "value": "L-17"},
        {"name": "Employees", "value": "12"},
    ]
    assert fake_hook.instances[0].calls == ["find include=addresses,attributes", "create"]


def test_form_fields_are_v3_only_and_checked_before_any_request() -> None:
    with pytest.raises(ValueError, match="form_fields: only with api_version='v3'"):
        CreateCustomerOperator(
            task_id="t", email="a@example.com", first_name="A", last_name="B", form_fields={"X": "y"}
        )
    for bad, said in (
        (["License ID"], "form_fields must be a mapping"),
        ({"License ID": ["a"]}, "form_fields.License ID: must be text"),
        ({" ": "x"}, "each name must be a form field's name"),
    ):
        with pytest.raises(BigCommerceConfigError, match=said):
            make_op(form_fields=bad).execute(context={})  # type: ignore[arg-type]


def test_group_id_keeps_working(fake_hook: type[FakeV3Hook]) -> None:
    run(make_op(customer_group_id="7"))
    assert sent(fake_hook)["customer_group_id"] == 7
    assert "groups" not in fake_hook.instances[0].calls


# -- checks before any request / before any write ------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"addresses": [ADDRESS, ADDRESS | {"city": None}]}, "address 1, field 'city': missing"),
        ({"addresses": [ADDRESS | {"state_or_province": "ZZ"}]}, "address 0, field 'state_or_province'"),
        ({"addresses": [ADDRESS] * 11}, "at most 10"),
        ({"attributes": {"crm_id": ["a"]}}, "attribute 'crm_id': must be text"),
        ({"channel_ids": []}, "field 'channel_ids'"),
        ({"origin_channel_id": "main"}, "field 'origin_channel_id'"),
        ({"origin_channel_id": 0}, "field 'origin_channel_id'"),  # refused, not dropped
        ({"store_credit": "lots"}, "store_credit: must be"),
        ({"email": "not-an-email"}, "field 'email'"),
        (
            {"authentication": {"password": PASSWORD, "password_confirmation": "other"}},
            "field 'authentication.password_confirmation': does not match",
        ),
        ({"accepts_product_review_abandoned_cart_emails": "perhaps"}, "must be true or false"),
    ],
)
def test_invalid_arguments_fail_before_any_request(
    fake_hook: type[FakeV3Hook], overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(BigCommerceConfigError, match=message) as info:
        run(make_op(**overrides))
    assert isinstance(info.value, ValueError)
    assert fake_hook.instances == []
    assert PASSWORD not in str(info.value)


def test_unknown_attribute_fails_before_any_write_listing_the_names(fake_hook: type[FakeV3Hook]) -> None:
    with pytest.raises(
        BigCommerceConfigError, match=r"Unknown customer attribute 'tier'.*'crm_id', 'points'"
    ):
        run(make_op(attributes={"tier": "gold"}))
    assert "create" not in fake_hook.instances[0].calls


def test_unknown_group_fails_naming_it(fake_hook: type[FakeV3Hook]) -> None:
    with pytest.raises(BigCommerceConfigError, match="Unknown customer group 'VIP'.*'Retail', 'Wholesale'"):
        run(make_op(customer_group="VIP"))
    assert "create" not in fake_hook.instances[0].calls


@pytest.mark.parametrize("status", [403, 404])
def test_plan_without_groups_fails_saying_so(fake_hook: type[FakeV3Hook], status: int) -> None:
    fake_hook.groups_status = status
    with pytest.raises(BigCommerceConfigError, match="plan has no customer groups"):
        run(make_op(customer_group="Wholesale"))
    assert "create" not in fake_hook.instances[0].calls


def test_other_group_errors_are_not_disguised(fake_hook: type[FakeV3Hook]) -> None:
    fake_hook.groups_status = 401
    with pytest.raises(BigCommerceAPIError) as info:
        run(make_op(customer_group="Wholesale"))
    assert not isinstance(info.value, BigCommerceConfigError)


# -- exactly once ------------------------------------------------------------------------------------
def _existing(hook: FakeV3Hook) -> None:
    hook.customers.append({"id": 41, "email": "ada@example.com", "channel_ids": None, "addresses": []})


def test_existing_email_fails_by_default_without_a_write(fake_hook: type[FakeV3Hook]) -> None:
    with pytest.raises(
        BigCommerceDuplicateCustomerError, match=r"already exists \(id 41\).*if_exists='skip'"
    ):
        run(make_op(), setup=_existing)
    assert "create" not in fake_hook.instances[0].calls


def test_existing_email_skipped_returns_it(fake_hook: type[FakeV3Hook]) -> None:
    result = run(make_op(if_exists="skip"), setup=_existing)
    assert result["id"] == 41
    assert "create" not in fake_hook.instances[0].calls


def test_customer_on_another_channel_is_not_the_same_login(fake_hook: type[FakeV3Hook]) -> None:
    def other_channel(hook: FakeV3Hook) -> None:
        hook.customers.append({"id": 41, "email": "ada@example.com", "channel_ids": [2]})

    result = run(make_op(channel_ids=[3]), setup=other_channel)
    assert result["id"] == 2
    with pytest.raises(BigCommerceDuplicateCustomerError):
        run(make_op(channel_ids=[2, 3]), setup=other_channel)
    # A global customer shares a login with channel 1 (global logins on), not with channel 3.
    with pytest.raises(BigCommerceDuplicateCustomerError):
        run(make_op(channel_ids=[1]), setup=_existing)
    assert run(make_op(channel_ids=[3]), setup=_existing)["id"] == 2


def test_duplicate_race_between_lookup_and_create(fake_hook: type[FakeV3Hook]) -> None:
    with pytest.raises(BigCommerceDuplicateCustomerError, match="already exists"):
        run(make_op(), script=["duplicate"])
    result = run(make_op(if_exists="skip"), script=["duplicate"])
    assert result["first_name"] == "Someone"


def test_unknown_outcome_after_commit_is_resolved_by_lookup(fake_hook: type[FakeV3Hook]) -> None:
    result = run(make_op(authentication={"password": PASSWORD}), script=["unknown_after"])
    hook = fake_hook.instances[0]
    assert result["id"] == 1
    assert len(hook.sent) == 1
    assert hook.calls == ["find include=addresses,attributes", "create", "find include=addresses,attributes"]
    assert hook.confirmed == 1
    assert PASSWORD not in json.dumps(result)


def test_unknown_outcome_before_commit_is_sent_again_once(fake_hook: type[FakeV3Hook]) -> None:
    result = run(make_op(), script=["unknown_before"])
    hook = fake_hook.instances[0]
    assert result["id"] == 1
    assert len(hook.sent) == 1
    assert hook.calls.count("create") == 2


def test_retry_budget_reaches_the_hook(fake_hook: type[FakeV3Hook]) -> None:
    run(make_op(retry_budget_s=30))
    assert fake_hook.instances[0].kwargs["retry_budget_s"] == 30


def test_rendered_v3_fields(fake_hook: type[FakeV3Hook]) -> None:
    op = make_op(
        addresses=[
            {
                "address1": "{{ params.street }}",
                "city": "Austin",
                "country_code": "US",
                "postal_code": "78701",
                "state_or_province": "TX",
            }
        ],
        attributes={"crm_id": "{{ params.crm }}"},
        customer_group="{{ params.group }}",
        authentication={"password": "{{ params.pw }}"},
    )
    op.render_template_fields(
        {"params": {"street": "2 Elm St", "crm": "C-9", "group": "Retail", "pw": PASSWORD}}
    )  # type: ignore[arg-type]
    run(op)
    payload = sent(fake_hook)
    assert payload["addresses"][0]["address1"] == "2 Elm St"
    assert payload["attributes"] == [{"attribute_id": 3, "attribute_value": "C-9"}]
    assert payload["customer_group_id"] == 1
    try:
        from airflow.sdk._shared.secrets_masker import redact
    except ImportError:  # Airflow < 3.2
        from airflow.sdk.execution_time.secrets_masker import redact
    assert PASSWORD not in str(redact(op.authentication))
