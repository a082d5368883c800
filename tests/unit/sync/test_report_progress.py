from __future__ import annotations

import io
import json
from pathlib import Path

from airflow_bigcommerce.sync.progress import ProgressReporter
from airflow_bigcommerce.sync.report import JsonlReportWriter, ReportWriter


def test_jsonl_writer_to_file_object() -> None:
    buf = io.StringIO()
    writer = JsonlReportWriter(buf)
    assert isinstance(writer, ReportWriter)
    writer.write("c1", "a@example.com", "created", None, 5)
    writer.write("row 2", None, "rejected", "email: missing", None)
    writer.close()
    assert not buf.closed  # the caller's file object stays open
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert lines == [
        {"row": "c1", "email": "a@example.com", "outcome": "created", "reason": None, "customer_id": 5},
        {
            "row": "row 2",
            "email": None,
            "outcome": "rejected",
            "reason": "email: missing",
            "customer_id": None,
        },
    ]
    assert writer.lines == 2


def test_jsonl_writer_to_path(tmp_path: Path) -> None:
    path = tmp_path / "report.jsonl"
    with JsonlReportWriter(path) as writer:
        writer.write("é", "ü@example.com", "skipped", "unchanged", 1)
    assert json.loads(path.read_text(encoding="utf-8"))["row"] == "é"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_is_throttled_and_has_rate_eta_and_stats() -> None:
    lines: list[str] = []
    clock = FakeClock()
    progress = ProgressReporter(lines.append, total=1000, interval_s=5, clock=clock)
    progress.start()
    assert progress.update(10, 10, 0, 0, 0) is False  # too soon
    clock.now += 5
    assert progress.update(100, 80, 10, 5, 5, stats={"429s": 2, "retries": 3, "ignored": object()}) is True
    clock.now += 1
    assert progress.update(150, 0, 0, 0, 0) is False
    clock.now += 5
    assert progress.update(200, 0, 0, 0, 0) is True
    progress.finish(1000, 900, 50, 25, 25)
    assert len(lines) == 3
    assert lines[0] == (
        "Synced 100/1,000 rows (10.0%), 20.0 rows/s, ETA 45s; elapsed 5s; "
        "created 80, updated 10, skipped 5, rejected 5, failed 0; client 429s=2 retries=3"
    )
    assert "ETA" in lines[1]


def test_progress_without_total() -> None:
    lines: list[str] = []
    clock = FakeClock()
    progress = ProgressReporter(lines.append, interval_s=0, clock=clock)
    progress.start()
    clock.now += 3725
    progress.update(5000, 5000, 0, 0, 0)
    assert lines == [
        "Synced 5,000 rows, 1.3 rows/s; elapsed 1h02m05s; "
        "created 5,000, updated 0, skipped 0, rejected 0, failed 0"
    ]


def test_engine_reports_progress_with_client_stats() -> None:
    from airflow_bigcommerce.sync.engine import sync_customers
    from airflow_bigcommerce.testing.in_process import InProcessStore

    lines: list[str] = []
    clock = FakeClock()

    def tick() -> float:
        clock.now += 1
        return clock.now

    store = InProcessStore(stats={"429s": 1})
    rows = [{"email": f"p{i}@example.com", "first_name": "A", "last_name": "B"} for i in range(50)]
    sync_customers(rows, store, progress=ProgressReporter(lines.append, interval_s=3, clock=tick), total=50)
    assert lines  # throttled lines plus the final one
    assert lines[-1].startswith("Synced 50/50 rows (100.0%)")
    assert lines[-1].endswith("client 429s=1")
    assert all("@" not in line for line in lines)
