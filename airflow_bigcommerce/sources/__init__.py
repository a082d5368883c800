"""
Where a sync's CRM rows come from: a list (or XCom value) of dicts, a SQL query, a file.

Each source is *opened* before the store is touched (:class:`Source`): a query runs and its columns
are known, a file is found and its header read, so every mistake in the source is reported before
the first store request. Rows are then streamed one at a time (SQL fetched ``fetch_size`` rows at a
time, files read in chunks), so a source larger than memory is never loaded whole, and the source is
closed on every path.
"""

from __future__ import annotations

from airflow_bigcommerce.sources.base import Source, SourceError
from airflow_bigcommerce.sources.files import open_file
from airflow_bigcommerce.sources.rows import contact_rows, open_contacts
from airflow_bigcommerce.sources.sql import open_sql, stream_sql

__all__ = ["Source", "SourceError", "contact_rows", "open_contacts", "open_file", "open_sql", "stream_sql"]
