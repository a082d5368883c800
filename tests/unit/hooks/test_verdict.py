"""One classification per attempt: each verdict from status, headers and body; what it tells the policies."""

from __future__ import annotations

import pytest
import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ProtocolError, ReadTimeoutError

from airflow_bigcommerce.hooks.pacing import RateLimitHeaders
from airflow_bigcommerce.hooks.verdict import NOT_JSON, Verdict, classify_answer, classify_failure, parse_json

NONE = RateLimitHeaders()
SPENT = RateLimitHeaders(left=0, reset_ms=1500, window_ms=30000, quota=150)
LEFT = RateLimitHeaders(left=120, reset_ms=1500, window_ms=30000, quota=150)
LEFT_BUT_WAIT = RateLimitHeaders(left=120, reset_ms=1500, retry_after_s=2.0)
RETRY_ONLY = RateLimitHeaders(retry_after_s=3.0)


@pytest.mark.parametrize(
    ("status", "headers", "body", "verdict"),
    [
        (200, LEFT, {"data": []}, Verdict.OK),
        (201, NONE, [{"id": 1}], Verdict.OK),
        (204, NONE, None, Verdict.OK),  # an empty body is a usable answer (V2 past the last page)
        (200, LEFT, NOT_JSON, Verdict.SERVER_ERROR),  # a proxy's HTML page: the write may have landed
        (429, SPENT, None, Verdict.QUOTA_429),
        (429, LEFT_BUT_WAIT, None, Verdict.QUOTA_429),  # X-Retry-After: the store says wait
        (429, RETRY_ONLY, None, Verdict.QUOTA_429),
        (429, LEFT, None, Verdict.CONCURRENCY_429),  # requests left, no X-Retry-After: an endpoint's cap
        (429, NONE, {"status": 429}, Verdict.PLATFORM_429),  # no rate-limit headers: platform load
        (500, LEFT, {"status": 500}, Verdict.SERVER_ERROR),
        (502, NONE, NOT_JSON, Verdict.SERVER_ERROR),
        (503, NONE, None, Verdict.SERVER_ERROR),
        (400, LEFT, [{"status": 400, "message": "bad"}], Verdict.REFUSED),
        (401, NONE, {"status": 401}, Verdict.REFUSED),
        (404, LEFT, None, Verdict.REFUSED),
        (409, LEFT, [{"status": 409}], Verdict.REFUSED),
        (413, LEFT, {"status": 413}, Verdict.REFUSED),
        (422, LEFT, NOT_JSON, Verdict.REFUSED),  # a refusal stays a refusal whatever its body
        (304, NONE, None, Verdict.REFUSED),
        (100, NONE, None, Verdict.SERVER_ERROR),  # nothing usable came back
    ],
)
def test_every_answer_has_one_verdict(
    status: int, headers: RateLimitHeaders, body: object, verdict: Verdict
) -> None:
    assert classify_answer(status, headers, body) is verdict


def test_429_left_zero_is_the_quota_not_a_cap() -> None:
    assert classify_answer(429, RateLimitHeaders(left=0, reset_ms=10), None) is Verdict.QUOTA_429
    assert classify_answer(429, RateLimitHeaders(left=1, reset_ms=10), None) is Verdict.CONCURRENCY_429


@pytest.mark.parametrize(
    ("exc", "verdict"),
    [
        (requests.ConnectTimeout("connect timed out"), Verdict.NOT_SENT),
        (requests.ConnectionError(NewConnectionError(None, "Connection refused")), Verdict.NOT_SENT),  # type: ignore[arg-type]
        (requests.ConnectionError(ConnectTimeoutError("connect timed out")), Verdict.NOT_SENT),
        (requests.ConnectionError(ProtocolError("aborted", ConnectionResetError())), Verdict.NO_ANSWER),
        (requests.ConnectionError(), Verdict.NO_ANSWER),
        (requests.ReadTimeout(ReadTimeoutError(None, "/", "read timed out")), Verdict.NO_ANSWER),  # type: ignore[arg-type]
        (requests.Timeout(), Verdict.NO_ANSWER),
    ],
)
def test_a_lost_answer_is_told_apart_from_a_request_never_sent(
    exc: requests.ConnectionError | requests.Timeout, verdict: Verdict
) -> None:
    assert classify_failure(exc) is verdict


def test_what_each_verdict_tells_the_policies() -> None:
    """The retry decision, the breaker and the in-flight limits read the same verdict."""
    table = {
        # verdict: (rate_limited, transient, may_have_applied, signal with room, signal without)
        Verdict.OK: (False, False, False, "ok", "busy"),
        Verdict.QUOTA_429: (True, False, False, "neutral", "neutral"),
        Verdict.CONCURRENCY_429: (True, False, False, "concurrency", "concurrency"),
        Verdict.PLATFORM_429: (True, True, False, "error", "error"),
        Verdict.SERVER_ERROR: (False, True, True, "error", "error"),
        Verdict.REFUSED: (False, False, False, "neutral", "neutral"),
        Verdict.NOT_SENT: (False, True, False, "error", "error"),
        Verdict.NO_ANSWER: (False, True, True, "error", "error"),
    }
    assert set(table) == set(Verdict)
    for verdict, (rate_limited, transient, may_have_applied, roomy, crowded) in table.items():
        assert verdict.rate_limited is rate_limited, verdict
        assert verdict.transient is transient, verdict
        assert verdict.may_have_applied is may_have_applied, verdict
        assert verdict.signal(room=True) == roomy, verdict
        assert verdict.signal(room=False) == crowded, verdict


def test_parse_json_reads_once_and_marks_what_is_not_json() -> None:
    def answer(content: bytes) -> requests.Response:
        resp = requests.Response()
        resp.status_code = 200
        resp._content = content
        return resp

    assert parse_json(answer(b"")) is None
    assert parse_json(answer(b'{"data": [1]}')) == {"data": [1]}
    assert parse_json(answer(b"<html>502 Bad Gateway</html>")) is NOT_JSON
