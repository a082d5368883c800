"""The outage policy (backoff, probes, time budget) with a fake clock: no sleeping."""

from __future__ import annotations

import random
import threading

import pytest
from fake_clock import FakeClock

from airflow_bigcommerce.clock import as_clock
from airflow_bigcommerce.hooks.breaker import (
    BACKOFF_CAP_S,
    OPEN_AFTER,
    BudgetExhaustedError,
    CircuitBreaker,
    backoff_s,
)


def breaker(budget_s: float = 120.0) -> tuple[CircuitBreaker, FakeClock]:
    clock = FakeClock()
    return CircuitBreaker(budget_s, clock=clock, sleep=clock.sleep, rng=random.Random(1)), clock


def test_backoff_doubles_is_capped_and_jittered() -> None:
    rng = random.Random(3)
    assert 0.25 <= backoff_s(1, rng) <= 0.5
    assert 1.0 <= backoff_s(3, rng) <= 2.0
    assert BACKOFF_CAP_S / 2 <= backoff_s(40, rng) <= BACKOFF_CAP_S


def test_healthy_store_never_waits() -> None:
    b, clock = breaker()
    for _ in range(100):
        b.acquire("write")
        b.succeeded("write")
    assert clock.sleeps == []


def test_failure_delays_the_next_request_of_that_kind_only() -> None:
    b, clock = breaker()
    b.acquire("write")
    b.failed("write", "503")
    b.acquire("read")  # reads keep working during a write outage
    assert clock.sleeps == []
    b.acquire("write")
    assert 0.25 <= sum(clock.sleeps) <= 0.5


def test_success_closes_the_circuit() -> None:
    b, clock = breaker()
    for _ in range(OPEN_AFTER + 2):
        b.acquire("write")
        b.failed("write", "503")
    b.acquire("write")
    b.succeeded("write")
    waited = len(clock.sleeps)
    b.acquire("write")
    b.acquire("write")
    assert len(clock.sleeps) == waited
    b.failed("write", "503")  # the count starts again: the first backoff, not the sixth
    b.acquire("write")
    assert clock.sleeps[waited:] and max(clock.sleeps[waited:]) < 1.0


def test_an_outage_of_60_s_costs_a_handful_of_probes() -> None:
    b, clock = breaker(budget_s=300)
    outage_ends = clock.now + 60
    sent = 0
    while True:
        b.acquire("write")
        sent += 1
        if clock.now >= outage_ends:
            b.succeeded("write")
            break
        b.failed("write", "503")
    assert sent <= 15, sent
    assert clock.now - outage_ends < BACKOFF_CAP_S  # resumes within one probe interval of the end


def test_open_circuit_lets_one_probe_out_and_holds_the_others() -> None:
    b, clock = breaker()
    for _ in range(OPEN_AFTER):
        b.acquire("write")
        b.failed("write", "503")
    clock.now += BACKOFF_CAP_S
    b.acquire("write")  # the probe
    assert b.stats["probes"] == 1
    # A second sender now waits for the probe: with a fake sleep, time advances while it polls,
    # until the probe's answer arrives (simulated here after 3 s by a success from another thread).
    polls = 0

    def sleep(seconds: float) -> None:
        nonlocal polls
        polls += 1
        clock.now += seconds
        if polls == 60:
            b.succeeded("write")

    b.clock = as_clock(clock, sleep)
    b.acquire("write")
    assert polls == 60
    assert b.stats["probes"] == 1


def test_budget_spent_gives_up_at_once_for_the_rest_of_the_run() -> None:
    b, clock = breaker(budget_s=30)

    def outage() -> None:
        while True:
            b.acquire("write")
            b.failed("write", "503")

    with pytest.raises(BudgetExhaustedError) as info:
        outage()
    assert info.value.kind == "write"
    assert info.value.failing_for_s == pytest.approx(30, abs=1e-6)
    assert "writes kept failing (503) for 30 s, beyond the retry budget of 30 s" in str(info.value)
    assert 29.9 <= clock.now - 1000 <= 30.1  # waited out the budget, not a second more
    slept = len(clock.sleeps)
    with pytest.raises(BudgetExhaustedError):
        b.acquire("write")
    assert len(clock.sleeps) == slept  # fails fast now
    b.acquire("read")  # reads have their own circuit


def test_zero_budget_gives_up_on_the_first_retry() -> None:
    b, _ = breaker(budget_s=0)
    b.acquire("read")
    b.failed("read", "ConnectionError")
    with pytest.raises(BudgetExhaustedError, match="reads kept failing"):
        b.acquire("read")


def test_abandoned_probe_frees_the_slot() -> None:
    b, clock = breaker()
    for _ in range(OPEN_AFTER):
        b.acquire("write")
        b.failed("write", "503")
    clock.now += BACKOFF_CAP_S
    b.acquire("write")
    b.abandoned("write")
    b.acquire("write")  # another probe may go at once
    assert b.stats["probes"] == 2


def test_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        CircuitBreaker(-1)


def test_threads_share_one_policy() -> None:
    clock = FakeClock()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            clock.now += seconds

    b = CircuitBreaker(600, clock=clock, sleep=sleep)
    outage_ends = clock.now + 60
    sent: list[int] = []

    def sender() -> None:
        for _ in range(20):
            b.acquire("write")
            with lock:
                sent.append(1)
                healthy = clock.now >= outage_ends
            if healthy:
                b.succeeded("write")
            else:
                b.failed("write", "503")

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sent) == 160
    assert b.stats["probes"] <= 20  # while the store was down, one probe at a time
