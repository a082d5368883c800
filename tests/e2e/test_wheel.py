"""The built wheel: only the package (with ``py.typed``), and Airflow finds the provider once installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from dag_runner import REPO, clean_env

from airflow_bigcommerce import __version__

pytestmark = pytest.mark.e2e

PACKAGE = "airflow-provider-bigcommerce"


def _uv() -> str:
    """The uv that bootstrapped this venv (``make venv``), else one on PATH."""
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    assert found, "uv is needed to build and install the wheel: run `make venv`"
    return found


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False, **kwargs)  # type: ignore[call-overload]
    assert proc.returncode == 0, (
        f"{' '.join(args)} exited {proc.returncode}:\n{(proc.stdout + proc.stderr)[-4000:]}"
    )
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([_uv(), "build", "--wheel", "--quiet", "--out-dir", str(out), str(REPO)])
    (built,) = out.glob("*.whl")
    return built


def test_wheel_holds_the_package_with_py_typed_and_no_tests(wheel: Path) -> None:
    assert wheel.name == f"airflow_provider_bigcommerce-{__version__}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {"airflow_bigcommerce", f"airflow_provider_bigcommerce-{__version__}.dist-info"}
    assert "airflow_bigcommerce/py.typed" in names
    assert "airflow_bigcommerce/lineage.py" in names
    assert not [name for name in names if "/tests/" in name or name.startswith(("tests/", "dags/"))]


def test_installed_wheel_is_a_provider_airflow_finds(wheel: Path, tmp_path: Path) -> None:
    """A clean venv gets the wheel and the versions this venv runs (uv's cache: no rebuilds)."""
    uv, venv = _uv(), tmp_path / "venv"
    freeze = _run([uv, "pip", "freeze", "--python", sys.executable]).stdout.splitlines()
    pins = [line for line in freeze if "==" in line and not line.lower().startswith(PACKAGE)]
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
    _run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            "-c",
            str(constraints),
            str(wheel),
        ]
    )

    home = tmp_path / "airflow-home"
    env = clean_env(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    proc = _run(
        [str(venv / "bin" / "airflow"), "providers", "get", PACKAGE, "-o", "json"], env=env, cwd=tmp_path
    )
    (provider,) = json.loads(proc.stdout[proc.stdout.index("[") :])
    assert provider == {"Provider": PACKAGE, "Version": __version__}
    imported = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import airflow_bigcommerce; print(airflow_bigcommerce.__file__)",
        ],
        env=env,
        cwd=tmp_path,
    )
    assert str(venv) in imported.stdout, "the provider was imported from the clone, not the wheel"
