"""
The FastAPI app of the sync view, mounted in the API server by the plugin (never imported at DAG parse).

Airflow does not authenticate a plugin's app by itself (apache/airflow#72655): every route here
declares Airflow's own ``requires_access_dag`` dependencies (read access to the DAG's task
instances and XComs), which resolve the user from the API token or the UI's session cookie and ask
the auth manager. Without a user the answer is 401, without the permission 403, with no data.

What the page shows comes from the task instance's XCom (its summary: the return value, or for a
run that failed its task ``bigcommerce_summary``; and its "BigCommerce customers" link) and from
the ledger or the report the *summary* names; no route reads a path or a table from the request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from airflow_bigcommerce.links import BigCommerceCustomersLink
from airflow_bigcommerce.operators.sync_customers import FAILED_RUN_SUMMARY_KEY
from airflow_bigcommerce.view import ROUTE
from airflow_bigcommerce.view.model import LISTED_OUTCOMES, as_sync_summary, build_view
from airflow_bigcommerce.view.page import render_page

#: Most rejected and failed rows one page lists from a report (the report has them all).
MAX_LISTED_ROWS = 5000
#: XCom key of the "BigCommerce customers" extra link (``_link_`` + the link's class name).
CUSTOMERS_LINK_KEY = f"_link_{BigCommerceCustomersLink.__name__}"

#: The answer without a credential. Airflow 3.0's UI keeps its token in the browser's local storage
#: instead of a cookie: the page asks once more with it, and shows what comes back only if allowed.
_UNAUTHENTICATED = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>BigCommerce sync</title></head><body style="font:14px system-ui,sans-serif;margin:16px">
<p id="msg">Log in to Airflow to see this page.</p><script>
(function(){const t=localStorage.getItem('token');if(!t)return;
fetch(location.href,{headers:{Authorization:'Bearer '+t}}).then(r=>{if(!r.ok){
document.getElementById('msg').textContent='Airflow refused this page ('+r.status+').';return;}
return r.text().then(h=>{document.open();document.write(h);document.close();});});})();
</script></body></html>"""
_FORBIDDEN = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>BigCommerce sync</title>
</head><body style="font:14px system-ui,sans-serif;margin:16px"><p>You may not read this DAG's task
instances.</p></body></html>"""


def _access_dependencies() -> list[Any]:
    """Return Airflow's own access checks for the route: read the DAG's task instances and XComs."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag

    return [
        Depends(requires_access_dag("GET", DagAccessEntity.TASK_INSTANCE)),
        Depends(requires_access_dag("GET", DagAccessEntity.XCOM)),
    ]


def read_task_instance(dag_id: str, run_id: str, task_id: str, map_index: int) -> dict[str, Any] | None:
    """Return the task instance's state, summary and customers link from Airflow's metadata DB."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        state = session.scalar(
            select(TaskInstance.state).where(
                TaskInstance.dag_id == dag_id,
                TaskInstance.run_id == run_id,
                TaskInstance.task_id == task_id,
                TaskInstance.map_index == map_index,
            )
        )
        if state is None and not session.scalar(
            select(TaskInstance.task_id).where(
                TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id, TaskInstance.task_id == task_id
            )
        ):
            return None
        rows = session.execute(
            select(XComModel.key, XComModel.value).where(
                XComModel.dag_id == dag_id,
                XComModel.run_id == run_id,
                XComModel.task_id == task_id,
                XComModel.map_index == map_index,
                XComModel.key.in_(("return_value", FAILED_RUN_SUMMARY_KEY, CUSTOMERS_LINK_KEY)),
            )
        ).all()
        values = {row.key: XComModel.deserialize_value(row) for row in rows}
    return {
        "state": None if state is None else str(getattr(state, "value", state)),
        "summary": values.get("return_value", values.get(FAILED_RUN_SUMMARY_KEY)),
        "customers_url": values.get(CUSTOMERS_LINK_KEY),
    }


def _report_lines(path: str) -> Iterator[str]:
    """Yield the lines of the report at ``path`` (a local path, or a URL through object storage)."""
    from airflow_bigcommerce.storage import open_for_reading

    with open_for_reading(path) as fh:
        yield from fh


def listed_report_lines(path: str, limit: int = MAX_LISTED_ROWS) -> tuple[list[dict[str, Any]], bool]:
    """Return the report's rejected and failed lines (at most ``limit``), and whether that is all."""
    listed: list[dict[str, Any]] = []
    for text in _report_lines(path):
        try:
            line = json.loads(text)
        except ValueError:
            continue
        if isinstance(line, dict) and line.get("outcome") in LISTED_OUTCOMES:
            if len(listed) == limit:
                return listed, False
            listed.append(line)
    return listed, True


def listed_ledger_rows(
    ledger: Mapping[str, Any], limit: int = MAX_LISTED_ROWS
) -> tuple[list[dict[str, Any]], bool]:
    """
    Return the run's rejected and failed rows in its ledger (at most ``limit``), and whether that is all.

    ``ledger`` is the summary's: the connection, table, scope and run id the task itself used.
    """
    from airflow_bigcommerce.compat import BaseHook
    from airflow_bigcommerce.ledger import statements as stmt

    table = stmt.check_table(str(ledger["table"]))
    hook = BaseHook.get_connection(str(ledger["conn_id"])).get_hook()  # type: ignore[no-untyped-call]
    dialect = stmt.dialect_of(getattr(hook, "dialect_name", None) or getattr(hook, "conn_type", None))
    mark = stmt.placeholder(dialect, getattr(hook, "placeholder", None))
    parameters = [str(ledger["store_hash"]), int(ledger["channel_id"]), str(ledger["run_id"])]
    records = hook.get_records(stmt.select_run(table, mark, limit=limit + 1), parameters=parameters)
    lines = [
        {"row": key, "email": email, "outcome": outcome, "reason": reason}
        for key, email, outcome, reason in records
    ]
    return lines[:limit], len(lines) <= limit


def listed_rows(
    summary: Mapping[str, Any] | None,
) -> tuple[list[dict[str, Any]] | None, str, bool, str | None]:
    """
    Return the run's listed rows, where from, whether that is all of them, and a note for the page.

    From the ledger when the run had one, else the report; ``None`` when neither could be read
    (the page then shows the summary's capped list, and the note says why).
    """
    ledger = summary.get("ledger") if summary else None
    report_path = summary.get("report_path") if summary else None
    notes: list[str] = []
    if isinstance(ledger, Mapping):
        try:
            lines, complete = listed_ledger_rows(ledger)
        except Exception as exc:  # any database error: try the report, and say why
            notes.append(f"The ledger {ledger.get('table')} could not be read ({type(exc).__name__}).")
        else:
            more = None if complete else f"Only the first {MAX_LISTED_ROWS} rows of the ledger are listed."
            return lines, "ledger", complete, more
    if isinstance(report_path, str) and report_path:
        try:
            lines, complete = listed_report_lines(report_path)
        except Exception as exc:  # any storage error: show the summary's list and say why
            notes.append(f"The report at {report_path} could not be read ({type(exc).__name__}).")
        else:
            if not complete:
                notes.append(
                    f"Only the first {MAX_LISTED_ROWS} rows are listed; the report at {report_path} has all."
                )
            return lines, "report", complete, " ".join(notes) or None
    return None, "summary", True, " ".join(notes) or None


def render_task_instance(
    found: Mapping[str, Any], *, dag_id: str, run_id: str, task_id: str, map_index: int
) -> str:
    """Return the page for a task instance read by :func:`read_task_instance`."""
    summary, about = as_sync_summary(found.get("summary"))
    lines, source, complete, note = listed_rows(summary)
    link = found.get("customers_url")
    view = build_view(
        summary,
        task_state=found.get("state"),
        report_lines=lines,
        report_note=note or about,
        report_complete=complete,
        customers_url=link if isinstance(link, str) else None,
        lines_source=source if source != "summary" else "report",
    )
    return render_page(view, dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index)


def parse_map_index(text: str) -> int:
    """Return the map index of the query (an unmapped task's link keeps ``{MAP_INDEX}``: -1)."""
    try:
        return int(text)
    except ValueError:
        return -1


def create_app() -> FastAPI:
    """Return the view's FastAPI app (every route behind Airflow's access checks)."""
    app = FastAPI(title="BigCommerce sync view", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(HTTPException)
    async def refused(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 401:
            return HTMLResponse(_UNAUTHENTICATED, status_code=401)
        if exc.status_code == 403:
            return HTMLResponse(_FORBIDDEN, status_code=403)
        return HTMLResponse(f"<p>{exc.status_code}</p>", status_code=exc.status_code)

    @app.get(ROUTE, response_class=HTMLResponse, dependencies=_access_dependencies())
    def task_instance_view(dag_id: str, run_id: str, task_id: str, map_index: str = "-1") -> HTMLResponse:
        index = parse_map_index(map_index)
        found = read_task_instance(dag_id, run_id, task_id, index)
        if found is None:
            return HTMLResponse("<p>No such task instance.</p>", status_code=404)
        page = render_task_instance(found, dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=index)
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        return HTMLResponse(page, headers=headers)

    return app
