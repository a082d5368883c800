"""SyncCustomersOperator's file source: its arguments, how it is opened, and its lineage input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_bigcommerce import sources
from airflow_bigcommerce.lineage import file_dataset_name
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.sources import Source


def test_contacts_path_and_format_are_templated() -> None:
    assert {"contacts_path", "contacts_format"} <= set(SyncCustomersOperator.template_fields)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "Give exactly one source: contacts=..., sql_conn_id=... with sql=..., or contacts_path=..."),
        ({"contacts": [], "contacts_path": "c.csv"}, "Give exactly one source"),
        ({"sql_conn_id": "crm", "sql": "SELECT 1", "contacts_path": "c.csv"}, "Give exactly one source"),
        ({"contacts": [], "contacts_format": "csv"}, "contacts_format= goes with contacts_path="),
        (
            {"contacts_path": "c.txt", "contacts_format": "xlsx"},
            "contacts_format='xlsx' is not a file format this provider reads; use one of 'csv', 'jsonl',",
        ),
        (
            {"contacts_path": "{{ params.path }}", "contacts_format": "xlsx"},
            "contacts_format='xlsx' is not a file format",
        ),
        (
            {"contacts_path": "s3://crm/contacts.xlsx"},
            "s3://crm/contacts.xlsx: cannot tell the file's format from its name; name it with one of .csv,",
        ),
    ],
)
def test_file_source_arguments_fail_at_parse(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.").replace("(", r"\(")):
        SyncCustomersOperator(task_id="sync", **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"contacts_path": "s3://crm/{{ ds }}.csv"},
        {"contacts_path": "s3://crm/export.{{ params.ext }}"},
        {"contacts_path": "s3://crm/export.dat", "contacts_format": "{{ params.fmt }}"},
        {"contacts_path": "s3://crm/export.dat", "contacts_format": "Parquet"},
    ],
)
def test_what_is_known_at_parse_passes(kwargs: dict[str, Any]) -> None:
    assert SyncCustomersOperator(task_id="sync", **kwargs).contacts_path == kwargs["contacts_path"]


def test_a_templated_format_is_checked_when_the_file_is_opened() -> None:
    op = SyncCustomersOperator(
        task_id="sync", contacts_path="c.txt", contacts_format="{{ params.fmt }}", fetch_size=7
    )
    op.render_template_fields({"params": {"fmt": "xml"}})  # type: ignore[arg-type]
    with pytest.raises(sources.SourceError, match="contacts_format='xml' is not a file format"):
        op._open_source()


def test_the_file_is_opened_with_fetch_size_rows_per_chunk(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def fake_open_file(path: str, **kwargs: Any) -> Source:
        calls.append((path, kwargs))
        return Source(path, iter(()), columns=("email",))

    monkeypatch.setattr(sources, "open_file", fake_open_file)
    op = SyncCustomersOperator(
        task_id="sync",
        contacts_path="s3://crm/{{ ds }}/contacts.dat",
        contacts_format="{{ params.fmt }}",
        fetch_size=250,
    )
    op.render_template_fields({"ds": "2024-05-01", "params": {"fmt": "parquet"}})  # type: ignore[arg-type]
    source = op._open_source()
    assert source.columns == ("email",)
    assert calls == [("s3://crm/2024-05-01/contacts.dat", {"file_format": "parquet", "chunk_rows": 250})]


def test_a_real_file_opens_through_the_operator(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("id,email\n1,ada@example.com\n")
    source = SyncCustomersOperator(task_id="sync", contacts_path=str(path))._open_source()
    try:
        assert source.columns == ("id", "email")
        assert list(source.rows) == [{"id": "1", "email": "ada@example.com"}]
    finally:
        source.close()


@pytest.mark.parametrize(
    ("path", "namespace", "name"),
    [
        ("s3://crm-exports/daily/contacts.csv", "s3://crm-exports", "daily/contacts.csv"),
        ("s3://aws_crm@crm-exports/contacts.parquet", "s3://crm-exports", "contacts.parquet"),
        ("gs://bucket/a/b.jsonl", "gs://bucket", "a/b.jsonl"),
        ("file:///data/contacts.csv", "file", "/data/contacts.csv"),
        ("/data/contacts.csv", "file", "/data/contacts.csv"),
        ("memory://crm/contacts.csv", "memory://crm", "contacts.csv"),
    ],
)
def test_file_dataset_names_follow_openlineage_naming(path: str, namespace: str, name: str) -> None:
    assert file_dataset_name(path) == (namespace, name)


def test_a_relative_local_path_is_named_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert file_dataset_name("exports/contacts.csv") == ("file", str(tmp_path / "exports/contacts.csv"))


def test_the_file_is_the_lineage_input() -> None:
    op = SyncCustomersOperator(task_id="sync", contacts_path="s3://aws_crm@crm-exports/daily/contacts.csv")
    op.bigcommerce_store_hash = "abc123"
    op.bigcommerce_rows_written = 4
    lineage = op.get_openlineage_facets_on_complete(task_instance=None)
    assert lineage is not None
    assert [(d.namespace, d.name) for d in lineage.inputs] == [("s3://crm-exports", "daily/contacts.csv")]
    assert [(d.namespace, d.name) for d in lineage.outputs] == [("bigcommerce://abc123", "customers")]
