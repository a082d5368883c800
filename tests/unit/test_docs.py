"""
The docs site's promises that a Sphinx build alone does not check (``make docs`` checks the rest).

Code is never pasted into a page: Python and SQL reach the pages only through ``literalinclude`` of
files that tests run, and the short README's code is a marked region of the example DAGs. Every test a
page cites exists, so "each promise with its test" stays true as tests move.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)
README = ROOT / "README.md"
PYPROJECT = ROOT / "pyproject.toml"
#: Where included code may come from: the example DAGs (the e2e tests run them) and docs/examples/
#: (tests/integration/test_docs_examples.py runs them).
TESTED_SOURCES = (ROOT / "dags", DOCS / "examples")
#: Fences that hold code a reader would copy; commands (bash), outputs (text, json) are not code examples.
CODE_FENCES = re.compile(r"^\s*```(python|py|sql)\s*$", re.MULTILINE)
TEST_REFERENCE = re.compile(r"(tests/[\w/]+\.py)::(\w+)")
INCLUDE = re.compile(r"```\{literalinclude\} ([^\n]+)\n((?::[\w-]+:[^\n]*\n)*)")


def test_the_site_has_the_providers_layout() -> None:
    names = {str(p.relative_to(DOCS)) for p in PAGES}
    expected = {
        "index.md", "getting-started.md", "connection.md", "changelog.md", "security.md",
        "operators/create-customer.md", "operators/sync-customers.md",
        "guides/parts.md", "guides/ledger.md", "guides/rate-limits.md", "guides/big-loads.md",
        "guides/other-crm.md", "guides/sync-view.md", "guides/lineage-and-links.md",
        "guides/testing-with-the-sandbox.md",
        "reliability.md", "performance.md", "compatibility.md", "contributing.md", "example-dags.md",
    }  # fmt: skip
    assert expected <= names
    assert (DOCS / "api.rst").exists()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_no_page_pastes_code(page: Path) -> None:
    pasted = CODE_FENCES.findall(page.read_text(encoding="utf-8"))
    assert not pasted, f"{page.name}: include code with literalinclude from dags/ or docs/examples/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_included_code_comes_from_files_tests_run(page: Path) -> None:
    for target, _options in INCLUDE.findall(page.read_text(encoding="utf-8")):
        source = (page.parent / target.strip()).resolve()
        assert source.exists(), f"{page.name} includes a missing file {target}"
        assert any(source.is_relative_to(folder) for folder in TESTED_SOURCES), (
            f"{page.name} includes {target}, which no test runs"
        )


def test_every_test_a_page_cites_exists() -> None:
    cited = {(file, name) for page in PAGES for file, name in TEST_REFERENCE.findall(page.read_text())}
    assert len(cited) > 10
    missing = [
        f"{file}::{name}"
        for file, name in sorted(cited)
        if not (ROOT / file).exists() or f"def {name}(" not in (ROOT / file).read_text(encoding="utf-8")
    ]
    assert not missing, f"pages cite tests that do not exist: {missing}"


def _marked_regions() -> list[str]:
    """Every ``[START name]`` ... ``[END name]`` region of the tested sources, dedented."""
    regions = []
    for folder in TESTED_SOURCES:
        for path in folder.glob("*.py"):
            text = path.read_text(encoding="utf-8")
            for body in re.findall(r"\[START (\w+)\]\n(.*?)\n[^\n]*\[END \1\]", text, re.S):
                regions.append(textwrap.dedent(body[1]).strip())
    return regions


def test_the_short_readme_is_short_and_its_code_is_a_tested_region() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "the README shows one short DAG"
    regions = _marked_regions()
    for block in blocks:
        assert block.strip() in regions, (
            "a README code block must be a [START ...] region of dags/ or docs/examples/"
        )


def _pyproject(key: str) -> str:
    """A ``key = "value"`` line of ``pyproject.toml`` (no tomllib: the unit tests also run on 3.10)."""
    match = re.search(rf'^{key} = "([^"]+)"$', PYPROJECT.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"pyproject.toml has no {key}"
    return match.group(1)


def _docs_site() -> str:
    """The docs site's address: the Documentation URL of ``pyproject.toml``."""
    return _pyproject("Documentation").rstrip("/") + "/"


def test_the_readme_is_the_pypi_description() -> None:
    assert _pyproject("readme") == "README.md"


def test_the_readmes_links_resolve() -> None:
    """Relative links name files of the repository; links into the docs site name pages it builds."""
    links = re.findall(r"\]\(([^)\s]+)\)|<(https?://[^>\s]+)>", README.read_text(encoding="utf-8"))
    targets = [inline or bare for inline, bare in links]
    site = _docs_site()
    into_the_site = [t for t in targets if t.startswith(site)]
    assert len(into_the_site) >= 10, "the README links into the docs for everything it leaves out"
    for target in targets:
        if target.startswith(site):
            page = target[len(site) :].split("#")[0]
            page = re.sub(r"^(en/)?(latest|stable)/", "", page)
            source = DOCS / (page.removesuffix(".html") + ".md") if page else DOCS / "index.md"
            assert source.exists(), f"the README links to {target}, which the docs site has no page for"
        elif not re.match(r"^(https?|mailto):", target):
            path = target.split("#")[0]
            assert path and (ROOT / path).exists(), f"the README's relative link {target} names no file"
