"""CreateCustomerOperator without a store: templating, validation before HTTP, masking, outcomes."""

from __future__ import annotations

from typing import Any

import pytest

import airflow_bigcommerce.hooks.bigcommerce as hook_module
from airflow_bigcommerce.exceptions import (
    BigCommerceConfigError,
    BigCommerceDuplicateCustomerError,
    BigCommerceError,
    BigCommerceOutcomeUnknownError,
    BigCommerceTransientError,
    BigCommerceUnavailableError,
)
from airflow_bigcommerce.operators.customers import CreateCustomerOperator

PASSWORD = "Pw-unit-9c1e-Secret!"


class FakeHook:
    """Records calls; ``script`` says what each create does."""

    instances: list[FakeHook] = []
    shared_store: dict[str, dict[str, Any]] = {}

    store_hash = "abc123"

    def __init__(self, bigcommerce_conn_id: str = "bigcommerce_default", **_: Any) -> None:
        self.conn_id = bigcommerce_conn_id
        self.created: list[dict[str, Any]] = []
        self.store = FakeHook.shared_store
        self.script: list[str] = []
        self.lookups = 0
        self.confirmed = 0
        self.kwargs = _
        FakeHook.instances.append(self)

    def create_customer_v2(self, payload: dict[str, Any]) -> dict[str, Any]:
        step = self.script.pop(0) if self.script else "ok"
        key = payload["email"].lower()
        if step == "unknown_before":
            raise BigCommerceOutcomeUnknownError("timeout", method="POST", path="v2/customers")
        if step == "signup_meanwhile":  # our send is lost; the shopper signs up on the storefront
            self.store[key] = {"id": 99, "email": key, "first_name": "Storefront", "last_name": "Signup"}
            raise BigCommerceOutcomeUnknownError("timeout", method="POST", path="v2/customers")
        if step == "unavailable":
            raise BigCommerceUnavailableError(
                "POST v2/customers: store writes kept failing (503) for 300 s, "
                "beyond the retry budget of 300 s"
            )
        if key in self.store:
            raise BigCommerceDuplicateCustomerError(status=409, method="POST", path="v2/customers")
        customer = {k: v for k, v in payload.items() if k != "_authentication"} | {"id": len(self.store) + 1}
        self.store[key] = customer
        self.created.append(payload)
        if step == "unknown_after":
            raise BigCommerceOutcomeUnknownError("dropped", method="POST", path="v2/customers")
        return dict(customer)

    def confirm_write(self) -> None:
        self.confirmed += 1

    def find_customer_v2_by_email(self, email: str) -> dict[str, Any] | None:
        self.lookups += 1
        found = self.store.get(email.strip().lower())
        return dict(found) if found else None


@pytest.fixture
def fake_hook(monkeypatch: pytest.MonkeyPatch) -> type[FakeHook]:
    FakeHook.instances = []
    FakeHook.shared_store = {}
    monkeypatch.setattr(hook_module, "BigCommerceHook", FakeHook)
    return FakeHook


def make_op(**overrides: Any) -> CreateCustomerOperator:
    fields: dict[str, Any] = {
        "task_id": "create",
        "email": "Ada@Example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
    }
    return CreateCustomerOperator(**(fields | overrides))


def run(op: CreateCustomerOperator, hook_setup: Any = None) -> dict[str, Any]:
    return op.execute(context={})  # type: ignore[arg-type]


def test_every_payload_field_is_templated() -> None:
    expected = {
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
        # api_version="v3" only
        "addresses",
        "attributes",
        "customer_group",
        "channel_ids",
        "origin_channel_id",
        "trigger_account_created_notification",
        "accepts_product_review_abandoned_cart_emails",
        "form_fields",
        # where to, as on SyncCustomersOperator (a DAG may pick the store per run)
        "bigcommerce_conn_id",
    }
    assert set(CreateCustomerOperator.template_fields) == expected


def test_templates_render_into_every_field() -> None:
    op = make_op(
        email="{{ params.user }}@example.com",
        first_name="{{ params.first }}",
        last_name="{{ params.last }}",
        company="{{ params.first }} Ltd",
        phone="+1 {{ params.n }}",
        notes="run {{ run_id }}",
        customer_group_id="{{ params.n }}",
        store_credit="{{ params.n }}.50",
        tax_exempt_category="{{ params.first[0] }}",
        registration_ip_address="127.0.0.{{ params.n }}",
        authentication={"password": "{{ params.pw }}", "password_confirmation": "{{ params.pw }}"},
    )
    context = {"params": {"user": "ada", "first": "Ada", "last": "L", "n": 3, "pw": PASSWORD}, "run_id": "r1"}
    op.render_template_fields(context)  # type: ignore[arg-type]
    assert op.email == "ada@example.com"
    assert (op.first_name, op.last_name, op.company) == ("Ada", "L", "Ada Ltd")
    assert (op.phone, op.notes, op.customer_group_id) == ("+1 3", "run r1", "3")
    assert (op.store_credit, op.tax_exempt_category, op.registration_ip_address) == ("3.50", "A", "127.0.0.3")
    assert op.authentication == {"password": PASSWORD, "password_confirmation": PASSWORD}


def test_rendered_passwords_are_masked() -> None:
    try:
        from airflow.sdk._shared.secrets_masker import redact
    except ImportError:  # Airflow < 3.2: the masker the Task SDK's mask_secret registers with
        from airflow.sdk.execution_time.secrets_masker import redact

    op = make_op(authentication={"password": "{{ params.pw }}", "password_confirmation": "{{ params.pw }}"})
    op.render_template_fields({"params": {"pw": PASSWORD}})  # type: ignore[arg-type]
    assert PASSWORD not in str(redact(f"the password is {PASSWORD}"))
    assert PASSWORD not in str(redact(op.authentication))


def test_bad_if_exists_fails_at_parse() -> None:
    with pytest.raises(ValueError, match="if_exists"):
        make_op(if_exists="overwrite")


def test_creates_and_returns_customer_without_secrets(fake_hook: type[FakeHook]) -> None:
    op = make_op(
        authentication={"password": PASSWORD, "password_confirmation": PASSWORD, "force_reset": True}
    )
    result = run(op)
    hook = fake_hook.instances[0]
    assert result["id"] == 1
    assert result["email"] == "Ada@Example.com"
    assert PASSWORD not in repr(result)
    sent = hook.created[0]
    assert sent["_authentication"]["password"] == PASSWORD
    assert sent["_authentication"]["force_reset"] is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"first_name": ""}, "first_name"),
        ({"last_name": "x" * 101}, "last_name"),
        (
            {"authentication": {"password": PASSWORD, "password_confirmation": "other"}},
            "password_confirmation",
        ),
        ({"customer_group_id": "abc"}, "customer_group_id"),
    ],
)
def test_invalid_payload_fails_before_any_http_call(
    fake_hook: type[FakeHook], overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(BigCommerceConfigError, match=field) as info:
        run(make_op(**overrides))
    assert fake_hook.instances == []
    assert PASSWORD not in str(info.value)


def test_duplicate_fails_by_default_with_a_clear_message(fake_hook: type[FakeHook]) -> None:
    run(make_op())
    with pytest.raises(BigCommerceDuplicateCustomerError, match=r"already exists \(id 1\).*if_exists='skip'"):
        run(make_op(email="ada@example.com"))


def test_duplicate_skipped_returns_existing(fake_hook: type[FakeHook]) -> None:
    first = run(make_op())
    again = run(make_op(email=" ADA@example.com ", if_exists="skip"))
    assert again == first
    assert len(FakeHook.shared_store) == 1


def test_unknown_outcome_after_commit_is_resolved_by_lookup(
    fake_hook: type[FakeHook], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeHook, "__init__", _scripted_init(["unknown_after"]))
    result = run(make_op())
    hook = fake_hook.instances[0]
    assert result["id"] == 1
    assert len(hook.created) == 1  # not sent twice
    assert hook.lookups == 1
    assert hook.confirmed == 1  # the landed write tells the outage policy that writes work


def test_unknown_outcome_before_commit_is_sent_again(
    fake_hook: type[FakeHook], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeHook, "__init__", _scripted_init(["unknown_before"]))
    result = run(make_op())
    hook = fake_hook.instances[0]
    assert result["id"] == 1
    assert len(hook.created) == 1
    assert hook.lookups == 1


def test_unknown_outcome_every_time_fails_without_duplicates(
    fake_hook: type[FakeHook], monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = CreateCustomerOperator.max_unknown_outcomes
    monkeypatch.setattr(FakeHook, "__init__", _scripted_init(["unknown_before"] * attempts))
    with pytest.raises(BigCommerceError, match="no definite answer"):
        run(make_op())
    assert fake_hook.instances[0].created == []
    assert fake_hook.instances[0].lookups == attempts


def test_outage_beyond_the_budget_fails_as_transient_and_says_a_retry_is_safe(
    fake_hook: type[FakeHook], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeHook, "__init__", _scripted_init(["unknown_before", "unavailable"]))
    with pytest.raises(BigCommerceTransientError) as info:
        run(make_op(retry_budget_s=45))
    message = str(info.value)
    assert "Ada@Example.com was not created" in message
    assert "retry budget" in message
    assert "Retrying the task is safe" in message
    hook = fake_hook.instances[0]
    assert hook.created == []
    assert hook.kwargs["retry_budget_s"] == 45


def test_retry_budget_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="retry_budget_s"):
        make_op(retry_budget_s=-1)


def _scripted_init(script: list[str]) -> Any:
    original = FakeHook.__init__

    def init(self: FakeHook, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.script = list(script)

    return init


def test_a_signup_found_after_an_unknown_outcome_is_not_claimed_as_created(
    fake_hook: type[FakeHook], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeHook, "__init__", _scripted_init(["signup_meanwhile"]))
    with pytest.raises(BigCommerceDuplicateCustomerError, match=r"already exists \(id 99\)"):
        run(make_op())
    assert fake_hook.instances[0].created == []
    assert fake_hook.instances[0].confirmed == 0  # not our write: nothing proves writes work


def test_a_signup_found_after_an_unknown_outcome_is_returned_as_existing_with_skip(
    fake_hook: type[FakeHook], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeHook, "__init__", _scripted_init(["signup_meanwhile"]))
    op = make_op(if_exists="skip")
    result = run(op)
    assert (result["id"], result["first_name"]) == (99, "Storefront")
    assert op.bigcommerce_rows_written == 0  # lineage: this task created nothing
