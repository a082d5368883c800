"""The hook's request policy against a scripted session: no network."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from fake_clock import FakeClock
from urllib3.exceptions import NewConnectionError, ProtocolError

from airflow_bigcommerce import __version__
from airflow_bigcommerce.api import LOOKUP_BATCH_SIZE, group_lookups, lookup_values
from airflow_bigcommerce.exceptions import (
    BigCommerceAPIError,
    BigCommerceConfigError,
    BigCommerceConnectionError,
    BigCommerceDuplicateCustomerError,
    BigCommerceOutcomeUnknownError,
)
from airflow_bigcommerce.hooks.bigcommerce import (
    MAX_LOOKUP_CHARS,
    MAX_PAGE_SIZE,
    BigCommerceHook,
    legacy_field_specs,
    lookup_groups,
)
from airflow_bigcommerce.hooks.breaker import CircuitBreaker
from airflow_bigcommerce.hooks.pacing import RateLimitPacer
from airflow_bigcommerce.sync.client import CustomerClient, OutcomeUnknownError, RequestRejectedError

TOKEN = "tok-unit-7f3a"


def response(status: int, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None):
    resp = requests.Response()
    resp.status_code = status
    resp._content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    resp.headers.update(headers or {})
    resp.reason = "reason"
    return resp


class ScriptedSession(requests.Session):
    def __init__(self, script: list[Any]) -> None:
        super().__init__()
        self.script = list(script)
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.calls.append((method, url, kwargs))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


@pytest.fixture
def conn_env(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    def set_conn(**fields: Any) -> None:
        conn = {"conn_type": "bigcommerce", "password": TOKEN, "extra": {"store_hash": "abc123"}, **fields}
        monkeypatch.setenv("AIRFLOW_CONN_BIGCOMMERCE_DEFAULT", json.dumps(conn))

    set_conn()
    return set_conn


def scripted_hook(script: list[Any], **kwargs: Any) -> tuple[BigCommerceHook, ScriptedSession, list[float]]:
    hook = BigCommerceHook(**kwargs)
    session = ScriptedSession(script)
    real = hook.get_conn()
    session.headers = real.headers
    hook._local.session = session
    clock = FakeClock()
    hook._sleep = clock.sleep  # type: ignore[method-assign]
    hook.pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    hook.breaker = CircuitBreaker(hook.settings.retry_budget_s, clock=clock, sleep=clock.sleep)
    return hook, session, clock.sleeps


def refused() -> requests.ConnectionError:
    return requests.ConnectionError(NewConnectionError(None, "Connection refused"))  # type: ignore[arg-type]


def dropped() -> requests.ConnectionError:
    return requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))


def test_hook_implements_the_engine_protocol(conn_env: Callable[..., None]) -> None:
    assert isinstance(BigCommerceHook(), CustomerClient)
    assert issubclass(BigCommerceOutcomeUnknownError, OutcomeUnknownError)
    assert issubclass(BigCommerceAPIError, RequestRejectedError)


def test_url_and_headers(conn_env: Callable[..., None]) -> None:
    hook, session, _ = scripted_hook([response(200, {"time": 1700000000})])
    assert hook.get_time() == 1700000000
    method, url, kwargs = session.calls[0]
    assert (method, url) == ("GET", "https://api.bigcommerce.com/stores/abc123/v2/time")
    assert session.headers["X-Auth-Token"] == TOKEN
    assert session.headers["Accept"] == "application/json"
    assert session.headers["Content-Type"] == "application/json"
    assert session.headers["User-Agent"] == f"airflow-provider-bigcommerce/{__version__}"
    assert "Authorization" not in session.headers
    assert kwargs["timeout"] == 30.0


def test_login_is_not_turned_into_basic_auth(conn_env: Callable[..., None]) -> None:
    conn_env(login="someone")
    hook, session, _ = scripted_hook([response(200, {"time": 1})])
    hook.get_time()
    assert session.auth is None


def test_bad_store_hash_and_remote_http_refused(conn_env: Callable[..., None]) -> None:
    conn_env(extra={"store_hash": "../admin"})
    with pytest.raises(BigCommerceConfigError, match="Store hash"):
        BigCommerceHook().settings  # noqa: B018
    conn_env(host="http://api.bigcommerce.com")
    with pytest.raises(BigCommerceConfigError, match="plain http"):
        BigCommerceHook().settings  # noqa: B018


def test_get_retried_on_5xx_and_dropped_connection(conn_env: Callable[..., None]) -> None:
    hook, session, sleeps = scripted_hook(
        [response(503), dropped(), response(200, {"data": [], "meta": {"pagination": {"total_pages": 1}}})]
    )
    assert hook.find_customers_by_email(["a@example.com"]) == []
    assert len(session.calls) == 3
    assert len(sleeps) == 2
    assert hook.stats["retries"] == 2


def test_get_gives_up_after_max_retries(conn_env: Callable[..., None]) -> None:
    hook, session, _ = scripted_hook([response(500)] * 3, max_retries=2)
    with pytest.raises(BigCommerceAPIError) as info:
        hook.get_store()
    assert info.value.status == 500
    assert len(session.calls) == 3


def test_unreachable_host_is_a_connection_error(conn_env: Callable[..., None]) -> None:
    hook, _, _ = scripted_hook([refused()] * 2, max_retries=1)
    with pytest.raises(BigCommerceConnectionError, match="Cannot reach"):
        hook.get_store()


@pytest.mark.parametrize("failure", [response(500), response(502), dropped(), requests.ReadTimeout("slow")])
def test_post_is_never_resent_after_it_may_have_arrived(conn_env: Callable[..., None], failure: Any) -> None:
    hook, session, _ = scripted_hook([failure, response(200, {"data": []})])
    with pytest.raises(BigCommerceOutcomeUnknownError):
        hook.create_customers([{"email": "a@example.com", "first_name": "A", "last_name": "B"}])
    assert len(session.calls) == 1


def test_post_with_malformed_2xx_body_is_an_unknown_outcome(conn_env: Callable[..., None]) -> None:
    hook, session, _ = scripted_hook([response(200, raw=b"<html>oops")])
    with pytest.raises(BigCommerceOutcomeUnknownError):
        hook.create_customer_v2({"email": "a@example.com", "first_name": "A", "last_name": "B"})
    assert len(session.calls) == 1


def test_post_resent_when_connection_was_refused(conn_env: Callable[..., None]) -> None:
    hook, session, _ = scripted_hook([refused(), response(200, {"data": [{"id": 1}], "meta": {}})])
    assert hook.create_customers([{"email": "a@example.com"}]) == [{"id": 1}]
    assert len(session.calls) == 2


def test_429_waits_the_longer_hint_then_resends_post(conn_env: Callable[..., None]) -> None:
    limited = {
        "X-Rate-Limit-Requests-Left": "0",
        "X-Rate-Limit-Time-Reset-Ms": "1500",
        "X-Retry-After": "3",
        "X-Rate-Limit-Requests-Quota": "150",
        "X-Rate-Limit-Time-Window-Ms": "30000",
    }
    hook, session, sleeps = scripted_hook(
        [response(429, {"status": 429}, limited), response(200, {"data": []})]
    )
    hook.create_customers([{"email": "a@example.com"}])
    assert len(session.calls) == 2
    assert hook.stats["429s"] == 1
    assert sleeps and sleeps[0] >= 3.0


def test_bare_429_backs_off(conn_env: Callable[..., None]) -> None:
    hook, session, sleeps = scripted_hook([response(429), response(429), response(200, {"time": 5})])
    assert hook.get_time() == 5
    assert len(sleeps) == 2
    assert all(s > 0 for s in sleeps)


def test_pacing_waits_before_the_quota_runs_out(conn_env: Callable[..., None]) -> None:
    last = {
        "X-Rate-Limit-Requests-Left": "0",
        "X-Rate-Limit-Time-Reset-Ms": "700",
        "X-Rate-Limit-Requests-Quota": "2",
        "X-Rate-Limit-Time-Window-Ms": "1000",
    }
    hook, session, sleeps = scripted_hook([response(200, {"time": 1}, last), response(200, {"time": 2})])
    hook.get_time()
    assert sleeps == []
    hook.get_time()
    assert len(sleeps) == 1
    assert 0.6 < sleeps[0] < 0.8
    assert hook.stats["429s"] == 0


def test_errors_keep_status_path_and_body_but_not_the_request(conn_env: Callable[..., None]) -> None:
    v3_error = {"status": 422, "title": "Invalid", "type": "x", "errors": {"0.email": "bad email"}}
    hook, _, _ = scripted_hook([response(422, v3_error)])
    with pytest.raises(BigCommerceAPIError) as info:
        hook.create_customers([{"email": "x", "authentication": {"new_password": "Sup3rSecret!"}}])
    err = info.value
    assert (err.status, err.method, err.path) == (422, "POST", "v3/customers")
    assert err.errors == {"0.email": "bad email"}
    assert "Sup3rSecret!" not in str(err)
    assert "bad email" in str(err)


def test_v2_duplicate_is_typed(conn_env: Callable[..., None]) -> None:
    hook, _, _ = scripted_hook([response(409, [{"status": 409, "message": "The email is already in use."}])])
    with pytest.raises(BigCommerceDuplicateCustomerError, match="already in use"):
        hook.create_customer_v2({"email": "a@example.com"})


def test_v3_duplicate_is_typed_and_other_refusals_are_not(conn_env: Callable[..., None]) -> None:
    in_use = {
        "status": 422,
        "title": "Invalid",
        "errors": {".customer_create": "The email a@x.io is already in use."},
    }
    bad = {"status": 422, "title": "Invalid", "errors": {"0.email": "bad email"}}
    hook, _, _ = scripted_hook([response(422, in_use), response(422, bad)])
    with pytest.raises(BigCommerceDuplicateCustomerError, match="already in use"):
        hook.create_customers([{"email": "a@x.io"}])
    with pytest.raises(BigCommerceAPIError) as info:
        hook.create_customers([{"email": "x"}])
    assert not isinstance(info.value, BigCommerceDuplicateCustomerError)


def test_find_customer_v2_by_email_looks_up_v3_then_reads_v2(conn_env: Callable[..., None]) -> None:
    empty = response(200, {"data": [], "meta": {"pagination": {"total_pages": 1}}})
    found = response(
        200, {"data": [{"id": 3, "email": "A@Example.com"}], "meta": {"pagination": {"total_pages": 1}}}
    )
    hook, session, _ = scripted_hook([empty, found, response(200, {"id": 3, "email": "A@Example.com"})])
    assert hook.find_customer_v2_by_email("a@example.com") is None
    assert hook.find_customer_v2_by_email(" a@example.COM ") == {"id": 3, "email": "A@Example.com"}
    assert session.calls[1][2]["params"]["email:in"] == "a@example.COM,a@example.com"
    assert session.calls[2][1].endswith("/stores/abc123/v2/customers/3")


def test_paging_follows_total_pages(conn_env: Callable[..., None]) -> None:
    def page(n: int, ids: list[int]) -> requests.Response:
        return response(
            200,
            {"data": [{"id": i} for i in ids], "meta": {"pagination": {"total_pages": 2, "current_page": n}}},
        )

    hook, session, _ = scripted_hook([page(1, [1, 2]), page(2, [3])])
    assert [c["id"] for c in hook.iter_customers(page_size=2)] == [1, 2, 3]
    assert [call[2]["params"]["page"] for call in session.calls] == [1, 2]


def test_batch_size_is_checked(conn_env: Callable[..., None]) -> None:
    hook, _, _ = scripted_hook([])
    with pytest.raises(BigCommerceConfigError, match="1 to 10"):
        hook.create_customers([{"email": f"{i}@x.io"} for i in range(11)])


@pytest.mark.parametrize(
    ("customers", "store", "ok", "words"),
    [
        (response(200, {"data": []}), response(200, {"name": "My Shop"}), True, "My Shop"),
        (response(401, {"status": 401}), None, False, "access token"),
        (response(404, {"status": 404, "title": "Not found"}), None, False, "Unknown store hash"),
        (response(200, {"data": []}), response(403, {"status": 403}), True, "Information & settings"),
        (response(200, {"data": []}), response(404, [{"status": 404}]), True, "customers readable"),
        (response(403, {"status": 403}), None, False, "Customers: modify"),
        (refused(), None, False, "Cannot reach"),
    ],
)
def test_test_connection_messages(
    conn_env: Callable[..., None], customers: Any, store: Any, ok: bool, words: str
) -> None:
    hook, session, _ = scripted_hook([customers] + ([store] if store is not None else []))
    result, message = hook.test_connection()
    assert result is ok
    assert words in message
    assert TOKEN not in message
    assert session.calls[0][1].endswith("/v3/customers")


def test_paging_without_pagination_meta_stops_on_a_short_page(conn_env: Callable[..., None]) -> None:
    full = response(200, {"data": [{"id": i} for i in range(2)]})
    short = response(200, {"data": [{"id": 9}]})
    hook, session, _ = scripted_hook([full, short])
    assert [c["id"] for c in hook.iter_customers(page_size=2)] == [0, 1, 9]
    assert len(session.calls) == 2


def test_test_connection_reports_config_errors(conn_env: Callable[..., None]) -> None:
    conn_env(extra={})
    ok, message = BigCommerceHook().test_connection()
    assert not ok
    assert "store hash" in message


def test_legacy_form_methods_match_provider_info(conn_env: Callable[..., None]) -> None:
    from airflow_bigcommerce.get_provider_info import get_provider_info

    conn_type = get_provider_info()["connection-types"][0]
    behaviour = BigCommerceHook.get_ui_field_behaviour()
    assert behaviour["relabeling"] == conn_type["ui-field-behaviour"]["relabeling"]
    assert set(behaviour["hidden_fields"]) == set(conn_type["ui-field-behaviour"]["hidden-fields"])
    specs = legacy_field_specs()
    assert set(specs) == set(conn_type["conn-fields"])
    assert specs["store_hash"]["label"] == "Store Hash"
    assert specs["store_hash"]["pattern"]
    assert specs["timeout"]["kind"] == "integer"


def encoded_email_in(group: list[str]) -> str:
    """The ``email:in`` value as requests puts it in the URL."""
    return urlencode({"email:in": ",".join(group)}).partition("=")[2]


def test_lookup_groups_send_both_cases_once() -> None:
    assert lookup_groups([" A@x.io ", "a@x.io", "b@x.io", "", "A@x.io"]) == [["A@x.io", "a@x.io", "b@x.io"]]


def test_lookup_groups_cap_the_count_at_one_page_of_answers() -> None:
    many = [f"user{i}@example.com" for i in range(600)]
    assert [len(g) for g in lookup_groups(many)] == [250, 250, 100]
    assert LOOKUP_BATCH_SIZE == MAX_PAGE_SIZE == 250


def test_lookup_groups_count_the_percent_encoded_length() -> None:
    # 30 raw characters, 48 on the wire: "+" and "@" take 3 characters each, as does each comma.
    plus = [f"a+b+c+d+e+{i:04d}@ex.io".ljust(30, "x") for i in range(400)]
    groups = lookup_groups(plus)
    assert len(groups) > 2
    assert all(len(encoded_email_in(g)) <= MAX_LOOKUP_CHARS for g in groups)
    assert any(len(encoded_email_in(g)) > MAX_LOOKUP_CHARS - 60 for g in groups)  # groups are filled
    assert all(sum(len(e) + 1 for e in g) < MAX_LOOKUP_CHARS * 0.7 for g in groups)  # raw would mislead
    assert [e for g in groups for e in g] == plus
    unicode = [f"jörg.müller{i}@bücher.example" for i in range(300)]
    assert all(len(encoded_email_in(g)) <= MAX_LOOKUP_CHARS for g in lookup_groups(unicode))


def test_lookup_urls_stay_under_8_kb_even_for_the_longest_e_mails() -> None:
    # Mixed case sends two values per e-mail; 250 characters is the V3 maximum for an e-mail.
    cases: list[list[str]] = [
        [f"First.Last{i}@Example.COM" for i in range(1000)],
        [("X" * 230) + f"{i:05d}@Ex.io" for i in range(100)],
        [f"Ünïcödé.{i}@Exämple.com" for i in range(500)],
    ]
    base = "https://api.bigcommerce.com/stores/abcdefghij/v3/customers"
    for emails in cases:
        for group in lookup_groups(emails):
            params = {"email:in": ",".join(group), "limit": MAX_PAGE_SIZE, "page": 99}
            url = requests.Request("GET", base, params=params).prepare().url
            assert url is not None
            assert len(url) < 7300 < 8192


def test_engine_groups_go_out_as_one_request_each(conn_env: Callable[..., None]) -> None:
    emails = [f"First.Last{i}@Example.COM" for i in range(500)] + [f"p{i}@x.io" for i in range(500)]
    engine_groups = group_lookups(emails)
    assert len(engine_groups) > 2
    assert [len(lookup_groups(group)) for group in engine_groups] == [1] * len(engine_groups)
    assert lookup_groups(emails) == [lookup_values(group) for group in engine_groups]
    page = response(
        200, {"data": [{"id": 1, "email": "p1@x.io"}], "meta": {"pagination": {"total_pages": 1}}}
    )
    hook, session, _ = scripted_hook([page])
    assert hook.find_customers_by_email(engine_groups[-1]) == [{"id": 1, "email": "p1@x.io"}]
    assert len(session.calls) == 1
    assert session.calls[0][2]["params"]["limit"] == 250


# -- outages: the hook's breaker and retry budget ------------------------------------------------

WINDOW_HEADERS = {
    "X-Rate-Limit-Requests-Left": "100",
    "X-Rate-Limit-Time-Reset-Ms": "20000",
    "X-Rate-Limit-Requests-Quota": "150",
    "X-Rate-Limit-Time-Window-Ms": "30000",
}


def test_get_rides_out_an_outage_with_growing_waits(conn_env: Callable[..., None]) -> None:
    hook, session, sleeps = scripted_hook([response(503)] * 8 + [response(200, {"time": 9})])
    assert hook.get_time() == 9
    assert len(session.calls) == 9
    # half-jittered doubling from 0.5 s, capped at 15 s: at least 0.25 + 0.5 + 1 + 2 + 4 + 3 * 7.5
    assert 30 <= sum(sleeps) < 120


def test_get_gives_up_after_the_retry_budget_as_a_transient_error(conn_env: Callable[..., None]) -> None:
    from airflow_bigcommerce.exceptions import BigCommerceUnavailableError
    from airflow_bigcommerce.sync.client import TransientFailureError

    conn_env(extra={"store_hash": "abc123", "retry_budget_s": 30})
    hook, session, sleeps = scripted_hook([response(503)] * 100)
    with pytest.raises(BigCommerceUnavailableError) as info:
        hook.get_time()
    assert isinstance(info.value, TransientFailureError)
    assert not isinstance(info.value, RequestRejectedError)
    assert "reads kept failing (503)" in str(info.value)
    assert "retry budget of 30 s" in str(info.value)
    assert 29.9 <= sum(sleeps) <= 30.1
    assert len(session.calls) < 15  # a handful of probes, not a stampede


def test_write_outage_does_not_stop_reads_and_writes_back_off(conn_env: Callable[..., None]) -> None:
    hook, session, sleeps = scripted_hook(
        [response(503), response(200, {"time": 1}), response(200, {"data": [{"id": 1}], "meta": {}})]
    )
    with pytest.raises(BigCommerceOutcomeUnknownError):
        hook.create_customers([{"email": "a@example.com"}])
    assert hook.get_time() == 1
    assert sleeps == []  # the read did not wait for the write circuit
    hook.create_customers([{"email": "a@example.com"}])
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5  # the resend waited a backoff


def test_confirmed_write_closes_the_write_circuit(conn_env: Callable[..., None]) -> None:
    hook, _, sleeps = scripted_hook([response(500, None, WINDOW_HEADERS), response(200, {"data": []})])
    with pytest.raises(BigCommerceOutcomeUnknownError):
        hook.create_customers([{"email": "a@example.com"}])
    hook.confirm_write()  # the engine's look-up found the write: the store's writes work
    hook.create_customers([{"email": "b@example.com"}])
    assert sleeps == []


def test_429_with_requests_left_is_a_concurrency_limit_not_a_window_wait(
    conn_env: Callable[..., None],
) -> None:
    hook, session, sleeps = scripted_hook(
        [response(429, {"status": 429}, WINDOW_HEADERS), response(200, {"data": []})]
    )
    hook.update_customers([{"id": 1, "first_name": "A"}])
    assert len(session.calls) == 2
    assert len(sleeps) == 1 and sleeps[0] < 1.0  # brief backoff, not the 20 s reset
    assert hook.stats["concurrency_429s"] == 1


def test_too_many_429s_are_a_transient_failure(conn_env: Callable[..., None]) -> None:
    from airflow_bigcommerce.exceptions import BigCommerceRateLimitError
    from airflow_bigcommerce.hooks.transport import MAX_RATE_LIMIT_WAITS
    from airflow_bigcommerce.sync.client import TransientFailureError

    spent = {**WINDOW_HEADERS, "X-Rate-Limit-Requests-Left": "0", "X-Rate-Limit-Time-Reset-Ms": "10"}
    hook, _, _ = scripted_hook([response(429, {"status": 429}, spent)] * (MAX_RATE_LIMIT_WAITS + 1))
    with pytest.raises(BigCommerceRateLimitError) as info:
        hook.create_customers([{"email": "a@example.com"}])
    assert isinstance(info.value, TransientFailureError)


def test_each_answer_is_classified_once_and_feeds_every_policy(
    conn_env: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry decision, the in-flight limits and the outage policy act on one verdict per answer."""
    from airflow_bigcommerce.hooks import transport

    verdicts: list[transport.Verdict] = []
    original = transport.classify_answer

    def classify(*args: Any) -> transport.Verdict:
        verdicts.append(original(*args))
        return verdicts[-1]

    monkeypatch.setattr(transport, "classify_answer", classify)
    script = [
        response(503, {"status": 503}, WINDOW_HEADERS),
        response(429, {"status": 429}, WINDOW_HEADERS),
        response(429, {"status": 429}),
        response(200, {"data": [{"id": 1}]}, WINDOW_HEADERS),
    ]
    hook, session, _ = scripted_hook(script)
    signals: list[str] = []
    release = hook.concurrency.release
    monkeypatch.setattr(
        hook.concurrency,
        "release",
        lambda key, started, signal, **kw: signals.append(signal) or release(key, started, signal, **kw),
    )
    assert hook.update_customers([{"id": 1, "first_name": "A"}]) == [{"id": 1}]
    assert len(session.calls) == len(verdicts) == 4
    assert [v.name for v in verdicts] == ["SERVER_ERROR", "CONCURRENCY_429", "PLATFORM_429", "OK"]
    assert signals == ["error", "concurrency", "error", "ok"]
    assert hook.breaker.stats["transient_failures"] == 2  # the 503 and the bare 429
    assert (hook.stats["retries"], hook.stats["429s"], hook.stats["concurrency_429s"]) == (1, 2, 1)


# -- store errors: the connection, the fix, the short limit for a store never reached, wait lines -----


class RecordingLog:
    """Stands in for the hook's logger: keeps ``(level, line)``."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def _add(self, level: str, event: Any, *args: Any) -> None:
        self.lines.append((level, str(event) % args if args else str(event)))

    def debug(self, event: Any, *args: Any, **kw: Any) -> None:
        self._add("debug", event, *args)

    def info(self, event: Any, *args: Any, **kw: Any) -> None:
        self._add("info", event, *args)

    def warning(self, event: Any, *args: Any, **kw: Any) -> None:
        self._add("warning", event, *args)

    def above_debug(self) -> list[str]:
        return [line for level, line in self.lines if level != "debug"]


def logged_hook(
    script: list[Any], **kwargs: Any
) -> tuple[BigCommerceHook, ScriptedSession, list[float], RecordingLog]:
    hook, session, sleeps = scripted_hook(script, **kwargs)
    log = RecordingLog()
    hook._log = log  # type: ignore[assignment]
    return hook, session, sleeps, log


def test_check_access_raises_the_test_buttons_messages_with_the_connection(
    conn_env: Callable[..., None],
) -> None:
    from airflow_bigcommerce.exceptions import BigCommerceAuthError

    cases = [
        (
            response(401, {"status": 401, "title": "You are not authorized to access this resource."}),
            "Connection 'bigcommerce_default': BigCommerce rejected the access token (401 Unauthorized): "
            "paste the API account's Access Token into the password field; it is shown once, when the "
            "account is created.",
        ),
        (
            response(403, {"status": 403, "title": "You don't have a required scope to access the endpoint"}),
            "Connection 'bigcommerce_default': The access token lacks the Customers scope (403 Forbidden): "
            "give the API account 'Customers: modify' in the store's control panel "
            "(Settings > API accounts).",
        ),
        (
            response(404, {"status": 404, "title": "Store not found."}),
            "Connection 'bigcommerce_default': Unknown store hash 'abc123' (404 Not Found): use the letters "
            "and digits after /stores/ in the API path shown with the API account.",
        ),
    ]
    for answer, message in cases:
        hook, session, _ = scripted_hook([answer])
        with pytest.raises(BigCommerceAuthError) as info:
            hook.check_access()
        assert str(info.value) == message
        assert TOKEN not in str(info.value)
        assert session.calls[0][1].endswith("/v3/customers")
        assert session.calls[0][2]["params"] == {"limit": 1}
        assert session.calls[0][2]["timeout"] == 10.0
        button, _, _ = scripted_hook([answer])
        assert button.test_connection() == (False, message)  # one rule: the Test button says the same


def test_check_access_on_an_unreachable_host_sends_once(conn_env: Callable[..., None]) -> None:
    hook, session, sleeps = scripted_hook([refused()])
    with pytest.raises(BigCommerceConnectionError) as info:
        hook.check_access()
    assert str(info.value) == (
        "Cannot reach the store of connection 'bigcommerce_default' at https://api.bigcommerce.com "
        "(GET v3/customers): ConnectionError: Connection refused. Check the connection's API Host "
        "(default https://api.bigcommerce.com) and the network."
    )
    assert len(session.calls) == 1 and sleeps == []


def test_check_access_names_the_connection_in_a_config_error(conn_env: Callable[..., None]) -> None:
    conn_env(extra={})
    with pytest.raises(BigCommerceConfigError, match="^Connection 'bigcommerce_default': .*store hash"):
        BigCommerceHook().check_access()


@pytest.mark.parametrize(
    ("call", "answer", "words"),
    [
        (lambda h: h.list_customer_attributes(), response(401, {"status": 401}), "rejected the access token"),
        (
            lambda h: h.find_subscriber("a@example.com"),
            response(403, {"status": 403, "title": "Missing scope"}),
            "lacks the Customers scope (403 Forbidden): give the API account 'Customers: modify'",
        ),
        (lambda h: h.get_time(), response(403, [{"status": 403}]), "'Information & settings: read-only'"),
        (
            lambda h: h.upsert_attribute_values([{"attribute_id": 1, "value": "x", "customer_id": 2}]),
            response(404, {"status": 404, "title": "Store not found."}),
            "Unknown store hash 'abc123'",
        ),
    ],
)
def test_an_access_refusal_mid_run_is_the_typed_error(
    conn_env: Callable[..., None], call: Callable[[BigCommerceHook], Any], answer: Any, words: str
) -> None:
    from airflow_bigcommerce.exceptions import BigCommerceAuthError

    hook, session, _ = scripted_hook([response(200, {"data": []}), answer])
    hook.check_access()
    with pytest.raises(BigCommerceAuthError) as info:
        call(hook)
    message = str(info.value)
    assert message.startswith("Connection 'bigcommerce_default': ")
    assert words in message
    method, url, _ = session.calls[1]
    assert message.endswith(f"Refused request: {method} {url.split('/abc123/')[1]}.")
    assert not isinstance(info.value, RequestRejectedError)  # the engine never takes it for a row's refusal
    assert len(session.calls) == 2  # not retried


@pytest.mark.parametrize(
    ("call", "answer"),
    [
        (lambda h: h.list_customer_groups(), response(403, [{"status": 403, "message": "Forbidden"}])),
        (lambda h: h.list_customer_groups(), response(404, [{"status": 404, "message": "Not found"}])),
        (
            lambda h: h._json("GET", "v2/customers/99"),
            response(404, [{"status": 404, "message": "Not found"}]),
        ),
        (lambda h: h.get_channel_settings(9), response(404, {"status": 404, "title": "Channel not found"})),
    ],
)
def test_plan_and_record_refusals_stay_ordinary(
    conn_env: Callable[..., None], call: Callable[[BigCommerceHook], Any], answer: Any
) -> None:
    from airflow_bigcommerce.exceptions import BigCommerceAuthError
    from airflow_bigcommerce.sync.store_context import plan_lacks_groups

    hook, _, _ = scripted_hook([answer])
    with pytest.raises(BigCommerceAPIError) as info:
        call(hook)
    assert not isinstance(info.value, BigCommerceAuthError)
    assert str(info.value).startswith("Connection 'bigcommerce_default': GET v")
    if "customer_groups" in info.value.path:
        assert plan_lacks_groups(info.value)


def test_api_errors_name_the_connection(conn_env: Callable[..., None]) -> None:
    hook, _, _ = scripted_hook(
        [response(422, {"status": 422, "title": "Invalid", "errors": {"email": "bad"}})]
    )
    with pytest.raises(BigCommerceAPIError) as info:
        hook.create_customers([{"email": "x"}])
    assert (
        str(info.value)
        == "Connection 'bigcommerce_default': POST v3/customers answered 422: Invalid (email: bad)"
    )
    assert info.value.title == "Invalid" and info.value.errors == {"email": "bad"}  # what reports use


def test_a_store_never_reached_fails_within_the_unreachable_limit(conn_env: Callable[..., None]) -> None:
    from airflow_bigcommerce.hooks.transport import UNREACHABLE_LIMIT_S

    hook, session, sleeps, log = logged_hook([refused()] * 100)  # default budget 300 s, no retry cap
    with pytest.raises(BigCommerceConnectionError) as info:
        hook.list_customer_attributes()
    assert str(info.value).startswith(
        "Cannot reach the store of connection 'bigcommerce_default' at https://api.bigcommerce.com "
        "(GET v3/customers/attributes): ConnectionError: Connection refused."
    )
    assert sum(sleeps) <= UNREACHABLE_LIMIT_S + 0.01
    assert sum(sleeps) >= UNREACHABLE_LIMIT_S - 15  # it kept trying, with backoff, for most of it
    assert 3 <= len(session.calls) < 15
    waits = log.above_debug()
    assert waits, "a long wait says so"
    assert all(
        "Connection 'bigcommerce_default': cannot reach the store at https://api.bigcommerce.com" in w
        for w in waits
    )
    assert all("giving up in" in w for w in waits)


def test_a_dns_failure_is_unreachable_too(conn_env: Callable[..., None]) -> None:
    from urllib3.exceptions import NameResolutionError

    failure = requests.ConnectionError(
        NameResolutionError("api.bigcommerce.example", None, "[Errno -2] Name or service not known")  # type: ignore[arg-type]
    )
    hook, session, sleeps = scripted_hook([failure] * 100)
    with pytest.raises(
        BigCommerceConnectionError, match="Failed to resolve 'api.bigcommerce.example'"
    ) as info:
        hook.get_time()
    assert "Check the connection's API Host" in str(info.value)
    assert sum(sleeps) <= 30.01


def test_once_the_store_answered_a_refused_connection_rides_the_retry_budget(
    conn_env: Callable[..., None],
) -> None:
    from airflow_bigcommerce.exceptions import BigCommerceUnavailableError

    hook, session, sleeps, log = logged_hook([response(200, {"time": 1})] + [refused()] * 200)
    assert hook.get_time() == 1
    with pytest.raises(BigCommerceUnavailableError) as info:
        hook.get_time()
    assert str(info.value).startswith(
        "Connection 'bigcommerce_default': GET v2/time: store reads kept failing"
    )
    assert "retry budget of 300 s" in str(info.value)
    assert 299 <= sum(sleeps) <= 300.01
    waits = log.above_debug()
    assert waits and all("store reads failing (ConnectionError)" in w for w in waits)
    assert all(" before trying GET v2/time again, giving up in " in w for w in waits)


def test_every_long_outage_wait_logs_one_line(conn_env: Callable[..., None]) -> None:
    from airflow_bigcommerce.hooks.breaker import ANNOUNCE_WAIT_S

    hook, _, sleeps, log = logged_hook([response(503)] * 12 + [response(200, {"time": 9})])
    assert hook.get_time() == 9
    lines = log.above_debug()
    assert len(lines) == sum(1 for s in sleeps if s >= ANNOUNCE_WAIT_S) > 0
    first = lines[0]
    assert first.startswith("Connection 'bigcommerce_default': store reads failing (503); waiting ")
    # the budget left goes down from one line to the next
    left = [float(line.rsplit("giving up in ", 1)[1].split()[0]) for line in lines]
    assert left == sorted(left, reverse=True) and left[0] < 300


def test_a_long_429_wait_logs_one_line_short_ones_none(conn_env: Callable[..., None]) -> None:
    spent = {
        "X-Rate-Limit-Requests-Left": "0",
        "X-Rate-Limit-Time-Reset-Ms": "12000",
        "X-Rate-Limit-Requests-Quota": "150",
        "X-Rate-Limit-Time-Window-Ms": "30000",
    }
    short = dict(spent, **{"X-Rate-Limit-Time-Reset-Ms": "800"})
    hook, _, sleeps, log = logged_hook(
        [
            response(429, {"status": 429}, short),
            response(429, {"status": 429}, spent),
            response(200, {"time": 3}),
        ]
    )
    assert hook.get_time() == 3
    lines = log.above_debug()
    assert len(lines) == 1
    assert lines[0].startswith("Connection 'bigcommerce_default': rate limited (429) on GET v2/time")
    assert "waiting 12." in lines[0] and "429 2 of at most 50" in lines[0]


def test_waits_announced_once_however_many_senders_wait() -> None:
    import threading

    from airflow_bigcommerce.clock import VirtualClock

    clock = VirtualClock()
    breaker = CircuitBreaker(300, clock=clock)
    for _ in range(6):  # the next read waits 7.5 to 15 s
        breaker.failed("read", "503")
    heard: list[tuple[Any, ...]] = []

    def sender() -> None:
        breaker.acquire("read", on_wait=lambda *told: heard.append(told))
        breaker.succeeded("read")

    senders = [threading.Thread(target=sender) for _ in range(4)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join(timeout=30)
    assert len(heard) == 1
    kind, wait, left, reason = heard[0]
    assert (kind, reason) == ("read", "503")
    assert 7.5 <= wait <= 15 and 285 <= left <= 300


def test_a_long_wait_for_the_next_window_logs_one_line(conn_env: Callable[..., None]) -> None:
    spent = {
        "X-Rate-Limit-Requests-Left": "0",
        "X-Rate-Limit-Time-Reset-Ms": "9000",
        "X-Rate-Limit-Requests-Quota": "150",
        "X-Rate-Limit-Time-Window-Ms": "30000",
    }
    hook, _, sleeps, log = logged_hook([response(200, {"time": 1}, spent), response(200, {"time": 2})])
    clock = FakeClock()
    hook.pacer = RateLimitPacer(clock=clock, sleep=clock.sleep, on_wait=hook._announce_quota_wait)
    assert (hook.get_time(), hook.get_time()) == (1, 2)
    assert log.above_debug() == [
        "Connection 'bigcommerce_default': the store's requests for this rate-limit window are spent; "
        f"waiting {clock.sleeps[0]:.1f} s for the next"
    ]


def test_a_runs_access_check_rides_out_an_outage_but_not_an_unknown_host(
    conn_env: Callable[..., None],
) -> None:
    from airflow_bigcommerce.hooks.transport import UNREACHABLE_LIMIT_S

    hook, session, sleeps = scripted_hook([response(503), response(503), response(200, {"data": []})])
    hook.check_access(quick=False)  # a pre-flight during a short outage: the retry policy applies
    assert len(session.calls) == 3
    assert session.calls[0][2]["timeout"] == 30.0

    hook, session, sleeps = scripted_hook([refused()] * 100)
    with pytest.raises(
        BigCommerceConnectionError, match="^Cannot reach the store of connection 'bigcommerce_default'"
    ):
        hook.check_access(quick=False)
    assert len(session.calls) >= 3 and sum(sleeps) <= UNREACHABLE_LIMIT_S + 0.01

    hook, session, _ = scripted_hook([response(401, {"status": 401})])
    with pytest.raises(BigCommerceConfigError, match="rejected the access token") as info:
        hook.check_access(quick=False)
    assert "Refused request" not in str(info.value) and len(session.calls) == 1


def test_customers_are_looked_up_by_id_250_at_a_time(conn_env: Callable[..., None]) -> None:
    ids = [*range(1, 601), 5, 7]  # 600 distinct ids: 3 requests; a repeated id is sent once
    pages = [
        response(
            200, {"data": [{"id": i} for i in range(s, s + 2)], "meta": {"pagination": {"total_pages": 1}}}
        )
        for s in (1, 251, 501)
    ]
    hook, session, _ = scripted_hook(pages)
    found = hook.find_customers_by_id(ids, include=("addresses",))
    assert [c["id"] for c in found] == [1, 2, 251, 252, 501, 502]
    sent = [call[2]["params"] for call in session.calls]
    assert [len(p["id:in"].split(",")) for p in sent] == [250, 250, 100]
    assert sent[0]["id:in"].startswith("1,2,3,") and sent[0]["include"] == "addresses"
    assert all(p["limit"] == MAX_PAGE_SIZE for p in sent)
