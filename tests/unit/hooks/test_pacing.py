from __future__ import annotations

import random
import threading

import pytest
from fake_clock import FakeClock

from airflow_bigcommerce.hooks.pacing import (
    OTHERS_SAMPLES,
    QUIET_MIN_S,
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


def sent_until_blocked(pacer: RateLimitPacer, clock: FakeClock, limit: int = 500) -> int:
    """Acquire (and answer without headers) until the pacer makes the sender wait; return how many."""
    for sent in range(limit):
        before = len(clock.sleeps)
        pacer.acquire()
        if len(clock.sleeps) > before:
            return sent
        pacer.release(None)
    return limit


def test_quota_reserve_leaves_the_last_requests_to_other_apps() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(reserve=30, clock=clock, sleep=clock.sleep)
    for left in range(149, 39, -1):  # our own 110 requests
        pacer.acquire()
        pacer.release(headers(left=left, reset_ms=2000, quota=150, window_ms=3000))
    assert sent_until_blocked(pacer, clock) == 10  # 40 left, 30 of them reserved
    assert clock.sleeps[-1] == pytest.approx(2.0 + RESET_MARGIN_S)


def test_negative_reserve_is_refused() -> None:
    with pytest.raises(ValueError, match="reserve"):
        RateLimitPacer(reserve=-1)


def test_alone_on_the_store_the_pacer_spends_the_whole_window() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    for left in range(149, 19, -1):  # our own 130 requests, one by one
        pacer.acquire()
        pacer.release(headers(left=left, reset_ms=2000, quota=150, window_ms=3000))
    assert pacer.share == 1.0
    assert sent_until_blocked(pacer, clock) == 20


def shared_window(pacer: RateLimitPacer, answers: int, others_per_own: int = 3) -> int:
    """Answer ``answers`` requests of ours one by one while others send as many more each; return left."""
    left = 150
    for _ in range(answers):
        pacer.acquire()
        left -= 1 + others_per_own
        pacer.release(headers(left=left, reset_ms=2000, quota=150, window_ms=3000))
    return left


def test_near_the_window_end_a_shared_store_gets_only_our_share_of_what_is_left() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    assert shared_window(pacer, 30) == 30  # three others send three requests per one of ours
    assert pacer.share == 0.25
    # Of the 30 left, the others hold about three times our usual one request in flight (3); of the
    # remaining 27 we claim our quarter, rounded down: 6, not all 27.
    assert sent_until_blocked(pacer, clock) == 6


def test_far_from_the_window_end_nothing_is_held_back_for_a_share() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    assert shared_window(pacer, 16) == 86
    assert pacer.share == 0.25
    # Far from the end no share is held back: all but the others' requests in flight (2).
    assert sent_until_blocked(pacer, clock) == 84


def test_once_the_others_finish_the_rest_of_the_window_is_ours() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    left = shared_window(pacer, 30)
    sent = 0
    while left > 0:  # the others are done: the store's count now falls by our requests alone
        pacer.acquire()
        left -= 1
        sent += 1
        pacer.release(headers(left=left, reset_ms=2000, quota=150, window_ms=3000))
    assert sent == 30  # every request left in the window, none refused ...
    assert clock.sleeps == []  # ... and without waiting for the reset
    assert pacer.share == 1.0


def test_a_sender_held_back_by_its_share_sends_one_request_after_a_quiet_spell() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    left = shared_window(pacer, 34)  # 14 left, the others sending three per one of ours ...
    sent = 0
    while clock.now < 1002.0:  # ... then they stop: the count falls by our requests alone
        pacer.acquire()
        if clock.now >= 1002.0:
            break  # waited for the reset
        left -= 1
        sent += 1
        pacer.release(headers(left=left, reset_ms=round((1002.0 - clock.now) * 1000), quota=150))
    # Our share of the 14 went out; with nothing of ours in flight no answer could say the others
    # were done, so after a quiet spell (answers here take no time: the least one) one request went
    # out, and its answers showed it. All but the last request, which the window's count leaves no
    # room for while the others' past requests still weigh in our samples.
    assert clock.sleeps[0] == pytest.approx(QUIET_MIN_S)
    assert sent == 13
    assert left == 1


def test_answers_without_headers_use_up_the_room_for_quiet_spell_requests() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    shared_window(pacer, 30)  # 30 left
    assert sent_until_blocked(pacer, clock) == 6  # our share; their answers carry no headers
    probes = 0
    while clock.sleeps[-1] == pytest.approx(QUIET_MIN_S):
        probes += 1  # a quiet spell, then one request: answered without headers too
        pacer.release(None)
        pacer.acquire()
    # The store may have counted every such request: they stop once the latest count (30) less
    # them leaves no room for one request from each of the four senders, so never overshoot it.
    assert 30 - 6 - probes == 3
    assert clock.sleeps[-1] > 1.0  # then the wait for the reset


def test_no_quiet_spell_request_when_the_window_is_all_but_spent() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    assert shared_window(pacer, 37) == 2  # no room for one request from each of the four senders
    waits = len(clock.sleeps)
    assert sent_until_blocked(pacer, clock) == 0
    assert len(clock.sleeps) == waits + 1
    assert clock.now == pytest.approx(1000.0 + 2.0 + RESET_MARGIN_S)  # one wait, for the reset


def test_others_per_own_counts_what_others_spent_between_our_answers() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    assert pacer.others_per_own == 0.0
    left = 150
    for _ in range(10):  # alone: the store's count falls by our own request only
        pacer.acquire()
        left -= 1
        pacer.release(RateLimitHeaders(left=left, reset_ms=2000, window_ms=3000, quota=150))
    assert pacer.others_per_own == 0.0
    for _ in range(OTHERS_SAMPLES):  # another task sends two requests per one of ours
        pacer.acquire()
        left -= 3
        pacer.release(RateLimitHeaders(left=left, reset_ms=2000, window_ms=3000, quota=150))
    assert pacer.others_per_own == 2.0
    clock.now += 1.0  # a quota wait says nothing: the estimate is per answer, not per second
    assert pacer.others_per_own == 2.0


class Blocked(Exception):
    """Raised instead of sleeping: the pacer would have made the sender wait."""


def refuse_to_sleep(_: float) -> None:
    raise Blocked


def sendable(pacer: RateLimitPacer, limit: int = 500) -> int:
    """Return how many requests go out (and stay in flight) before the pacer would make one wait."""
    for sent in range(limit):
        try:
            pacer.acquire()
        except Blocked:
            return sent
    return limit


def test_requests_held_back_while_answers_were_on_the_way_are_sent_once_they_arrive() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=refuse_to_sleep)
    assert sendable(pacer, limit=4) == 4  # a window of 10: four requests in flight
    # The store served all four before any answer came back: each answer says 6 left.
    for _ in range(3):
        pacer.release(headers(left=6, reset_ms=2000, quota=10, window_ms=3000))
    # Counting the one still in flight once more (the store has counted it), we may send 5, not 6 ...
    assert sendable(pacer) == 5
    # ... and its answer shows the store had counted it: of the 6 left, our 5 in flight leave 1.
    pacer.release(headers(left=6, reset_ms=2000, quota=10, window_ms=3000))
    assert sendable(pacer) == 1
    assert sendable(pacer) == 0


def test_the_reset_is_the_earliest_an_answer_implies() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    pacer.acquire()
    pacer.release(headers(left=2, reset_ms=1000, quota=3, window_ms=3000))  # implies 1001.00: read late
    pacer.acquire()
    pacer.acquire()
    clock.now += 0.1
    pacer.release(headers(left=1, reset_ms=880, quota=3, window_ms=3000))  # implies 1000.98: the earliest
    pacer.release(headers(left=0, reset_ms=895, quota=3, window_ms=3000))  # implies 1000.995
    pacer.acquire()  # the window is spent: wait for the earliest reset an answer implied
    assert clock.sleeps == [pytest.approx(0.88 + RESET_MARGIN_S)]


def test_an_answer_from_the_previous_window_changes_nothing() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    pacer.acquire()
    pacer.release(headers(left=149, reset_ms=3000, quota=150, window_ms=3000))
    pacer.acquire()  # sent in the first window, answered after the second began
    clock.now += 3.1
    pacer.acquire()
    pacer.release(headers(left=149, reset_ms=3000, quota=150, window_ms=3000))  # the new window
    pacer.release(headers(left=0, reset_ms=0, quota=150, window_ms=3000))  # the old one's last answer
    assert sent_until_blocked(pacer, clock) == 149  # the new window's 149, and no wait for the old one
    assert clock.sleeps[-1] == pytest.approx(3.0 + RESET_MARGIN_S)


def test_after_a_429_spent_the_quota_no_answer_lets_senders_out_before_the_wait_ends() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    pacer.acquire()
    pacer.acquire()
    pacer.block_for(5.0)  # another app spent the window: a 429 said wait 5 s
    pacer.release(headers(left=100, reset_ms=2000, quota=150, window_ms=3000))  # an earlier request's
    pacer.release(None)
    pacer.acquire()
    assert sum(clock.sleeps) == pytest.approx(5.0)


def test_with_others_on_the_store_their_requests_in_flight_are_counted_too() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=refuse_to_sleep)
    left = 150
    for _ in range(OTHERS_SAMPLES):  # another task sends one request per one of ours
        pacer.acquire()
        left -= 2
        pacer.release(headers(left=left, reset_ms=2000, quota=150, window_ms=3000))
    assert pacer.others_per_own == 1.0
    assert sendable(pacer, limit=10) == 10  # 118 left: far from the end, ten of ours in flight
    pacer.release(headers(left=left - 2, reset_ms=2000, quota=150, window_ms=3000))
    # 116 left, 9 of ours in flight and about as many of theirs: 98 at most, never 107.
    assert sendable(pacer) == 116 - 9 - 9


def test_while_ours_are_in_flight_an_answer_never_gives_back_what_others_may_have_spent() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=refuse_to_sleep)
    left = shared_window(pacer, 16, others_per_own=1)  # one other task, as fast as we are
    assert left == 118
    assert sendable(pacer, limit=4) == 4
    # Two answers whose counts show no other request: ours only (the other's were not counted yet).
    for _ in range(2):
        left -= 1
        pacer.release(headers(left=left, reset_ms=2000, quota=150, window_ms=3000))
    held = pacer._left
    left -= 1
    pacer.release(headers(left=left, reset_ms=2000, quota=150, window_ms=3000))
    assert pacer._left == held  # one of ours is still in flight: nothing is taken back
    left -= 1
    pacer.release(headers(left=left, reset_ms=2000, quota=150, window_ms=3000))
    # All ours are in: the latest count (114) less the other's usual requests in flight is ours.
    assert pacer._left is not None and pacer._left > held


def test_a_blocked_sender_wakes_when_an_answer_frees_requests() -> None:
    pacer = RateLimitPacer()  # real clock, and a wait that an answer can end
    for _ in range(5):
        pacer.acquire()
    # The store counted all five before answering: 5 left, less the four still in flight.
    pacer.release(headers(left=5, reset_ms=30000, quota=10, window_ms=30000))
    pacer.acquire()
    sent = blocked_sender(pacer)  # nothing left until the reset, 30 s away ...
    assert not sent.is_set()
    pacer.release(headers(left=5, reset_ms=29990, quota=10, window_ms=30000))  # ... until this answer
    assert sent.wait(5.0)


def test_our_own_requests_counted_before_their_answers_do_not_read_as_others() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    pacer.acquire()
    pacer.release(headers(left=149, reset_ms=2000, quota=150, window_ms=3000))
    for _ in range(3):
        pacer.acquire()
    # The count fell by 3 for one answer: the store has counted our other two in flight already.
    pacer.release(headers(left=146, reset_ms=2000, quota=150, window_ms=3000))
    assert pacer.share == 1.0  # the quota rules see no one else ...
    assert pacer.others_per_own == 2.0  # ... though the raw figure (for a capped endpoint) does
    # Another sender's requests do show: the count falls beyond all of ours, answered or in flight.
    pacer.release(headers(left=140, reset_ms=2000, quota=150, window_ms=3000))
    assert pacer.share < 1.0


def test_a_sender_waiting_for_the_reset_wakes_when_our_last_answer_is_in() -> None:
    pacer = RateLimitPacer()  # real clock, and a wait that an answer can end
    left = shared_window(pacer, 33)  # 18 left, the others sending three per one of ours
    assert pacer._left == 3  # our share goes out; the next sender waits for the reset, 2 s away,
    for _ in range(3):
        pacer.acquire()
    sent = blocked_sender(pacer)  # as answers of ours are on the way ...
    for _ in range(3):  # ... and the others keep sending: no requests freed
        left -= 4
        pacer.release(headers(left=left, reset_ms=1990, quota=150, window_ms=3000))
    # With none of ours in flight no answer will come: it waits a quiet spell only, then sends one.
    assert sent.wait(1.0)


def blocked_sender(pacer: RateLimitPacer) -> threading.Event:
    """Start a sender that the pacer blocks; return an event set once its request goes out."""
    sent = threading.Event()

    def send() -> None:
        pacer.acquire()
        sent.set()

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    for _ in range(5000):  # until it waits (or gave up on waiting: then the test's assertion says so)
        if pacer._freed._waiters:  # type: ignore[attr-defined]
            break
        sender.join(0.001)
    return sent


def test_each_window_wait_is_announced_once_and_a_429s_wait_not_again() -> None:
    clock = FakeClock()
    heard: list[float] = []
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep, on_wait=heard.append)
    pacer.acquire()
    pacer.release(headers(left=0, reset_ms=20000, quota=3, window_ms=30000))
    pacer.acquire()  # waits for the reset: announced
    assert heard == [pytest.approx(20.0 + RESET_MARGIN_S)]
    pacer.release(headers(left=0, reset_ms=30000, quota=3, window_ms=30000))
    pacer.block_for(30.0)  # a 429: whoever saw it announced the wait
    pacer.acquire()
    assert len(heard) == 1
    pacer.release(headers(left=0, reset_ms=25000, quota=3, window_ms=30000))
    pacer.acquire()  # a new window spent: announced again
    assert len(heard) == 2 and heard[1] == pytest.approx(25.0 + RESET_MARGIN_S)
