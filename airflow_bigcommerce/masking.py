"""Register secrets with Airflow's masker: one place for the import that moved between versions."""

from __future__ import annotations


def mask_secret(secret: str) -> None:
    """Hide ``secret`` in task logs and rendered template fields from now on."""
    try:
        from airflow.sdk.log import mask_secret as register
    except ImportError:  # Airflow 3.0
        from airflow.sdk.execution_time.secrets_masker import mask_secret as register  # type: ignore[no-redef]
    register(secret)
