"""
The "BigCommerce sync" view of a task instance in Airflow's UI (served by the API-server plugin).

:mod:`.model` turns a run's summary (its XCom) and report lines into what the page shows (pure);
:mod:`.page` renders it as one HTML page (pure); :mod:`.app` is the FastAPI app that checks the
user's access to the DAG and reads the summary and the report (only in the API server).
"""

#: Where the plugin mounts the view's app in the API server.
from __future__ import annotations

VIEW_PREFIX = "/bigcommerce"
#: The page of one task instance, relative to :data:`VIEW_PREFIX` (``map_index`` is a query parameter).
ROUTE = "/dags/{dag_id}/runs/{run_id}/tasks/{task_id}"
#: The page's path with its query: what the extra link and the tab fill in.
PAGE_PATH = VIEW_PREFIX + ROUTE + "?map_index={map_index}"
