"""
Run ``SyncCustomersOperator.execute`` on a JSON file of contacts, as a task process would.

``python sync_worker.py CONTACTS_JSON REPORT_JSONL SUMMARY_JSON``; the connection comes from
``AIRFLOW_CONN_BIGCOMMERCE_DEFAULT``. The kill test SIGKILLs this process mid-sync and runs it again.
With ``SYNC_LEDGER_CONN_ID`` set, the sync keeps its ledger on that connection.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(contacts_path: str, report_path: str, summary_path: str) -> int:
    from airflow_bigcommerce.operators.customers import SyncCustomersOperator

    contacts = json.loads(Path(contacts_path).read_text(encoding="utf-8"))
    operator = SyncCustomersOperator(
        task_id="sync",
        contacts=contacts,
        field_map={
            "email": "email",
            "first_name": "first_name",
            "last_name": "last_name",
            "company": "company",
        },
        report_path=report_path,
        max_concurrency=4,
        ledger_conn_id=os.environ.get("SYNC_LEDGER_CONN_ID"),
    )
    summary = operator.execute(context={"run_id": os.environ.get("SYNC_RUN_ID", "manual")})  # type: ignore[arg-type]
    Path(summary_path).write_text(json.dumps(summary), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
