"""
The operators' import path users know: ``CreateCustomerOperator`` and ``SyncCustomersOperator``.

Each operator lives in its own module (:mod:`.create_customer`, :mod:`.sync_customers`); both are
re-exported here. Importing this module is as light as importing either.
"""

from __future__ import annotations

from airflow_bigcommerce.operators.create_customer import CreateCustomerOperator, IfExists
from airflow_bigcommerce.operators.sync_customers import SyncCustomersOperator
from airflow_bigcommerce.sync.option_checks import SyncMode

__all__ = ["CreateCustomerOperator", "IfExists", "SyncCustomersOperator", "SyncMode"]
