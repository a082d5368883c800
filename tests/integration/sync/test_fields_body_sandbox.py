"""Form fields, store credit, welcome e-mails, update mode and empty values: the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import jsonschema
import pytest

from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
from airflow_bigcommerce.ledger import MemoryLedger, Scope
from airflow_bigcommerce.sync.engine import run_sync, sync_customers
from airflow_bigcommerce.sync.options import SyncOptions
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration

FIELD_MAP = {
    "email": "email",
    "first": "first_name",
    "last": "last_name",
    "licence": "form_field.License ID",
    "trade": "form_field.Trade type",
    "credit": "store_credit",
}
WRITES = ("create", "update")

# customers.v3.yml, transcribed: customer_Post / customer_Put with the fields this stream sends
# (formFieldValue, CustomerStoredCreditAmounts), every other property by name, and nothing else.
_FORM_FIELD = {
    "type": "object",
    "required": ["name", "value"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "value": {
            "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "array", "items": {"type": "string"}}]
        },
    },
}
_CREDIT = {
    "type": "array",
    "items": {"type": "object", "additionalProperties": False, "properties": {"amount": {"type": "number"}}},
}
_COMMON = {
    "email": {"type": "string", "minLength": 3},
    "first_name": {"type": "string", "minLength": 1, "maxLength": 100},
    "last_name": {"type": "string", "minLength": 1, "maxLength": 100},
    "company": {"type": "string", "minLength": 0, "maxLength": 255},
    "phone": {"type": "string", "minLength": 0, "maxLength": 50},
    "notes": {"type": "string"},
    "tax_exempt_category": {"type": "string", "minLength": 0, "maxLength": 255},
    "customer_group_id": {"type": "integer"},
    "authentication": {"type": "object"},
    "accepts_product_review_abandoned_cart_emails": {"type": "boolean"},
    "store_credit_amounts": _CREDIT,
    "origin_channel_id": {"type": "integer"},
    "channel_ids": {"type": "array", "items": {"type": "integer"}},
    "form_fields": {"type": "array", "items": _FORM_FIELD},
}
CUSTOMER_POST = {
    "type": "object",
    "required": ["email", "first_name", "last_name"],
    "additionalProperties": False,
    "properties": {
        **_COMMON,
        "addresses": {"type": "array", "maxItems": 10},
        "attributes": {"type": "array", "maxItems": 10},
        "trigger_account_created_notification": {"type": "boolean"},
    },
}
CUSTOMER_PUT = {
    "type": "object",
    "required": ["id"],
    "additionalProperties": False,
    "properties": {**_COMMON, "id": {"type": "integer"}, "registration_ip_address": {"type": "string"}},
}


class RecordingHook(BigCommerceHook):
    """The hook, keeping every customer body it sends (to check them against the spec)."""

    posted: list[dict[str, Any]]
    put: list[dict[str, Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.posted, self.put = [], []

    def create_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        self.posted.extend(dict(c) for c in customers)
        return super().create_customers(customers)

    def update_customers(self, customers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        self.put.extend(dict(c) for c in customers)
        return super().update_customers(customers)

    def check_shapes(self) -> None:
        for body in self.posted:
            jsonschema.validate(body, CUSTOMER_POST)
        for body in self.put:
            jsonschema.validate(body, CUSTOMER_PUT)
            assert "trigger_account_created_notification" not in body  # POST only


def contact(i: int, **changes: Any) -> dict[str, Any]:
    row = {
        "id": i,
        "email": f"buyer{i}@example.com",
        "first": "Bu",
        "last": f"Yer{i}",
        "licence": f"L-{i:04d}",
        "trade": "Retail",
        "credit": f"{i}.50",
    }
    return row | changes


def writes(result: Any) -> dict[str, int]:
    return {k: v for k, v in result.requests.items() if k in WRITES and v}


@pytest.fixture
def store(bigcommerce_sandbox: SandboxHandle) -> SandboxHandle:
    bigcommerce_sandbox.store.define_form_fields(["License ID", "Trade type", "Referral"])
    return bigcommerce_sandbox


def stored(email: str) -> dict[str, Any]:
    (found,) = BigCommerceHook().find_customers_by_email(
        [email], include=("formfields", "storecredit", "attributes")
    )
    return found


def form_values(email: str) -> dict[str, Any]:
    return {f["name"]: f["value"] for f in stored(email).get("form_fields") or ()}


def credit(email: str) -> Decimal:
    return sum((Decimal(str(c["amount"])) for c in stored(email)["store_credit_amounts"]), Decimal(0))


def sync(rows: list[dict[str, Any]], hook: BigCommerceHook | None = None, **options: Any) -> Any:
    return sync_customers(
        rows, hook or BigCommerceHook(), field_map=options.pop("field_map", FIELD_MAP), **options
    )


# -- form fields and store credit: first sync, unchanged re-sync, one change ------------------------
def test_first_sync_unchanged_resync_and_one_change(store: SandboxHandle) -> None:
    rows = [contact(i) for i in range(20)]
    hook = RecordingHook()
    first = sync(rows, hook, mode="upsert")
    assert (first.created, first.rejected, first.failed) == (20, 0, 0)
    assert writes(first) == {"create": 2}  # inline with the customers: no request of their own
    assert first.parts["form_fields"] == {"created": 20}
    assert first.parts["store_credit"] == {"created": 20}
    assert form_values("buyer7@example.com") == {"License ID": "L-0007", "Trade type": "Retail"}
    assert credit("buyer7@example.com") == Decimal("7.50")
    assert hook.posted[0]["form_fields"] == [
        {"name": "License ID", "value": "L-0000"},
        {"name": "Trade type", "value": "Retail"},
    ]
    assert hook.posted[0]["store_credit_amounts"] == [{"amount": 0.5}]

    again = sync(rows, hook, mode="upsert")
    assert (again.skipped, again.updated) == (20, 0)
    assert writes(again) == {}
    assert again.parts["form_fields"] == {"unchanged": 20}
    assert again.parts["store_credit"] == {"unchanged": 20}

    changed = [contact(0, trade="Wholesale"), contact(1, credit="99"), *rows[2:]]
    hook.put.clear()
    third = sync(changed, hook, mode="upsert")
    assert (third.updated, third.skipped) == (2, 18)
    assert writes(third) == {"update": 1}  # both in one PUT batch
    assert {(b["id"], tuple(sorted(b))) for b in hook.put} == {
        (stored("buyer0@example.com")["id"], ("form_fields", "id")),
        (stored("buyer1@example.com")["id"], ("id", "store_credit_amounts")),
    }
    assert form_values("buyer0@example.com") == {"License ID": "L-0000", "Trade type": "Wholesale"}
    assert credit("buyer1@example.com") == Decimal("99.00")
    assert credit("buyer0@example.com") == Decimal("0.50")
    assert third.parts["form_fields"] == {"updated": 1, "unchanged": 19}
    assert third.parts["store_credit"] == {"updated": 1, "unchanged": 19}
    hook.check_shapes()


def test_an_update_keeps_the_form_fields_the_crm_does_not_map(store: SandboxHandle) -> None:
    (pre,) = store.store.seed([{"email": "buyer1@example.com", "first_name": "Bu", "last_name": "Yer1"}])
    BigCommerceHook().update_customers(
        [{"id": pre["id"], "form_fields": [{"name": "Referral", "value": "Trade fair"}]}]
    )
    result = sync([contact(1)], mode="upsert")
    assert result.updated == 1
    assert form_values("buyer1@example.com") == {
        "Referral": "Trade fair",
        "License ID": "L-0001",
        "Trade type": "Retail",
    }


def test_a_form_field_the_store_lacks_rejects_the_row_with_the_stores_reason(store: SandboxHandle) -> None:
    field_map = {**FIELD_MAP, "tier": "form_field.Tier"}
    rows = [contact(1, tier="Gold"), contact(2, tier=None)]
    result = sync(rows, field_map=field_map)
    assert (result.created, result.rejected) == (1, 1)
    (rejection,) = result.rejections
    assert rejection["row"] == "1"
    assert "The form field 'Tier' does not exist" in rejection["reason"] and "422" in rejection["reason"]
    assert [c["email"] for c in store.store.all_customers()] == ["buyer2@example.com"]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("-1", "non-negative"),
        ("1.005", "at most 2 decimal places"),
        ("ten", "non-negative"),
        (True, "non-negative"),
    ],
)
def test_a_bad_store_credit_rejects_the_row_naming_the_target(
    store: SandboxHandle, value: Any, why: str
) -> None:
    result = sync([contact(1, credit=value)])
    assert result.rejected == 1 and result.requests.get("create", 0) == 0
    (rejection,) = result.rejections
    assert rejection["reason"].startswith("store_credit: ") and why in rejection["reason"]


# -- insert vs upsert vs update --------------------------------------------------------------------
def _existing(store: SandboxHandle) -> int:
    (pre,) = store.store.seed([{"email": "buyer1@example.com", "first_name": "Bu", "last_name": "Yer1"}])
    BigCommerceHook().update_customers(
        [
            {
                "id": pre["id"],
                "form_fields": [{"name": "License ID", "value": "OLD"}],
                "store_credit_amounts": [{"amount": 3}],
            }
        ]
    )
    return int(pre["id"])


def test_insert_adds_a_missing_form_field_and_changes_nothing_held(store: SandboxHandle) -> None:
    _existing(store)
    result = sync([contact(1), contact(2)], mode="insert")
    assert (result.created, result.updated) == (1, 1)
    assert form_values("buyer1@example.com") == {"License ID": "OLD", "Trade type": "Retail"}
    assert credit("buyer1@example.com") == Decimal("3")
    assert result.parts["store_credit"] == {"created": 1, "skipped": 1}
    assert result.parts["form_fields"] == {"created": 1, "updated": 1}


def test_upsert_sets_the_crms_values(store: SandboxHandle) -> None:
    _existing(store)
    result = sync([contact(1), contact(2)], mode="upsert")
    assert (result.created, result.updated) == (1, 1)
    assert form_values("buyer1@example.com") == {"License ID": "L-0001", "Trade type": "Retail"}
    assert credit("buyer1@example.com") == Decimal("1.50")


def test_update_mode_updates_and_creates_nothing(store: SandboxHandle) -> None:
    cid = _existing(store)
    hook = RecordingHook()
    result = sync([contact(1), contact(2), contact(3)], hook, mode="update", notify_new_customers=True)
    assert (result.created, result.updated, result.skipped) == (0, 1, 2)
    assert writes(result) == {"update": 1}
    assert {r["reason"] for r in [*result.rejections, *result.failures]} == set()
    assert [c["id"] for c in store.store.all_customers()] == [cid]
    assert credit("buyer1@example.com") == Decimal("1.50")
    assert store.store.account_created_emails == 0
    hook.check_shapes()


def test_update_mode_skips_with_the_reason_in_the_report(store: SandboxHandle, tmp_path: Any) -> None:
    from airflow_bigcommerce.sync.report import JsonlReportWriter

    path = tmp_path / "report.jsonl"
    with path.open("w") as out:
        result = sync([contact(5)], mode="update", report=JsonlReportWriter(out))
    assert result.skipped == 1 and store.store.all_customers() == []
    assert "not in the store (update mode creates nothing)" in path.read_text()


def test_update_mode_with_a_ledger_follows_the_crm_key(store: SandboxHandle) -> None:
    ledger = MemoryLedger(Scope("store"))
    fields = {**FIELD_MAP}
    first = run_sync(
        [contact(1)], BigCommerceHook(), SyncOptions(field_map=fields, ledger=ledger, run_id="r1")
    )
    assert first.created == 1
    moved = contact(1, email="new.buyer1@example.com", credit="8")
    new = contact(2)
    second = run_sync(
        [moved, new],
        BigCommerceHook(),
        SyncOptions(field_map=fields, ledger=ledger, run_id="r2", mode="update"),
    )
    assert (second.updated, second.skipped, second.created) == (1, 1, 0)
    assert second.email_changes == 1
    (only,) = store.store.all_customers()
    assert only["email"] == "new.buyer1@example.com"
    assert credit("new.buyer1@example.com") == Decimal("8.00")


# -- welcome e-mails ----------------------------------------------------------------------------------
def test_new_customers_get_the_account_created_email_only_when_asked(store: SandboxHandle) -> None:
    store.store.seed([{"email": "buyer0@example.com", "first_name": "Bu", "last_name": "Yer0"}])
    hook = RecordingHook()
    quiet = sync([contact(1)], hook)
    assert quiet.created == 1 and store.store.account_created_emails == 0
    assert "trigger_account_created_notification" not in hook.posted[0]
    told = sync([contact(i, trade="Trade") for i in range(5)], hook, mode="upsert", notify_new_customers=True)
    assert (told.created, told.updated) == (3, 2)  # 0 and 1 existed: never notified
    assert store.store.account_created_emails == 3
    assert [b.get("trigger_account_created_notification") for b in hook.posted[1:]] == [True] * 3
    hook.check_shapes()


# -- empty values: keep vs clear ------------------------------------------------------------------------
CLEAR_MAP = {
    **FIELD_MAP,
    "company": "company",
    "phone": "phone",
    "notes": "notes",
    "tax": "tax_exempt_category",
    "group": "customer_group",
    "crm_id": "attribute.crm_id",
}


def full(i: int, **changes: Any) -> dict[str, Any]:
    return (
        contact(
            i, company="Acme", phone="555 1234", notes="VIP", tax="B2B", group="Wholesale", crm_id=f"C-{i}"
        )
        | changes
    )


BLANKS = {
    k: "" for k in ("company", "phone", "notes", "tax", "group", "crm_id", "licence", "trade", "credit")
}


@pytest.fixture
def clear_store(store: SandboxHandle) -> SandboxHandle:
    store.store.seed_attributes([{"name": "crm_id", "type": "string"}])
    store.store.seed_groups([{"name": "Wholesale"}])
    return store


def test_keep_leaves_the_stores_values_when_the_crm_is_empty(clear_store: SandboxHandle) -> None:
    assert sync([full(1)], field_map=CLEAR_MAP, mode="upsert").created == 1
    before = stored("buyer1@example.com")
    kept = sync([full(1, **BLANKS)], field_map=CLEAR_MAP, mode="upsert")
    assert kept.skipped == 1 and writes(kept) == {} and kept.requests.get("attribute_values", 0) == 0
    after = stored("buyer1@example.com")
    for name in ("company", "phone", "notes", "tax_exempt_category", "customer_group_id", "form_fields"):
        assert after[name] == before[name]
    assert credit("buyer1@example.com") == Decimal("1.50")


def test_clear_empties_each_optional_value_once(clear_store: SandboxHandle) -> None:
    hook = RecordingHook()
    assert sync([full(1), full(2)], hook, field_map=CLEAR_MAP, mode="upsert").created == 2
    cleared = sync(
        [full(1, **BLANKS), full(2)], hook, field_map=CLEAR_MAP, mode="upsert", empty_values="clear"
    )
    assert (cleared.updated, cleared.skipped) == (1, 1)
    assert writes(cleared) == {"update": 1} and cleared.requests["attribute_values"] == 1
    assert cleared.parts["group"] == {"updated": 1, "unchanged": 1}
    assert cleared.parts["form_fields"] == cleared.parts["store_credit"] == {"updated": 1, "unchanged": 1}
    after = stored("buyer1@example.com")
    assert [after[k] for k in ("company", "phone", "notes", "tax_exempt_category", "customer_group_id")] == [
        "",
        "",
        "",
        "",
        0,
    ]
    assert form_values("buyer1@example.com") == {"License ID": "", "Trade type": ""}
    assert credit("buyer1@example.com") == Decimal(0)
    crm_id = next(a for a in BigCommerceHook().list_customer_attributes() if a["name"] == "crm_id")["id"]
    assert {a["attribute_id"]: a["attribute_value"] for a in after["attributes"]}[crm_id] == ""
    assert stored("buyer2@example.com")["company"] == "Acme"  # its row was full: untouched
    # cleared once: the next run writes nothing
    again = sync([full(1, **BLANKS), full(2)], hook, field_map=CLEAR_MAP, mode="upsert", empty_values="clear")
    assert again.skipped == 2 and writes(again) == {} and again.requests.get("attribute_values", 0) == 0
    hook.check_shapes()


def test_clear_sends_nothing_extra_for_a_new_customer(clear_store: SandboxHandle) -> None:
    hook = RecordingHook()
    made = sync([full(3, **BLANKS)], hook, field_map=CLEAR_MAP, empty_values="clear")
    assert made.created == 1 and writes(made) == {"create": 1}
    (body,) = hook.posted
    assert not {"company", "form_fields", "store_credit_amounts", "attributes", "customer_group_id"} & set(
        body
    )


def test_insert_mode_clears_nothing(clear_store: SandboxHandle) -> None:
    assert sync([full(1)], field_map=CLEAR_MAP).created == 1
    result = sync([full(1, **BLANKS)], field_map=CLEAR_MAP, mode="insert", empty_values="clear")
    assert result.skipped == 1 and writes(result) == {}
    assert stored("buyer1@example.com")["company"] == "Acme"
    assert credit("buyer1@example.com") == Decimal("1.50")


@pytest.mark.parametrize("empty_values", ["keep", "clear"])
@pytest.mark.parametrize(
    ("column", "target"), [("email", "email"), ("first", "first_name"), ("last", "last_name")]
)
def test_an_empty_required_field_rejects_the_row_naming_it(
    clear_store: SandboxHandle, empty_values: str, column: str, target: str
) -> None:
    result = sync([full(1, **{column: "  "})], field_map=CLEAR_MAP, mode="upsert", empty_values=empty_values)
    assert result.rejected == 1 and result.requests.get("create", 0) == 0
    assert result.rejections[0]["reason"] == f"{target}: missing (required)"


ADDRESS_MAP = {
    **CLEAR_MAP,
    "street": "address.address1",
    "town": "address.city",
    "zip": "address.postal_code",
    "state": "address.state_or_province",
    "country": "address.country_code",
}
HOME = {"street": "1 Main St", "town": "Austin", "zip": "78701", "state": "TX", "country": "US"}
NO_ADDRESS = dict.fromkeys(HOME, "")


def _shopper_with_own_address(store: SandboxHandle) -> tuple[int, int]:
    (pre,) = store.store.seed([{"email": "buyer1@example.com", "first_name": "Bu", "last_name": "Yer1"}])
    shopper = {
        "customer_id": pre["id"],
        "first_name": "Bu",
        "last_name": "Yer1",
        "address1": "9 Beach Rd",
        "city": "Miami",
        "state_or_province": "Florida",
        "postal_code": "33101",
        "country_code": "US",
    }
    (own,) = BigCommerceHook().create_addresses([shopper])
    return int(pre["id"]), int(own["id"])


def test_clear_deletes_only_the_syncs_own_address_by_its_id(clear_store: SandboxHandle) -> None:
    cid, own = _shopper_with_own_address(clear_store)
    first = sync([full(1, **HOME)], field_map=ADDRESS_MAP, mode="upsert")
    assert first.parts["address"] == {"created": 1}
    assert len(BigCommerceHook().find_addresses([cid])) == 2
    kept = sync([full(1, **NO_ADDRESS)], field_map=ADDRESS_MAP, mode="upsert")
    assert kept.requests.get("address_delete", 0) == 0 and len(BigCommerceHook().find_addresses([cid])) == 2
    insert = sync([full(1, **NO_ADDRESS)], field_map=ADDRESS_MAP, mode="insert", empty_values="clear")
    assert insert.requests.get("address_delete", 0) == 0 and insert.parts["address"] == {"skipped": 1}
    cleared = sync([full(1, **NO_ADDRESS)], field_map=ADDRESS_MAP, mode="upsert", empty_values="clear")
    assert (cleared.updated, cleared.failed, cleared.rejected) == (1, 0, 0)
    assert cleared.requests["address_delete"] == 1 and cleared.parts["address"] == {"deleted": 1}
    (left,) = BigCommerceHook().find_addresses([cid])
    assert left["id"] == own and left["address1"] == "9 Beach Rd"  # the shopper's own: untouched
    again = sync([full(1, **NO_ADDRESS)], field_map=ADDRESS_MAP, mode="upsert", empty_values="clear")
    assert again.requests.get("address_delete", 0) == 0 and again.parts["address"] == {"unchanged": 1}
    assert [a["id"] for a in BigCommerceHook().find_addresses([cid])] == [own]


def test_clear_never_deletes_a_shoppers_address_the_sync_did_not_record(clear_store: SandboxHandle) -> None:
    cid, own = _shopper_with_own_address(clear_store)
    result = sync([full(1, **NO_ADDRESS)], field_map=ADDRESS_MAP, mode="upsert", empty_values="clear")
    assert result.failed == 0 and result.rejected == 0
    assert result.requests.get("address_delete", 0) == 0 and result.parts["address"] == {"unchanged": 1}
    (address,) = BigCommerceHook().find_addresses([cid])
    assert address["id"] == own and address["address1"] == "9 Beach Rd"


def test_an_address_delete_always_names_its_addresses(clear_store: SandboxHandle) -> None:
    from airflow_bigcommerce.exceptions import BigCommerceConfigError

    for ids in ([], list(range(1, 12))):
        with pytest.raises(BigCommerceConfigError, match="address delete batch holds 1 to 10"):
            BigCommerceHook().delete_addresses(ids)
    requests = clear_store.store.stats()["requests"]
    assert not any(name.startswith("DELETE") for name in requests)


# -- the operator: its arguments reach the sync --------------------------------------------------------
def test_the_operator_updates_only_clears_and_notifies_as_asked(clear_store: SandboxHandle) -> None:
    from airflow_bigcommerce.operators.customers import SyncCustomersOperator

    assert sync([full(1)], field_map=CLEAR_MAP).created == 1

    def run(rows: list[dict[str, Any]], **arguments: Any) -> dict[str, Any]:
        op = SyncCustomersOperator(task_id="sync", contacts=rows, field_map=CLEAR_MAP, **arguments)
        return op.execute(context={})  # type: ignore[arg-type,no-any-return]

    summary = run(
        [full(1, phone=""), full(2)], mode="update", empty_values="clear", notify_new_customers=True
    )
    assert (summary["updated"], summary["skipped"], summary["created"]) == (1, 1, 0)
    assert stored("buyer1@example.com")["phone"] == ""
    assert len(clear_store.store.all_customers()) == 1
    summary = run([full(2)], mode="upsert", notify_new_customers=True)
    assert summary["created"] == 1 and clear_store.store.account_created_emails == 1
    assert summary["parts"]["form_fields"] == {"created": 1}
    assert summary["parts"]["store_credit"] == {"created": 1}
