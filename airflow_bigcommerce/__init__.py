"""Apache Airflow provider for BigCommerce: push CRM contacts into stores as customers."""

from __future__ import annotations

__version__ = "0.2.0"
