"""Store logic of the sandbox, without HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_bigcommerce.sandbox.state.errors import ApiError
from airflow_bigcommerce.sandbox.store import RateLimiter, SandboxConfig, SandboxStore
from airflow_bigcommerce.sandbox.traffic.faults import FAULT_KINDS, FaultPlan, spread_rate


def person(n: int, **extra: Any) -> dict[str, Any]:
    return {"email": f"user{n}@example.com", "first_name": f"First{n}", "last_name": f"Last{n}", **extra}


@pytest.fixture
def store() -> SandboxStore:
    return SandboxStore()


def raises(status: int, call: Any, *args: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        call(*args)
    assert info.value.status == status, info.value.body()
    return info.value


# -- V2 ---------------------------------------------------------------------------------------------
def test_v2_create_returns_full_customer_without_password(store: SandboxStore) -> None:
    auth = {"password": "Secret123", "password_confirmation": "Secret123", "force_reset": True}
    created = store.v2_create_customer(person(1, company="Acme", _authentication=auth))
    assert created["id"] == 1
    assert created["email"] == "user1@example.com"
    assert created["reset_pass_on_login"] is True
    assert {"date_created", "date_modified", "addresses", "store_credit"} <= created.keys()
    assert "Secret123" not in repr(created)
    assert "_authentication" not in created


@pytest.mark.parametrize("field", ["id", "date_created", "date_modified", "accepts_marketing", "addresses"])
def test_v2_read_only_fields_are_refused(store: SandboxStore, field: str) -> None:
    error = raises(400, store.v2_create_customer, person(1, **{field: 1}))
    assert field in error.body()[0]["message"]


def test_v2_unknown_and_top_level_force_reset(store: SandboxStore) -> None:
    error = raises(400, store.v2_create_customer, person(1, force_reset=True))
    assert error.body() == [
        {"status": 400, "message": "The field 'force_reset' is not supported by this resource."}
    ]
    error = raises(400, store.v2_create_customer, person(1, nickname="x"))
    assert "'nickname' is not supported" in error.message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": "A", "last_name": "B"}, "email"),
        (person(1, first_name=""), "first_name"),
        (person(1, email="not-an-email"), "email"),
        (person(1, customer_group_id="2"), "customer_group_id"),
        (person(1, phone="1" * 51), "phone"),
        (
            person(1, _authentication={"password": "Abc12345", "password_confirmation": "Xyz12345"}),
            "password",
        ),
        (person(1, _authentication={"pwd": "x"}), "pwd"),
    ],
)
def test_v2_validation_names_the_field(store: SandboxStore, body: dict[str, Any], field: str) -> None:
    error = raises(400, store.v2_create_customer, body)
    assert f"'{field}" in error.message
    assert store.count() == 0


def test_v2_non_object_body(store: SandboxStore) -> None:
    raises(400, store.v2_create_customer, [person(1)])


def test_v2_duplicate_email_is_case_insensitive_409(store: SandboxStore) -> None:
    store.v2_create_customer(person(1))
    error = raises(409, store.v2_create_customer, person(1, email="  USER1@Example.com"))
    assert isinstance(error.body(), list)


def test_v2_list_pages_and_filters(store: SandboxStore) -> None:
    for n in range(5):
        store.v2_create_customer(person(n))
    assert [c["id"] for c in store.v2_list_customers({"page": "2", "limit": "2"})] == [3, 4]
    assert store.v2_list_customers({"page": "4", "limit": "2"}) == []
    assert [c["id"] for c in store.v2_list_customers({"email": "USER3@example.com"})] == [4]
    raises(400, store.v2_list_customers, {"limit": "251"})
    raises(400, store.v2_list_customers, {"page": "x"})
    raises(404, store.v2_get_customer, "99")
    assert store.v2_get_customer("2")["email"] == "user1@example.com"


# -- V3 ---------------------------------------------------------------------------------------------
ADDRESS = {
    "first_name": "A",
    "last_name": "B",
    "address1": "1 Main St",
    "city": "Austin",
    "country_code": "US",
}


def test_v3_create_batch_returns_full_customers(store: SandboxStore) -> None:
    created = store.v3_create_customers(
        [person(1, addresses=[ADDRESS], authentication={"new_password": "Pw123456"}), person(2)]
    )
    assert [c["id"] for c in created] == [1, 2]
    first = created[0]
    assert first["address_count"] == 1
    assert first["addresses"][0]["id"] == 1
    assert first["addresses"][0]["customer_id"] == 1
    assert first["authentication"] == {"force_password_reset": False}
    assert "Pw123456" not in repr(created)
    datetime.fromisoformat(first["date_created"].replace("Z", "+00:00"))


def test_v3_batch_limits(store: SandboxStore) -> None:
    raises(413, store.v3_create_customers, [person(n) for n in range(11)])
    raises(422, store.v3_create_customers, [])
    raises(422, store.v3_create_customers, {"email": "x"})
    assert store.count() == 0


def test_v3_validation_names_index_and_field(store: SandboxStore) -> None:
    error = raises(
        422,
        store.v3_create_customers,
        [person(1), person(2, email="nope"), person(3, first_name="x" * 101, nickname="n"), "oops"],
    )
    errors = error.body()["errors"]
    assert {"1.email", "2.first_name", "2.nickname", "3"} <= errors.keys()
    assert store.count() == 0


def test_v3_limits_from_customer_post(store: SandboxStore) -> None:
    too_many = [ADDRESS] * 11
    error = raises(422, store.v3_create_customers, [person(1, addresses=too_many, company="c" * 256)])
    assert {"0.addresses", "0.company"} <= error.body()["errors"].keys()


def test_v3_duplicates_reject_the_whole_batch(store: SandboxStore) -> None:
    store.v3_create_customers([person(1)])
    error = raises(422, store.v3_create_customers, [person(2), person(1, email="USER1@EXAMPLE.COM")])
    assert "already in use" in error.body()["errors"][".customer_create"]
    error = raises(422, store.v3_create_customers, [person(3), person(3, email="User3@example.com")])
    assert "already in use" in error.body()["errors"][".customer_create"]
    assert store.count() == 1
    assert [c["id"] for c in store.v3_create_customers([person(9)])] == [2]  # ids not burnt


def test_non_atomic_batches_commit_the_prefix() -> None:
    store = SandboxStore(config=SandboxConfig(non_atomic_batches=True))
    raises(422, store.v3_create_customers, [person(1), person(2), person(3, email="bad"), person(4)])
    assert sorted(c["email"] for c in store.all_customers()) == ["user1@example.com", "user2@example.com"]


def test_v3_update(store: SandboxStore) -> None:
    created = store.v3_create_customers([person(1), person(2)])
    before = created[0]["date_modified"]
    store._now = lambda: datetime.now(timezone.utc) + timedelta(seconds=5)  # type: ignore[method-assign]
    updated = store.v3_update_customers([{"id": 1, "first_name": "New", "email": "renamed@example.com"}])
    assert updated[0]["first_name"] == "New"
    assert updated[0]["date_modified"] > before
    assert store.find_by_email("user1@example.com") == []
    store.v3_create_customers([person(1)])  # the old e-mail is free again
    error = raises(422, store.v3_update_customers, [{"id": 2, "email": "RENAMED@example.com"}])
    assert "already in use" in error.body()["errors"][".customer_update"]
    error = raises(422, store.v3_update_customers, [{"id": 99, "first_name": "x"}])
    assert "0.id" in error.body()["errors"]
    raises(422, store.v3_update_customers, [{"first_name": "no id"}])


def test_v3_list_filters_and_pagination(store: SandboxStore) -> None:
    store.v3_create_customers([person(n) for n in range(1, 8)])
    page = store.v3_list_customers({"limit": "3", "page": "2"})
    assert [c["id"] for c in page["data"]] == [4, 5, 6]
    assert page["meta"]["pagination"] == {
        "total": 7,
        "count": 3,
        "per_page": 3,
        "current_page": 2,
        "total_pages": 3,
        "links": {"current": "?page=2&limit=3", "previous": "?page=1&limit=3", "next": "?page=3&limit=3"},
    }
    found = store.v3_list_customers({"email:in": "USER2@example.com, user5@example.com,missing@x.io"})
    assert [c["id"] for c in found["data"]] == [2, 5]
    assert [c["id"] for c in store.v3_list_customers({"id:in": "7,1"})["data"]] == [1, 7]
    assert store.v3_list_customers({"date_created:min": "2999-01-01"})["data"] == []
    assert len(store.v3_list_customers({"date_modified:min": "2000-01-01T00:00:00Z"})["data"]) == 7
    for bad in ({"limit": "0"}, {"limit": "251"}, {"limit": "ten"}, {"page": "0"}, {"id:in": "a"}):
        raises(422, store.v3_list_customers, bad)
    raises(422, store.v3_list_customers, {"date_created:min": "yesterday"})


# -- quota, faults, admin, persistence --------------------------------------------------------------
def test_rate_limiter_fixed_window() -> None:
    now = [100.0]
    limiter = RateLimiter(quota=2, window_ms=1000, clock=lambda: now[0])
    first = limiter.take()
    assert (first.allowed, first.left, first.reset_ms) == (True, 1, 1000)
    now[0] += 0.4
    assert limiter.take().left == 0
    refused = limiter.take()
    assert not refused.allowed
    assert refused.reset_ms == 600
    assert refused.retry_after_s == 1
    now[0] += 0.6
    assert limiter.take().allowed


def test_unlimited_quota() -> None:
    limiter = RateLimiter(quota=0, window_ms=1000)
    assert all(limiter.take().allowed for _ in range(500))


def test_fault_plan_is_deterministic_for_a_seed() -> None:
    rates = spread_rate(0.5)
    draws = [FaultPlan(rates, seed=7).draw() for _ in range(1)]
    a, b = FaultPlan(rates, seed=7), FaultPlan(rates, seed=7)
    assert [a.draw() for _ in range(200)] == [b.draw() for _ in range(200)]
    assert draws
    plan = FaultPlan(rates, seed=1)
    seen = {plan.draw() for _ in range(500)}
    assert seen == {None, *FAULT_KINDS}
    with pytest.raises(ValueError):
        FaultPlan({"nope": 0.1})
    with pytest.raises(ValueError):
        FaultPlan({"slow": 0.7, "malformed": 0.7})


def test_seed_reset_and_stats(store: SandboxStore) -> None:
    store.seed([person(1, date_created="2020-01-01T00:00:00Z")])
    store.seed([person(1, email="USER1@example.com")], allow_duplicates=True)
    with pytest.raises(ApiError):
        store.seed([person(1)])
    stats = store.stats()
    assert stats["customers"] == 2
    assert stats["emails_with_duplicates"] == {"user1@example.com": 2}
    assert store.all_customers()[0]["date_created"] == "2020-01-01T00:00:00Z"
    store.configure(quota=1, faults={"slow": 1.0})
    store.reset()
    assert store.count() == 0
    assert store.config.quota == 150
    assert store.faults.draw() is None
    with pytest.raises(ValueError):
        store.configure(bogus=1)
    for bad in ({"quota": "x"}, {"window_ms": 0}, {"non_atomic_batches": "yes"}, {"fault_seed": 1.5}):
        with pytest.raises(ValueError):
            store.configure(**bad)


def test_sqlite_persistence_survives_restart(tmp_path: Any) -> None:
    db = str(tmp_path / "store.db")
    first = SandboxStore(db_path=db)
    first.v3_create_customers([person(1, addresses=[ADDRESS])])
    first.v2_create_customer(person(2))
    first.close()
    second = SandboxStore(db_path=db)
    assert [c["email"] for c in second.all_customers()] == ["user1@example.com", "user2@example.com"]
    raises(422, second.v3_create_customers, [person(1)])
    created = second.v3_create_customers([person(3, addresses=[ADDRESS])])
    assert created[0]["id"] == 3
    assert created[0]["addresses"][0]["id"] == 2
    second.reset()
    second.close()
    assert SandboxStore(db_path=db).count() == 0


def test_fault_methods_spares_the_other_kind() -> None:
    from airflow_bigcommerce.sandbox.store import SandboxConfig, SandboxStore

    store = SandboxStore(config=SandboxConfig(faults={"error_before_write": 1.0}, fault_methods="writes"))
    assert store.draw_fault("GET") is None
    assert store.draw_fault("POST") == "error_before_write"
    store.configure(fault_methods="reads")
    assert store.draw_fault("PUT") is None
    assert store.draw_fault("GET") == "error_before_write"
    with pytest.raises(ValueError, match="fault_methods"):
        store.configure(fault_methods="some")
