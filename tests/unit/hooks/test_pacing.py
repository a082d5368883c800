from __future__ import annotations

import random

import pytest
from fake_clock import FakeClock

from airflow_bigcommerce.hooks.pacing import (
    RESET_MARGIN_S,
    RateLimitHeaders,
    RateLimitPacer,
    backoff_seconds,
    wait_after_429,
)


def headers(left: int, reset_ms: int, quota: int = 150, window_ms: int = 30000) -> RateLimitHeaders:
    return RateLimitHeaders(left=left, reset_ms=reset_ms, quota=quota, window_ms=window_ms)


def test_parse_is_case_insensitive_and_tolerant() -> None:
    parsed = RateLimitHeaders.parse(
        {
            "X-Rate-Limit-Requests-Left": "3",
            "x-rate-limit-time-reset-ms": "1500",
            "X-RATE-LIMIT-REQUESTS-QUOTA": "150",
            "X-Rate-Limit-Time-Window-Ms": "30000",
            "X-Retry-After": "2",
        }
    )
    assert parsed == RateLimitHeaders(left=3, reset_ms=1500, window_ms=30000, quota=150, retry_after_s=2.0)
    assert parsed.present
    junk = RateLimitHeaders.parse({"X-Rate-Limit-Requests-Left": "lots", "X-Retry-After": "-1"})
    assert junk == RateLimitHeaders()
    assert not junk.present


def test_wait_after_429_takes_the_longer_hint() -> None:
    assert wait_after_429(RateLimitHeaders(reset_ms=1200, retry_after_s=3), 1) == pytest.approx(
        3 + RESET_MARGIN_S
    )
    assert wait_after_429(RateLimitHeaders(reset_ms=4500, retry_after_s=3), 1) == pytest.approx(
        4.5 + RESET_MARGIN_S
    )


def test_wait_after_bare_429_backs_off_exponentially_with_jitter() -> None:
    rng = random.Random(1)
    waits = [wait_after_429(RateLimitHeaders(), attempt, rng=rng) for attempt in range(1, 8)]
    assert all(w > 0 for w in waits)
    assert waits[5] > waits[0]
    assert max(waits) <= 60


def test_backoff_is_capped() -> None:
    assert backoff_seconds(50, base=0.5, cap=30.0) <= 30.0
    assert 0.25 <= backoff_seconds(1, base=0.5) <= 0.5


def test_pacer_waits_when_quota_is_spent_and_not_before() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    pacer.acquire()
    pacer.release(headers(left=2, reset_ms=1000, quota=3, window_ms=1000))
    pacer.acquire()
    pacer.release(headers(left=1, reset_ms=900, quota=3, window_ms=1000))
    pacer.acquire()
    pacer.release(headers(left=0, reset_ms=800, quota=3, window_ms=1000))
    assert clock.sleeps == []
    pacer.acquire()  # must wait for the window to reset
    assert clock.sleeps == [pytest.approx(0.8 + RESET_MARGIN_S)]


def test_pacer_counts_requests_in_flight() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    pacer.acquire()
    pacer.release(headers(left=3, reset_ms=1000, quota=4, window_ms=1000))
    for _ in range(3):
        pacer.acquire()  # three in flight, store said 3 left
    assert clock.sleeps == []
    pacer.acquire()
    assert len(clock.sleeps) == 1


def test_pacer_without_headers_never_waits() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        pacer.acquire()
        pacer.release(None)
    assert clock.sleeps == []


def test_block_for_makes_everyone_wait() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    pacer.block_for(2.0)
    pacer.acquire()
    assert clock.sleeps == [pytest.approx(2.0)]
