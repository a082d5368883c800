"""
Open a file the provider writes (the sync's report): a local path or an Airflow ``ObjectStoragePath`` URL.

A local file is created private to its owner (it lists customers' e-mails); a URL (``s3://``,
``gs://``, ``file://``, ...) goes through Airflow's object storage, with its parent created first.
"""

from __future__ import annotations

from typing import IO, Any
from urllib.parse import urlsplit


class NoFilesystemError(LookupError):
    """Airflow's object storage, and fsspec, have no filesystem for a URL's scheme."""


def filesystem_for(url: str, conn_id: str | None = None) -> tuple[Any, str]:
    """
    Return the filesystem Airflow's object storage has for ``url``, and the URL to give it.

    The filesystem comes from ``attach``, as ``ObjectStoragePath`` gets it (a ``conn_id@`` in the
    URL names the connection, as there), without building the path itself: that needs the
    universal-pathlib release the Airflow version was made with, which Airflow 3.0 does not pin.
    A scheme Airflow has no filesystem for falls back to plain fsspec when no connection is named.

    :raises NoFilesystemError: no filesystem for the scheme (its provider is not installed).
    """
    from airflow.sdk.io import attach

    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    conn_id = conn_id or (userinfo.split(":", 1)[0] if at and userinfo else None)
    protocol = parts.scheme.lower()
    plain = url.replace(parts.netloc, host, 1) if at else url  # fsspec takes the URL as written
    try:
        return attach(protocol=protocol, conn_id=conn_id).fs, plain
    except ValueError as exc:
        if conn_id:
            raise NoFilesystemError(f"Airflow has no filesystem for {protocol}:// ({exc})") from None
    import fsspec

    try:
        return fsspec.filesystem(protocol), plain
    except (ImportError, ValueError) as exc:
        raise NoFilesystemError(f"no filesystem for {protocol}:// ({type(exc).__name__}: {exc})") from None


def open_for_writing(path: str) -> IO[str]:
    """Open ``path`` (a local path or an ObjectStoragePath URL) for writing text; the caller closes it."""
    if "://" in path:
        fs, url = filesystem_for(path)
        parent = url.rsplit("/", 1)[0]
        if parent and not parent.endswith("://"):
            fs.makedirs(parent, exist_ok=True)
        opened: IO[str] = fs.open(url, "w", encoding="utf-8")
        return opened
    from airflow_bigcommerce.sync.report import open_private

    return open_private(path)


def open_for_reading(path: str) -> IO[str]:
    """Open ``path`` (a local path or an ObjectStoragePath URL) for reading text; the caller closes it."""
    if "://" in path:
        fs, url = filesystem_for(path)
        opened: IO[str] = fs.open(url, "r", encoding="utf-8")
        return opened
    return open(path, encoding="utf-8")


class OpenedOnFirstWrite:
    """
    A text file (see :func:`open_for_writing`) created at its first write, or by :meth:`create`.

    A run that fails before its first row (a refused token, a store setup problem) then leaves no
    empty report behind; a run that finishes without rows creates its (empty) report explicitly.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def create(self) -> IO[str]:
        """Open the file now, if not yet open; return it."""
        if self._fh is None:
            self._fh = open_for_writing(self.path)
        return self._fh

    def write(self, text: str) -> int:
        """Write ``text``, creating the file first if needed."""
        return self.create().write(text)

    def flush(self) -> None:
        """Flush what was written (nothing, when nothing was)."""
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        """Close the file, if it was created."""
        if self._fh is not None:
            self._fh.close()
