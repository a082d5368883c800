"""
Rows of a CSV, JSON-lines or Parquet file, local or in object storage, read a chunk at a time.

:func:`open_file` finds the file and reads what can be known before the first row (a CSV header,
a Parquet schema and row count, a JSON-lines file's first line), so a wrong path, format or file
is reported before the store is touched. The rows are then streamed: CSV and JSON lines through a
buffered stream a line at a time, Parquet ``chunk_rows`` rows at a time (``iter_batches``, holding one
row group's columns at most), so a file larger than memory works. Messages name the file and the
line, never a cell's value (it may be personal data).

Values: CSV cells are strings (an empty cell is ``""``, which the field rules read as missing, like
SQL's NULL); JSON and Parquet values keep their types (numbers, booleans, ``None``; Parquet
timestamps and decimals become ``datetime`` and ``Decimal``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Generator, Iterator, Mapping
from typing import IO, Any, TypeAlias
from urllib.parse import urlsplit

from airflow_bigcommerce.sources.base import Source, SourceError

#: The formats a file source reads, as ``contacts_format=`` names them.
FILE_FORMATS = ("csv", "jsonl", "parquet")
#: File name endings -> format, tried longest first.
EXTENSIONS: Mapping[str, str] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
#: Compressed text files by suffix, decompressed while streamed (not Parquet: it compresses inside).
COMPRESSIONS = (".gz", ".bz2", ".xz")
#: Rows read lazily; closing one stops reading.
RowGenerator: TypeAlias = Generator[dict[str, Any], None, None]
#: The extra that installs the Parquet reader.
PARQUET_EXTRA = "airflow-provider-bigcommerce[parquet]"


def open_file(
    path: str, *, file_format: str | None = None, chunk_rows: int = 1000, conn_id: str | None = None
) -> Source:
    """
    Open ``path`` as a source of rows (dicts, column -> value).

    :param path: a local path, or an Airflow ``ObjectStoragePath`` URL (``s3://bucket/key``,
        ``gs://...``, ``file:///...``; ``s3://conn_id@bucket/key`` names the connection); a scheme
        Airflow has no filesystem for is opened with fsspec (``memory://``).
    :param file_format: ``"csv"``, ``"jsonl"`` or ``"parquet"``; default: from the extension
        (``.csv``, ``.jsonl``/``.ndjson``, ``.parquet``/``.pq``, text ones also ``.gz``/``.bz2``/``.xz``).
    :param chunk_rows: Parquet rows decoded at a time.
    :param conn_id: the Airflow connection for the object storage (instead of one in the URL).
    :return: the source; ``columns`` is the CSV header or the Parquet schema, ``None`` for JSON lines
        (a line may leave out a key another has); ``total`` is known for Parquet only.
    :raises SourceError: the format is unknown, the file is missing or cannot be read as its format.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    name = display_name(path)
    fmt, compression = file_format_of(path, file_format)
    raw = _open_binary(path, name, conn_id)
    try:
        if fmt == "parquet":
            if compression is not None:
                raise SourceError(
                    f"{name}: a Parquet file is compressed inside; store it without {compression}"
                )
            return _open_parquet(raw, name, chunk_rows)
        stream = raw if compression is None else _decompressed(raw, compression)
        if fmt == "csv":
            return _open_csv(stream, raw, name)
        return _open_jsonl(stream, raw, name)
    except BaseException:
        raw.close()
        raise


def file_format_of(path: str, file_format: str | None) -> tuple[str, str | None]:
    """
    Return the format (``contacts_format`` or the extension's) and the compression suffix, if any.

    :raises SourceError: ``file_format`` is not one of :data:`FILE_FORMATS`, or it is not given and
        the extension names none.
    """
    lowered = urlsplit(path).path.lower() if "://" in path else path.lower()
    compression = next((suffix for suffix in COMPRESSIONS if lowered.endswith(suffix)), None)
    if compression is not None:
        lowered = lowered[: -len(compression)]
    if file_format is not None:
        fmt = str(file_format).strip().lower()
        if fmt not in FILE_FORMATS:
            raise SourceError(
                f"contacts_format={file_format!r} is not a file format this provider reads; "
                f"use one of {', '.join(repr(f) for f in FILE_FORMATS)}"
            )
        return fmt, compression
    for extension, fmt in EXTENSIONS.items():
        if lowered.endswith(extension):
            return fmt, compression
    known = ", ".join(EXTENSIONS)
    raise SourceError(
        f"{display_name(path)}: cannot tell the file's format from its name; name it with one of "
        f"{known} (optionally + .gz), or set contacts_format= to one of "
        f"{', '.join(repr(f) for f in FILE_FORMATS)}"
    )


def display_name(path: str) -> str:
    """Name ``path`` in messages: a URL's user info is its connection id, a password in it is hidden."""
    if "://" not in path:
        return path
    parts = urlsplit(path)
    userinfo, at, host = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        return parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{host}").geturl()
    return path


def _open_binary(path: str, name: str, conn_id: str | None) -> IO[bytes]:
    """Open ``path`` for reading bytes, through Airflow's object storage for a URL."""
    missing = (
        f"{name}: no such file; check contacts_path (the bucket, the key, and that the connection"
        " may read it)"
        if "://" in path
        else f"{name}: no such file; check contacts_path (a local path is read on the worker that runs the"
        " task; a file every worker can read belongs in object storage: s3://bucket/contacts.csv)"
    )
    try:
        if "://" not in path:
            return open(path, "rb")
        return _open_url(path, name, conn_id)
    except (FileNotFoundError, NotADirectoryError):
        raise SourceError(missing) from None
    except IsADirectoryError:
        raise SourceError(f"{name}: is a folder; contacts_path names one file") from None
    except PermissionError as exc:
        raise SourceError(
            f"{name}: not allowed to read it ({type(exc).__name__}); give the worker (or the "
            "connection's credentials) read access"
        ) from None
    except SourceError:
        raise
    except Exception as exc:  # the object store's own errors: credentials, network, bucket
        raise SourceError(
            f"{name}: cannot open it ({type(exc).__name__}: {exc}); check contacts_path and the "
            "connection's credentials and region"
        ) from None


def _open_url(path: str, name: str, conn_id: str | None) -> IO[bytes]:
    """Open a URL with the filesystem Airflow's object storage has for its scheme and connection."""
    from airflow_bigcommerce.storage import NoFilesystemError, filesystem_for

    try:
        fs, url = filesystem_for(path, conn_id)
    except NoFilesystemError as exc:
        raise SourceError(
            f"{name}: {exc}; install the Airflow provider that brings it (s3: apache-airflow-providers-"
            "amazon[s3fs], gs: apache-airflow-providers-google), or use a local path"
        ) from None
    opened: IO[bytes] = fs.open(url, "rb")
    return opened


def _decompressed(raw: IO[bytes], compression: str) -> IO[bytes]:
    import bz2
    import gzip
    import lzma

    if compression == ".gz":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if compression == ".bz2":
        return bz2.BZ2File(raw, mode="rb")  # type: ignore[return-value]
    return lzma.LZMAFile(raw, mode="rb")  # type: ignore[return-value]


def _open_csv(stream: IO[bytes], raw: IO[bytes], name: str) -> Source:
    # utf-8-sig: the byte-order mark Excel writes is not part of the first column's name.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _unreadable(name, "CSV", 1, exc) from None
    if not header:
        raise SourceError(f"{name}: the file is empty; its first line must name the columns (a header)")
    columns = tuple(header)
    _check_header(name, columns)
    rows = _FileRows(_csv_rows(reader, columns, name), (text, stream, raw))
    return Source(name, rows, columns=columns, close=rows.close)


def _check_header(name: str, columns: tuple[str, ...]) -> None:
    if any(not column.strip() for column in columns):
        position = next(i for i, column in enumerate(columns, 1) if not column.strip())
        raise SourceError(f"{name}: column {position} of the header has no name; name every column")
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise SourceError(f"{name}: the header names {column!r} twice; give each column its own name")
        seen.add(column)


def _csv_rows(reader: Any, columns: tuple[str, ...], name: str) -> RowGenerator:
    width = len(columns)
    while True:
        line = reader.line_num + 1  # where the record starts (a quoted cell may span lines)
        try:
            cells = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _unreadable(name, "CSV", line, exc) from None
        if cells is None:
            return
        if not cells:  # a blank line
            continue
        if len(cells) > width:
            raise SourceError(
                f"{name}: line {line} has {len(cells)} cells, the header names {width} columns; "
                "quote cells that hold commas or line breaks"
            )
        row = dict(zip(columns, cells, strict=False))
        for column in columns[len(cells) :]:
            row[column] = ""  # a short row's trailing cells are empty
        yield row


def _open_jsonl(stream: IO[bytes], raw: IO[bytes], name: str) -> Source:
    lines = _jsonl_rows(stream, name)
    try:
        first = next(lines, None)  # an empty file, or one that is not JSON lines, fails before the store
    except BaseException:
        lines.close()
        raise
    rows = _FileRows(_chain(first, lines), (stream, raw))
    return Source(name, rows, columns=None, close=rows.close)


def _jsonl_rows(stream: IO[bytes], name: str) -> RowGenerator:
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:  # its message names the position, never the content
            raise SourceError(
                f"{name}: line {number} is not valid JSON ({exc.msg} at column {exc.colno}); "
                "each line must be one JSON object"
            ) from None
        except UnicodeDecodeError as exc:
            raise _unreadable(name, "JSON lines", number, exc) from None
        if not isinstance(value, dict):
            raise SourceError(
                f"{name}: line {number} is a JSON {type(value).__name__}, not an object; "
                'each line must be one JSON object such as {"email": ...}'
            )
        yield value


def _chain(first: dict[str, Any] | None, rest: RowGenerator) -> RowGenerator:
    if first is None:
        return
    yield first
    yield from rest


def _open_parquet(raw: IO[bytes], name: str, chunk_rows: int) -> Source:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SourceError(f"{name}: reading Parquet needs pyarrow; pip install '{PARQUET_EXTRA}'") from None
    try:
        parquet = pq.ParquetFile(raw)
    except Exception as exc:
        raise SourceError(
            f"{name}: not a Parquet file ({type(exc).__name__}); check the file, or set contacts_format="
        ) from None
    columns = tuple(parquet.schema_arrow.names)
    total = int(parquet.metadata.num_rows)
    rows = _FileRows(_parquet_rows(parquet, chunk_rows), (parquet, raw))
    return Source(name, rows, columns=columns, total=total, close=rows.close)


def _parquet_rows(parquet: Any, chunk_rows: int) -> RowGenerator:
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        yield from batch.to_pylist()


def _unreadable(name: str, what: str, line: int, exc: Exception) -> SourceError:
    if isinstance(exc, UnicodeDecodeError):  # decoded a block at a time: the line is where it was noticed
        return SourceError(f"{name}: not UTF-8 text (near line {line}); save the file as UTF-8")
    # csv.Error's text says what is wrong ("line contains NUL", "field larger than field limit"), not a value
    return SourceError(f"{name}: line {line} cannot be read as {what} ({exc}); check the file")


class _FileRows(Iterator[dict[str, Any]]):
    """A file's rows; :meth:`close` (also at the end or on an error) stops reading and closes it once."""

    def __init__(self, rows: RowGenerator, handles: tuple[Any, ...]) -> None:
        self._rows: RowGenerator | None = rows
        self._handles = handles

    def __next__(self) -> dict[str, Any]:
        if self._rows is None:
            raise StopIteration
        try:
            return next(self._rows)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the generator and every handle, outermost first (once)."""
        if self._rows is None:
            return
        rows, self._rows = self._rows, None
        rows.close()
        for handle in self._handles:  # closing a handle its wrapper closed already does nothing
            handle.close()
