from __future__ import annotations

from pathlib import Path

from airflow_bigcommerce.sync.report import JsonlReportWriter, read_report


def test_read_report_gives_back_what_the_writer_wrote(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with JsonlReportWriter(path) as writer:
        writer.write("7", "a@example.com", "created", None, 3)
        writer.write("row 2\u2028x", None, "rejected", "email: missing (required)", None)
    assert list(read_report(path)) == [
        {"row": "7", "email": "a@example.com", "outcome": "created", "reason": None, "customer_id": 3},
        {
            "row": "row 2\u2028x",
            "email": None,
            "outcome": "rejected",
            "reason": "email: missing (required)",
            "customer_id": None,
        },
    ]
