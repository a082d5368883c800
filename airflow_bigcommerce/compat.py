"""
Imports that moved between Airflow 3.0 and 3.3, resolved once so the rest of the code names one place.

Import this module inside functions (as the operators do): on Airflow 3.0 the fallback loads
``airflow.hooks.base``, which a DAG file need not pay for at parse time.
"""

from __future__ import annotations

try:
    from airflow.sdk import BaseHook
except ImportError:  # Airflow 3.0: the Task SDK exports BaseHook from 3.1 on
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined,unused-ignore]

__all__ = ["BaseHook"]
