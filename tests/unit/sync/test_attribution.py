"""Who created a found customer: the pure rule a look-up after a send follows."""

from __future__ import annotations

from airflow_bigcommerce.sync.client import RequestRejectedError
from airflow_bigcommerce.sync.create_once import attribute_found, in_use_text

TARGET = {"email": "a@example.com", "first_name": "A", "last_name": "B"}


def test_a_found_customer_is_ours_only_after_a_send_that_may_have_written_it() -> None:
    ours = {"id": 5, "email": "a@example.com", "first_name": "A", "last_name": "B"}
    theirs = {**ours, "first_name": "Store", "last_name": "Front"}
    assert attribute_found(TARGET, ours, committed=True)
    assert not attribute_found(TARGET, theirs, committed=True)  # a sign-up meanwhile
    assert not attribute_found(TARGET, ours, committed=False)  # a definitive refusal wrote nothing


def test_the_in_use_refusal_is_recognised_by_its_words_or_a_bare_409() -> None:
    v3 = RequestRejectedError(
        "422", status=422, errors={".customer_create": "The email a@example.com is already in use."}
    )
    assert "a@example.com" in in_use_text(v3)
    assert in_use_text(RequestRejectedError("409", status=409)) == "409"
    assert in_use_text(RequestRejectedError("422", status=422, errors={"0.email": "invalid"})) == ""
