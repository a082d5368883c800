"""
Fixtures of the fault suite. The figures each test records (contacts synced, faults injected per
kind, duplicates, lost) are printed at the end of the run and written to
``test-artifacts/reliability/figures.json`` by ``tests/conftest.py`` (merged across xdist workers).
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _quiet_hook_logs(caplog: pytest.LogCaptureFixture) -> None:
    """The hook logs every 429 wait at INFO; keep the captured log of a failing test readable."""
    caplog.set_level("WARNING")
