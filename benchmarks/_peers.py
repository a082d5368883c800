"""
The two peer approaches the benchmark compares with: what a user writes without this provider.

(a) a loop of ``HttpHook(method="POST").run(...)`` calls, one V2 create per contact, as an
``HttpOperator`` would send them; it never waits: a 429 (or any failed response) and the loop moves
on, that contact is lost. (b) the ``bigcommerce`` PyPI client, one ``api.Customers.create(...)`` per
contact, with its own rate-limit management (sleep until the window resets when few are left).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from _contacts import contacts, v2_payload
from _sandbox import STORE_HASH, TOKEN

HTTP_CONN_ID = "bench_http"


def _outcome(name: str, n: int, created: int, lost: int, seconds: float, **extra: Any) -> dict[str, Any]:
    return {
        "peer": name,
        "contacts": n,
        "created": created,
        "lost": lost,
        "seconds": round(seconds, 3),
        "customers_per_s": round(created / seconds, 1) if seconds > 0 else 0.0,
        **extra,
    }


def naive_http_hook(port: int, n: int, prefix: str) -> dict[str, Any]:
    """
    One ``HttpHook.run`` POST per contact; a failed response (429s included) loses the contact.

    ``check_response`` is off and the loop applies the hook's own test (``response.ok``, i.e.
    ``raise_for_status`` does not raise) itself: same outcome as the default, which raises and logs two
    ERROR lines per failed response to stderr (thousands of lines at quota), without that noise.
    """
    from airflow.providers.http.hooks.http import HttpHook

    os.environ[f"AIRFLOW_CONN_{HTTP_CONN_ID.upper()}"] = json.dumps(
        {
            "conn_type": "http",
            "host": "127.0.0.1",
            "port": port,
            "schema": "http",
            "extra": {"X-Auth-Token": TOKEN, "Accept": "application/json"},
        }
    )
    hook = HttpHook(method="POST", http_conn_id=HTTP_CONN_ID)
    endpoint = f"stores/{STORE_HASH}/v2/customers"
    no_check = {"check_response": False}
    created = lost = 0
    errors: dict[str, int] = {}
    started = time.perf_counter()
    for row in contacts(n, prefix):
        try:
            response = hook.run(endpoint=endpoint, json=v2_payload(row), extra_options=no_check)
        except Exception as exc:  # connection errors: lost as well
            lost += 1
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            continue
        if response.ok:
            created += 1
        else:
            lost += 1
            errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1
    seconds = time.perf_counter() - started
    return _outcome(
        "providers-http HttpHook loop", n, created, lost, seconds, errors=errors, lossless=lost == 0
    )


def _loopback_api(port: int) -> Any:
    """
    Build a ``bigcommerce.api.BigcommerceApi`` that talks to the sandbox.

    The client reads its API host from ``BC_API_ENDPOINT`` (its supported override) but hard-codes
    ``https://`` in ``OAuthConnection.full_path``; only that method is replaced, on this instance,
    with the same path built on ``http://`` (the sandbox serves plain http on loopback).
    """
    os.environ["BC_API_ENDPOINT"] = f"127.0.0.1:{port}"
    try:
        from bigcommerce.api import BigcommerceApi
    except ImportError as exc:  # pragma: no cover - the bench extra installs it
        raise SystemExit("the 'bigcommerce' client is missing: pip install -e '.[bench]'") from exc

    api = BigcommerceApi(
        client_id="bench-client",
        store_hash=STORE_HASH,
        access_token=TOKEN,
        rate_limiting_management={"min_requests_remaining": 2, "wait": True, "callback_function": None},
    )
    connection = api.connection

    def full_path(url: str) -> str:
        return f"http://{connection.host}{connection.api_path.format(connection.store_hash, url)}"

    connection.full_path = full_path
    return api


def bigcommerce_client(port: int, n: int, prefix: str) -> dict[str, Any]:
    """One ``api.Customers.create`` (V2) per contact, with the client's rate-limit management."""
    api = _loopback_api(port)
    created = lost = 0
    errors: dict[str, int] = {}
    started = time.perf_counter()
    for row in contacts(n, prefix):
        try:
            api.Customers.create(**v2_payload(row))
        except Exception as exc:
            lost += 1
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
        else:
            created += 1
    seconds = time.perf_counter() - started
    return _outcome("bigcommerce PyPI client", n, created, lost, seconds, errors=errors, lossless=lost == 0)
