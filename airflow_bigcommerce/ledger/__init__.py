"""
The sync's ledger: one row per (store, channel, CRM key) with its customer id, last outcome and attempts.

:class:`~.store.SqlLedger` keeps it in a table on any common.sql connection; :class:`~.memory.MemoryLedger`
in a dict, for tests. The records and the rules are pure (:mod:`.records`); only :mod:`.store` talks to
a database, and it imports Airflow only when it opens one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from airflow_bigcommerce.ledger.records import DEFAULT_TABLE, NO_CHANNEL, Ledger, LedgerRow, Scope

if TYPE_CHECKING:
    from airflow_bigcommerce.ledger.memory import MemoryLedger
    from airflow_bigcommerce.ledger.store import LedgerError, SqlLedger

#: Loaded when first named: a DAG file that imports the operator (it reads the records' constants)
#: does not load the database code.
_LAZY = {"MemoryLedger": "memory", "LedgerError": "store", "SqlLedger": "store"}

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
