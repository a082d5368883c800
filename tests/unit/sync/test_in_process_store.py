from __future__ import annotations

import contextlib
import threading

import pytest

from airflow_bigcommerce.sync.client import (
    CustomerClient,
    IdLookupClient,
    OutcomeUnknownError,
    RequestRejectedError,
    TransientFailureError,
)
from airflow_bigcommerce.testing.in_process import InProcessStore, StoreFailure


def person(i: int, **extra: object) -> dict[str, object]:
    return {"email": f"p{i}@example.com", "first_name": "A", "last_name": "B", **extra}


def test_implements_the_protocol(store: InProcessStore) -> None:
    assert isinstance(store, CustomerClient)


def test_create_find_count_iter(store: InProcessStore) -> None:
    created = store.create_customers([person(1), person(2, authentication={"new_password": "pw"})])
    assert [c["id"] for c in created] == [1, 2]
    assert "new_password" not in store.customers[2]["authentication"]  # the password is never stored
    assert [c["id"] for c in store.find_customers_by_email(["P2@EXAMPLE.COM ", "nobody@example.com"])] == [2]
    assert store.count_customers() == 2
    for i in range(3, 8):
        store.add(person(i))
    assert [c["id"] for c in store.iter_customers(page_size=3)] == list(range(1, 8))
    assert store.calls == {"create": 1, "find": 1, "count": 1, "list": 3}


def test_duplicate_email_refuses_the_whole_batch(store: InProcessStore) -> None:
    store.add(person(1))
    with pytest.raises(RequestRejectedError) as info:
        store.create_customers([person(2), {**person(1), "email": "P1@Example.com"}])
    assert info.value.status == 422
    assert "already in use" in info.value.errors[".customer_create"]
    assert len(store.customers) == 1
    with pytest.raises(RequestRejectedError):
        store.create_customers([person(3), person(3)])  # duplicate inside one batch


def test_row_validation_and_batch_limit() -> None:
    store = InProcessStore(
        reject_emails=["P2@example.com"], validator=lambda c: {"phone": "bad"} if c.get("phone") else None
    )
    with pytest.raises(RequestRejectedError) as info:
        store.create_customers([person(1), person(2), person(3, phone="x")])
    assert info.value.errors == {"1.email": "The email is not valid.", "2.phone": "bad"}
    assert not store.customers
    with pytest.raises(RequestRejectedError) as too_big:
        store.create_customers([person(i) for i in range(11)])
    assert too_big.value.status == 413


def test_non_atomic_commits_rows_before_the_bad_one() -> None:
    store = InProcessStore(reject_emails=["p3@example.com"], atomic=False)
    with pytest.raises(RequestRejectedError):
        store.create_customers([person(i) for i in range(1, 6)])
    assert sorted(c["email"] for c in store.customers.values()) == ["p1@example.com", "p2@example.com"]


def test_scripted_faults(store: InProcessStore) -> None:
    store.plan("create", ["unknown_before_write", "commit_then_unknown", "reject_before_write"])
    with pytest.raises(OutcomeUnknownError):
        store.create_customers([person(1)])
    assert not store.customers
    with pytest.raises(OutcomeUnknownError):
        store.create_customers([person(1)])
    assert len(store.customers) == 1
    with pytest.raises(RequestRejectedError):
        store.create_customers([person(2)])
    assert len(store.customers) == 1
    assert store.pending_faults("create") == 0
    store.create_customers([person(2)])
    store.fail_next("find", times=2)
    for _ in range(2):
        with pytest.raises(StoreFailure):
            store.find_customers_by_email(["p1@example.com"])
    assert store.find_customers_by_email(["p1@example.com"])
    with pytest.raises(ValueError):
        store.fail_next("find", "commit_then_unknown")


def test_update(store: InProcessStore) -> None:
    store.add(person(1))
    store.add(person(2))
    assert store.update_customers([{"id": 1, "first_name": "Z"}])[0]["first_name"] == "Z"
    with pytest.raises(RequestRejectedError) as info:
        store.update_customers([{"id": 99, "first_name": "Z"}])
    assert "0.id" in info.value.errors
    with pytest.raises(RequestRejectedError):
        store.update_customers([{"id": 1, "email": "P2@example.com"}])
    store.fail_next("update", "commit_then_unknown")
    with pytest.raises(OutcomeUnknownError):
        store.update_customers([{"id": 2, "last_name": "Y"}])
    assert store.customers[2]["last_name"] == "Y"


def test_thread_safe_unique_emails(store: InProcessStore) -> None:
    def worker() -> None:
        for i in range(50):
            with contextlib.suppress(RequestRejectedError):
                store.create_customers([person(i)])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.customers) == 50


def test_reset(store: InProcessStore) -> None:
    store.add(person(1))
    store.fail_next("create", "error")
    store.reset()
    assert not store.customers
    assert store.pending_faults("create") == 0
    assert store.add(person(1))["id"] == 1


# ----------------------------------------------------------------- the sandbox behind it


def test_users_import_it_from_testing() -> None:
    from airflow_bigcommerce import testing

    client = testing.sandbox_client([person(1)])
    assert isinstance(client, testing.InProcessStore)
    assert [c["email"] for c in client.customers.values()] == ["p1@example.com"]
    assert testing.StoreFailure is StoreFailure


def test_it_shares_the_sandbox_store_and_its_rules() -> None:
    from airflow_bigcommerce.sandbox.store import SandboxStore

    sandbox = SandboxStore()
    sandbox.seed([person(1)])
    client = InProcessStore(store=sandbox)
    assert client.by_email("P1@example.com")["id"] == 1  # type: ignore[index]
    with pytest.raises(RequestRejectedError) as info:
        client.create_customers([{"email": "p2@example.com", "first_name": "", "last_name": "B"}])
    assert (info.value.status, list(info.value.errors)) == (422, ["0.first_name"])
    assert info.value.title == str(info.value).removeprefix("422 ")
    assert sandbox.stats()["customers"] == 1


def test_traffic_control_outages_and_random_faults_become_the_engines_errors(store: InProcessStore) -> None:
    store.store.configure(outage_s=30)
    with pytest.raises(TransientFailureError):
        store.create_customers([person(1)])
    assert store.find_customers_by_email(["p1@example.com"]) == []  # the outage spares reads
    store.store.configure(outage_s=0, faults={"commit_then_drop": 1.0})
    with pytest.raises(OutcomeUnknownError):
        store.create_customers([person(1)])
    assert len(store.customers) == 1  # it landed
    with pytest.raises(TransientFailureError):
        store.count_customers()  # a read that kept failing
    store.store.configure(faults={"error_before_write": 1.0})
    with pytest.raises(OutcomeUnknownError):
        store.create_customers([person(2)])
    assert len(store.customers) == 1  # nothing written
    assert store.store.stats()["faults"] == {"commit_then_drop": 2, "error_before_write": 1}


def test_part_calls(store: InProcessStore) -> None:
    (customer,) = store.create_customers([person(1)])
    address = {"customer_id": customer["id"], "first_name": "A", "last_name": "B", "address1": "1 Main St"}
    address |= {"city": "Austin", "country_code": "US", "state_or_province": "Texas", "postal_code": "78701"}
    (created,) = store.create_addresses([address])
    assert store.update_addresses([{"id": created["id"], "city": "Dallas"}])[0]["city"] == "Dallas"
    assert [a["city"] for a in store.find_addresses([customer["id"], 99])] == ["Dallas"]
    attribute = store.create_customer_attribute("crm_id")
    assert [a["name"] for a in store.list_customer_attributes()] == ["crm_id"]
    value = {"attribute_id": attribute["id"], "value": "42", "customer_id": customer["id"]}
    assert store.upsert_attribute_values([value])[0]["attribute_value"] == "42"
    assert store.get_channel_settings(1)["allow_global_logins"] in (True, False)
    subscriber = store.create_subscriber({"email": "P1@example.com", "first_name": "A"})
    assert store.find_subscriber("p1@example.com")["id"] == subscriber["id"]  # type: ignore[index]
    assert store.count_subscribers() == 1 == len(list(store.iter_subscribers()))
    assert store.update_subscriber(subscriber["id"], {"first_name": "Z"})["first_name"] == "Z"
    with pytest.raises(RequestRejectedError) as duplicate:
        store.create_subscriber({"email": "p1@example.com"})
    assert duplicate.value.status == 409
    assert store.find_subscriber("nobody@example.com") is None


def test_groups_follow_the_plan() -> None:
    from airflow_bigcommerce.sandbox.store import SandboxConfig, SandboxStore

    off = InProcessStore(store=SandboxStore(config=SandboxConfig(customer_groups_enabled=False)))
    with pytest.raises(RequestRejectedError) as info:
        off.list_customer_groups()
    assert info.value.status == 403
    on = InProcessStore()
    on.store.seed_groups([{"name": "VIP"}])
    assert [g["name"] for g in on.list_customer_groups()] == ["VIP"]


def test_find_by_id_answers_the_ids_the_store_has_and_takes_read_faults(store: InProcessStore) -> None:
    assert isinstance(store, IdLookupClient)
    store.create_customers([person(1), person(2), person(3)])
    assert sorted(c["id"] for c in store.find_customers_by_id([3, 1, 42])) == [1, 3]
    store.fail_next("find_ids", "unavailable")
    with pytest.raises(TransientFailureError):
        store.find_customers_by_id([1])
    assert [c["id"] for c in store.find_customers_by_id([2])] == [2]
