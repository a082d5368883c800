"""The in-flight limits (adaptive for the run, capped per endpoint), without a network or sleeping."""

from __future__ import annotations

import threading
import time

import pytest

from airflow_bigcommerce.hooks.concurrency import (
    DOCUMENTED_CAPS,
    ENDPOINT_GROW_ANSWERS,
    ENDPOINT_REGROW_LATENCIES,
    ENDPOINT_REGROW_S,
    INITIAL_IN_FLIGHT,
    MAX_IN_FLIGHT,
    AimdLimit,
    ConcurrencyController,
    ConcurrencyState,
    endpoint_of,
)

POST = "POST v3/customers"
PUT = "PUT v3/customers"


def state(fixed: int | None = None) -> ConcurrencyState:
    return ConcurrencyController(fixed).state


def fill(s: ConcurrencyState, key: str) -> int:
    started = 0
    while s.may_start(key):
        s.start(key)
        started += 1
    return started


def test_endpoint_keys_fold_ids() -> None:
    assert endpoint_of("put", "/v3/customers") == PUT
    assert endpoint_of("GET", "v2/customers/123") == "GET v2/customers/{id}"
    assert (
        endpoint_of("DELETE", "v3/customers/7/addresses/9?x=1") == "DELETE v3/customers/{id}/addresses/{id}"
    )
    assert DOCUMENTED_CAPS[PUT] == 3


def test_slow_start_reaches_the_maximum_while_answers_are_fast_and_the_window_has_room() -> None:
    s = state()
    assert s.total.value == INITIAL_IN_FLIGHT
    for _ in range(10):
        s.start(POST)
        s.finish(POST, "ok", 0.040)
    assert s.total.value == MAX_IN_FLIGHT
    assert fill(s, POST) == MAX_IN_FLIGHT


def test_no_growth_while_the_quota_is_the_bottleneck() -> None:
    s = state()
    for _ in range(10):
        s.start(POST)
        s.finish(POST, "busy", 0.040)
    assert s.total.value == INITIAL_IN_FLIGHT


def test_documented_cap_holds_put_at_three_at_once() -> None:
    s = state()
    s.total.limit = MAX_IN_FLIGHT
    assert fill(s, PUT) == 3
    assert s.may_start(POST)  # other endpoints are not held back by PUT's cap


def saturated_answers(s: ConcurrencyState, n: int, *, now: float, others: float = 0.0) -> None:
    """Answer ``n`` PUTs, each while the endpoint is at its limit (the gate refilled before each)."""
    for _ in range(n):
        fill(s, PUT)
        s.finish(PUT, "ok", 0.04, now=now, others=others)


def test_a_429_with_requests_left_lowers_that_endpoint_only_and_it_regrows_after_a_quiet_spell() -> None:
    s = state()
    s.total.limit = MAX_IN_FLIGHT
    assert fill(s, PUT) == 3
    s.finish(PUT, "concurrency", now=100.0, started=99.9, jitter=0.0)  # another task holds part of the cap
    assert s.endpoint(PUT).limit == 2
    assert s.total.value == MAX_IN_FLIGHT  # the rest of the run is not held back
    busy = 1.0  # the others send as much as we do: they hold about what we hold, no free slot
    saturated_answers(s, 20, now=101.0, others=busy)
    assert s.endpoint(PUT).limit == 2  # not yet: growing back costs a 429 if the other task is busy
    spell = max(ENDPOINT_REGROW_S, ENDPOINT_REGROW_LATENCIES * 0.04)
    saturated_answers(s, 1, now=100.0 + spell, others=busy)
    assert s.endpoint(PUT).limit == 3  # a blind probe after the quiet spell (scaled to the latency)
    saturated_answers(s, 20, now=200.0)
    assert s.endpoint(PUT).limit == 3  # never above the documented cap


def test_refusals_of_one_burst_lower_the_limit_but_double_the_spell_once() -> None:
    s = state()
    s.total.limit = MAX_IN_FLIGHT
    fill(s, PUT)
    for _ in range(3):  # three requests sent together, all refused
        s.finish(PUT, "concurrency", now=10.0, started=9.99)
    endpoint = s.endpoint(PUT)
    assert endpoint.limit == 1
    assert endpoint.refusals == 1 and endpoint.spell_factor == 1.0
    s.start(PUT)
    s.finish(PUT, "concurrency", now=10.2, started=10.1)  # the retry, sent after: a new push-back
    assert endpoint.refusals == 2 and endpoint.spell_factor == 2.0


def test_the_limit_grows_back_once_the_others_leave_a_slot_free() -> None:
    s = state()
    s.total.limit = MAX_IN_FLIGHT
    fill(s, PUT)
    s.finish(PUT, "concurrency", now=0.0, started=0.0)
    s.finish(PUT, "concurrency", now=0.0, started=0.0)
    assert s.endpoint(PUT).limit == 1
    saturated_answers(s, 30, now=0.1, others=2.0)  # the others hold the other two slots
    assert s.endpoint(PUT).limit == 1
    saturated_answers(s, ENDPOINT_GROW_ANSWERS, now=0.2, others=0.0)  # they are done
    assert s.endpoint(PUT).limit == 2
    saturated_answers(s, 3 * ENDPOINT_GROW_ANSWERS, now=0.3, others=0.0)
    assert s.endpoint(PUT).limit == 3


def test_a_capped_endpoint_starts_at_our_part_of_the_cap() -> None:
    for others, limit in ((0.0, 3), (1.0, 2), (2.0, 1), (5.0, 1)):
        s = state()
        s.total.limit = MAX_IN_FLIGHT
        s.start(POST)
        s.finish(POST, "ok", 0.01, others=others)  # what the headers said before the first PUT
        assert s.endpoint(PUT).limit == limit, others
    assert state().endpoint(POST).limit == MAX_IN_FLIGHT  # uncapped endpoints start at the maximum


def test_errors_halve_and_slow_answers_shrink_the_limit() -> None:
    s = state()
    s.total.limit = 8
    s.start(POST)
    s.finish(POST, "error", now=1.0)
    assert s.total.value == 4
    for i in range(3):
        s.start(POST)
        s.finish(POST, "ok", 0.040, now=2.0 + i)
    grown = s.total.limit
    s.start(POST)
    s.finish(POST, "ok", 0.400, now=6.0)  # ten times slower: queueing
    s.start(POST)
    s.finish(POST, "ok", 0.400, now=7.0)
    assert s.total.limit < grown


def test_the_limit_falls_once_per_round_trip_not_once_per_late_answer() -> None:
    s = state()
    s.total.limit = 8
    for _ in range(8):
        s.start(POST)
    s.finish(POST, "error", now=1.0, started=0.5)
    assert s.total.value == 4
    for _ in range(7):  # the rest of that round trip: sent before the decrease, the same push-back
        s.finish(POST, "error", now=1.1, started=0.6)
    assert s.total.value == 4
    s.start(POST)
    s.finish(POST, "error", now=2.0, started=1.5)  # sent after it: a new push-back
    assert s.total.value == 2
    s.start(POST)
    s.finish(POST, "ok", 0.4, now=3.0, started=2.6)  # additive increase: 2 + 1/2
    assert s.total.limit == pytest.approx(2.5)
    for _ in range(5):  # slow answers: x0.9 once, then nothing until a request sent after it answers
        s.start(POST)
        s.finish(POST, "ok", 4.0, now=10.0, started=6.0)
    assert s.total.limit == pytest.approx(2.25)


def test_latency_is_judged_per_endpoint() -> None:
    s = state()
    for _ in range(5):
        s.start("GET v3/customers")
        s.finish("GET v3/customers", "ok", 0.003)
        s.start(POST)
        s.finish(POST, "ok", 0.080)  # a batch write is slower than a look-up, not a sign of queueing
    assert s.total.value == MAX_IN_FLIGHT


def test_a_fixed_limit_never_adapts() -> None:
    s = state(fixed=3)
    for signal in ("ok", "error", "concurrency", "ok"):
        s.start(POST)
        s.finish(POST, signal, 0.01)  # type: ignore[arg-type]
    assert s.total.value == 3
    with pytest.raises(ValueError, match="at least 1"):
        ConcurrencyController(0)


def test_limit_never_drops_below_one() -> None:
    limit = AimdLimit(limit=1.0)
    limit.shrink(0.1)
    assert limit.value == 1
    s = state()
    s.start(PUT)
    s.finish(PUT, "concurrency", now=1.0)
    assert s.endpoint(PUT).limit == 1


def test_gate_blocks_threads_beyond_the_limit() -> None:
    gate = ConcurrencyController(2)
    inside = 0
    peak = 0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal inside, peak
        started = gate.acquire(POST)
        with lock:
            inside += 1
            peak = max(peak, inside)
        time.sleep(0.01)
        with lock:
            inside -= 1
        gate.release(POST, started, "neutral")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert peak == 2
    assert gate.peak == 2
