"""Customer settings per channel (``/v3/customers/settings/channels/{id}``) and who logs in where.

Channel 1 (the default storefront) allows global logins by default, other channels do not. With
Multi-Storefront (config ``msf``) e-mails are unique per channel: a customer can log in on the
channels in its ``channel_ids``, or, when that is null, on every channel allowing global logins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from airflow_bigcommerce.api import DEFAULT_CHANNEL_ID
from airflow_bigcommerce.sandbox.state.errors import v3_error
from airflow_bigcommerce.sandbox.state.query import path_id
from airflow_bigcommerce.sandbox.state.schemas import V3ChannelSettings, parse_v3_body

DEFAULT_CHANNEL = DEFAULT_CHANNEL_ID


def _defaults(channel_id: int) -> dict[str, Any]:
    return {
        "privacy_settings": {"ask_shopper_for_tracking_consent": False, "policy_url": ""},
        "customer_group_settings": {"guest_customer_group_id": 0, "default_customer_group_id": 0},
        "allow_global_logins": channel_id == DEFAULT_CHANNEL,
    }


def _channel(channel_id: str) -> int:
    number = path_id(channel_id)
    if number is None or not 1 <= number <= 2**31 - 1:
        raise v3_error(404, "The channel was not found.")
    return number


class Channels:
    """The per-channel customer settings a store has overridden (others have the defaults)."""

    def __init__(self, lock: threading.RLock, save: Callable[[list[dict[str, Any]]], None]) -> None:
        self.lock = lock
        self._save = save
        self._settings: dict[int, dict[str, Any]] = {}

    def load(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Replace the settings with persisted ones (records carry their ``channel_id``)."""
        self._settings = {int(r["channel_id"]): dict(r["settings"]) for r in records}

    def clear(self) -> None:
        """Return every channel to its defaults (a store reset)."""
        self._settings.clear()

    def settings(self, channel_id: int) -> dict[str, Any]:
        """Return the settings of one channel (defaults unless changed)."""
        with self.lock:
            return self._settings.get(channel_id) or _defaults(channel_id)

    def get(self, channel_id: str) -> dict[str, Any]:
        """``GET /v3/customers/settings/channels/{id}``."""
        return {"data": self.settings(_channel(channel_id)), "meta": {}}

    def put(self, channel_id: str, body: Any) -> dict[str, Any]:
        """``PUT /v3/customers/settings/channels/{id}``: change the given settings, keep the rest."""
        number = _channel(channel_id)
        payload = parse_v3_body(body, V3ChannelSettings)
        with self.lock:
            current = self.settings(number)
            changes = payload.model_dump(exclude_unset=True)
            merged = {
                **current,
                **{
                    k: {**current[k], **v} if isinstance(v, dict) else v
                    for k, v in changes.items()
                    if v is not None
                },
            }
            self._settings[number] = merged
            self._save([{"channel_id": k, "settings": v} for k, v in self._settings.items()])
            return {"data": merged, "meta": {}}

    def global_logins(self, channel_id: int) -> bool:
        """Whether customers with ``channel_ids: null`` can log in on that channel."""
        return bool(self.settings(channel_id)["allow_global_logins"])

    def overlap(self, first: list[int] | None, second: list[int] | None) -> bool:
        """Whether two customers' login channels share one (so one e-mail cannot belong to both)."""
        if first is None and second is None:
            return True
        if first is None or second is None:
            listed = second if first is None else first
            return any(self.global_logins(c) for c in listed or [])
        return bool(set(first) & set(second))
