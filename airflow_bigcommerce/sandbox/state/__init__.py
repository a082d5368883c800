"""The sandbox store's state: plain Python per resource, no HTTP and no traffic rules.

Customers (``customer.py`` the record, ``customers_v2.py``/``customers_v3.py`` the operations), addresses,
attributes, groups, subscribers and channels; named operations raise
:class:`~airflow_bigcommerce.sandbox.state.errors.ApiError`, which carries its HTTP status and wire
shape; request bodies are validated by ``schemas.py`` (written from the spec, not the provider's models).
"""
