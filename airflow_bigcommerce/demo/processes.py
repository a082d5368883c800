"""Start and stop the demo's child processes (sandbox, ``airflow ...``), each in its own process group."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

from airflow_bigcommerce import sandbox


class DemoError(RuntimeError):
    """A demo step failed; the message says which and where its log is."""


class Children:
    """The processes the demo started: stopped together, process group by process group."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[str]] = []

    def popen(
        self, args: Sequence[str], *, env: Mapping[str, str], **kwargs: object
    ) -> subprocess.Popen[str]:
        """Start ``args`` in a new session (so its whole group can be signalled) and remember it."""
        proc: subprocess.Popen[str] = subprocess.Popen(  # type: ignore[call-overload]
            list(args), env=dict(env), start_new_session=True, text=True, **kwargs
        )
        self._procs.append(proc)
        return proc

    def run(self, args: Sequence[str], *, env: Mapping[str, str], log_path: Path, timeout: float) -> float:
        """Run ``args`` to the end with its output in ``log_path``; return seconds taken; raise on failure."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with log_path.open("w", encoding="utf-8") as log:
            proc = self.popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.stop(proc)
                raise DemoError(
                    f"`{' '.join(args[-3:])}` took more than {timeout:.0f} s; log: {log_path}"
                ) from None
            finally:
                self._forget(proc)
        if code != 0:
            raise DemoError(f"`{' '.join(args[2:])}` failed (exit {code}); log: {log_path}\n{tail(log_path)}")
        return time.monotonic() - started

    def stop(self, proc: subprocess.Popen[str], *, grace: float = 10.0) -> None:
        """Terminate ``proc``'s process group, then kill it if it is still there after ``grace`` seconds."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=grace)
        # Children of the group leader (e.g. the executor's workers) may outlive it: sweep the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        self._forget(proc)

    def stop_all(self) -> None:
        """Stop every process still running, newest first; a second Ctrl-C cannot cut this short."""
        signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in signals}
        try:
            for proc in reversed(list(self._procs)):
                self.stop(proc)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _forget(self, proc: subprocess.Popen[str]) -> None:
        if proc in self._procs:
            self._procs.remove(proc)


def tail(path: Path, lines: int = 30) -> str:
    """Return the last ``lines`` lines of a log file, indented, for an error message."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n".join("    " + line[:300] for line in text)


def start_sandbox(
    children: Children,
    *,
    db_path: Path,
    quota: int,
    env: Mapping[str, str],
    log_path: Path,
    timeout: float = 30,
) -> tuple[subprocess.Popen[str], str]:
    """Start ``python -m airflow_bigcommerce.sandbox`` on a free loopback port; return it and its URL."""
    args = sandbox.command(quota=quota, db=db_path)
    proc = children.popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, bufsize=1
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:  # keep reading, so the sandbox never blocks on a full pipe
        assert proc.stdout is not None
        with log_path.open("w", encoding="utf-8") as log:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, name="sandbox-output", daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        url = sandbox.ready_url(line)
        if url:
            return proc, url
    children.stop(proc)
    raise DemoError(
        f"the sandbox store did not start within {timeout:.0f} s; log: {log_path}\n{tail(log_path)}"
    )


@contextlib.contextmanager
def terminate_on_signals() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into ``KeyboardInterrupt`` for the block, so clean-up runs.

    SIGINT is set too: a shell starts background jobs with it ignored, and Python then never raises.
    """

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
