"""
One row's outcome from its parts' outcomes: the rules a report line and the counters follow.

A row is ``failed`` when any part failed for a transient reason (a retry of the run completes it),
else ``rejected`` when the store refused a part (the data must change), else its customer's
outcome, except that an existing customer whose parts were written counts as ``updated``.
"""

from __future__ import annotations

from collections.abc import Mapping

from airflow_bigcommerce.sync.rows import Line, clip

#: Part outcomes that wrote to the store.
_WRITTEN = frozenset({"created", "updated", "subscribed", "unsubscribed"})


def part_status(outcome: str) -> str:
    """Return a part outcome's status word: ``created``, ``unchanged``, ``failed``, ``would create``..."""
    words = outcome.split(":", 1)[0].split(" ", 2)
    return " ".join(words[:2]) if words[0] == "would" and len(words) > 1 else words[0]


def combine(base: Line, parts: Mapping[str, str]) -> Line:
    """Return the row's line: ``base`` (its customer's outcome) with ``parts`` folded in."""
    customer = base.outcome if not base.reason else f"{base.outcome}: {base.reason}"
    every = {"customer": customer, **parts}
    if base.outcome in ("rejected", "failed") or not parts:
        return base._replace(parts=every)
    statuses = {name: part_status(text) for name, text in parts.items()}
    for worst in ("failed", "rejected"):
        bad = [name for name, status in statuses.items() if status == worst]
        if bad:
            detail = "; ".join(f"{name} {parts[name]}" for name in bad)
            done = f" (customer {base.outcome})" if base.outcome in ("created", "updated") else ""
            return base._replace(outcome=worst, reason=clip(detail + done, 1000), parts=every)
    written = [name for name, status in statuses.items() if status in _WRITTEN or status.startswith("would ")]
    if base.outcome == "skipped" and written:
        return base._replace(outcome="updated", reason="changed: " + ", ".join(written), parts=every)
    return base._replace(parts=every)
