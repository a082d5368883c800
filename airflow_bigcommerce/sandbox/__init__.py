"""A BigCommerce-compatible store on loopback: ``python -m airflow_bigcommerce.sandbox``.

In moto's shape: ``state/`` holds the resources (plain Python, domain errors that carry their HTTP
status and wire shape), ``traffic/`` decides how a request is admitted (quota, outages, concurrency
caps, faults, on the injected clock), ``http/`` serves both (``create_app``). ``store.SandboxStore``
puts state and traffic control together. Importing this package stays cheap: ``SandboxStore``,
``SandboxConfig`` and ``create_app`` load on first use.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

#: Names re-exported from the modules that define them, loaded on first use.
_LAZY = {
    "SandboxStore": "airflow_bigcommerce.sandbox.store",
    "SandboxConfig": "airflow_bigcommerce.sandbox.config",
    "create_app": "airflow_bigcommerce.sandbox.http.app",
}


def __getattr__(name: str) -> Any:
    """Load ``SandboxStore``, ``SandboxConfig`` or ``create_app`` on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


#: What the CLI prints once it accepts requests, followed by its URL and the store hash.
READY_PREFIX = "sandbox listening on "


def command(*, python: str = sys.executable, **options: object) -> list[str]:
    """
    Return the argv that starts the sandbox CLI; ``window_ms=3000`` becomes ``--window-ms 3000``.

    ``True`` gives a bare flag (``outage_headers=True``: ``--outage-headers``), ``False`` or ``None``
    nothing, a list one flag per item (``concurrency_limit=["PUT /v3/customers=5"]``). Defaults:
    loopback, a free port (read it from the ready line with :func:`ready_url`), store hash ``sandbox``,
    token ``sandbox-token``.
    """
    settings: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 0,
        "store_hash": "sandbox",
        "token": "sandbox-token",
        **options,
    }
    argv = [python, "-m", "airflow_bigcommerce.sandbox"]
    for name, value in settings.items():
        flag = f"--{name.replace('_', '-')}"
        if value is True:
            argv.append(flag)
        elif isinstance(value, list | tuple):
            for item in value:
                argv += [flag, str(item)]
        elif value is not None and value is not False:
            argv += [flag, str(value)]
    return argv


def ready_url(line: str) -> str | None:
    """Return the URL from the CLI's ready line, or ``None`` for any other output line."""
    if not line.startswith(READY_PREFIX):
        return None
    return line[len(READY_PREFIX) :].split(maxsplit=1)[0]
