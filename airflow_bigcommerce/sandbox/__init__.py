"""A BigCommerce-compatible store on loopback: ``python -m airflow_bigcommerce.sandbox``.

``store`` holds the state (no HTTP), ``app.create_app`` serves it; importing this package stays cheap.
"""

from __future__ import annotations
