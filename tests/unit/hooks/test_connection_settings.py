from __future__ import annotations

import pytest

from airflow_bigcommerce.exceptions import BigCommerceConfigError
from airflow_bigcommerce.hooks.connection import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_S,
    api_root_from,
    is_loopback,
    settings_from_connection,
    validate_store_hash,
)


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        (None, None, "https://api.bigcommerce.com"),
        ("", 0, "https://api.bigcommerce.com"),
        ("api.bigcommerce.com", None, "https://api.bigcommerce.com"),
        ("https://api.bigcommerce.com/", None, "https://api.bigcommerce.com"),
        ("http://127.0.0.1:8765", None, "http://127.0.0.1:8765"),
        ("http://localhost", 8765, "http://localhost:8765"),
        ("http://localhost:9000", 8765, "http://localhost:9000"),
        ("http://[::1]:8765", None, "http://[::1]:8765"),
        ("https://proxy.example.com/bc", 0, "https://proxy.example.com/bc"),
    ],
)
def test_api_root(host: str | None, port: int | None, expected: str) -> None:
    assert api_root_from(host, port) == expected


@pytest.mark.parametrize("host", ["http://api.bigcommerce.com", "http://10.0.0.5:8765", "http://example.com"])
def test_plain_http_refused_unless_loopback(host: str) -> None:
    with pytest.raises(BigCommerceConfigError, match="plain http"):
        api_root_from(host, None)


@pytest.mark.parametrize("host", ["ftp://x.example.com", "https://", "https://host:notaport"])
def test_bad_hosts_refused(host: str) -> None:
    with pytest.raises(BigCommerceConfigError):
        api_root_from(host, None)


@pytest.mark.parametrize(
    ("name", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.5.6.7", True),
        ("::1", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("example.com", False),
    ],
)
def test_is_loopback(name: str, loopback: bool) -> None:
    assert is_loopback(name) is loopback


@pytest.mark.parametrize("bad", ["", "  ", None, "abc/def", "../abc", "abc..", "a b", "abc?x=1", "ab%2F", 12])
def test_store_hash_must_be_letters_and_digits(bad: object) -> None:
    with pytest.raises(BigCommerceConfigError, match="store hash|Store hash"):
        validate_store_hash(bad)


def test_store_hash_ok() -> None:
    assert validate_store_hash(" abc123 ") == "abc123"


def test_settings_defaults_and_overrides() -> None:
    settings = settings_from_connection(host=None, port=None, password="tok", extra={"store_hash": "abc123"})
    assert settings.base_url == "https://api.bigcommerce.com/stores/abc123/"
    assert settings.timeout == DEFAULT_TIMEOUT_S
    assert settings.max_retries == DEFAULT_MAX_RETRIES
    assert "tok" not in repr(settings)
    tuned = settings_from_connection(
        host=None, port=None, password="tok", extra={"store_hash": "abc", "timeout": "7", "max_retries": 2}
    )
    assert (tuned.timeout, tuned.max_retries) == (7.0, 2)
    by_argument = settings_from_connection(
        host=None,
        port=None,
        password="tok",
        extra={"store_hash": "abc", "timeout": 7},
        timeout=3,
        max_retries=0,
    )
    assert (by_argument.timeout, by_argument.max_retries) == (3, 0)


def test_settings_need_a_token_and_sane_numbers() -> None:
    with pytest.raises(BigCommerceConfigError, match="access token"):
        settings_from_connection(host=None, port=None, password=None, extra={"store_hash": "abc"})
    with pytest.raises(BigCommerceConfigError, match="timeout"):
        settings_from_connection(
            host=None, port=None, password="t", extra={"store_hash": "abc", "timeout": "x"}
        )
    with pytest.raises(BigCommerceConfigError, match="max_retries"):
        settings_from_connection(
            host=None, port=None, password="t", extra={"store_hash": "a", "max_retries": -1}
        )
