"""
Throttled progress lines for a long sync: counts, rate and ETA, never payloads.

A sync of a million rows runs for hours under the store's quota; a line every few seconds tells an
operator it is alive and when it will end, without flooding the task log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from airflow_bigcommerce.clock import Clock, as_clock

_log = logging.getLogger("airflow_bigcommerce.sync")


def _duration(seconds: float) -> str:
    """Format seconds as ``1h02m03s`` / ``2m03s`` / ``3s`` for a log line."""
    s = max(0, round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    if h:
        return f"{h}h{m:02d}m{s:02d}s"
    if m:
        return f"{m}m{s:02d}s"
    return f"{s}s"


class ProgressReporter:
    """
    Log ``done/total``, rows per second, ETA and the outcome counters, at most once per ``interval_s``.

    :param log: where lines go; default ``logging.getLogger("airflow_bigcommerce.sync").info``.
    :param total: expected number of rows, if known (enables percentage and ETA).
    :param interval_s: minimum seconds between two lines (``finish`` always logs).
    :param clock: a :class:`~airflow_bigcommerce.clock.Clock` or a time function (default: the context's).
    """

    def __init__(
        self,
        log: Callable[[str], object] | None = None,
        *,
        total: int | None = None,
        interval_s: float = 5.0,
        clock: Clock | Callable[[], float] | None = None,
    ) -> None:
        self._log = log or _log.info
        self.total = total
        self.interval_s = interval_s
        self._clock = as_clock(clock).monotonic
        self._started = self._clock()
        self._last: float | None = None
        self.lines = 0

    def start(self) -> None:
        """Reset the clock: rates and ETA count from here (the engine calls this when it begins)."""
        self._started = self._clock()
        self._last = self._started

    def update(
        self,
        done: int,
        created: int,
        updated: int,
        skipped: int,
        rejected: int,
        failed: int = 0,
        *,
        total: int | None = None,
        stats: Mapping[str, object] | None = None,
        force: bool = False,
    ) -> bool:
        """
        Log a line if ``interval_s`` passed since the last one (or ``force``); return whether it did.

        :param total: overrides the expected row count given at construction.
        :param stats: the client's optional counters (e.g. ``{"429s": 2, "retries": 5}``), appended.
        """
        now = self._clock()
        last = self._started if self._last is None else self._last
        if not force and now - last < self.interval_s:
            return False
        self._last = now
        self.lines += 1
        self._log(
            self.format(done, created, updated, skipped, rejected, failed, now=now, total=total, stats=stats)
        )
        return True

    def finish(
        self,
        done: int,
        created: int,
        updated: int,
        skipped: int,
        rejected: int,
        failed: int = 0,
        *,
        total: int | None = None,
        stats: Mapping[str, object] | None = None,
    ) -> None:
        """Log the final line, whatever the throttle says."""
        self.update(done, created, updated, skipped, rejected, failed, total=total, stats=stats, force=True)

    def format(
        self,
        done: int,
        created: int,
        updated: int,
        skipped: int,
        rejected: int,
        failed: int = 0,
        *,
        now: float,
        total: int | None = None,
        stats: Mapping[str, object] | None = None,
    ) -> str:
        """Build one progress line from counts only."""
        total = total if total is not None else self.total
        elapsed = max(now - self._started, 1e-9)
        rate = done / elapsed
        if total:
            head = f"{done:,}/{total:,} rows ({100.0 * done / total:.1f}%)"
            remaining = max(total - done, 0)
            eta = f", ETA {_duration(remaining / rate)}" if rate > 0 else ""
        else:
            head, eta = f"{done:,} rows", ""
        line = (
            f"Synced {head}, {rate:.1f} rows/s{eta}; elapsed {_duration(elapsed)}; "
            f"created {created:,}, updated {updated:,}, skipped {skipped:,}, rejected {rejected:,}, "
            f"failed {failed:,}"
        )
        if stats:
            parts = [f"{k}={v}" for k, v in stats.items() if isinstance(v, (int, float, str))]
            if parts:
                line += "; client " + " ".join(parts)
        return line
