"""The report's destination as an object-storage URL: the filesystem Airflow's object storage has for it."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest

from airflow_bigcommerce.storage import (
    NoFilesystemError,
    OpenedOnFirstWrite,
    filesystem_for,
    open_for_writing,
)


def test_a_report_url_is_written_through_object_storage_with_its_folders(tmp_path: Path) -> None:
    target = tmp_path / "new" / "reports" / "run.jsonl"
    with open_for_writing(f"file://{target}") as fh:
        fh.write('{"row": "1"}\n')
    assert target.read_text() == '{"row": "1"}\n'
    with open_for_writing("memory://bucket/reports/run.jsonl") as fh:
        fh.write("x\n")
    assert fsspec.filesystem("memory").cat("memory://bucket/reports/run.jsonl") == b"x\n"


def test_a_file_opened_on_first_write_is_not_created_before(tmp_path: Path) -> None:
    target = tmp_path / "run.jsonl"
    lazy = OpenedOnFirstWrite(str(target))
    lazy.flush()
    lazy.close()
    assert not target.exists()
    lazy = OpenedOnFirstWrite(str(target))
    lazy.create()
    lazy.close()
    assert target.read_text() == ""


def test_a_url_gets_the_filesystem_of_its_scheme_or_a_clear_error() -> None:
    fs, url = filesystem_for("memory://bucket/a.csv")
    assert url == "memory://bucket/a.csv" and "memory" in fs.protocol
    with pytest.raises(NoFilesystemError, match="no filesystem for nosuchscheme://"):
        filesystem_for("nosuchscheme://bucket/a.csv")
