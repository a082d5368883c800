"""
No secret is exposed: the access token and customer passwords appear in no log, rendered field,
XCom value or metadata-database byte after real ``airflow dags test`` runs, failing ones included.

One DAG (written into a temporary dags folder) creates a customer with a password from a Variable,
syncs CRM rows whose ``pw`` column maps to ``password`` from a SQLite "CRM" through common.sql, and
has tasks that fail: a password confirmation that does not match (refused before HTTP), a password
the store refuses (400 from the store), a duplicate e-mail (409). The sandbox store runs in this
test process with a distinctive token. Then every place a secret could land is searched.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from airflow_server import migrated_db

from airflow_bigcommerce.testing import run_sandbox

pytestmark = pytest.mark.e2e

TOKEN = "tok-e2e-3f9d2a71-LEAKCHECK"
PASSWORD = "Welcome-7e4b21-LEAKCHECK!"
MISMATCH = "Mismatch-55c0e9-LEAKCHECK"
TOO_LONG = "Long-0b9e77-LEAKCHECK-" + "z" * 100  # over the store's 100 characters
CRM_MARK = "q8Zr5-LEAKCHECK"
N_CRM = 12
SECRETS = [TOKEN, PASSWORD, MISMATCH, TOO_LONG[:30], CRM_MARK]
DAG_ID = "secrets_e2e"
TIMEOUT_S = 300

DAG_SOURCE = textwrap.dedent(
    f'''
    """Secrets check: passwords come from a Variable and the CRM, the token from the connection."""
    from __future__ import annotations

    import pendulum
    from airflow.sdk import DAG

    from airflow_bigcommerce.operators.customers import CreateCustomerOperator, SyncCustomersOperator

    with DAG("{DAG_ID}", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
        create = CreateCustomerOperator(
            task_id="create_with_password",
            email="ada@example.com",
            first_name="Ada",
            last_name="Lovelace",
            authentication={{
                "password": "{{{{ var.value.welcome_code }}}}",
                "password_confirmation": "{{{{ var.value.welcome_code }}}}",
                "force_reset": False,
            }},
        )
        SyncCustomersOperator(
            task_id="sync_with_passwords",
            sql_conn_id="crm",
            sql="SELECT id, mail, first, last, pw FROM contacts ORDER BY id",
            field_map={{"mail": "email", "first": "first_name", "last": "last_name", "pw": "password"}},
            report_path="{{{{ var.value.report_path }}}}",
        )
        CreateCustomerOperator(
            task_id="fails_confirmation_mismatch",
            email="bob@example.com",
            first_name="Bob",
            last_name="B",
            authentication={{
                "password": "{{{{ var.value.welcome_code }}}}",
                "password_confirmation": "{{{{ var.value.other_code }}}}",
            }},
        )
        CreateCustomerOperator(
            task_id="fails_store_refuses_password",
            email="carol@example.com",
            first_name="Carol",
            last_name="C",
            authentication={{"password": "{{{{ var.value.long_code }}}}"}},
        )
        create >> CreateCustomerOperator(
            task_id="fails_duplicate_email",
            email="ADA@example.com",
            first_name="Ada",
            last_name="Again",
            authentication={{"password": "{{{{ var.value.welcome_code }}}}"}},
        )
    '''
)
EXPECTED_STATES = {
    "create_with_password": "success",
    "sync_with_passwords": "success",
    "fails_confirmation_mismatch": "failed",
    "fails_store_refuses_password": "failed",
    "fails_duplicate_email": "failed",
}


def _airflow_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))
    }
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        }
    )
    return env


def _airflow(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    airflow = str(Path(sys.executable).with_name("airflow"))
    return subprocess.run(
        [airflow, *args], env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )


def _crm(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE contacts (id INTEGER, mail TEXT, first TEXT, last TEXT, pw TEXT)")
        rows = [
            (i, f"crm{i}@example.com", f"F{i}", f"L{i}", f"CrmPw-{i:02d}-{CRM_MARK}") for i in range(N_CRM)
        ]
        rows.append((N_CRM, "crm-long@example.com", "Long", "Password", f"{CRM_MARK}-" + "y" * 120))
        db.executemany("INSERT INTO contacts VALUES (?, ?, ?, ?, ?)", rows)


def _dump_tables(db_path: Path) -> str:
    """Return every row of every table of the metadata DB as text (bytes decoded leniently)."""
    parts: list[str] = []
    with sqlite3.connect(db_path) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        parts.append(value.decode("utf-8", "replace"))
                        parts.append(value.decode("latin-1"))
                    else:
                        parts.append(str(value))
    return "\n".join(parts)


def _hits(haystacks: dict[str, str | bytes]) -> list[str]:
    found = []
    for where, text in haystacks.items():
        for secret in SECRETS:
            needle: str | bytes = secret.encode() if isinstance(text, bytes) else secret
            if needle in text:  # type: ignore[operator]
                found.append(f"{secret[:12]}... in {where}")
    return found


def test_no_secret_in_logs_rendered_fields_xcom_or_metadata_db(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    (home / "dags" / "secrets_e2e.py").write_text(DAG_SOURCE)
    crm = tmp_path / "crm.db"
    _crm(crm)
    report = tmp_path / "report.jsonl"
    env = _airflow_env(home)
    migrate = migrated_db(home / "airflow.db")  # ``airflow db migrate``, run once per session
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]

    with run_sandbox(token=TOKEN, quota=0) as sandbox:
        env.update(
            {
                "AIRFLOW_CONN_BIGCOMMERCE_DEFAULT": sandbox.conn_json(),
                "AIRFLOW_CONN_CRM": json.dumps({"conn_type": "sqlite", "host": str(crm)}),
                "AIRFLOW_VAR_WELCOME_CODE": PASSWORD,
                "AIRFLOW_VAR_OTHER_CODE": MISMATCH,
                "AIRFLOW_VAR_LONG_CODE": TOO_LONG,
                "AIRFLOW_VAR_REPORT_PATH": str(report),
            }
        )
        run = _airflow(["dags", "test", DAG_ID], env)
        customers = {c.email.lower(): c for c in sandbox.store._customers.values()}

    output = run.stdout + run.stderr
    # The runs did what the DAG says, so the search below looked at real traffic and real failures.
    assert customers["ada@example.com"].password_digest == hashlib.sha256(PASSWORD.encode()).hexdigest()
    assert customers["crm3@example.com"].password_digest is not None
    assert "crm-long@example.com" not in customers and "carol@example.com" not in customers
    assert len(customers) == 1 + N_CRM
    db_path = home / "airflow.db"
    with sqlite3.connect(db_path) as db:
        states = dict(db.execute("SELECT task_id, state FROM task_instance WHERE dag_id = ?", (DAG_ID,)))
        rendered = dict(db.execute("SELECT task_id, rendered_fields FROM rendered_task_instance_fields"))
        xcoms = [str(v) for (v,) in db.execute("SELECT value FROM xcom WHERE dag_id = ?", (DAG_ID,))]
    assert states == EXPECTED_STATES, output[-5000:]
    assert json.loads(rendered["create_with_password"])["authentication"]["password"] == "***"
    assert "does not match password" in output  # the failing tasks' errors were logged...
    assert "POST v2/customers answered 400" in output
    assert "answered 409" in output
    assert "authentication.new_password" in report.read_text()  # ...and the store's 422 reported
    assert any('"created": 12' in x for x in xcoms), xcoms

    log_files = {str(p.relative_to(home)): p.read_bytes() for p in (home / "logs").rglob("*") if p.is_file()}
    captured = capfd.readouterr()
    haystacks: dict[str, str | bytes] = {
        "dags test output (the task logs)": output,
        "airflow db migrate output": migrate.stdout + migrate.stderr,
        **{f"log file {name}": data for name, data in log_files.items()},
        "rendered template fields": json.dumps(rendered),
        "XCom values": "\n".join(xcoms),
        "metadata DB file (raw bytes)": db_path.read_bytes(),
        "metadata DB tables (dump)": _dump_tables(db_path),
        "sync report": report.read_text(),
        "test process stdout/stderr": captured.out + captured.err,
    }
    for wal in home.glob("airflow.db-*"):
        haystacks[f"metadata DB {wal.name}"] = wal.read_bytes()
    hits = _hits(haystacks)
    print(f"secrets searched: {len(SECRETS)} strings in {len(haystacks)} places; leak hits: {len(hits)}")
    assert hits == [], hits
