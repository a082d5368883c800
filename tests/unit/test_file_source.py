"""The file source: CSV, JSON lines and Parquet, local or in object storage, streamed a chunk at a time."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_bigcommerce.sources import Source, SourceError, open_file
from airflow_bigcommerce.sources import files as files_module

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ("id", "email", "first_name", "vip")
#: Ten rows: more than three chunks of three.
ROWS = [
    {"id": i, "email": f"p{i}@example.com", "first_name": "" if i == 4 else f"P{i}", "vip": i % 2 == 0}
    for i in range(10)
]
PII = "secret.person@example.com"


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _jsonl_bytes(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def _parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    return sink.getvalue()


WRITERS: dict[str, Callable[[list[dict[str, Any]]], bytes]] = {
    "csv": _csv_bytes,
    "jsonl": _jsonl_bytes,
    "parquet": _parquet_bytes,
}
#: What each format gives back: CSV cells are strings, JSON and Parquet keep their types.
EXPECTED = {
    "csv": [{key: str(value) for key, value in row.items()} for row in ROWS],
    "jsonl": ROWS,
    "parquet": ROWS,
}


@pytest.fixture
def memory_dir() -> Iterator[str]:
    """A fresh folder in fsspec's in-memory filesystem (``memory://``), removed afterwards."""
    fs = fsspec.filesystem("memory")
    folder = f"/crm-{uuid.uuid4().hex}"
    fs.mkdir(folder)
    yield f"memory://{folder}"
    fs.rm(folder, recursive=True)


def _place(where: str, tmp_path: Path, memory_dir: str, filename: str, data: bytes) -> str:
    """Write ``data`` and return how a user names it: a local path, a file:// or a memory:// URL."""
    if where == "memory":
        url = f"{memory_dir}/{filename}"
        fsspec.filesystem("memory").pipe(url.removeprefix("memory://"), data)
        return url
    path = tmp_path / filename
    path.write_bytes(data)
    return str(path) if where == "local" else path.as_uri()


def _all(source: Source) -> list[dict[str, Any]]:
    try:
        return [dict(row) for row in source.rows]
    finally:
        source.close()


# -- each format, each place ------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["local", "file", "memory"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_reads_every_row_of_a_file_larger_than_one_chunk(
    fmt: str, where: str, tmp_path: Path, memory_dir: str
) -> None:
    path = _place(where, tmp_path, memory_dir, f"contacts.{fmt}", WRITERS[fmt](ROWS))
    source = open_file(path, chunk_rows=3)
    assert source.name == path
    assert source.columns == (None if fmt == "jsonl" else COLUMNS)
    assert source.total == (10 if fmt == "parquet" else None)
    assert _all(source) == EXPECTED[fmt]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_contacts_format_overrides_the_extension(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "export.dat"
    path.write_bytes(WRITERS[fmt](ROWS))
    assert _all(open_file(str(path), file_format=fmt.upper())) == EXPECTED[fmt]


@pytest.mark.parametrize(
    ("suffix", "fmt"), [(".csv.gz", "csv"), (".jsonl.gz", "jsonl"), (".ndjson", "jsonl")]
)
def test_compressed_and_alternative_extensions(
    suffix: str, fmt: str, tmp_path: Path, memory_dir: str
) -> None:
    data = WRITERS[fmt](ROWS)
    if suffix.endswith(".gz"):
        data = gzip.compress(data)
    path = _place("memory", tmp_path, memory_dir, f"contacts{suffix}", data)
    assert _all(open_file(path)) == EXPECTED[fmt]


def test_parquet_is_decoded_one_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    batches: list[int] = []
    real = pq.ParquetFile.iter_batches

    def spy(self: pq.ParquetFile, *args: Any, **kwargs: Any) -> Iterator[pa.RecordBatch]:
        for batch in real(self, *args, **kwargs):
            batches.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    path = tmp_path / "contacts.parquet"
    path.write_bytes(_parquet_bytes(ROWS))
    source = open_file(str(path), chunk_rows=3)
    assert batches == []  # nothing decoded at open: the schema and the count come from the footer
    first = next(source.rows)
    assert first == ROWS[0] and batches == [3]
    assert [next(source.rows) for _ in range(3)] == ROWS[1:4] and batches == [3, 3]
    assert _all(source) == ROWS[4:]
    assert batches == [3, 3, 3, 1]


class _CountingFile(io.BytesIO):
    """A file that counts the bytes read from it, and tells whether it was closed."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def read1(self, size: int | None = -1) -> bytes:
        chunk = super().read1(size)
        self.bytes_read += len(chunk)
        return chunk

    def readinto(self, buffer: Any) -> int:
        n = super().readinto(buffer)
        self.bytes_read += n
        return n

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        self.bytes_read += len(line)
        return line

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line


def _patch_file(monkeypatch: pytest.MonkeyPatch, data: bytes) -> list[_CountingFile]:
    opened: list[_CountingFile] = []

    def fake_open(path: str, name: str, conn_id: str | None) -> IO[bytes]:
        opened.append(_CountingFile(data))
        return opened[-1]

    monkeypatch.setattr(files_module, "_open_binary", fake_open)
    return opened


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_text_files_are_streamed_never_read_whole(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    many = [
        {"id": i, "email": f"p{i}@example.com", "first_name": "x" * 50, "vip": True} for i in range(20_000)
    ]
    data = WRITERS[fmt](many)
    opened = _patch_file(monkeypatch, data)
    source = open_file(f"big.{fmt}", chunk_rows=3)
    (raw,) = opened
    assert [next(source.rows)["id"] for _ in range(3)] in (["0", "1", "2"], [0, 1, 2])
    assert 0 < raw.bytes_read < 64 * 1024 < len(data)  # a buffer's worth, not the file (over 1.5 MB)
    source.close()
    assert raw.closed


# -- what is known at open ------------------------------------------------------------------------
def test_csv_columns_come_from_the_header_without_excels_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffEmail,First Name\r\nada@example.com,Ada\r\n".encode())
    source = open_file(str(path))
    assert source.columns == ("Email", "First Name")
    assert _all(source) == [{"Email": "ada@example.com", "First Name": "Ada"}]


def test_csv_empty_cells_are_empty_strings_and_a_short_row_is_padded(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('id,email,phone\n1,,\n2,b@example.com\n\n3,"c@example.com","+1 555"\n')
    assert _all(open_file(str(path))) == [
        {"id": "1", "email": "", "phone": ""},
        {"id": "2", "email": "b@example.com", "phone": ""},
        {"id": "3", "email": "c@example.com", "phone": "+1 555"},
    ]


def test_parquet_values_keep_their_types(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "opt_in": pa.array([True, None]),
            "joined": pa.array([dt.datetime(2024, 5, 1, 12, 30), None], pa.timestamp("us")),
            "credit": pa.array([Decimal("10.50"), Decimal("0.00")], pa.decimal128(10, 2)),
        }
    )
    path = tmp_path / "typed.pq"
    pq.write_table(table, path)
    source = open_file(str(path))
    assert source.columns == ("id", "opt_in", "joined", "credit") and source.total == 2
    assert _all(source) == [
        {"id": 1, "opt_in": True, "joined": dt.datetime(2024, 5, 1, 12, 30), "credit": Decimal("10.50")},
        {"id": 2, "opt_in": None, "joined": None, "credit": Decimal("0.00")},
    ]


def test_json_lines_keep_types_and_columns_are_unknown_up_front(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    # an exporter leaves out null keys: the first line's keys are not every row's columns
    path.write_text(
        '{"id": 1, "email": "a@example.com"}\n\n{"id": 2, "email": "b@example.com", "vip": true}\n'
    )
    source = open_file(str(path))
    assert source.columns is None
    assert _all(source) == [
        {"id": 1, "email": "a@example.com"},
        {"id": 2, "email": "b@example.com", "vip": True},
    ]


# -- mistakes, named with their fix ---------------------------------------------------------------
def test_a_missing_local_file_names_the_path_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(SourceError, match=rf"^{missing}: no such file; check contacts_path .*object storage"):
        open_file(str(missing))


def test_a_missing_object_names_the_url_and_the_fix(memory_dir: str) -> None:
    with pytest.raises(SourceError, match=rf"^{memory_dir}/nope.parquet: no such file; check contacts_path"):
        open_file(f"{memory_dir}/nope.parquet")


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "exports.csv").mkdir()
    with pytest.raises(SourceError, match="is a folder; contacts_path names one file"):
        open_file(str(tmp_path / "exports.csv"))


def test_an_unknown_extension_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        open_file(str(tmp_path / "contacts.xlsx"))
    message = str(caught.value)
    assert "cannot tell the file's format" in message
    assert ".csv, .jsonl, .ndjson, .parquet, .pq" in message
    assert "contacts_format= to one of 'csv', 'jsonl', 'parquet'" in message


def test_an_unknown_contacts_format_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="contacts_format='xml' .* one of 'csv', 'jsonl', 'parquet'"):
        open_file(str(tmp_path / "contacts.csv"), file_format="xml")


@pytest.mark.parametrize("bad_line", [1, 3])
def test_a_bad_json_line_names_its_number_never_the_content(bad_line: int, tmp_path: Path) -> None:
    lines = [json.dumps({"id": i, "email": f"p{i}@example.com"}) for i in range(5)]
    lines[bad_line - 1] = '{"id": 9, "email": "' + PII + '", "phone": +1 555}'
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError) as caught:
        _all(open_file(str(path)))  # line 1: at open, before the store is touched
    message = str(caught.value)
    assert message.startswith(f"{path}: line {bad_line} is not valid JSON (")
    assert "each line must be one JSON object" in message
    assert PII not in message and "555" not in message


def test_a_json_line_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "c.ndjson"
    path.write_text(f'{{"id": 1}}\n["{PII}"]\n')
    source = open_file(str(path))
    with pytest.raises(SourceError, match="line 2 is a JSON list, not an object") as caught:
        _all(source)
    assert PII not in str(caught.value)


def test_a_csv_row_with_more_cells_than_the_header_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(f"id,email\n1,a@example.com\n2,{PII},oops\n")
    with pytest.raises(SourceError) as caught:
        _all(open_file(str(path)))
    assert str(caught.value) == (
        f"{path}: line 3 has 3 cells, the header names 2 columns; quote cells that hold commas or line breaks"
    )


def test_line_numbers_count_the_lines_of_quoted_multi_line_cells(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('id,notes\n1,"two\nlines"\n2,x,extra\n')
    source = open_file(str(path))
    assert next(source.rows) == {"id": "1", "notes": "two\nlines"}
    with pytest.raises(SourceError, match="line 4 has 3 cells"):
        next(source.rows)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty; its first line must name the columns"),
        ("id,email,id\n1,a,b\n", "the header names 'id' twice"),
        ("id,,email\n", "column 2 of the header has no name"),
    ],
)
def test_a_bad_csv_header(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(text)
    with pytest.raises(SourceError, match=message):
        open_file(str(path))


def test_a_csv_line_the_csv_reader_refuses_says_why_without_the_value(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(f"id,email,notes\n1,a@example.com,\n2,{PII},{'x' * 200_000}\n3,b@example.com,\n")
    with pytest.raises(SourceError) as caught:
        _all(open_file(str(path)))
    assert str(caught.value) == (
        f"{path}: line 3 cannot be read as CSV (field larger than field limit (131072)); check the file"
    )


def test_a_csv_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("id,name\n1,Jos\u00e9\n".encode("latin-1"))
    with pytest.raises(SourceError, match="not UTF-8 text .*save the file as UTF-8"):
        _all(open_file(str(path)))


def test_a_file_that_is_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    path.write_bytes(_csv_bytes(ROWS))
    with pytest.raises(SourceError, match=r"not a Parquet file \(\w+\); check the file"):
        open_file(str(path))


def test_parquet_without_pyarrow_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    found = re.search(r'^name = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert found is not None
    dist = found.group(1)
    path = tmp_path / "c.parquet"
    path.write_bytes(_parquet_bytes(ROWS))
    opened = _patch_file(monkeypatch, path.read_bytes())
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # import fails as if not installed
    with pytest.raises(SourceError, match=rf"needs pyarrow; pip install '{dist}\[parquet\]'"):
        open_file(str(path))
    assert opened[0].closed


class _Store:
    """What Airflow's ``attach`` returns: the filesystem for a scheme and connection."""

    def __init__(self, data: bytes, opened: list[str]) -> None:
        self.fs = self
        self._data = data
        self._opened = opened

    def open(self, url: str, mode: str) -> IO[bytes]:
        self._opened.append(url)
        return io.BytesIO(self._data)


def test_a_url_is_read_with_the_connection_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    import airflow.sdk.io

    attached: list[tuple[str, str | None]] = []
    opened: list[str] = []

    def attach(protocol: str, conn_id: str | None) -> _Store:
        attached.append((protocol, conn_id))
        return _Store(_csv_bytes(ROWS[:2]), opened)

    monkeypatch.setattr(airflow.sdk.io, "attach", attach)
    source = open_file("s3://aws_crm@crm-exports/daily/contacts.csv")
    assert source.name == "s3://aws_crm@crm-exports/daily/contacts.csv"
    assert len(_all(source)) == 2
    assert _all(open_file("gs://bucket/c.csv", conn_id="gcp_crm")) == EXPECTED["csv"][:2]
    assert attached == [("s3", "aws_crm"), ("gs", "gcp_crm")]
    assert opened == ["s3://crm-exports/daily/contacts.csv", "gs://bucket/c.csv"]


def test_a_connection_for_a_scheme_airflow_cannot_read_names_the_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import airflow.sdk.io

    class _NoFilesystem:
        @property
        def fs(self) -> Any:
            raise ValueError("No filesystem registered for scheme s3")

    monkeypatch.setattr(airflow.sdk.io, "attach", lambda protocol, conn_id: _NoFilesystem())
    with pytest.raises(
        SourceError, match=r"no filesystem for s3:// .*apache-airflow-providers-amazon\[s3fs\]"
    ):
        open_file("s3://aws_crm@bucket/c.csv")


def test_an_object_store_error_names_the_file_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    import airflow.sdk.io

    class _Denied:
        fs = None

        def __init__(self) -> None:
            self.fs = self

        def open(self, url: str, mode: str) -> IO[bytes]:
            raise RuntimeError("Unable to locate credentials")

    monkeypatch.setattr(airflow.sdk.io, "attach", lambda protocol, conn_id: _Denied())
    with pytest.raises(SourceError) as caught:
        open_file("s3://aws_crm@bucket/c.csv")
    assert str(caught.value) == (
        "s3://aws_crm@bucket/c.csv: cannot open it (RuntimeError: Unable to locate credentials); check"
        " contacts_path and the connection's credentials and region"
    )


def test_a_password_in_a_url_is_not_in_the_source_name() -> None:
    assert files_module.display_name("s3://user:hunter2@bucket/c.csv") == "s3://user:***@bucket/c.csv"
    assert files_module.display_name("s3://aws_crm@bucket/c.csv") == "s3://aws_crm@bucket/c.csv"


def test_chunk_rows_must_be_positive() -> None:
    with pytest.raises(ValueError, match="chunk_rows must be at least 1"):
        open_file("c.csv", chunk_rows=0)


# -- closing --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_close_without_iterating_is_safe_twice(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = _patch_file(monkeypatch, WRITERS[fmt](ROWS))
    source = open_file(f"c.{fmt}", chunk_rows=3)
    (raw,) = opened
    source.close()
    source.close()
    assert raw.closed
    assert list(source.rows) == []


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_the_file_is_closed_when_the_rows_are_exhausted(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = _patch_file(monkeypatch, WRITERS[fmt](ROWS))
    rows = list(open_file(f"c.{fmt}", chunk_rows=4).rows)
    assert len(rows) == 10 and opened[0].closed


def test_the_file_is_closed_when_a_row_is_bad(monkeypatch: pytest.MonkeyPatch) -> None:
    opened = _patch_file(monkeypatch, b'{"id": 1}\n{"id": \n')
    source = open_file("c.jsonl")
    with pytest.raises(SourceError, match="line 2"):
        list(source.rows)
    assert opened[0].closed


def test_the_file_is_closed_when_open_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    opened = _patch_file(monkeypatch, b"not json\n")
    with pytest.raises(SourceError, match="line 1 is not valid JSON"):
        open_file("c.jsonl")
    assert opened[0].closed


# -- properties -----------------------------------------------------------------------------------
_CELL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cells=st.lists(st.tuples(_CELL, _CELL, _CELL), max_size=8))
def test_csv_round_trip_of_any_text(cells: list[tuple[str, str, str]], tmp_path: Path) -> None:
    path = tmp_path / "any.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["a", "b", "c"])
        writer.writerows(cells)
    source = open_file(str(path), chunk_rows=2)
    assert source.columns == ("a", "b", "c")
    assert _all(source) == [dict(zip("abc", row, strict=True)) for row in cells]
