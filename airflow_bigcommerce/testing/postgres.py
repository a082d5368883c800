"""
A throwaway PostgreSQL server on loopback, for tests of a ledger on a real database (never a mock).

:func:`run_postgres` runs Debian's ``postgresql`` binaries (``/usr/lib/postgresql/<version>/bin``):
``initdb`` on a temporary directory, ``pg_ctl start`` on a free port of 127.0.0.1 with its socket in
that directory, one database, and an Airflow connection to it as ``AIRFLOW_CONN_<ID>``; at the end the
server is stopped and the directory removed. PostgreSQL refuses to run as root, so as root (CI) every
server command runs as the unprivileged ``postgres`` user (``runuser``), which owns the directory.
A server that cannot start raises :class:`PostgresUnavailableError`: a test that needs it fails.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Where Debian's ``postgresql`` package puts its server binaries, one directory per major version.
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
#: The unprivileged account Debian's package creates; the server runs as it when we are root.
SERVER_USER = "postgres"
#: Seconds ``pg_ctl`` waits for the server to start or stop.
START_TIMEOUT_S = 60
#: Free ports tried: another process may take the one picked before the server binds it.
PORT_TRIES = 3


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL is not installed or its server did not start; the message says why and the fix."""


@dataclass(frozen=True)
class PostgresHandle:
    """A running server: where it listens, its database and the Airflow connection naming it."""

    host: str
    port: int
    user: str
    database: str
    conn_id: str

    @property
    def uri(self) -> str:
        """Return the Airflow connection URI (trust authentication on loopback: no password)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"


def find_bin_dir() -> Path:
    """Return the newest Debian PostgreSQL ``bin`` directory holding ``initdb`` and ``pg_ctl``."""
    found = [Path(d) for d in glob.glob(DEBIAN_BIN_GLOB) if (Path(d) / "initdb").is_file()]
    if not found:
        raise PostgresUnavailableError(
            f"PostgreSQL is not installed (no {DEBIAN_BIN_GLOB}/initdb): run `make postgres` "
            "(apt-get install postgresql)"
        )
    return max(found, key=lambda d: _version(d.parent.name))


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def run_postgres(conn_id: str = "ledger_postgres", database: str = "ledger") -> Iterator[PostgresHandle]:
    """
    Start a throwaway server, create ``database``, set ``AIRFLOW_CONN_<CONN_ID>``; undo it all at the end.

    :raises PostgresUnavailableError: PostgreSQL is missing, or the server or the database did not start.
    """
    bin_dir = find_bin_dir()
    as_root = os.geteuid() == 0
    user = SERVER_USER if as_root else pwd.getpwuid(os.geteuid()).pw_name
    root = Path(tempfile.mkdtemp(prefix="bigcommerce-tests-postgres-"))
    data, sockets = root / "data", root / "socket"
    data.mkdir()
    sockets.mkdir()
    if as_root:
        try:
            account = pwd.getpwnam(SERVER_USER)
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailableError(
                f"no {SERVER_USER!r} user to run the server as (PostgreSQL refuses root): "
                "apt-get install postgresql creates it"
            ) from None
        for path in (root, data, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
    as_server = ["runuser", "-u", SERVER_USER, "--"] if as_root else []
    pg_ctl = [*as_server, str(bin_dir / "pg_ctl"), "-D", str(data)]
    env_name = f"AIRFLOW_CONN_{conn_id.upper()}"
    previous = os.environ.get(env_name)
    started = False
    try:
        _run([*as_server, str(bin_dir / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8"])
        server_log = root / "server.log"
        for attempt in range(1, PORT_TRIES + 1):
            port = free_port()
            options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
            try:
                _run(
                    [*pg_ctl, "-o", options, "-l", str(server_log), "-w", "-t", str(START_TIMEOUT_S), "start"]
                )
                break
            except PostgresUnavailableError as exc:
                said = server_log.read_text(errors="replace")[-2000:] if server_log.exists() else ""
                if attempt == PORT_TRIES or "already in use" not in said:
                    raise PostgresUnavailableError(f"{exc}\nserver log: {said}") from None
        started = True
        createdb = [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, database]
        _run([*as_server, *createdb])
        handle = PostgresHandle("127.0.0.1", port, user, database, conn_id)
        os.environ[env_name] = handle.uri
        yield handle
    finally:
        if previous is None:
            os.environ.pop(env_name, None)
        else:
            os.environ[env_name] = previous
        if started:
            subprocess.run([*pg_ctl, "-m", "immediate", "-w", "stop"], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


def _run(command: Sequence[str]) -> None:
    try:
        subprocess.run(command, capture_output=True, text=True, check=True, timeout=START_TIMEOUT_S * 2)
    except subprocess.CalledProcessError as exc:
        said = (exc.stderr or exc.stdout or "").strip()[-2000:]
        raise PostgresUnavailableError(f"{' '.join(command)} failed: {said}") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PostgresUnavailableError(f"{' '.join(command)} failed: {exc}") from None
