"""
One clock for every time-based policy: pacer, concurrency gate, breaker, the hook's sleeps, sandbox.

Like botocore's retry pieces sharing one clock, each piece takes a :class:`Clock` instead of calling
:mod:`time`, so a test hands one :class:`VirtualClock` to a hook and to the sandbox and a 60 s outage
passes in a moment, with the same waits, probes and budgets as in real time.

:class:`SystemClock` is the default. :func:`use_clock` sets the clock that hooks built inside its
``with`` block (in that thread or context) take when none is passed; production code never sets it.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Monotonic time, sleeping, and waiting on a condition with a timeout, all on one time line."""

    def monotonic(self) -> float:
        """Return the current time in seconds (only differences mean anything)."""

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds``."""

    def wait(self, condition: threading.Condition, timeout: float) -> bool:
        """
        Wait on ``condition`` (its lock held) until notified or ``timeout`` seconds pass on this clock.

        :returns: ``True`` when notified, as :meth:`threading.Condition.wait` does.
        """


class SystemClock:
    """The real clock: :func:`time.monotonic`, :func:`time.sleep`, :meth:`threading.Condition.wait`."""

    def monotonic(self) -> float:
        """Return :func:`time.monotonic`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Sleep for real."""
        time.sleep(seconds)

    def wait(self, condition: threading.Condition, timeout: float) -> bool:
        """Wait on the condition for real."""
        return condition.wait(timeout)


#: The process's real clock (stateless: one is enough).
SYSTEM_CLOCK = SystemClock()


class VirtualClock:
    """
    A thread-safe clock whose sleeps advance virtual time instead of waiting.

    Several threads may sleep at once, as in real time: each sleep has a deadline, and the sleeper
    with the earliest deadline moves the time to it (the others wake in deadline order, never
    early). Threads that are working meanwhile (a request in flight, a store answering) take no
    virtual time, so time moves only once the clock has been quiet for ``settle_s`` of real time (no
    thread read it or started a sleep): the woken threads' work, and their next sleeps, come first.
    A sleeper that has waited ``patience_s`` of real time moves the time anyway (a thread busy
    reading the clock cannot stall the others).

    :param start: the initial time (far from zero, so that no "unset" ``0.0`` looks like a time).
    :param settle_s: real seconds of quiet before time moves.
    :param patience_s: real seconds after which the earliest sleeper moves time regardless.
    """

    def __init__(self, start: float = 1_000.0, *, settle_s: float = 0.005, patience_s: float = 0.05) -> None:
        self._now = start
        self._settle_s = settle_s
        self._patience_s = patience_s
        self._lock = threading.Lock()
        self._moved = threading.Condition(self._lock)
        self._deadlines: dict[int, float] = {}
        self._tokens = itertools.count()
        self._active_at = time.monotonic()
        #: Virtual seconds that sleeps and waits skipped, for tests' figures.
        self.skipped_s = 0.0

    def monotonic(self) -> float:
        """Return the virtual time (reading it counts as activity)."""
        with self._lock:
            self._active_at = time.monotonic()
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the time forward by hand, waking the sleepers whose deadline it passes."""
        with self._lock:
            self._now += max(0.0, seconds)
            self._moved.notify_all()

    def sleep(self, seconds: float) -> None:
        """Return once the virtual time reaches now + ``seconds`` (in a few ms of real time)."""
        if seconds <= 0:
            return
        with self._lock:
            token, deadline, since = self._enter(seconds)
            try:
                while not self._reached(deadline, since):
                    self._moved.wait(self._settle_s)
            finally:
                self._leave(token)

    def wait(self, condition: threading.Condition, timeout: float) -> bool:
        """Wait on ``condition`` (its lock held) until notified or the virtual time passes ``timeout``."""
        with self._lock:
            token, deadline, since = self._enter(max(timeout, 0.0))
        try:
            while True:
                with self._lock:
                    if self._reached(deadline, since):
                        return False
                if condition.wait(self._settle_s):
                    return True
        finally:
            with self._lock:
                self._leave(token)

    def _enter(self, seconds: float) -> tuple[int, float, float]:
        """Register a sleeper; return its token, deadline and real start (lock held)."""
        token = next(self._tokens)
        deadline = self._now + seconds
        self._deadlines[token] = deadline
        self._active_at = time.monotonic()
        return token, deadline, self._active_at

    def _leave(self, token: int) -> None:
        """Unregister a sleeper that goes back to work (lock held): its work comes before time moves."""
        del self._deadlines[token]
        self._active_at = time.monotonic()

    def _reached(self, deadline: float, since: float) -> bool:
        """Whether ``deadline`` has come, moving the time to it if this sleeper is due (lock held)."""
        if self._now >= deadline:
            return True
        if deadline > min(self._deadlines.values()):
            return False  # an earlier sleeper moves the time first
        real = time.monotonic()
        if real - self._active_at < self._settle_s and real - since < self._patience_s:
            return False
        self.skipped_s += deadline - self._now
        self._now = deadline
        self._active_at = real
        self._moved.notify_all()
        return True


class _CallableClock:
    """A :class:`Clock` from a time function and an optional sleep (the pieces' older arguments)."""

    def __init__(self, read: Callable[[], float], sleep: Callable[[float], None] | None) -> None:
        self._read = read
        self._sleep = sleep

    def monotonic(self) -> float:
        return self._read()

    def sleep(self, seconds: float) -> None:
        (self._sleep or time.sleep)(seconds)

    def wait(self, condition: threading.Condition, timeout: float) -> bool:
        if self._sleep is None:
            return condition.wait(timeout)
        condition.release()  # a fake sleep cannot be woken: sleep the whole timeout, unlocked
        try:
            self._sleep(timeout)
        finally:
            condition.acquire()
        return False


def as_clock(
    clock: Clock | Callable[[], float] | None = None, sleep: Callable[[float], None] | None = None
) -> Clock:
    """
    Return ``clock`` as a :class:`Clock`: a clock object as is, a time function (plus ``sleep``) wrapped.

    ``None`` is the clock of the current context (:func:`current_clock`).
    """
    if clock is None and sleep is None:
        return current_clock()
    if isinstance(clock, Clock) and sleep is None:
        return clock
    if clock is None:
        return _CallableClock(current_clock().monotonic, sleep)
    read = clock.monotonic if isinstance(clock, Clock) else clock
    return _CallableClock(read, sleep)


_CURRENT: contextvars.ContextVar[Clock | None] = contextvars.ContextVar(
    "airflow_bigcommerce_clock", default=None
)


def current_clock() -> Clock:
    """Return the clock set by :func:`use_clock` in this context, else the system clock."""
    return _CURRENT.get() or SYSTEM_CLOCK


@contextlib.contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """
    Make ``clock`` the default of hooks (and their pacer, gate and breaker) built in this ``with`` block.

    For tests that run operators, which build their hook themselves. A context variable, not a
    global: it applies to the calling thread (or asyncio task) only, and ends with the block.
    """
    token = _CURRENT.set(clock)
    try:
        yield clock
    finally:
        _CURRENT.reset(token)
