"""The API's wire facts: one module, light to import, and its pure rules."""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_bigcommerce import api
from airflow_bigcommerce.api import backoff_seconds, email_in_use_text

PACKAGE = Path(api.__file__).parent


@pytest.mark.parametrize(
    ("status", "messages", "expected"),
    [
        # V3: 422 naming the e-mail in ``errors[".customer_create"]`` (SOURCE.md)
        (
            422,
            ["JSON data is missing or invalid", "The email a@x.io is already in use."],
            "the email a@x.io is already in use.",
        ),
        (422, ["", "Email A@X.io already exists"], "email a@x.io already exists"),
        # V2 and the subscribers: a 409, with or without a message saying why
        (409, ["The email address b@x.io is already in use"], "the email address b@x.io is already in use"),
        (409, ["Conflict"], "conflict"),
        (409, [], "409"),
        (409, ["", ""], "409"),
        # anything else is another refusal
        (422, ["JSON data is missing or invalid", "email: must be a valid e-mail"], ""),
        (400, ["The field 'force_reset' is not supported by this resource."], ""),
        (413, ["The request payload is too large."], ""),
        (422, [], ""),
    ],
)
def test_email_in_use_text(status: int, messages: list[str], expected: str) -> None:
    assert email_in_use_text(status, messages) == expected


def test_in_use_text_names_only_the_e_mails_the_store_listed() -> None:
    text = email_in_use_text(422, ["Invalid", "The email a@x.io is already in use.", "b@x.io: bad phone"])
    assert "a@x.io" in text
    assert "b@x.io" not in text


def test_backoff_doubles_from_the_base_up_to_the_cap_with_jitter() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 30.0), (50, 30.0)]:
        waits = [backoff_seconds(attempt, base=0.5, cap=30.0, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits), attempt
        assert len(set(waits)) > 1  # jittered: senders that failed together do not return together
    assert 0.025 <= backoff_seconds(0, base=0.05, cap=2.0) <= 0.05  # attempt 0 waits like attempt 1


def test_facts_cited_in_the_specs() -> None:
    assert api.CUSTOMER_BATCH_SIZE == api.ADDRESS_BATCH_SIZE == api.ATTRIBUTE_VALUE_BATCH_SIZE == 10
    assert api.INLINE_ADDRESSES_MAX == api.INLINE_ATTRIBUTES_MAX == 10
    assert api.MAX_PAGE_SIZE == api.LOOKUP_BATCH_SIZE == 250
    assert api.ADDRESS_LOOKUP_CUSTOMERS * api.INLINE_ADDRESSES_MAX <= api.MAX_PAGE_SIZE
    assert api.CONCURRENCY_CAPS["PUT /v3/customers"] == 3
    assert {401, 403} == api.FATAL_STATUSES
    assert (api.ATTRIBUTE_VALUE_MAX_LENGTH, api.MAX_STORE_ATTRIBUTES) == (255, 50)
    with pytest.raises(TypeError):
        api.CONCURRENCY_CAPS["PUT /v3/customers"] = 4  # type: ignore[index]


def test_every_policy_reads_the_same_facts() -> None:
    from airflow_bigcommerce.hooks import concurrency, pacing
    from airflow_bigcommerce.hooks.breaker import BACKOFF_BASE_S, BACKOFF_CAP_S, backoff_s
    from airflow_bigcommerce.sandbox.traffic.concurrency import DEFAULT_CONCURRENCY_LIMITS
    from airflow_bigcommerce.sync import client

    assert concurrency.MAX_IN_FLIGHT == api.MAX_IN_FLIGHT
    assert {key.replace(" ", " /", 1): cap for key, cap in concurrency.DOCUMENTED_CAPS.items()} == dict(
        api.CONCURRENCY_CAPS
    )
    assert DEFAULT_CONCURRENCY_LIMITS == api.CONCURRENCY_CAPS
    assert pacing.backoff_seconds is api.backoff_seconds
    assert backoff_s(1, random.Random(1)) == backoff_seconds(
        1, base=BACKOFF_BASE_S, cap=BACKOFF_CAP_S, rng=random.Random(1)
    )
    assert (client.MAX_BATCH_SIZE, client.LOOKUP_BATCH_SIZE, client.MAX_LOOKUP_CHARS) == (
        api.CUSTOMER_BATCH_SIZE,
        api.LOOKUP_BATCH_SIZE,
        api.MAX_LOOKUP_CHARS,
    )
    assert client.group_lookups is api.group_lookups
    assert client.lookup_values is api.lookup_values


def test_api_imports_the_standard_library_only() -> None:
    """Operators may import it at DAG parse: nothing heavy, nothing of the package."""
    tree = ast.parse((PACKAGE / "api.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
    code = (
        "import sys, airflow_bigcommerce.api; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'requests', 'airflow', 'pydantic'}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_the_hooks_do_not_import_the_sync_engine() -> None:
    """The hook sends requests; the engine decides what to send. Wire limits come from api.py."""
    for path in sorted((PACKAGE / "hooks").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        modules += [
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        ]
        assert not [m for m in modules if m.startswith("airflow_bigcommerce.sync")], path.name
