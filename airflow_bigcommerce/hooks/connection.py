"""Turn an Airflow connection's fields into validated store settings (pure; no I/O)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_bigcommerce.api import DEFAULT_API_HOST, STORE_HASH_PATTERN
from airflow_bigcommerce.exceptions import BigCommerceConfigError
from airflow_bigcommerce.hooks.breaker import DEFAULT_RETRY_BUDGET_S

DEFAULT_TIMEOUT_S = 30.0
#: ``None``: a failing request is retried for as long as the retry budget lasts.
DEFAULT_MAX_RETRIES: int | None = None
STORE_HASH_RE = re.compile(STORE_HASH_PATTERN)
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


@dataclass(frozen=True)
class StoreSettings:
    """Everything a request needs: where, as whom, and how patiently."""

    api_root: str
    store_hash: str
    token: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT_S
    #: Retries of one failing request; ``None``: as many as ``retry_budget_s`` allows.
    max_retries: int | None = DEFAULT_MAX_RETRIES
    #: How long reads or writes may keep failing (an outage) before the run gives up on them.
    retry_budget_s: float = DEFAULT_RETRY_BUDGET_S

    @property
    def base_url(self) -> str:
        """Return ``{host}/stores/{store_hash}/``, the prefix of every API path."""
        return f"{self.api_root}/stores/{self.store_hash}/"


def is_loopback(hostname: str) -> bool:
    """Whether ``hostname`` names this machine (the only place plain http is allowed)."""
    if hostname.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def api_root_from(host: str | None, port: int | None) -> str:
    """
    Return the API root URL (scheme, host, optional port) from the connection's host and port.

    A host without a scheme gets ``https://``; ``port`` 0 or ``None`` means "none given" (the
    Airflow 3.3 UI sends 0 for an empty port). Plain ``http://`` is refused unless the host is
    loopback, so the access token never travels in clear text.
    """
    raw = (host or "").strip() or DEFAULT_API_HOST
    if "://" not in raw:
        raw = f"https://{raw}"
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    hostname = parts.hostname or ""
    if scheme not in {"http", "https"} or not hostname:
        raise BigCommerceConfigError(f"API Host {raw!r} is not an http(s) URL, e.g. {DEFAULT_API_HOST}")
    try:
        host_port = parts.port
    except ValueError as exc:
        raise BigCommerceConfigError(f"API Host {raw!r} has an invalid port") from exc
    if scheme == "http" and not is_loopback(hostname):
        raise BigCommerceConfigError(
            f"API Host {raw!r} uses plain http: the access token would travel in clear text. "
            "Use https:// (plain http is allowed only for a loopback sandbox)."
        )
    netloc = f"[{hostname}]" if ":" in hostname else hostname
    chosen_port = host_port or (port if port else None)
    if chosen_port:
        netloc = f"{netloc}:{chosen_port}"
    path = parts.path.rstrip("/")
    return f"{scheme}://{netloc}{path}"


def validate_store_hash(value: Any) -> str:
    """Return the store hash if it is letters and digits only (nothing can reach the URL path)."""
    if not isinstance(value, str) or not value.strip():
        raise BigCommerceConfigError(
            "The connection has no store hash: set extra 'store_hash' (the letters and digits after "
            "/stores/ in https://api.bigcommerce.com/stores/{store_hash}/v3/)."
        )
    store_hash = value.strip()
    if not STORE_HASH_RE.fullmatch(store_hash):
        raise BigCommerceConfigError(
            f"Store hash {store_hash[:40]!r} is invalid: use only the letters and digits after /stores/ "
            "in the API path."
        )
    return store_hash


def _positive_number(
    extra: Mapping[str, Any], key: str, default: float | None, *, minimum: float
) -> float | None:
    value = extra.get(key)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise BigCommerceConfigError(f"Connection extra {key!r} must be a number, got {value!r}") from exc
    if number < minimum:
        raise BigCommerceConfigError(f"Connection extra {key!r} must be at least {minimum}, got {value!r}")
    return number


def settings_from_connection(
    *,
    host: str | None,
    port: int | None,
    password: str | None,
    extra: Mapping[str, Any],
    timeout: float | None = None,
    max_retries: int | None = None,
    retry_budget_s: float | None = None,
) -> StoreSettings:
    """
    Build :class:`StoreSettings` from a connection; hook arguments win over connection extras.

    :raises BigCommerceConfigError: with a message that says which field to fix.
    """
    store_hash = validate_store_hash(extra.get("store_hash", extra.get("extra__bigcommerce__store_hash")))
    if not password:
        raise BigCommerceConfigError(
            "The connection has no access token: put the API account's access token in the password field."
        )
    if max_retries is None:
        extra_retries = _positive_number(extra, "max_retries", None, minimum=0)
        max_retries = None if extra_retries is None else int(extra_retries)
    if retry_budget_s is None:
        retry_budget_s = _positive_number(extra, "retry_budget_s", DEFAULT_RETRY_BUDGET_S, minimum=0)
    elif retry_budget_s < 0:
        raise BigCommerceConfigError(f"retry_budget_s must be at least 0, got {retry_budget_s!r}")
    return StoreSettings(
        api_root=api_root_from(host, port),
        store_hash=store_hash,
        token=password,
        timeout=timeout
        if timeout is not None
        else float(_positive_number(extra, "timeout", DEFAULT_TIMEOUT_S, minimum=0.001) or DEFAULT_TIMEOUT_S),
        max_retries=max_retries,
        retry_budget_s=float(DEFAULT_RETRY_BUDGET_S if retry_budget_s is None else retry_budget_s),
    )
