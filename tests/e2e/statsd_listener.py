"""A StatsD server on loopback for the metrics test: a UDP socket that keeps every line it receives."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

#: The prefix the e2e runs give Airflow's metrics (``[metrics] statsd_prefix``).
PREFIX = "bce2e"


@dataclass
class StatsdListener:
    """What a StatsD listener received: one line per metric (``name[,tag=value...]:value|type``)."""

    port: int
    lines: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """Return the settings that make Airflow send its metrics here, tags InfluxDB-style in the name."""
        return {
            "AIRFLOW__METRICS__STATSD_ON": "True",
            "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
            "AIRFLOW__METRICS__STATSD_PORT": str(self.port),
            "AIRFLOW__METRICS__STATSD_PREFIX": PREFIX,
            "AIRFLOW__METRICS__STATSD_INFLUXDB_ENABLED": "True",
        }

    def metrics(self, name_prefix: str) -> list[tuple[str, dict[str, str], float, str]]:
        """Return the metrics received under ``PREFIX.name_prefix``: name, tags, value, type."""
        found = []
        for line in list(self.lines):
            head, _, rest = line.partition(":")
            value, _, kind = rest.partition("|")
            name, *tags = head.split(",")
            if name.startswith(f"{PREFIX}.{name_prefix}"):
                pairs = dict(tag.split("=", 1) for tag in tags if "=" in tag)
                found.append((name[len(PREFIX) + 1 :], pairs, float(value), kind.split("|")[0]))
        return found


@contextmanager
def statsd_listener() -> Iterator[StatsdListener]:
    """Listen on a free UDP port of 127.0.0.1 until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    listener = StatsdListener(port=sock.getsockname()[1])
    stop = threading.Event()

    def receive() -> None:
        while not stop.is_set():
            try:
                data = sock.recv(65535)
            except TimeoutError:
                continue
            listener.lines.extend(line for line in data.decode("utf-8", "replace").splitlines() if line)

    thread = threading.Thread(target=receive, name="statsd-listener", daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()
