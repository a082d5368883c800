"""
Open a file the provider writes (the sync's report): a local path or an Airflow ``ObjectStoragePath`` URL.

A local file is created private to its owner (it lists customers' e-mails); a URL (``s3://``,
``gs://``, ``file://``, ...) goes through Airflow's object storage, with its parent created first.
"""

from __future__ import annotations

from typing import IO


def open_for_writing(path: str) -> IO[str]:
    """Open ``path`` (a local path or an ObjectStoragePath URL) for writing text; the caller closes it."""
    if "://" in path:
        from airflow.sdk import ObjectStoragePath

        target = ObjectStoragePath(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        opened: IO[str] = target.open("w")  # type: ignore[no-untyped-call]
        return opened
    from airflow_bigcommerce.sync.report import open_private

    return open_private(path)


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
