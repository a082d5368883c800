"""The connection form's metadata: valid for Airflow, consistent with the hook, helpful to a store owner."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import airflow
import jsonschema
import pytest

from airflow_bigcommerce.get_provider_info import DEFAULT_API_HOST, STORE_HASH_PATTERN, get_provider_info

AIRFLOW_DIR = Path(airflow.__file__).parent


def _conn_type() -> dict[str, Any]:
    (conn_type,) = get_provider_info()["connection-types"]
    return dict(conn_type)


def _schema(name: str) -> dict[str, Any]:
    return dict(json.loads((AIRFLOW_DIR / name).read_text()))


def test_provider_info_matches_airflows_schema() -> None:
    jsonschema.validate(get_provider_info(), _schema("provider_info.schema.json"))


def test_field_behaviour_matches_airflows_schema() -> None:
    behaviour = _conn_type()["ui-field-behaviour"]
    as_python = {key.replace("-", "_"): value for key, value in behaviour.items()}
    jsonschema.validate(as_python, _schema("customized_form_field_behaviours.schema.json"))


def test_form_shows_only_what_bigcommerce_uses() -> None:
    behaviour = _conn_type()["ui-field-behaviour"]
    assert set(behaviour["hidden-fields"]) == {"login", "schema", "port", "extra"}
    assert behaviour["relabeling"] == {"password": "Access Token", "host": "API Host"}
    assert behaviour["placeholders"] == {"host": DEFAULT_API_HOST}


def test_conn_fields_have_labels_descriptions_and_no_placeholders() -> None:
    fields = _conn_type()["conn-fields"]
    assert list(fields) == ["store_hash", "timeout", "max_retries", "retry_budget_s"]
    for name, field in fields.items():
        assert field["label"], name
        assert len(field["description"]) > 20, name
        assert "placeholder" not in field, f"{name}: placeholders do not apply to conn-fields"
    assert "/stores/{store_hash}/v3/" in fields["store_hash"]["description"]
    assert fields["store_hash"]["schema"] == {"type": "string", "pattern": STORE_HASH_PATTERN}
    for optional in ("timeout", "max_retries", "retry_budget_s"):
        assert "null" in fields[optional]["schema"]["type"], f"{optional} must be optional"


@pytest.mark.parametrize(
    ("value", "ok"),
    [("abc123", True), ("ABC123", True), ("", False), ("abc 123", False), ("abc/../v2", False)],
)
def test_store_hash_pattern(value: str, ok: bool) -> None:
    from airflow_bigcommerce.hooks.connection import STORE_HASH_RE

    assert bool(re.fullmatch(STORE_HASH_PATTERN.strip("^$"), value)) is ok
    assert bool(STORE_HASH_RE.fullmatch(value)) is ok, "the hook and the form disagree on a store hash"


def test_legacy_hook_methods_use_the_same_keys() -> None:
    """Airflow 3.0/3.1 read the form from the hook's class methods: same keys, same words."""
    from airflow_bigcommerce.hooks.bigcommerce import BigCommerceHook, legacy_field_specs

    conn_type = _conn_type()
    behaviour = conn_type["ui-field-behaviour"]
    legacy = BigCommerceHook.get_ui_field_behaviour()
    assert set(legacy["hidden_fields"]) == set(behaviour["hidden-fields"])
    assert legacy["relabeling"] == behaviour["relabeling"]
    assert legacy["placeholders"] == behaviour["placeholders"]
    specs = legacy_field_specs()
    assert list(specs) == list(conn_type["conn-fields"])
    for name, field in conn_type["conn-fields"].items():
        assert specs[name]["label"] == field["label"]
        assert specs[name]["description"] == field["description"]
    assert BigCommerceHook.conn_type == conn_type["connection-type"]
    assert BigCommerceHook.hook_name == conn_type["hook-name"]


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        (None, None, DEFAULT_API_HOST),
        ("", 0, DEFAULT_API_HOST),  # the Airflow 3.3 UI's Test button sends 0 for an empty port
        ("http://127.0.0.1:8123", None, "http://127.0.0.1:8123"),  # the port travels in the host
        ("http://127.0.0.1:8123", 0, "http://127.0.0.1:8123"),
        ("https://api.bigcommerce.com", 443, "https://api.bigcommerce.com:443"),
    ],
)
def test_hook_reads_the_port_from_the_host(host: str | None, port: int | None, expected: str) -> None:
    """The Port field is hidden, so the API Host URL carries any port; 0 means none."""
    from airflow_bigcommerce.hooks.connection import api_root_from

    assert api_root_from(host, port) == expected
