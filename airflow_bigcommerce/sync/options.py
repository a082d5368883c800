"""
What a sync run is asked to do: one frozen value, checked once when it is made.

``SyncCustomersOperator`` builds one and calls ``run_sync``; ``sync_customers(...)`` takes the same
options as keywords. The checks live in :mod:`.option_checks`, which the operator also runs on its
plain arguments when the DAG is parsed; the engine reads only this value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from airflow_bigcommerce.api import CUSTOMER_BATCH_SIZE, DEFAULT_METAFIELD_PERMISSION, MAX_IN_FLIGHT
from airflow_bigcommerce.ledger.records import MAX_ATTEMPTS, Ledger
from airflow_bigcommerce.models.contact import validate_field_map
from airflow_bigcommerce.models.empty_values import EmptyValues, check_empty_values
from airflow_bigcommerce.sync.lookup import INDEX_LIMIT
from airflow_bigcommerce.sync.option_checks import SyncMode as Mode
from airflow_bigcommerce.sync.option_checks import (
    check_batch_size,
    check_channel_id,
    check_ledger,
    check_managed_segments,
    check_max_concurrency,
    check_metafield_permission,
    check_mode,
)
from airflow_bigcommerce.sync.progress import ProgressReporter
from airflow_bigcommerce.sync.report import ReportWriter

#: Upper bound for ``max_concurrency``: more parallel writes only buy 429s under a shared store quota.
MAX_CONCURRENCY = MAX_IN_FLIGHT


@dataclass(frozen=True)
class SyncOptions:
    """
    The options of one sync run (see ``sync_customers`` for each); invalid values raise ``ValueError``.

    ``field_map`` is validated and completed with the defaults (``models.contact.validate_field_map``).
    ``ledger`` (``None``: the e-mail is the only identity, as before) keys rows by ``key_field``
    (required then); ``run_id`` is what its rows record, ``max_attempts`` caps its retries and
    ``ledger_owner`` (a prefix of ``run_id``) limits them to the rows of runs it starts (``None``: all).
    ``empty_values`` says what an empty CRM value does (:mod:`airflow_bigcommerce.models.empty_values`:
    ``keep`` the store's value, or ``clear`` it); ``notify_new_customers`` sends BigCommerce's
    account-created e-mail to the customers the run creates (never to existing ones).
    ``metafield_permission`` is the ``permission_set`` of the metafields the sync creates;
    ``create_segments`` creates the segments rows name that the store lacks; ``managed_segments``
    are the segments the sync may take customers out of (no other segment is ever touched).
    """

    field_map: Mapping[str, str] | None = None
    mode: Mode = "insert"
    dry_run: bool = False
    key_field: str | None = "id"
    batch_size: int = CUSTOMER_BATCH_SIZE
    max_concurrency: int | None = 1
    chunk_size: int = 500
    max_rejections_listed: int = 100
    report: ReportWriter | None = field(default=None, compare=False)
    progress: ProgressReporter | None = field(default=None, compare=False)
    total: int | None = None
    index_limit: int = INDEX_LIMIT
    channel_id: int | None = None
    create_attributes: bool = False
    ledger: Ledger | None = field(default=None, compare=False)
    max_attempts: int = MAX_ATTEMPTS
    run_id: str | None = None
    ledger_owner: str | None = None
    empty_values: EmptyValues = "keep"
    notify_new_customers: bool = False
    metafield_permission: str = DEFAULT_METAFIELD_PERMISSION
    create_segments: bool = False
    managed_segments: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_mode(self.mode)
        check_empty_values(self.empty_values)
        check_batch_size(self.batch_size)
        check_max_concurrency(self.max_concurrency)
        check_channel_id(self.channel_id)
        check_ledger(self.ledger is not None, self.key_field, self.max_attempts)
        check_empty_values(self.empty_values)
        check_metafield_permission(self.metafield_permission)
        object.__setattr__(self, "managed_segments", check_managed_segments(self.managed_segments))
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {self.chunk_size}")
        if self.max_rejections_listed < 0:
            raise ValueError(f"max_rejections_listed must not be negative, not {self.max_rejections_listed}")
        object.__setattr__(self, "field_map", MappingProxyType(validate_field_map(self.field_map)))

    @property
    def fields(self) -> dict[str, str]:
        """Return the validated ``field_map`` (CRM column -> target)."""
        return dict(self.field_map or {})

    @property
    def workers(self) -> int:
        """Return how many workers the run offers the client (all of them when adaptive)."""
        return MAX_CONCURRENCY if self.max_concurrency is None else self.max_concurrency
