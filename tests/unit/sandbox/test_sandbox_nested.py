"""Nested customer data in the sandbox store, without HTTP: addresses, attributes, groups,
subscribers, channels and Multi-Storefront e-mail uniqueness, V2 customer edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_bigcommerce.sandbox.state.errors import ApiError
from airflow_bigcommerce.sandbox.store import SandboxConfig, SandboxStore


def person(n: int, **extra: Any) -> dict[str, Any]:
    return {"email": f"user{n}@example.com", "first_name": f"First{n}", "last_name": f"Last{n}", **extra}


def address(customer_id: int | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": "Ann",
        "last_name": "Lee",
        "address1": "1 Main St",
        "city": "Austin",
        "state_or_province": "Texas",
        "postal_code": "78701",
        "country_code": "US",
        **extra,
    }
    if customer_id is not None:
        data["customer_id"] = customer_id
    return data


@pytest.fixture
def store() -> SandboxStore:
    return SandboxStore()


def raises(status: int, call: Any, *args: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        call(*args)
    assert info.value.status == status, info.value.body()
    return info.value


# -- customers with nested data --------------------------------------------------------------------
def test_create_with_inline_addresses_and_attributes_and_include(store: SandboxStore) -> None:
    (tier,) = store.seed_attributes([{"name": "tier", "type": "string"}])
    (created,) = store.v3_create_customers(
        [
            person(
                1, addresses=[address()], attributes=[{"attribute_id": tier["id"], "attribute_value": "gold"}]
            )
        ]
    )
    assert created["addresses"][0]["state_or_province"] == "Texas"
    assert created["attributes"][0]["attribute_value"] == "gold"
    listed = store.v3_list_customers({"include": "addresses,attributes", "email:in": "user1@example.com"})
    assert listed["data"][0]["address_count"] == 1
    assert listed["data"][0]["addresses"][0]["customer_id"] == created["id"]
    bare = store.v3_list_customers({})["data"][0]
    assert "addresses" not in bare
    assert "attributes" not in bare


def test_inline_state_codes_and_unknown_attributes_are_refused(store: SandboxStore) -> None:
    error = raises(422, store.v3_create_customers, [person(1, addresses=[address(state_or_province="TX")])])
    assert "0.addresses.0.state_or_province" in error.body()["errors"]
    error = raises(
        422, store.v3_create_customers, [person(2, attributes=[{"attribute_id": 9, "attribute_value": "x"}])]
    )
    assert "0.attributes.0.attribute_id" in error.body()["errors"]
    assert store.count() == 0


def test_inline_subresources_are_capped_at_ten(store: SandboxStore) -> None:
    error = raises(422, store.v3_create_customers, [person(1, addresses=[address()] * 11)])
    assert "0.addresses" in error.body()["errors"]


def test_put_refuses_subresource_updates(store: SandboxStore) -> None:
    (created,) = store.v3_create_customers([person(1)])
    error = raises(422, store.v3_update_customers, [{"id": created["id"], "addresses": [address()]}])
    assert error.body()["title"] == "Subresource updates are not supported."
    assert "0.addresses" in error.body()["errors"]


def test_form_fields_carry_customer_id(store: SandboxStore) -> None:
    store.define_form_fields(["crm"])
    (created,) = store.v3_create_customers([person(1, form_fields=[{"name": "crm", "value": "7"}])])
    listed = store.v3_list_customers({"include": "formfields"})["data"][0]
    assert listed["form_fields"] == [{"name": "crm", "value": "7", "customer_id": created["id"]}]


# -- V3 addresses ----------------------------------------------------------------------------------
def test_addresses_post_get_put_delete(store: SandboxStore) -> None:
    one, two = (c["id"] for c in store.v3_create_customers([person(1), person(2)]))
    created = store.addresses.create([address(one), address(two, city="Dallas")])
    assert [a["customer_id"] for a in created] == [one, two]
    assert created[0]["country"] == "United States"
    page = store.addresses.search({"customer_id:in": str(two)})
    assert [a["city"] for a in page["data"]] == ["Dallas"]
    assert page["meta"]["pagination"]["total"] == 1
    assert store.addresses.search({"id:in": str(created[0]["id"])})["data"][0]["customer_id"] == one
    (updated,) = store.addresses.update([{"id": created[1]["id"], "city": "Houston"}])
    assert updated["city"] == "Houston"
    assert updated["address1"] == "1 Main St"
    store.addresses.delete({"id:in": str(created[0]["id"])})
    assert [a["id"] for a in store.addresses.search({})["data"]] == [created[1]["id"]]


def test_addresses_exact_duplicate_is_left_out(store: SandboxStore) -> None:
    (customer,) = store.v3_create_customers([person(1, addresses=[address()])])
    again = store.addresses.create([address(customer["id"]), address(customer["id"], address2="Apt 2")])
    assert [a["address2"] for a in again] == ["Apt 2"]
    assert len(store.addresses.search({"customer_id:in": str(customer["id"])})["data"]) == 2


@pytest.mark.parametrize("state", ["TX", "tx", "NSW", "US-TX", "GB-ENG"])
def test_addresses_refuse_state_codes(store: SandboxStore, state: str) -> None:
    (customer,) = store.v3_create_customers([person(1)])
    error = raises(422, store.addresses.create, [address(customer["id"], state_or_province=state)])
    assert "0.state_or_province" in error.body()["errors"]


def test_addresses_empty_state_and_postal_code_are_allowed(store: SandboxStore) -> None:
    (customer,) = store.v3_create_customers([person(1)])
    (created,) = store.addresses.create(
        [address(customer["id"], state_or_province="", postal_code="", country_code="AE")]
    )
    assert created["state_or_province"] == ""


@pytest.mark.parametrize(
    "field",
    ["first_name", "last_name", "address1", "city", "country_code", "state_or_province", "postal_code"],
)
def test_addresses_required_fields(store: SandboxStore, field: str) -> None:
    (customer,) = store.v3_create_customers([person(1)])
    body = address(customer["id"])
    del body[field]
    error = raises(422, store.addresses.create, [body])
    assert f"0.{field}" in error.body()["errors"]


def test_addresses_delete_needs_ids_and_unknown_ids_fail(store: SandboxStore) -> None:
    (customer,) = store.v3_create_customers([person(1, addresses=[address()])])
    raises(422, store.addresses.delete, {})
    raises(422, store.addresses.delete, {"id:in": ""})
    assert len(store.addresses.search({})["data"]) == 1
    raises(422, store.addresses.update, [{"id": 999, "city": "X"}])
    raises(422, store.addresses.create, [address(999)])
    raises(422, store.addresses.update, [{"id": 1, "state_or_province": "CA"}])
    assert customer["addresses"][0]["city"] == "Austin"


@pytest.mark.parametrize("body", [None, {}, [], "x", [1], [{"id": "a"}], [{}] * 11])
def test_addresses_malformed_bodies_get_4xx(store: SandboxStore, body: Any) -> None:
    for call in (store.addresses.create, store.addresses.update):
        with pytest.raises(ApiError) as info:
            call(body)
        assert 400 <= info.value.status < 500


# -- V2 addresses and customer edits ---------------------------------------------------------------
def test_v2_addresses_round_trip(store: SandboxStore) -> None:
    customer = store.v2_create_customer(person(1))
    cid = str(customer["id"])
    assert store.addresses.v2_list(cid, {}) == []
    body = {
        "first_name": "A",
        "last_name": "B",
        "street_1": "1 Main",
        "city": "Austin",
        "state": "Texas",
        "zip": "78701",
        "country": "United States",
        "phone": "",
    }
    created = store.addresses.v2_create(cid, body)
    assert created["country_iso2"] == "US"
    assert created["street_1"] == "1 Main"
    aid = str(created["id"])
    assert store.addresses.v2_update(cid, aid, {"city": "Dallas"})["city"] == "Dallas"
    assert store.addresses.v2_get(cid, aid)["city"] == "Dallas"
    assert store.addresses.search({"customer_id:in": cid})["data"][0]["city"] == "Dallas"
    store.addresses.v2_delete(cid, aid)
    assert store.addresses.v2_list(cid, {}) == []
    raises(404, store.addresses.v2_get, cid, aid)
    raises(404, store.addresses.v2_list, "999", {})
    raises(400, store.addresses.v2_create, cid, {**body, "state": "TX"})
    raises(400, store.addresses.v2_create, cid, {**body, "country": "Atlantis"})


def test_v2_update_and_delete_customer(store: SandboxStore) -> None:
    one = store.v2_create_customer(person(1))
    store.v2_create_customer(person(2))
    updated = store.v2_update_customer(str(one["id"]), {"company": "Acme", "email": "new@example.com"})
    assert updated["company"] == "Acme"
    assert store.find_by_email("new@example.com")[0]["id"] == one["id"]
    raises(409, store.v2_update_customer, str(one["id"]), {"email": "USER2@example.com"})
    raises(400, store.v2_update_customer, str(one["id"]), {"nope": 1})
    raises(404, store.v2_update_customer, "999", {"company": "X"})
    store.v2_delete_customer(str(one["id"]))
    raises(404, store.v2_get_customer, str(one["id"]))
    assert store.v2_create_customer(person(3, email="new@example.com"))["email"] == "new@example.com"


def test_v2_unfiltered_customer_delete_is_refused(store: SandboxStore) -> None:
    store.v2_create_customer(person(1))
    two = store.v2_create_customer(person(2))
    raises(400, store.v2_delete_customers, {})
    assert store.count() == 2
    store.v2_delete_customers({"id:in": str(two["id"])})
    assert store.count() == 1


# -- attributes ------------------------------------------------------------------------------------
def test_attributes_crud_and_fixed_type(store: SandboxStore) -> None:
    created = store.attributes.create(
        [{"name": "crm_id", "type": "string"}, {"name": "points", "type": "number"}]
    )
    assert [a["type"] for a in created] == ["string", "number"]
    assert store.attributes.search({"name": "points"})["data"][0]["id"] == created[1]["id"]
    raises(422, store.attributes.create, [{"name": "CRM_ID", "type": "string"}])
    raises(422, store.attributes.create, [{"name": "x", "type": "boolean"}])
    (renamed,) = store.attributes.rename([{"id": created[0]["id"], "name": "crm"}])
    assert renamed["name"] == "crm"
    raises(422, store.attributes.rename, [{"id": created[1]["id"], "name": "p", "type": "string"}])
    raises(422, store.attributes.delete, {})
    store.attributes.delete({"id:in": str(created[0]["id"])})
    assert [a["name"] for a in store.attributes.search({})["data"]] == ["points"]


def test_attributes_at_most_fifty(store: SandboxStore) -> None:
    for start in range(0, 50, 10):
        store.attributes.create([{"name": f"a{n}", "type": "string"} for n in range(start, start + 10)])
    error = raises(422, store.attributes.create, [{"name": "one_more", "type": "string"}])
    assert "50" in error.body()["errors"]["body"]


def test_attribute_values_upsert_and_validation(store: SandboxStore) -> None:
    (customer,) = store.v3_create_customers([person(1)])
    cid = customer["id"]
    text, number, date = store.attributes.create(
        [{"name": "t", "type": "string"}, {"name": "n", "type": "number"}, {"name": "d", "type": "date"}]
    )
    first = store.attributes.upsert_values(
        [
            {"attribute_id": text["id"], "value": "a", "customer_id": cid},
            {"attribute_id": number["id"], "value": "4.5", "customer_id": cid},
            {"attribute_id": date["id"], "value": "2024-05-01", "customer_id": cid},
        ]
    )
    again = store.attributes.upsert_values([{"attribute_id": text["id"], "value": "b", "customer_id": cid}])
    assert again[0]["id"] == first[0]["id"]
    values = store.attributes.values({"customer_id:in": str(cid), "attribute_id:in": str(text["id"])})["data"]
    assert [v["attribute_value"] for v in values] == ["b"]
    assert store.attributes.values({"name": "n"})["data"][0]["attribute_value"] == "4.5"
    bad = raises(
        422,
        store.attributes.upsert_values,
        [{"attribute_id": number["id"], "value": "many", "customer_id": cid}],
    )
    assert "0.value" in bad.body()["errors"]
    raises(
        422,
        store.attributes.upsert_values,
        [{"attribute_id": date["id"], "value": "soon", "customer_id": cid}],
    )
    raises(422, store.attributes.upsert_values, [{"attribute_id": 99, "value": "x", "customer_id": cid}])
    raises(
        422, store.attributes.upsert_values, [{"attribute_id": text["id"], "value": "x", "customer_id": 99}]
    )
    raises(
        413,
        store.attributes.upsert_values,
        [{"attribute_id": text["id"], "value": "x", "customer_id": cid}] * 11,
    )
    store.attributes.delete_values({"id:in": str(first[1]["id"])})
    assert len(store.attributes.values({})["data"]) == 2
    store.attributes.delete({"id:in": str(text["id"])})
    assert [v["attribute_id"] for v in store.attributes.values({})["data"]] == [date["id"]]


# -- groups ----------------------------------------------------------------------------------------
def test_groups_create_list_and_name_filter(store: SandboxStore) -> None:
    assert store.groups.search({}) == []
    wholesale = store.groups.create({"name": "Wholesale"})
    store.groups.create({"name": "Retail", "is_default": True})
    assert [g["name"] for g in store.groups.search({"name": "wholesale"})] == ["Wholesale"]
    assert store.groups.get(str(wholesale["id"]))["category_access"] == {"type": "all"}
    assert store.groups.search({"page": "2"}) == []
    raises(409, store.groups.create, {"name": "WHOLESALE"})
    raises(404, store.groups.get, "999")
    raises(400, store.groups.create, {"name": ""})


def test_groups_disabled_plan_answers_403() -> None:
    store = SandboxStore(config=SandboxConfig(customer_groups_enabled=False))
    store.seed_groups([{"name": "Wholesale"}])
    error = raises(403, store.groups.search, {})
    assert "Plus" in error.body()[0]["message"]
    raises(403, store.groups.create, {"name": "B2B"})
    assert [g["name"] for g in store.groups.everything()] == ["Wholesale"]
    store.configure(customer_groups_enabled=True)
    assert len(store.groups.search({})) == 1


# -- subscribers -----------------------------------------------------------------------------------
def test_subscribers_lifecycle(store: SandboxStore) -> None:
    created = store.subscribers.create({"email": "a@example.com", "consents": ["marketing_newsletter"]})[
        "data"
    ]
    store.subscribers.create({"email": "b@example.com"})
    raises(409, store.subscribers.create, {"email": "A@example.com"})
    found = store.subscribers.search({"email": "a@example.com"})["data"]
    assert [s["id"] for s in found] == [created["id"]]
    raises(422, store.subscribers.search, {"email:in": "a@example.com,b@example.com"})
    updated = store.subscribers.update(str(created["id"]), {"consents": ["abandoned_cart"]})["data"]
    assert updated["consents"] == ["abandoned_cart"]
    raises(409, store.subscribers.update, str(created["id"]), {"email": "b@example.com"})
    raises(422, store.subscribers.update, str(created["id"]), {"consents": ["spam"]})
    raises(404, store.subscribers.update, "999", {"first_name": "x"})


def test_subscribers_unfiltered_delete_is_refused(store: SandboxStore) -> None:
    one = store.subscribers.create({"email": "a@example.com"})["data"]
    store.subscribers.create({"email": "b@example.com"})
    raises(400, store.subscribers.delete, {})
    assert len(store.subscribers.everything()) == 2
    store.subscribers.delete({"id:in": str(one["id"])})
    store.subscribers.delete({"email": "B@example.com"})
    assert store.subscribers.everything() == []


# -- channels and Multi-Storefront -----------------------------------------------------------------
def test_channel_settings_defaults_and_put(store: SandboxStore) -> None:
    assert store.channels.get("1")["data"]["allow_global_logins"] is True
    assert store.channels.get("2")["data"]["allow_global_logins"] is False
    changed = store.channels.put("2", {"allow_global_logins": True})["data"]
    assert changed["allow_global_logins"] is True
    assert changed["privacy_settings"]["ask_shopper_for_tracking_consent"] is False
    raises(404, store.channels.get, "zero")
    raises(422, store.channels.put, "2", {"allow_global_logins": "yes"})


def test_without_msf_emails_are_unique_per_store(store: SandboxStore) -> None:
    store.v3_create_customers([person(1, channel_ids=[1])])
    raises(422, store.v3_create_customers, [person(1, channel_ids=[2])])


def test_msf_emails_are_unique_per_channel() -> None:
    store = SandboxStore(config=SandboxConfig(msf=True))
    store.v3_create_customers([person(1, channel_ids=[2], origin_channel_id=2)])
    store.v3_create_customers([person(1, channel_ids=[3], origin_channel_id=3)])
    raises(422, store.v3_create_customers, [person(1, channel_ids=[3, 4])])
    # channel_ids null: every channel with global logins (channel 1 only, by default)
    store.v3_create_customers([person(1)])
    raises(422, store.v3_create_customers, [person(1, channel_ids=[1])])
    store.channels.put("4", {"allow_global_logins": True})
    raises(422, store.v3_create_customers, [person(1, channel_ids=[4])])
    found = store.v3_list_customers({"email:in": "user1@example.com"})["data"]
    assert sorted(str(c["channel_ids"]) for c in found) == ["None", "[2]", "[3]"]
    assert found[0]["origin_channel_id"] == 2
    raises(422, store.v3_create_customers, [person(5, channel_ids=[5]), person(5, channel_ids=[5])])


# -- seeding and persistence -----------------------------------------------------------------------
def test_seed_with_nested_data(store: SandboxStore) -> None:
    (tier,) = store.seed_attributes([{"name": "tier", "type": "string"}])
    (seeded,) = store.seed(
        [
            person(
                1,
                addresses=[address()],
                attributes=[{"attribute_id": tier["id"], "attribute_value": "gold"}],
                channel_ids=[1],
            )
        ]
    )
    assert seeded["addresses"][0]["city"] == "Austin"
    assert seeded["attributes"][0]["attribute_id"] == tier["id"]
    assert seeded["channel_ids"] == [1]
    raises(422, store.seed, [person(2, attributes=[{"attribute_id": 77, "attribute_value": "x"}])])


def test_reset_clears_nested_state(store: SandboxStore) -> None:
    store.seed_attributes([{"name": "tier", "type": "string"}])
    store.seed_groups([{"name": "Wholesale"}])
    store.subscribers.create({"email": "a@example.com"})
    store.channels.put("2", {"allow_global_logins": True})
    store.reset()
    assert store.attributes.everything() == []
    assert store.groups.everything() == []
    assert store.subscribers.everything() == []
    assert store.channels.global_logins(2) is False


def test_sqlite_keeps_nested_data(tmp_path: Path) -> None:
    db = str(tmp_path / "store.db")
    first = SandboxStore(db_path=db)
    (tier,) = first.seed_attributes([{"name": "tier", "type": "string"}])
    (customer,) = first.v3_create_customers([person(1)])
    first.addresses.create([address(customer["id"])])
    first.attributes.upsert_values(
        [{"attribute_id": tier["id"], "value": "gold", "customer_id": customer["id"]}]
    )
    first.seed_groups([{"name": "Wholesale"}])
    first.subscribers.create({"email": "a@example.com"})
    first.channels.put("2", {"allow_global_logins": True})
    first.v2_create_customer(person(2))
    first.v2_delete_customer("2")
    first.close()
    again = SandboxStore(db_path=db)
    assert again.attributes.everything()[0]["name"] == "tier"
    assert again.addresses.search({})["data"][0]["city"] == "Austin"
    assert again.attributes.values({})["data"][0]["attribute_value"] == "gold"
    assert again.groups.everything()[0]["name"] == "Wholesale"
    assert again.subscribers.everything()[0]["email"] == "a@example.com"
    assert again.channels.global_logins(2) is True
    assert again.count() == 1
    assert again.attributes.create([{"name": "next", "type": "date"}])[0]["id"] == tier["id"] + 1
    again.close()


def test_full_state_names_of_three_letters_are_kept(store: SandboxStore) -> None:
    (customer,) = store.v3_create_customers([person(1)])
    (created,) = store.addresses.create([address(customer["id"], state_or_province="Goa", country_code="IN")])
    assert created["state_or_province"] == "Goa"


def test_address_text_filters(store: SandboxStore) -> None:
    (customer,) = store.v3_create_customers([person(1)])
    store.addresses.create(
        [address(customer["id"], company="Acme"), address(customer["id"], first_name="Bo")]
    )
    assert [a["company"] for a in store.addresses.search({"company:in": "acme,other"})["data"]] == ["Acme"]
    assert [a["first_name"] for a in store.addresses.search({"name:in": "Bo Lee"})["data"]] == ["Bo"]


def test_group_filters(store: SandboxStore) -> None:
    store.seed_groups(
        [{"name": "Wholesale EU"}, {"name": "Wholesale US", "is_default": True}, {"name": "Retail"}]
    )
    assert [g["name"] for g in store.groups.search({"name:like": "wholesale"})] == [
        "Wholesale EU",
        "Wholesale US",
    ]
    assert [g["name"] for g in store.groups.search({"is_default": "true"})] == ["Wholesale US"]
    raises(400, store.groups.search, {"is_default": "maybe"})


def test_msf_update_onto_a_shared_channel_is_refused() -> None:
    store = SandboxStore(config=SandboxConfig(msf=True))
    (first,) = store.v3_create_customers([person(1, channel_ids=[2])])
    (second,) = store.v3_create_customers([person(1, channel_ids=[3])])
    error = raises(422, store.v3_update_customers, [{"id": second["id"], "channel_ids": [2, 3]}])
    assert "user1@example.com" in error.body()["errors"][".customer_update"]
    (moved,) = store.v3_update_customers([{"id": second["id"], "channel_ids": [4]}])
    assert moved["channel_ids"] == [4]
    assert first["channel_ids"] == [2]
