"""README's ``SyncCustomersOperator`` example runs as written on the demo's SQLite CRM (``crm_default``)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from airflow_bigcommerce.demo.crm import read_contacts, seed_crm
from airflow_bigcommerce.operators.customers import SyncCustomersOperator
from airflow_bigcommerce.testing import SandboxHandle

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"
SEEDED_AT = datetime(2026, 1, 2, 9, 30, tzinfo=timezone.utc)


def _example() -> str:
    """Return the Python block under "### SyncCustomersOperator" in the README."""
    section = README.read_text(encoding="utf-8").split("### SyncCustomersOperator", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README lost its SyncCustomersOperator example"
    return match.group(1)


def test_readme_sync_example_runs_on_the_demo_sqlite_crm(
    bigcommerce_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crm = tmp_path / "crm.db"
    seed_crm(crm, n=60, seed=3, now=SEEDED_AT)
    monkeypatch.setenv("AIRFLOW_CONN_CRM_DEFAULT", json.dumps({"conn_type": "sqlite", "host": str(crm)}))
    code = _example().replace("/data/reports/", f"{tmp_path}/reports/")
    assert "\nSyncCustomersOperator(" in code
    namespace: dict[str, object] = {}
    exec(code.replace("\nSyncCustomersOperator(", "\nop = SyncCustomersOperator(", 1), namespace)
    op = namespace["op"]
    assert isinstance(op, SyncCustomersOperator)

    since = datetime(2025, 12, 30, 0, 0, tzinfo=timezone.utc)
    op.render_template_fields({"data_interval_start": since, "run_id": "readme"})  # type: ignore[arg-type]
    assert op.parameters == {"since": "2025-12-30 00:00:00"}
    summary = op.execute(context={})  # type: ignore[arg-type]
    expected = [row for row in read_contacts(crm) if str(row["updated_at"]) >= "2025-12-30 00:00:00"]
    assert 0 < summary["total"] == len(expected) < 60  # the bound filtered the CRM, in SQLite's paramstyle
    assert summary["created"] > 0
    assert (tmp_path / "reports" / "readme.jsonl").exists()
