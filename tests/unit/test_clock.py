from __future__ import annotations

import threading
import time

from airflow_bigcommerce.clock import SYSTEM_CLOCK, Clock, VirtualClock, as_clock, current_clock, use_clock
from airflow_bigcommerce.hooks.breaker import CircuitBreaker
from airflow_bigcommerce.hooks.pacing import RateLimitHeaders, RateLimitPacer
from airflow_bigcommerce.testing import virtual_time


def test_a_virtual_sleep_advances_time_without_waiting() -> None:
    clock = VirtualClock(start=100.0)
    started = time.monotonic()
    clock.sleep(3600)
    assert clock.monotonic() == 3700.0
    assert time.monotonic() - started < 1
    clock.sleep(0)
    clock.advance(5)
    assert clock.monotonic() == 3705.0


def test_threads_sleeping_at_once_overlap_and_wake_in_deadline_order() -> None:
    # a long quiet spell before time moves: the woken sleeper reads the clock before it moves on
    clock = VirtualClock(start=0.0, settle_s=0.2, patience_s=5)
    woke: list[tuple[str, float]] = []
    lock = threading.Lock()

    def sleeper(name: str, seconds: float) -> None:
        clock.sleep(seconds)
        with lock:
            woke.append((name, clock.monotonic()))

    threads = [threading.Thread(target=sleeper, args=(n, s)) for n, s in (("long", 5.0), ("short", 1.0))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    # as in real time: 5 s in all (not 6), and the short sleeper never wakes late at 5 s
    assert woke == [("short", 1.0), ("long", 5.0)]


def test_a_condition_wait_times_out_in_virtual_time_or_wakes_on_notify() -> None:
    clock = VirtualClock(start=0.0)
    condition = threading.Condition()
    with condition:
        assert clock.wait(condition, 30) is False
    assert clock.monotonic() == 30.0

    patient = VirtualClock(start=0.0, settle_s=30, patience_s=30)  # time cannot move on its own here

    def notify_soon() -> None:
        time.sleep(0.05)
        with condition:
            condition.notify()

    notifier = threading.Thread(target=notify_soon)
    with condition:
        notifier.start()
        assert patient.wait(condition, 3600) is True
    notifier.join()
    assert patient.monotonic() == 0.0


def test_the_pacer_waits_for_the_window_in_virtual_time() -> None:
    clock = VirtualClock(start=0.0)
    pacer = RateLimitPacer(clock=clock)
    pacer.acquire()
    pacer.release(RateLimitHeaders(left=0, reset_ms=10_000, quota=5, window_ms=10_000))
    started = time.monotonic()
    pacer.acquire()  # blocked until the window resets, 10 virtual seconds later
    assert clock.monotonic() >= 10.0
    assert pacer.waited_s >= 10.0
    assert time.monotonic() - started < 2


def test_use_clock_sets_the_default_of_this_context_only() -> None:
    assert current_clock() is SYSTEM_CLOCK
    seen: list[Clock] = []
    with virtual_time() as clock:
        assert current_clock() is clock
        assert CircuitBreaker(5).clock is clock
        other = threading.Thread(target=lambda: seen.append(current_clock()))
        other.start()
        other.join()
    assert seen == [SYSTEM_CLOCK]  # another thread is not the test's context
    assert current_clock() is SYSTEM_CLOCK
    with use_clock(SYSTEM_CLOCK):
        assert as_clock() is SYSTEM_CLOCK


def test_time_functions_are_adapted() -> None:
    now = [5.0]
    slept: list[float] = []
    clock = as_clock(lambda: now[0], slept.append)
    assert clock.monotonic() == 5.0
    clock.sleep(2)
    condition = threading.Condition()
    with condition:
        assert clock.wait(condition, 3) is False
    assert slept == [2, 3]
    assert isinstance(VirtualClock(), Clock) and isinstance(SYSTEM_CLOCK, Clock)
