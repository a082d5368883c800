"""The hook and CreateCustomerOperator against the sandbox over real HTTP on loopback."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest

from airflow_bigcommerce.exceptions import (
    BigCommerceAuthError,
    BigCommerceConnectionError,
    BigCommerceDuplicateCustomerError,
)
from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook
from airflow_bigcommerce.operators.customers import CreateCustomerOperator
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration


def set_conn(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxHandle, **changes: Any) -> None:
    conn = json.loads(sandbox.conn_json())
    for key, value in changes.items():
        if key == "store_hash":
            conn["extra"]["store_hash"] = value
        else:
            conn[key] = value
    monkeypatch.setenv("AIRFLOW_CONN_BIGCOMMERCE_DEFAULT", json.dumps(conn))


def create(**fields: Any) -> dict[str, Any]:
    defaults = {"task_id": "create", "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
    return CreateCustomerOperator(**(defaults | fields)).execute(context={})  # type: ignore[arg-type]


def test_operator_creates_customer(bigcommerce_sandbox: SandboxHandle) -> None:
    customer = create(
        email="Ada@Example.com",
        company="Analytical Engines",
        phone="+44 20 7946 0000",
        authentication={"password": "Pw-int-1!aaaa", "password_confirmation": "Pw-int-1!aaaa"},
    )
    assert customer["id"] > 0
    assert customer["email"] == "Ada@Example.com"
    assert "Pw-int-1!aaaa" not in json.dumps(customer)
    stored = bigcommerce_sandbox.store.all_customers()
    assert [c["email"] for c in stored] == ["Ada@Example.com"]
    assert stored[0]["company"] == "Analytical Engines"


def test_duplicate_fails_or_skips(bigcommerce_sandbox: SandboxHandle) -> None:
    first = create()
    with pytest.raises(BigCommerceDuplicateCustomerError, match="already exists"):
        create(email="ADA@example.com")
    again = create(email=" ADA@example.com ", if_exists="skip")
    assert again["id"] == first["id"]
    assert len(bigcommerce_sandbox.store.all_customers()) == 1


def test_hook_find_by_email_v2_and_v3(bigcommerce_sandbox: SandboxHandle) -> None:
    created = create()
    hook = BigCommerceHook()
    assert hook.find_customer_v2_by_email("ADA@example.com")["id"] == created["id"]  # type: ignore[index]
    assert hook.find_customer_v2_by_email("nobody@example.com") is None
    assert [c["id"] for c in hook.find_customers_by_email(["ada@EXAMPLE.com", "x@y.io"])] == [created["id"]]
    assert [c["id"] for c in hook.find_customers_by_id([created["id"], 999_999])] == [created["id"]]
    assert hook.get_time() > 1_600_000_000


def test_bad_token_and_unknown_store(
    bigcommerce_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_conn(monkeypatch, bigcommerce_sandbox, password="wrong-token")
    with pytest.raises(BigCommerceAuthError) as info:
        create()
    assert info.value.status == 401
    assert "wrong-token" not in str(info.value)
    assert str(info.value).startswith(
        "Connection 'bigcommerce_default': BigCommerce rejected the access token"
    )
    assert "Refused request: POST v2/customers." in str(info.value)
    set_conn(monkeypatch, bigcommerce_sandbox, store_hash="nosuchstore")
    with pytest.raises(BigCommerceAuthError) as info:
        create()
    assert info.value.status == 404
    assert "Unknown store hash 'nosuchstore' (404 Not Found)" in str(info.value)
    assert bigcommerce_sandbox.store.all_customers() == []


def test_check_access_names_the_connection_and_the_fix(
    bigcommerce_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    BigCommerceHook().check_access()  # the sandbox's own connection is fine

    set_conn(monkeypatch, bigcommerce_sandbox, password="wrong-token")
    with pytest.raises(BigCommerceAuthError) as info:
        BigCommerceHook().check_access()
    assert str(info.value) == (
        "Connection 'bigcommerce_default': BigCommerce rejected the access token (401 Unauthorized): "
        "paste the API account's Access Token into the password field; it is shown once, when the "
        "account is created."
    )
    ok, message = BigCommerceHook().test_connection()  # the Test button says the same
    assert (ok, message) == (False, str(info.value))

    set_conn(monkeypatch, bigcommerce_sandbox, store_hash="nosuchstore")
    with pytest.raises(BigCommerceAuthError) as info:
        BigCommerceHook().check_access()
    assert str(info.value) == (
        "Connection 'bigcommerce_default': Unknown store hash 'nosuchstore' (404 Not Found): use the "
        "letters and digits after /stores/ in the API path shown with the API account."
    )


def test_check_access_fails_fast_on_a_port_nothing_listens_on(
    bigcommerce_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    set_conn(monkeypatch, bigcommerce_sandbox, host=f"http://127.0.0.1:{port}")
    with pytest.raises(BigCommerceConnectionError) as info:
        BigCommerceHook().check_access()
    message = str(info.value)
    assert message.startswith(
        f"Cannot reach the store of connection 'bigcommerce_default' at http://127.0.0.1:{port}"
    )
    assert "Connection refused" in message
    assert message.endswith(
        "Check the connection's API Host (default https://api.bigcommerce.com) and the network."
    )
    assert bigcommerce_sandbox.token not in message


def test_token_revoked_mid_run_stops_with_the_fix(
    bigcommerce_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = BigCommerceHook()
    hook.check_access()
    hook.get_conn().headers["X-Auth-Token"] = "revoked-token"  # the store no longer takes the token
    with pytest.raises(BigCommerceAuthError) as info:
        hook.list_customer_attributes()
    assert info.value.status == 401
    assert "rejected the access token" in str(info.value)
    assert "Refused request: GET v3/customers/attributes." in str(info.value)
    assert "revoked-token" not in str(info.value)
    assert "Traceback" not in str(info.value)


def test_429_then_success_after_the_window(bigcommerce_sandbox: SandboxHandle) -> None:
    bigcommerce_sandbox.store.configure(quota=3, window_ms=400)
    other = BigCommerceHook()
    for _ in range(3):  # another app spends the window
        other.get_time()
    hook = BigCommerceHook()
    started = time.monotonic()
    customer = create()
    assert customer["id"] > 0
    assert time.monotonic() - started >= 0.2
    assert bigcommerce_sandbox.store.stats()["rate_limited"] >= 1
    assert hook.find_customers_by_email(["ada@example.com"])[0]["id"] == customer["id"]


def test_pacing_avoids_429s_on_a_known_quota(bigcommerce_sandbox: SandboxHandle) -> None:
    bigcommerce_sandbox.store.configure(quota=5, window_ms=300)
    hook = BigCommerceHook()
    for _ in range(12):
        hook.get_time()
    assert hook.stats["429s"] == 0
    assert bigcommerce_sandbox.store.stats()["rate_limited"] == 0


def test_connection_success_and_each_failure(
    bigcommerce_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok, message = BigCommerceHook().test_connection()
    assert ok, message
    assert "Sandbox Store" in message

    set_conn(monkeypatch, bigcommerce_sandbox, password="wrong-token")
    ok, message = BigCommerceHook().test_connection()
    assert not ok
    assert "access token" in message
    assert "wrong-token" not in message

    set_conn(monkeypatch, bigcommerce_sandbox, store_hash="nosuchstore")
    ok, message = BigCommerceHook().test_connection()
    assert not ok
    assert "Unknown store hash 'nosuchstore'" in message

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    set_conn(monkeypatch, bigcommerce_sandbox, host=f"http://127.0.0.1:{port}")
    ok, message = BigCommerceHook().test_connection()
    assert not ok
    assert "Cannot reach" in message

    set_conn(monkeypatch, bigcommerce_sandbox, host="http://example.com")
    ok, message = BigCommerceHook().test_connection()
    assert not ok
    assert "plain http" in message


def test_a_run_on_a_port_nothing_listens_on_fails_within_the_unreachable_limit(
    bigcommerce_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_bigcommerce.clock import VirtualClock
    from airflow_bigcommerce.hooks.transport import UNREACHABLE_LIMIT_S

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    set_conn(monkeypatch, bigcommerce_sandbox, host=f"http://127.0.0.1:{port}")
    clock = VirtualClock()
    hook = BigCommerceHook(clock=clock)  # the default retry budget (300 s) and unlimited retries
    started, real_started = clock.monotonic(), time.monotonic()
    with pytest.raises(
        BigCommerceConnectionError, match="Cannot reach the store of connection 'bigcommerce_default'"
    ):
        hook.list_customer_attributes()
    assert clock.monotonic() - started <= UNREACHABLE_LIMIT_S + 1
    assert hook.stats["requests"] >= 3  # it did try again, with backoff, within the limit
    assert time.monotonic() - real_started < 20
