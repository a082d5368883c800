"""Sphinx configuration of the provider's documentation (``make docs`` builds it with warnings as errors)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docutils.nodes import Element
    from sphinx.application import Sphinx
    from sphinx.domains import Domain

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airflow_bigcommerce import __version__  # noqa: E402

project = "airflow-provider-bigcommerce"
author = "airflow-provider-bigcommerce developers"
copyright = "airflow-provider-bigcommerce developers"
release = __version__
version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# MyST: `#anchor` links to headings of any page, ::: fences, tables.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 4

# The API reference: members with docstrings, in source order, typed signatures.
autodoc_default_options = {"members": True, "member-order": "bysource", "show-inheritance": True}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autoclass_content = "class"

# Nitpicky: every cross-reference written in these pages must resolve. The docstrings of the API reference
# (the page ``api``) also name internal modules and other packages' types (Airflow, pydantic, typing) that
# the site does not document, with no network for intersphinx: those Python references stay plain text.
nitpicky = True
API_PAGES = frozenset({"api"})

# `-b linkcheck` checks the local links and anchors only: the build needs no network.
linkcheck_ignore = [r"https?://.*", r"mailto:.*"]
linkcheck_anchors = True

html_theme = "furo"
html_title = f"airflow-provider-bigcommerce {release}"
html_static_path: list[str] = []
suppress_warnings: list[str] = []


def _quiet_docstring_references(app: Sphinx, domain: Domain, node: Element) -> bool | None:
    """Let the API reference's docstrings name internals; unresolved references of the pages stay errors."""
    if domain is not None and domain.name == "py" and node.get("refdoc") in API_PAGES:
        return True
    return None


def setup(app: Sphinx) -> None:
    """Register the handler above."""
    app.connect("warn-missing-reference", _quiet_docstring_references)
