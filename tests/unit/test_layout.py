"""The layering of ARCHITECTURE.md: no import circle, a core without Airflow or HTTP, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "airflow_bigcommerce"
#: Schema files (the sandbox's wire models, written from the specs) may be longer than a module should.
SCHEMA_FILES = {"sandbox/state/schemas.py"}
MAX_MODULE_LINES = 450


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _module_level_imports(path: Path) -> set[str]:
    """Names imported when the module is imported (``TYPE_CHECKING`` blocks and functions excluded)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_import_circle_between_the_package_modules() -> None:
    modules = _modules()
    graph = {
        name: {dep for dep in _module_level_imports(path) if dep in modules and dep != name}
        for name, path in modules.items()
    }
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            assert state.get(dep) != 1, "import circle: " + " -> ".join([*path, dep])
            if dep not in state:
                visit(dep, [*path, dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_the_sync_core_imports_neither_airflow_nor_an_http_library() -> None:
    for path in (PACKAGE / "sync").rglob("*.py"):
        banned = {
            name
            for name in _module_level_imports(path)
            if name.split(".")[0] in {"airflow", "requests", "fastapi", "uvicorn"}
            or name.startswith(("airflow_bigcommerce.hooks", "airflow_bigcommerce.exceptions"))
        }
        assert not banned, f"{path.relative_to(PACKAGE)} imports {sorted(banned)}"


def test_no_product_module_is_a_god_module() -> None:
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if str(path.relative_to(PACKAGE)) not in SCHEMA_FILES
        and (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"
