"""Who created a found customer: the pure rules a look-up after a send follows."""

from __future__ import annotations

from airflow_bigcommerce.sync.client import RequestRejectedError
from airflow_bigcommerce.sync.create_once import (
    RefusalEvidence,
    attribute_found,
    committed_prefix,
    first_refused_row,
)

KEYS = ["a@example.com", "b@example.com", "ab@example.com", "c@example.com"]


def refusal(errors: dict[str, str], status: int = 422) -> RequestRejectedError:
    return RequestRejectedError("refused", status=status, errors=errors, title="Refused")


TARGET = {"email": "a@example.com", "first_name": "A", "last_name": "B"}


def test_the_first_refused_row_is_named_by_index_or_by_the_email_in_use() -> None:
    assert first_refused_row(refusal({"2.email": "bad"}), KEYS) == 2
    assert first_refused_row(refusal({"3.first_name": "x", "1.email": "y"}), KEYS) == 1
    in_use = refusal({".customer_create": "The email address AB@example.com is already in use."})
    assert first_refused_row(in_use, KEYS) == 2  # not "b@example.com", a shorter e-mail inside it
    # a refusal that names no row (or an index outside the batch) wrote nothing
    assert first_refused_row(refusal({}), KEYS) == 0
    assert first_refused_row(refusal({"9.email": "x"}), KEYS) == 0


def test_a_prefix_counts_as_committed_only_when_all_of_it_is_in_the_store() -> None:
    bad = refusal({"2.email": "bad"})
    assert committed_prefix(bad, KEYS, {"a@example.com": {}, "b@example.com": {}}) == 2
    # only some of the prefix is there: the request wrote none of it (someone else did)
    assert committed_prefix(bad, KEYS, {"b@example.com": {}}) == 0
    assert committed_prefix(refusal({}), KEYS, {k: {} for k in KEYS}) == 0


def test_a_found_customer_is_ours_only_after_a_send_that_may_have_written_it() -> None:
    ours = {"id": 5, "email": "a@example.com", "first_name": "A", "last_name": "B"}
    theirs = {**ours, "first_name": "Store", "last_name": "Front"}
    assert attribute_found(TARGET, ours, committed=True)
    assert not attribute_found(TARGET, theirs, committed=True)  # a sign-up meanwhile
    assert not attribute_found(TARGET, ours, committed=False)  # a definitive refusal wrote nothing


def test_once_a_refused_prefix_is_missing_the_store_is_known_to_refuse_batches_whole() -> None:
    evidence = RefusalEvidence()
    bad = refusal({"2.email": "bad"})
    both = {"a@example.com": {}, "b@example.com": {}}
    assert evidence.committed_prefix(bad, KEYS, both) == 2  # could be a store committing in part
    assert not evidence.refuses_whole
    assert evidence.committed_prefix(bad, KEYS, {"b@example.com": {}}) == 0
    assert evidence.refuses_whole
    # from now on a found prefix is someone else's (another run racing over the same contacts)
    assert evidence.committed_prefix(bad, KEYS, both) == 0
