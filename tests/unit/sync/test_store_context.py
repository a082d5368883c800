"""The one rule for names, and the one create-once loop, shared by the sync and CreateCustomerOperator."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_bigcommerce.models.contact import validate_field_map
from airflow_bigcommerce.models.store_names import attribute_items, customer_group_id_for
from airflow_bigcommerce.sync.client import OutcomeUnknownError, RequestRejectedError
from airflow_bigcommerce.sync.create_once import MAX_UNKNOWN_SENDS, Settled, create_once
from airflow_bigcommerce.sync.outcome import Kind, Status
from airflow_bigcommerce.sync.prepare import RowPreparer
from airflow_bigcommerce.sync.rows import Line
from airflow_bigcommerce.sync.store_context import (
    AmbiguousNameError,
    StoreContext,
    id_for,
    ids_by_name,
    name_key,
    shares_login,
)

GROUPS = [{"id": 3, "name": "Whole  Sale"}, {"id": 7, "name": "VIP"}, {"id": 4, "name": " whole sale "}]


def test_the_rule_for_names_trims_collapses_and_ignores_case() -> None:
    assert name_key("  Whole \t SALE ") == name_key("whole sale") == "whole sale"
    assert name_key("Wholesale") != name_key("whole sale")
    index = ids_by_name(GROUPS)
    assert id_for("customer group", "vip ", index) == 7
    assert id_for("customer group", "Gold", index) is None
    with pytest.raises(AmbiguousNameError, match="groups 3, 4 have it") as info:
        id_for("customer group", "WHOLE SALE", index)
    assert info.value.ids == (3, 4)


def test_the_single_operator_and_the_sync_apply_the_same_rule() -> None:
    # the single operator: the same name matches, and two matching groups fail naming both ids
    assert customer_group_id_for("  vip", GROUPS) == 7
    with pytest.raises(ValueError, match=r"ambiguous: groups 3, 4 have it; use customer_group_id"):
        customer_group_id_for("whole sale", GROUPS)
    attributes = [{"id": 1, "name": "Loyalty  Tier", "type": "string"}, {"id": 2, "name": "crm id"}]
    assert attribute_items({"loyalty tier": "gold"}, attributes) == [
        {"attribute_id": 1, "attribute_value": "gold"}
    ]
    with pytest.raises(ValueError, match="attributes 1, 5 have it"):
        attribute_items({"loyalty tier": "gold"}, [*attributes, {"id": 5, "name": "LOYALTY TIER"}])
    # the sync: the same name resolves, and an ambiguous one rejects the row naming both ids
    context = StoreContext(group_ids=ids_by_name(GROUPS), group_names=("VIP", "Whole Sale", "whole sale"))
    field_map = {"e": "email", "f": "first_name", "l": "last_name", "g": "customer_group"}
    prepare = RowPreparer(validate_field_map(field_map), None, context)
    ok = prepare(1, {"e": "a@example.com", "f": "A", "l": "B", "g": " Vip "})
    assert not isinstance(ok, Line) and ok.target["customer_group_id"] == 7
    line = prepare(2, {"e": "b@example.com", "f": "A", "l": "B", "g": "WHOLE sale"})
    assert isinstance(line, Line) and line.outcome is Status.REJECTED
    # the store's state, not the row's data: renaming a group in the store lets the row through (a
    # ledger retries it), as does creating a group the store lacks
    assert line.reason is not None and line.reason.kind is Kind.STORE
    assert "groups 3, 4 have it" in line.reason.text and line.reason.text.startswith("customer_group: ")
    missing = prepare(3, {"e": "c@example.com", "f": "A", "l": "B", "g": "Partner"})
    assert isinstance(missing, Line) and missing.reason is not None and missing.reason.kind is Kind.STORE
    assert missing.reason.field == "customer_group" and "no group of that name" in missing.reason.text


@pytest.mark.parametrize(
    ("ours", "theirs", "global_logins", "clash"),
    [
        (None, None, False, True),
        (None, [2], True, True),
        (None, [2], False, False),
        ([1], [1, 2], False, True),
    ],
)
def test_the_login_rule(ours: Any, theirs: Any, global_logins: bool, clash: bool) -> None:
    assert shares_login(ours, theirs, lambda _: global_logins) is clash
    if ours is not None:
        context = StoreContext(channel_id=ours[0], global_logins=global_logins)
        assert context.on_channel({"channel_ids": theirs}) is clash


class Store:
    """One record's create calls, scripted: ``unknown`` (lost, maybe written), ``refused`` (in use)."""

    def __init__(self, script: list[str], *, holder: dict[str, Any] | None = None) -> None:
        self.script = script
        self.record = holder
        self.sends = self.lookups = self.confirmed = 0

    def create(self) -> dict[str, Any]:
        self.sends += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "refused":
            raise RequestRejectedError("in use", status=409)
        self.record = self.record or {"id": 1, "name": "ours"}
        if step == "lost":  # written, answer lost
            raise OutcomeUnknownError("dropped")
        if step == "unknown":  # not written
            self.record = None
            raise OutcomeUnknownError("timeout")
        return self.record

    def find(self) -> dict[str, Any] | None:
        self.lookups += 1
        return self.record

    def run(self, **kwargs: Any) -> Any:
        def confirm() -> None:
            self.confirmed += 1

        in_use = lambda exc: exc.status == 409  # noqa: E731
        return create_once(self.create, self.find, in_use=in_use, confirm=confirm, **kwargs)


def test_create_once_looks_up_before_every_resend_and_claims_only_what_it_may_have_written() -> None:
    lost = Store(["lost"])
    assert lost.run().settled is Settled.CREATED and (lost.sends, lost.lookups, lost.confirmed) == (1, 1, 1)
    resent = Store(["unknown", "unknown"])
    assert resent.run().settled is Settled.CREATED and (resent.sends, resent.lookups) == (3, 2)
    # a definitive refusal: the found record is someone else's, whatever it holds
    other = Store(["refused"], holder={"id": 9})
    result = other.run()
    assert (result.settled, result.record, other.confirmed) == (Settled.EXISTS, {"id": 9}, 0)
    assert result.refusal is not None and result.refusal.status == 409
    # a sign-up meanwhile: found after an unknown outcome, but not holding what was sent
    signup = Store(["unknown"], holder=None)
    signup.find = lambda: {"id": 5, "name": "theirs"}  # type: ignore[method-assign]
    assert signup.run(is_ours=lambda r: r["name"] == "ours").settled is Settled.EXISTS
    # bounded: never more sends than the bound, each after a look-up
    never = Store(["unknown"] * MAX_UNKNOWN_SENDS)
    assert never.run().settled is Settled.UNKNOWN and never.sends == never.lookups == MAX_UNKNOWN_SENDS
