"""SyncCustomersOperator reading a CSV, JSON-lines or Parquet file, against the sandbox over HTTP."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_bigcommerce.exceptions import BigCommerceConfigError
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration

#: 25 rows, read 4 at a time: many chunks; one row with a bad e-mail.
ROWS = [
    {"contact_id": i, "mail": f"File{i}@Example.com", "given": "Fi", "family": f"Le{i}"} for i in range(24)
] + [{"contact_id": 99, "mail": "not-an-email", "given": "Bad", "family": "Row"}]
FIELD_MAP = {"mail": "email", "given": "first_name", "family": "last_name"}


@pytest.fixture
def memory_dir() -> Iterator[str]:
    fs = fsspec.filesystem("memory")
    folder = f"/exports-{uuid.uuid4().hex}"
    fs.mkdir(folder)
    yield f"memory://{folder}"
    fs.rm(folder, recursive=True)


def _write(fmt: str, path: Path) -> None:
    if fmt == "csv":
        with path.open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(ROWS[0]))
            writer.writeheader()
            writer.writerows(ROWS)
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    else:
        pq.write_table(pa.Table.from_pylist(ROWS), path)


@pytest.mark.parametrize(("fmt", "where"), [("csv", "file"), ("jsonl", "memory"), ("parquet", "local")])
def test_operator_syncs_a_file_in_chunks(
    fmt: str, where: str, bigcommerce_sandbox: SandboxHandle, tmp_path: Path, memory_dir: str
) -> None:
    bigcommerce_sandbox.store.configure(quota=0)
    local = tmp_path / f"contacts.{fmt}"
    _write(fmt, local)
    if where == "memory":
        path = f"{memory_dir}/contacts.{fmt}"
        fsspec.filesystem("memory").pipe(path.removeprefix("memory://"), local.read_bytes())
    else:
        path = local.as_uri() if where == "file" else str(local)
    op = SyncCustomersOperator(
        task_id="sync", contacts_path=path, field_map=FIELD_MAP, key_field="contact_id", fetch_size=4
    )
    summary = op.execute(context={})  # type: ignore[arg-type]
    assert (summary["created"], summary["rejected"], summary["total"]) == (24, 1, 25)
    assert summary["rejections"][0]["row"] == "99"
    stored = sorted(c["email"] for c in bigcommerce_sandbox.store.all_customers())
    assert stored == sorted(f"File{i}@Example.com" for i in range(24))

    again = SyncCustomersOperator(task_id="again", contacts_path=path, field_map=FIELD_MAP)
    assert again.execute(context={})["skipped"] == 24  # type: ignore[arg-type]


def test_a_missing_file_fails_before_any_store_write(
    bigcommerce_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    bigcommerce_sandbox.store.configure(quota=0)
    op = SyncCustomersOperator(task_id="sync", contacts_path=str(tmp_path / "nope.csv"), field_map=FIELD_MAP)
    # a pre-flight problem: named with its fix before any store write
    with pytest.raises(BigCommerceConfigError, match="nope.csv: no such file; check contacts_path"):
        op.execute(context={})  # type: ignore[arg-type]
    writes = {
        request: n
        for request, n in bigcommerce_sandbox.store.stats()["requests"].items()
        if not request.startswith("GET")
    }
    assert writes == {}
    assert bigcommerce_sandbox.store.all_customers() == []
