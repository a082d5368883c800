"""The listening socket and the uvicorn server of a sandbox, shared by the CLI and ``run_sandbox``."""

from __future__ import annotations

import socket

import uvicorn

from airflow_bigcommerce.sandbox.http.app import create_app
from airflow_bigcommerce.sandbox.store import SandboxStore


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind a TCP socket on ``host:port`` (0 picks a free port) with ``TCP_NODELAY``.

    IPPROTO_TCP, so asyncio sets TCP_NODELAY on accepted connections (else ~40 ms of delayed-ACK wait
    per kept-alive request); Linux also copies TCP_NODELAY from the listening socket.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def uvicorn_server(store: SandboxStore, log_level: str = "warning") -> uvicorn.Server:
    """Return a uvicorn server for the sandbox app around ``store`` (no access log, no lifespan)."""
    return uvicorn.Server(
        uvicorn.Config(create_app(store), log_level=log_level, access_log=False, lifespan="off")
    )
