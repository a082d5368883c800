"""
``CreateCustomerOperator(api_version="v3")`` in a DAG run by ``airflow dags test`` against the sandbox.

The DAG (written into a temporary dags folder) creates one customer with an address, an attribute
and a group by name and a password from a Variable; a second run finds the customer and writes
nothing. The password appears in no output and no byte of the metadata database (rendered fields,
XCom).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from dag_runner import AirflowHome

from airflow_bigcommerce.testing import SandboxHandle, run_sandbox

pytestmark = pytest.mark.e2e

DAG_ID = "create_customer_v3_e2e"
PASSWORD = "Welcome-v3-6a0f-LEAKCHECK!"
DAG_SOURCE = textwrap.dedent(
    f'''
    """One V3 customer with its parts inline."""
    from __future__ import annotations

    import pendulum
    from airflow.sdk import DAG

    from airflow_bigcommerce.operators.customers import CreateCustomerOperator

    with DAG("{DAG_ID}", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
        CreateCustomerOperator(
            task_id="create_v3",
            api_version="v3",
            email="grace.hopper@example.com",
            first_name="Grace",
            last_name="Hopper",
            notes="Created by {{{{ dag.dag_id }}}}",
            addresses=[
                {{
                    "address1": "1 Navy Way",
                    "city": "Arlington",
                    "state_or_province": "Virginia",
                    "postal_code": "22202",
                    "country_code": "US",
                }}
            ],
            attributes={{"crm_id": "{{{{ dag_run.conf.get('crm_id', 'C-1906') }}}}"}},
            customer_group="wholesale",
            authentication={{"password": "{{{{ var.value.welcome_code }}}}", "force_reset": True}},
            if_exists="skip",
        )
    '''
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with run_sandbox(quota=0) as handle:
        handle.store.seed_attributes([{"name": "crm_id", "type": "string"}])
        handle.store.seed_groups([{"name": "Wholesale"}])
        yield handle


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    root = tmp_path_factory.mktemp("create-v3")
    dags = root / "dags"
    dags.mkdir()
    (dags / f"{DAG_ID}.py").write_text(DAG_SOURCE)
    home = AirflowHome.create(root)
    home.settings["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags)
    return home


def test_v3_create_then_rerun_skips(airflow_home: AirflowHome, sandbox: SandboxHandle) -> None:
    env = {**sandbox.env(), "AIRFLOW_VAR_WELCOME_CODE": PASSWORD}
    first = airflow_home.dags_test(DAG_ID, env=env)
    (customer,) = sandbox.store.all_customers()
    assert customer["email"] == "grace.hopper@example.com"
    assert customer["notes"] == f"Created by {DAG_ID}"
    assert [a["state_or_province"] for a in customer["addresses"]] == ["Virginia"]
    assert [a["attribute_value"] for a in customer["attributes"]] == ["C-1906"]
    assert customer["customer_group_id"] == sandbox.store.groups.everything()[0]["id"]
    assert "Created customer id=" in first.stdout + first.stderr

    second = airflow_home.dags_test(DAG_ID, env=env)
    assert len(sandbox.store.all_customers()) == 1
    assert "Found existing customer id=" in second.stdout + second.stderr

    for output in (first, second):
        assert PASSWORD not in output.stdout + output.stderr
    assert PASSWORD.encode() not in _metadata_bytes(airflow_home.home)


def _metadata_bytes(home: Path) -> bytes:
    return b"".join(path.read_bytes() for path in home.rglob("*") if path.is_file())
