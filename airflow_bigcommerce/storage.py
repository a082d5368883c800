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
