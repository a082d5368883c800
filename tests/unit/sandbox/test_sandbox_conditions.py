"""Real-store conditions of the sandbox (outages, concurrency caps, a competing app) on a fake clock."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_bigcommerce.sandbox.store import SandboxConfig, SandboxStore
from airflow_bigcommerce.sandbox.traffic.competitor import Competitor
from airflow_bigcommerce.sandbox.traffic.concurrency import (
    DEFAULT_CONCURRENCY_LIMITS,
    ConcurrencyGate,
    checked_limits,
    endpoint_key,
    parse_limit,
)
from airflow_bigcommerce.sandbox.traffic.outage import OutageWindow, affects
from airflow_bigcommerce.sandbox.traffic.ratelimit import RateLimiter

PUT = "PUT /v3/customers"


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_store(clock: FakeClock, **settings: object) -> SandboxStore:
    return SandboxStore(config=SandboxConfig(**settings), clock=clock)  # type: ignore[arg-type]


# -- outages ----------------------------------------------------------------------------------------
def test_outage_window_starts_late_and_ends_by_itself(clock: FakeClock) -> None:
    window = OutageWindow(clock)
    assert not window.active()
    assert (window.remaining_s(), window.starts_in_s()) == (0.0, 0.0)
    window.schedule(10, delay_s=5)
    assert not window.active()
    assert (window.remaining_s(), window.starts_in_s()) == (10.0, 5.0)
    clock.advance(5)
    assert window.active()
    clock.advance(9)
    assert window.remaining_s() == pytest.approx(1.0)
    assert window.starts_in_s() == 0.0
    clock.advance(1)
    assert not window.active()
    assert window.remaining_s() == 0.0
    window.schedule(10)
    assert window.active()
    window.schedule(0)
    assert not window.active()


@pytest.mark.parametrize(
    ("kind", "hit"),
    [
        ("writes", {"POST", "PUT", "DELETE", "PATCH"}),
        ("reads", {"GET", "HEAD", "OPTIONS"}),
        ("all", {"GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH"}),
    ],
)
def test_outage_kinds(kind: str, hit: set[str]) -> None:
    methods = {"GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH"}
    assert {m for m in methods if affects(kind, m)} == hit
    assert affects(kind, "post") == ("POST" in hit)


def test_store_outage_from_config_is_bare_counted_and_spends_no_quota(clock: FakeClock) -> None:
    store = make_store(clock, quota=10, outage_s=20, outage_start_s=5)
    assert store.outage_answer("POST") is None
    assert store.settings()["outage_s"] == 20
    assert store.settings()["outage_start_s"] == 5
    clock.advance(5)
    assert store.outage_answer("POST") == {}
    assert store.outage_answer("PUT") == {}
    assert store.outage_answer("GET") is None
    clock.advance(12)
    assert store.settings()["outage_s"] == pytest.approx(8)
    assert store.settings()["outage_start_s"] == 0
    stats = store.stats()
    assert stats["outage_answers"] == 2
    assert stats["outage_answers_by_method"] == {"POST": 1, "PUT": 1}
    assert stats["outage_active"] is True
    assert store.take_request().left == 9  # the two outage answers spent nothing
    clock.advance(8)
    assert store.outage_answer("POST") is None
    assert store.settings()["outage_s"] == 0
    assert store.stats()["outage_active"] is False


def test_outage_with_headers_shows_the_window_without_counting(clock: FakeClock) -> None:
    store = make_store(clock, quota=10, window_ms=30_000)
    store.take_request()
    store.configure(outage_s=3, outage_headers=True, outage_kind="all")
    clock.advance(1)
    headers = store.outage_answer("GET")
    assert headers is not None
    assert headers["X-Rate-Limit-Requests-Left"] == "9"
    assert headers["X-Rate-Limit-Requests-Quota"] == "10"
    assert headers["X-Rate-Limit-Time-Reset-Ms"] == "29000"
    assert store.outage_answer("GET") is not None
    assert store.take_request().left == 8  # the outage neither spent quota nor reset the window


def test_fresh_window_headers_during_outage(clock: FakeClock) -> None:
    store = make_store(clock, quota=10, window_ms=30_000, outage_s=5, outage_headers=True)
    headers = store.outage_answer("POST")
    assert headers is not None
    assert headers["X-Rate-Limit-Requests-Left"] == "10"
    assert headers["X-Rate-Limit-Time-Reset-Ms"] == "30000"


def test_configure_outage_changes_and_checks(clock: FakeClock) -> None:
    store = make_store(clock)
    store.configure(outage_s=10)
    assert store.outage_answer("POST") == {}
    store.configure(outage_kind="reads")  # applies to the running outage, does not restart it
    assert store.outage_answer("POST") is None
    assert store.outage_answer("GET") == {}
    clock.advance(4)
    assert store.settings()["outage_s"] == pytest.approx(6)
    store.configure(outage_s=0)
    assert store.outage_answer("GET") is None
    store.configure(outage_s=2, outage_start_s=1)
    assert store.settings()["outage_start_s"] == 1
    for bad in (
        {"outage_start_s": 1},
        {"outage_s": -1},
        {"outage_s": "soon"},
        {"outage_s": math.inf},
        {"outage_s": True},
        {"outage_kind": "writes-only"},
        {"outage_headers": "yes"},
    ):
        with pytest.raises(ValueError):
            store.configure(**bad)


def test_reset_restarts_the_start_up_outage(clock: FakeClock) -> None:
    store = make_store(clock, outage_s=5)
    clock.advance(6)
    assert store.outage_answer("POST") is None
    store.configure(outage_kind="all")
    store.reset()
    assert store.config.outage_kind == "writes"
    assert store.outage_answer("POST") == {}
    assert store.stats()["outage_answers"] == 1


def test_outage_change_keeps_the_quota_window_and_fault_rng(clock: FakeClock) -> None:
    store = make_store(clock, quota=5, faults={"slow": 0.5}, fault_seed=1)
    store.take_request()
    store.faults.force("malformed")
    store.configure(outage_s=1, latency_ms=5)
    assert store.take_request().left == 3
    assert store.draw_fault() == "malformed"
    store.configure(quota=5)
    assert store.take_request().left == 4


# -- concurrency limits -----------------------------------------------------------------------------
def test_endpoint_keys_and_limit_parsing() -> None:
    assert endpoint_key("put", "/stores/abc/v3/customers") == PUT
    assert endpoint_key("GET", "/stores/abc/v2/customers/12/") == "GET /v2/customers/{id}"
    assert parse_limit("PUT /v3/customers/addresses/=7") == ("PUT /v3/customers/addresses", 7)
    assert checked_limits({"put /v3/customers": 2, "POST /v3/customers": 0}) == {PUT: 2}
    assert checked_limits(None) == {}
    for bad in ("PUT /v3/customers", "PUT /v3/customers=x", "FETCH /v3=1", "PUT v3=1", "=3"):
        with pytest.raises(ValueError):
            parse_limit(bad)
    for limits in ("x", [PUT], {PUT: -1}, {PUT: 1.5}, {PUT: True}, {1: 2}, {"PUT": 1}):
        with pytest.raises(ValueError):
            checked_limits(limits)


def test_gate_caps_in_flight_per_key_and_tracks_peaks() -> None:
    gate = ConcurrencyGate({PUT: 3})
    assert [gate.enter(PUT) for _ in range(4)] == [True, True, True, False]
    assert all(gate.enter("POST /v3/customers") for _ in range(20))
    gate.leave(PUT)
    assert gate.enter(PUT)
    assert not gate.enter(PUT)
    assert gate.in_flight() == {PUT: 3, "POST /v3/customers": 20}
    assert gate.peaks[PUT] == 3
    gate.limits = {"POST /v3/customers": 20}  # a cap set while requests are in flight sees them
    assert not gate.enter("POST /v3/customers")
    for _ in range(3):
        gate.leave(PUT)
    assert PUT not in gate.in_flight()
    gate.reset_peaks()
    assert gate.peaks == {"POST /v3/customers": 20}


def test_store_enforces_the_documented_put_cap_by_default(clock: FakeClock) -> None:
    store = make_store(clock, quota=10)
    assert store.config.concurrency_limits == dict(DEFAULT_CONCURRENCY_LIMITS)
    assert [store.enter(PUT) for _ in range(3)] == [None, None, None]
    refused = store.enter(PUT)
    assert refused is not None
    assert refused.allowed  # the window had room: a concurrency 429, not a quota one
    assert refused.left == 9  # the refusal was counted against the quota
    store.leave(PUT)
    assert store.enter(PUT) is None
    stats = store.stats()
    assert stats["concurrency_429s"] == {PUT: 1}
    assert stats["in_flight"] == {PUT: 3}
    assert stats["in_flight_peak"] == {PUT: 3}
    assert stats["rate_limited"] == 0


def test_refusal_with_a_spent_quota_is_a_quota_429(clock: FakeClock) -> None:
    store = make_store(clock, quota=2, concurrency_limits={PUT: 1})
    assert store.enter(PUT) is None
    store.take_request()
    store.take_request()
    refused = store.enter(PUT)
    assert refused is not None
    assert not refused.allowed
    assert refused.left == 0
    stats = store.stats()
    assert stats["concurrency_429s"] == {}
    assert stats["rate_limited"] == 1


@pytest.mark.parametrize("limits", [{}, {PUT: 0}, None])
def test_limits_can_be_lifted(clock: FakeClock, limits: dict[str, int] | None) -> None:
    store = make_store(clock)
    store.configure(concurrency_limits=limits)
    assert all(store.enter(PUT) is None for _ in range(50))
    assert store.settings()["concurrency_limits"] == {}


def test_limit_change_keeps_in_flight_counts(clock: FakeClock) -> None:
    store = make_store(clock, concurrency_limits={})
    for _ in range(2):
        assert store.enter(PUT) is None
    store.configure(concurrency_limits={PUT: 2})
    assert store.enter(PUT) is not None
    store.leave(PUT)
    assert store.enter(PUT) is None


# -- the competing app ------------------------------------------------------------------------------
def test_competitor_charges_land_in_their_own_window(clock: FakeClock) -> None:
    limiter = RateLimiter(quota=5, window_ms=1000, clock=clock)
    competitor = Competitor(rps=4, origin=clock.now)  # requests at +0.25, +0.5, +0.75, +1.0, ...
    assert limiter.take().left == 4  # opens the window [0, 1)
    clock.advance(0.9)
    assert competitor.catch_up(limiter, clock.now) == (3, 0)
    assert limiter.take().left == 0
    clock.advance(0.2)  # t = 1.1: the competitor's request at 1.0 opened a new window [1.0, 2.0)
    assert competitor.catch_up(limiter, clock.now) == (1, 0)
    decision = limiter.take()
    assert (decision.left, decision.reset_ms) == (3, 900)


def test_competitor_over_a_long_idle_gap(clock: FakeClock) -> None:
    gentle = RateLimiter(quota=5, window_ms=1000, clock=clock)
    greedy = RateLimiter(quota=5, window_ms=1000, clock=clock)
    four, ten = Competitor(4, clock.now), Competitor(10, clock.now)
    clock.advance(100)
    assert four.catch_up(gentle, clock.now) == (400, 0)
    sent, refused = ten.catch_up(greedy, clock.now)
    assert sent == 1000
    assert 450 <= refused <= 550  # about half of each window's 10 finds it spent
    assert four.catch_up(gentle, clock.now) == (0, 0)
    assert Competitor(0, clock.now).catch_up(gentle, clock.now + 50) == (0, 0)


@given(
    rps=st.floats(min_value=0.1, max_value=50),
    quota=st.integers(min_value=0, max_value=12),
    window_ms=st.integers(min_value=50, max_value=3000),
    gaps=st.lists(st.floats(min_value=0, max_value=2), min_size=1, max_size=30),
)
def test_competitor_matches_a_request_by_request_replay(
    rps: float, quota: int, window_ms: int, gaps: list[float]
) -> None:
    """Charging a window at a time gives what replaying every request in time order gives."""
    clock = FakeClock(0.0)
    limiter = RateLimiter(quota, window_ms, clock)
    competitor = Competitor(rps, 0.0)
    ours: list[tuple[bool, int]] = []
    sent = refused = 0
    for gap in gaps:
        clock.advance(gap)
        s, r = competitor.catch_up(limiter, clock.now)
        sent, refused = sent + s, refused + r
        decision = limiter.take()
        ours.append((decision.allowed, decision.left))

    replay = RateLimiter(quota, window_ms, clock)
    events: list[tuple[float, int]] = []  # (time, 0 = competitor first on a tie, 1 = ours)
    now = 0.0
    for gap in gaps:
        now += gap
        events.append((now, 1))
    index = 1
    while 0.0 + index / rps <= now:
        events.append((0.0 + index / rps, 0))
        index += 1
    expected: list[tuple[bool, int]] = []
    expected_refused = 0
    for at, who in sorted(events):
        decision = replay.take(at)
        if who:
            expected.append((decision.allowed, decision.left))
        elif not decision.allowed:
            expected_refused += 1
    assert ours == expected
    assert (sent, refused) == (index - 1, expected_refused)


def test_store_competitor_spends_the_quota_and_is_counted(clock: FakeClock) -> None:
    store = make_store(clock, quota=150, window_ms=30_000, competitor_rps=2)
    clock.advance(10)
    assert store.take_request().left == 150 - 20 - 1  # the window opened at the competitor's first
    stats = store.stats()
    assert (stats["competitor_requests"], stats["competitor_429s"]) == (20, 0)
    store.configure(competitor_rps=0)  # the competitor's requests so far stay counted
    clock.advance(10)
    assert store.stats()["competitor_requests"] == 20
    store.configure(competitor_rps=10, quota=20, window_ms=1000)
    clock.advance(5)
    stats = store.stats()
    assert stats["competitor_requests"] == 70
    assert stats["competitor_429s"] == 0
    assert store.take_request().left == 20 - 10 - 1
    store.reset()
    assert store.stats()["competitor_requests"] == 0
    with pytest.raises(ValueError):
        store.configure(competitor_rps=-1)
