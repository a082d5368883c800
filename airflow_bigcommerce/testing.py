"""Test helpers for users' own DAG tests: a sandbox store on loopback (filled in by the sandbox work)."""

from __future__ import annotations
