"""How the sandbox admits a request: quota (with a competing app), outages, concurrency caps and faults.

Plain Python on the injected clock (``control.TrafficControl`` ties them together); the HTTP middleware
and the in-process client (``airflow_bigcommerce.testing.in_process``) act on its answers.
"""
