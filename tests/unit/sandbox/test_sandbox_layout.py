"""The sandbox's shape (moto's): state, traffic control and HTTP apart, and none of the provider's code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import airflow_bigcommerce.sandbox

ROOT = Path(airflow_bigcommerce.sandbox.__file__).parent
MODULES = sorted(ROOT.rglob("*.py"))
#: What the sandbox may import from the provider: wire facts and the clock (a fake that imported the
#: provider's models would copy their bugs), and the testing helpers its pytest plugin serves.
ALLOWED = ("airflow_bigcommerce.sandbox", "airflow_bigcommerce.api", "airflow_bigcommerce.clock")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def layer(path: Path) -> str:
    return path.relative_to(ROOT).parts[0] if len(path.relative_to(ROOT).parts) > 1 else ""


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_module_keeps_to_its_layer(path: Path) -> None:
    names = imported(path)
    provider = {n for n in names if n.startswith("airflow_bigcommerce") and not n.startswith(ALLOWED)}
    if path.name == "pytest_plugin.py":
        provider -= {"airflow_bigcommerce.testing"}
    assert not provider, f"{path.name} imports the provider's {sorted(provider)}"
    web = {n for n in names if n.split(".")[0] in ("fastapi", "starlette", "uvicorn")}
    if layer(path) != "http":
        assert not web, f"{path.name} is not in http/ but imports {sorted(web)}"
    if layer(path) == "state":
        assert not {
            n
            for n in names
            if n.startswith(("airflow_bigcommerce.sandbox.http", "airflow_bigcommerce.sandbox.traffic"))
        }
    if layer(path) == "traffic":
        assert not {
            n
            for n in names
            if n.startswith(("airflow_bigcommerce.sandbox.http", "airflow_bigcommerce.sandbox.state"))
        }


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_over_about_400_lines(path: Path) -> None:
    if path.name == "schemas.py":  # the request schemas, written from the spec
        return
    assert len(path.read_text().splitlines()) <= 420


def test_public_names_stay_where_users_import_them() -> None:
    from airflow_bigcommerce.sandbox import SandboxConfig, SandboxStore, create_app
    from airflow_bigcommerce.sandbox.store import SandboxStore as Store

    assert SandboxStore is Store
    assert create_app(SandboxStore(config=SandboxConfig(quota=5))).state.store.config.quota == 5
