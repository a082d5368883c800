"""
Fixtures of the fault suite; the figures each test records (contacts synced, faults injected per
kind, duplicates, lost) are printed at the end of the run and written to
``test-artifacts/reliability/figures.json``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from reliability_support import ARTIFACTS, FIGURES


@pytest.fixture(autouse=True)
def _quiet_hook_logs(caplog: pytest.LogCaptureFixture) -> None:
    """The hook logs every 429 wait at INFO; keep the captured log of a failing test readable."""
    caplog.set_level("WARNING")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "figures.json").write_text(json.dumps(FIGURES, indent=2, sort_keys=True) + "\n")
    terminalreporter.section("reliability figures")
    for item in FIGURES:
        terminalreporter.write_line(json.dumps(item, sort_keys=True))
