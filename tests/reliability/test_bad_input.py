"""
Arbitrary CRM rows and operator values: each is sent as a valid payload or refused naming the field.

Extends ``tests/unit/models/test_contact.py`` (``map_contact`` alone) and
``tests/unit/sync/test_engine_properties.py`` (the engine's counting invariant): here every row's
fate is checked against what reached the store, rows need not even be mappings, and the single
customer operator gets the same treatment.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled
from reliability_support import record

import airflow_bigcommerce.hooks.bigcommerce as hook_module
from airflow_bigcommerce.exceptions import BigCommerceConfigError
from airflow_bigcommerce.models.contact import TARGET_FIELDS, map_contact, validate_field_map
from airflow_bigcommerce.models.customer import CustomerV2Create, CustomerV3Create
from airflow_bigcommerce.operators.customers import CreateCustomerOperator
from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.sync.report import JsonlReportWriter
from airflow_bigcommerce.testing.in_process import InProcessStore

pytestmark = pytest.mark.reliability

SECRET = "S3cret-pw-6d1f0a"
NASTY = st.sampled_from(
    [
        "jane@example.com",
        " JANE@example.COM ",
        "Robert'); DROP TABLE customers;--",
        "' OR '1'='1",
        '{"$ne": null}',
        '"},{"email":"evil@example.com"',
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "😀👩‍👩‍👧",
        "\u202eevil\u200b",
        "\x00\x1b[31m\x7f",
        "line\r\nbreak",
        "a@b",
        "@example.com",
        "jane@@example.com",
        "jane@example..com",
        "x" * 5_000,
        "y" * 1_000_000,
        "+1 (555) 123-4567",
        "NaN",
        "",
        "   ",
    ]
)
SCALAR = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.decimals()
    | st.binary(max_size=10)
    | st.text(max_size=60)
    | st.text(alphabet=st.characters(codec="utf-8"), min_size=100, max_size=400)
    | NASTY
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=4,
)
COLUMNS = ["id", "email", "first_name", "last_name", "company", "phone", "notes", "password", "group"]
FIELD_MAP = {
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "phone": "phone",
    "notes": "notes",
    "password": "password",
    "group": "customer_group_id",
}
GOOD_ROW = {"email": "good@example.com", "first_name": "Good", "last_name": "Row"}
ROW = st.one_of(
    st.dictionaries(st.sampled_from(COLUMNS) | st.text(max_size=6), VALUE, max_size=9),
    st.dictionaries(st.sampled_from(COLUMNS), VALUE, max_size=4).map(lambda extra: {**GOOD_ROW, **extra}),
    # A password next to good or bad fields: it may be sent, never echoed in a reason or a report.
    st.dictionaries(st.sampled_from(COLUMNS[1:]), VALUE, max_size=3).map(
        lambda extra: {**GOOD_ROW, "password": SECRET, **{k: v for k, v in extra.items() if k != "password"}}
    ),
    st.builds(
        lambda n, key: {"id": key, "email": f"dup{n}@Example.com", "first_name": "D", "last_name": "Up"},
        st.integers(0, 3),
        st.sampled_from(["same-key", "other", None]),
    ),
    # Not mappings at all: what a badly shaped XCom or CSV reader hands over.
    st.none() | st.integers() | st.text(max_size=10) | st.lists(SCALAR, max_size=3),
)
EXAMPLES = {"engine": 0, "operator": 0}


class RecordingClient(InProcessStore):
    """Remember every payload the engine sends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[dict[str, Any]] = []

    def create_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        self.sent.extend(dict(c) for c in customers)
        return super().create_customers(customers)


@settings(
    max_examples=scaled(300), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(rows=st.lists(ROW, max_size=25), chunk=st.integers(1, 9), concurrency=st.integers(1, 3))
def test_every_row_is_sent_as_a_valid_payload_or_rejected_naming_the_field(
    rows: list[Any], chunk: int, concurrency: int
) -> None:
    EXAMPLES["engine"] += 1
    client = RecordingClient([{"email": "dup0@example.com", "first_name": "In", "last_name": "Store"}])
    buf = io.StringIO()
    result = sync_customers(
        rows,
        client,
        field_map=FIELD_MAP,
        chunk_size=chunk,
        max_concurrency=concurrency,
        report=JsonlReportWriter(buf),
    )
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert len(lines) == len(rows) == result.total
    field_map = validate_field_map(FIELD_MAP)
    sent_by_email = {p["email"].strip().lower(): p for p in client.sent}
    for payload in client.sent:  # whatever reached the store is a payload the model accepts unchanged
        assert CustomerV3Create.model_validate(payload).to_payload() == payload
    for row, line in zip(rows, lines, strict=True):
        if line["outcome"] == "rejected":
            field, _, reason = str(line["reason"]).partition(": ")
            assert field in TARGET_FIELDS | {"row"}, line
            assert reason, line
            assert SECRET not in json.dumps(line)
            if isinstance(row, Mapping):
                with pytest.raises(Exception) as info:
                    map_contact(row, field_map)
                assert str(info.value).startswith(f"{field}: ")
        elif line["outcome"] == "created":
            expected = map_contact(row, field_map)
            assert sent_by_email[expected["email"].strip().lower()] == expected
        else:
            assert line["outcome"] == "skipped", line
            assert str(line["reason"]).startswith(("duplicate of ", "exists in store")), line
    assert SECRET not in json.dumps(result.to_dict())


OPERATOR_FIELDS = (
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
)
AUTH = st.none() | st.fixed_dictionaries(
    {},
    optional={
        "password": VALUE | st.just(SECRET),
        "password_confirmation": VALUE | st.just(SECRET),
        "force_reset": VALUE,
    },
)


class PayloadHook:
    """Stands in for the hook: the payload it gets must be one the V2 model accepts."""

    payloads: list[dict[str, Any]] = []
    store_hash = "abc123"

    def __init__(self, **_: Any) -> None:
        pass

    def create_customer_v2(self, payload: dict[str, Any]) -> dict[str, Any]:
        PayloadHook.payloads.append(payload)
        return {"id": 1, **{k: v for k, v in payload.items() if k != "_authentication"}}

    def find_customer_v2_by_email(self, email: str) -> dict[str, Any] | None:
        return None  # only asked after an unknown outcome, which this stand-in never has

    def confirm_write(self) -> None:
        raise AssertionError("only after an unknown outcome, which this stand-in never has")


@settings(
    max_examples=scaled(300), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(OPERATOR_FIELDS, VALUE)), auth=AUTH)
def test_create_customer_operator_sends_a_valid_payload_or_names_the_field(
    values: dict[str, Any], auth: Any
) -> None:
    EXAMPLES["operator"] += 1
    fields = {"email": "ok@example.com", "first_name": "Ok", "last_name": "Fine", **values}
    PayloadHook.payloads = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hook_module, "BigCommerceHook", PayloadHook)
        operator = CreateCustomerOperator(task_id="create", authentication=auth, **fields)
        try:
            returned = operator.execute(context={})  # type: ignore[arg-type]
        except BigCommerceConfigError as exc:
            message = str(exc)
            assert message.startswith("Invalid customer payload: "), message
            named = set(OPERATOR_FIELDS) | {"_authentication", "authentication", "password"}
            assert any(name in message for name in named), message
            assert SECRET not in message
            assert not PayloadHook.payloads
            return
    (payload,) = PayloadHook.payloads
    model = CustomerV2Create.model_validate(payload)
    assert model.to_payload() == payload
    assert SECRET not in json.dumps(returned)


def test_zz_record_hypothesis_examples() -> None:
    record("hypothesis examples", **EXAMPLES)
    assert EXAMPLES["engine"] >= 100
    assert EXAMPLES["operator"] >= 100
