"""
Imports that moved between Airflow 3.0 and 3.3, resolved once so the rest of the code names one place.

Import this module inside functions (as the operators do): on Airflow 3.0 the fallback loads
``airflow.hooks.base``, which a DAG file need not pay for at parse time.
"""

from __future__ import annotations

from typing import Any

try:
    from airflow.sdk import BaseHook
except ImportError:  # Airflow 3.0: the Task SDK exports BaseHook from 3.1 on
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined,unused-ignore]

__all__ = ["BaseHook", "stats"]


def stats() -> Any:
    """
    Return Airflow's ``Stats`` (StatsD, Datadog or OpenTelemetry, as the deployment configures it).

    Through common.compat when the installed version offers ``Stats``, else the Task SDK's (Airflow
    3.1 on) or the core's (3.0).
    """
    try:
        from airflow.providers.common.compat.sdk import Stats
    except ImportError:
        try:
            from airflow.sdk.observability.stats import Stats  # type: ignore[no-redef,unused-ignore]
        except ImportError:  # Airflow 3.0
            from airflow.stats import Stats  # type: ignore[no-redef,attr-defined,unused-ignore]
    return Stats
