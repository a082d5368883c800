"""The one batch create-once path: look up before any resend, split a refusal, one bound, a budget."""

from __future__ import annotations

import pytest

from airflow_bigcommerce.sync.client import OutcomeUnknownError, RequestRejectedError, TransientFailureError
from airflow_bigcommerce.sync.create_once import (
    IDEMPOTENT_SENDS,
    BatchEndpoint,
    deliver_once,
    resend_idempotent,
)


class Endpoint(BatchEndpoint[str, list[str]]):
    """A store of names driven by a script of answers: "ok", "lost" (written, answer lost), ..."""

    def __init__(self, script: list[str], *, held: set[str] | None = None) -> None:
        self.script = script
        self.held = held or set()  # what the store holds (someone else's, or written)
        self.sends: list[list[str]] = []
        self.lookups: list[list[str]] = []
        self.settled: dict[str, str] = {}

    def send(self, rows: list[str]) -> list[str]:
        self.sends.append(list(rows))
        step = self.script.pop(0) if self.script else "ok"
        if step == "refused":
            bad = [r for r in rows if r.startswith("bad")] or rows
            raise RequestRejectedError(f"refused {bad}", status=422)
        if step == "down":
            raise TransientFailureError("budget spent")
        if step == "unknown":  # not written
            raise OutcomeUnknownError("timeout")
        self.held.update(rows)
        if step == "lost":
            raise OutcomeUnknownError("dropped")
        return rows[:-1] if step == "short" else rows  # "short": a 2xx leaving the last row out

    def accepted(self, rows: list[str], answer: list[str]) -> list[str]:
        for row in answer:
            self.settled[row] = "created"
        return [r for r in rows if r not in answer]

    def look_up(self, rows: list[str]) -> list[str]:
        self.lookups.append(list(rows))
        for row in rows:
            if row in self.held:
                self.settled[row] = "confirmed"
        return [r for r in rows if r not in self.held]

    def refuse_one(self, row: str, exc: RequestRejectedError) -> None:
        self.settled[row] = "rejected"

    def give_up(self, row: str, sends: int) -> None:
        self.settled[row] = f"unknown after {sends}"

    def fail(self, rows: list[str], exc: TransientFailureError, *, looking: bool) -> None:
        for row in rows:
            self.settled[row] = "failed while looking" if looking else "failed"


def test_an_unknown_outcome_is_looked_up_and_only_the_rest_resent() -> None:
    store = Endpoint(["lost"])
    assert deliver_once(["a", "b"], store) == 2
    assert store.sends == [["a", "b"]] and store.settled == {"a": "confirmed", "b": "confirmed"}
    store = Endpoint(["unknown"], held={"b"})
    deliver_once(["a", "b"], store)
    assert store.sends == [["a", "b"], ["a"]] and store.settled == {"a": "created", "b": "confirmed"}


def test_a_2xx_that_leaves_rows_out_is_settled_like_an_unknown_outcome() -> None:
    store = Endpoint(["short"])
    assert deliver_once(["a", "b"], store) == 1
    assert store.lookups == [["b"]] and store.settled == {"a": "created", "b": "confirmed"}


def test_a_refused_batch_is_resent_one_by_one_and_the_bad_row_refused() -> None:
    store = Endpoint(["refused", "ok", "refused"])
    deliver_once(["a", "bad"], store)
    assert store.sends == [["a", "bad"], ["a"], ["bad"]]
    assert store.settled == {"a": "created", "bad": "rejected"}


def test_a_fatal_refusal_ends_the_run() -> None:
    class Forbidden(Endpoint):
        def send(self, rows: list[str]) -> list[str]:
            raise RequestRejectedError("no scope", status=403)

    with pytest.raises(RequestRejectedError):
        deliver_once(["a", "b"], Forbidden([]))


def test_resends_are_bounded_and_a_spent_budget_fails_the_unsettled_rows() -> None:
    store = Endpoint(["unknown"] * 3)
    deliver_once(["a"], store, max_sends=3)
    assert len(store.sends) == len(store.lookups) == 3 and store.settled == {"a": "unknown after 3"}
    store = Endpoint(["unknown", "down"])
    deliver_once(["a", "b"], store)
    assert len(store.sends) == 2 and store.settled == {"a": "failed", "b": "failed"}

    class Blind(Endpoint):
        def look_up(self, rows: list[str]) -> list[str]:
            raise TransientFailureError("budget spent")

    blind = Blind(["short"])
    assert deliver_once(["a", "b"], blind) == 0
    assert blind.settled == {"a": "created", "b": "failed while looking"}


def test_an_idempotent_write_is_sent_once_more_after_a_lost_answer() -> None:
    sends: list[int] = []

    def lost() -> int:
        sends.append(1)
        raise OutcomeUnknownError("dropped")

    with pytest.raises(OutcomeUnknownError):
        resend_idempotent(lost)
    assert len(sends) == IDEMPOTENT_SENDS
    assert resend_idempotent(lambda: 7) == 7
