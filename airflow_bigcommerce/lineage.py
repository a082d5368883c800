"""
Lineage for BigCommerce: the ``bigcommerce://`` asset scheme and the operators' OpenLineage facets.

A store's customers are the dataset ``bigcommerce://{store_hash}`` / ``customers``, both as an Airflow
asset URI (``bigcommerce://{store_hash}/customers``) and as an OpenLineage dataset, so an asset and
the operators' lineage name the same thing.

Airflow imports this module while it discovers providers (``asset-uris`` in ``get_provider_info``),
also in the DAG processor: it imports only the standard library at module level. OpenLineage is an
optional extra (``pip install 'airflow-provider-bigcommerce[openlineage]'``) and is imported inside
the functions that only its listener calls.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TypeAlias
    from urllib.parse import SplitResult

    from airflow.providers.common.compat.openlineage.facet import Dataset, RunFacet
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Asset

    #: What ``get_openlineage_facets_on_complete`` returns.
    Lineage: TypeAlias = OperatorLineage[Dataset, RunFacet]

log = logging.getLogger(__name__)

#: The URI scheme of BigCommerce assets and the OpenLineage namespace prefix.
SCHEME = "bigcommerce"
#: The one resource the operators write: a store's customers.
CUSTOMERS = "customers"


def namespace(store_hash: str) -> str:
    """Return the OpenLineage namespace of a store, ``bigcommerce://{store_hash}``."""
    return f"{SCHEME}://{store_hash}"


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """
    Normalise a ``bigcommerce://{store}/{resource}`` asset URI, refusing one that names no store or resource.

    Airflow calls this for every ``Asset`` with the ``bigcommerce`` scheme. The store (a store hash) is
    case-insensitive, so it is lower-cased; a trailing slash is dropped, so ``.../customers/`` and
    ``.../customers`` are one asset.
    """
    if not uri.netloc:
        raise ValueError("A bigcommerce:// asset URI needs the store: bigcommerce://{store_hash}/customers")
    path = uri.path.rstrip("/")
    if not path.strip("/"):
        raise ValueError(
            f"A bigcommerce:// asset URI needs a resource after the store, e.g. "
            f"bigcommerce://{uri.netloc}/{CUSTOMERS}"
        )
    if uri.query or uri.fragment:
        raise ValueError("A bigcommerce:// asset URI takes no query or fragment")
    return uri._replace(netloc=uri.netloc.lower(), path=path)


def create_asset(*, store_hash: str, resource: str = CUSTOMERS, extra: dict[str, Any] | None = None) -> Asset:
    """Return the asset of a store's resource (Airflow's asset factory for the ``bigcommerce`` scheme)."""
    from airflow.sdk import Asset

    return Asset(uri=f"{SCHEME}://{store_hash.lower()}/{resource}", extra=extra)


def convert_asset_to_openlineage(asset: Asset, lineage_context: Any) -> Dataset:
    """Translate a ``bigcommerce://{store}/{resource}`` asset into its OpenLineage dataset."""
    from urllib.parse import urlsplit

    from airflow.providers.common.compat.openlineage.facet import Dataset

    parsed = urlsplit(asset.uri)
    return Dataset(namespace=namespace(parsed.netloc), name=parsed.path.strip("/"))


def customers_lineage(
    *,
    store_hash: str | None,
    rows_written: int,
    sql_conn_id: str | None = None,
    sql: Any = None,
    sql_hook_params: Mapping[str, Any] | None = None,
    file_path: str | None = None,
) -> Lineage | None:
    """
    Return the OpenLineage facets of a finished operator: the SQL source or file in, the customers out.

    :param store_hash: the store the task wrote to; ``None`` if ``execute`` never reached the store
        (then there is no lineage to report).
    :param rows_written: customers created plus updated, the output's ``rowCount`` statistic.
    :param sql_conn_id: the common.sql connection the contacts came from, if any.
    :param sql: the rendered query the contacts came from.
    :param sql_hook_params: the arguments the SQL hook was built with.
    :param file_path: the file the contacts came from (a local path or an object storage URL).
    :return: the lineage, or ``None`` when there is nothing to report.
    """
    if store_hash is None:
        return None
    from airflow.providers.common.compat.openlineage.facet import (
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    output = OutputDataset(
        namespace=namespace(store_hash),
        name=CUSTOMERS,
        outputFacets={"outputStatistics": OutputStatisticsOutputDatasetFacet(rowCount=rows_written)},
    )
    if file_path:
        return OperatorLineage(inputs=[file_dataset(file_path)], outputs=[output])
    if not sql_conn_id or not sql:
        return OperatorLineage(inputs=[], outputs=[output])
    source = sql_source_lineage(sql_conn_id, sql, sql_hook_params or {})
    return OperatorLineage(
        inputs=list(source.inputs) if source else [],
        outputs=[output],
        run_facets=dict(source.run_facets) if source else {},
        job_facets=dict(source.job_facets) if source else {},
    )


def file_dataset_name(path: str) -> tuple[str, str]:
    """
    Return the OpenLineage ``(namespace, name)`` of a file, as OpenLineage's naming spec has them.

    Object storage: the scheme and bucket, then the key (``s3://bucket``, ``crm/contacts.csv``); a local
    file (a path or a ``file://`` URL): ``file`` and the absolute path. A connection id in the URL
    (``s3://aws_crm@bucket/...``) names how it was read, not the dataset, so it is left out.
    """
    import os.path
    from urllib.parse import urlsplit

    if "://" not in path:
        return "file", os.path.abspath(path)
    parsed = urlsplit(path)
    host = parsed.netloc.rpartition("@")[2]
    scheme = parsed.scheme.lower()
    if scheme in {"file", "local"}:
        return (f"file://{host}" if host else "file"), parsed.path
    return f"{scheme}://{host}", parsed.path.lstrip("/")


def file_dataset(path: str) -> Dataset:
    """Return the input dataset of a file source (:func:`file_dataset_name`)."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    namespace, name = file_dataset_name(path)
    return Dataset(namespace=namespace, name=name)


def sql_source_lineage(sql_conn_id: str, sql: Any, sql_hook_params: Mapping[str, Any]) -> Lineage | None:
    """
    Return the tables ``sql`` reads, named as common.sql's OpenLineage helpers name them.

    Returning outputs stops Airflow from merging the SQL hook's own lineage into the event, so the
    operator asks the helpers for the query's inputs itself. A hook that describes no OpenLineage
    database (SQLite's, for one) gets the same parser with a namespace from its connection
    (``sqlite:///path/to/crm.db``), so its tables still appear. Never raises: lineage must not fail
    a task that has already succeeded.
    """
    try:
        from airflow.providers.common.compat.openlineage.utils.sql import get_openlineage_facets_with_sql

        from airflow_bigcommerce.compat import BaseHook

        connection = BaseHook.get_connection(sql_conn_id)
        hook = connection.get_hook(hook_params=dict(sql_hook_params))  # type: ignore[no-untyped-call]
        lineage = get_openlineage_facets_with_sql(hook=hook, sql=sql, conn_id=sql_conn_id, database=None)
        if lineage is None:
            lineage = _parse_without_database_info(hook, connection, sql)
        return lineage
    except Exception:
        log.warning("OpenLineage: could not work out the SQL source's tables", exc_info=True)
        return None


def _parse_without_database_info(hook: Any, connection: Any, sql: Any) -> Lineage:
    """Parse ``sql`` for a hook without OpenLineage database info, naming tables from its connection."""
    from airflow.providers.openlineage.sqlparser import DatabaseInfo, SQLParser

    conn_type = str(connection.conn_type or "generic")
    if conn_type == "sqlite":
        # SQLite's one schema is "main"; the database is the file, which the namespace names.
        authority, default_schema = str(connection.host or ""), "main"
    else:
        host = str(connection.host or "")
        authority = f"{host}:{connection.port}" if connection.port else host
        default_schema = hook.get_openlineage_default_schema()
    dialect = hook.get_openlineage_database_dialect(connection)
    parser = SQLParser(dialect=dialect, default_schema=default_schema)
    result: Lineage = parser.generate_openlineage_metadata_from_sql(
        sql=sql,
        hook=hook,
        database_info=DatabaseInfo(scheme=conn_type, authority=authority),
        use_connection=False,
    )
    return result
