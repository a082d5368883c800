"""
The sync's ledger: one row per (store, channel, CRM key) with its customer id, last outcome and attempts.

:class:`~.store.SqlLedger` keeps it in a table on any common.sql connection; :class:`~.memory.MemoryLedger`
in a dict, for tests. The records and the rules are pure (:mod:`.records`); only :mod:`.store` talks to
a database, and it imports Airflow only when it opens one.
"""

from __future__ import annotations

from airflow_bigcommerce.ledger.memory import MemoryLedger
from airflow_bigcommerce.ledger.records import DEFAULT_TABLE, NO_CHANNEL, Ledger, LedgerRow, Scope
from airflow_bigcommerce.ledger.store import LedgerError, SqlLedger

__all__ = [
    "DEFAULT_TABLE",
    "NO_CHANNEL",
    "Ledger",
    "LedgerError",
    "LedgerRow",
    "MemoryLedger",
    "Scope",
    "SqlLedger",
]
