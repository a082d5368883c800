"""Keep the test run away from the user's ~/airflow: a throwaway AIRFLOW_HOME, no example DAGs."""

from __future__ import annotations

import os
import tempfile

_home = tempfile.mkdtemp(prefix="bigcommerce-tests-airflow-")
os.environ["AIRFLOW_HOME"] = _home
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
