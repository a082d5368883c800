from __future__ import annotations

from typing import Any

from airflow_bigcommerce.view.model import (
    COMPLETED,
    COMPLETED_WITH_REJECTIONS,
    DRY_RUN,
    FAILED,
    NO_SUMMARY,
    build_view,
    field_of,
    run_status,
)

SUMMARY: dict[str, Any] = {
    "created": 5,
    "updated": 1,
    "skipped": 2,
    "rejected": 2,
    "failed": 0,
    "total": 10,
    "dry_run": False,
    "mode": "upsert",
    "requests": {"lookup": 2, "create": 1, "update": 1, "list": 0},
    "requests_per_row": 0.4,
    "rejections": [{"row": "7", "email": "bad", "reason": "email: not a valid address"}],
    "rejections_truncated": True,
    "failures": [],
    "failures_truncated": False,
    "duration_s": 4.0,
    "client_stats": {"requests": 4, "429s": 3, "retries": 3},
    "parts": {"address": {"created": 4, "skipped": 1}},
    "common_rejection": None,
    "report_path": None,
}


def test_status_words() -> None:
    assert run_status(SUMMARY, "success") == COMPLETED_WITH_REJECTIONS
    assert run_status({**SUMMARY, "rejected": 0}, "success") == COMPLETED
    assert run_status({**SUMMARY, "rejected": 0, "dry_run": True}, "success") == DRY_RUN
    assert run_status({**SUMMARY, "failed": 1}, "failed") == FAILED
    assert run_status({**SUMMARY, "rejected": 0}, "failed") == FAILED
    assert run_status(None, "failed") == FAILED
    assert run_status(None, "running") == NO_SUMMARY
    assert run_status({**SUMMARY, "status": "completed"}, "success") == "completed"  # the summary's own word


def test_field_is_the_reason_prefix() -> None:
    assert field_of("email: missing (required)") == "email"
    assert field_of("attribute.tier: too long") == "attribute.tier"
    assert field_of("duplicate of 3 in this run") == ""
    assert field_of("store answered 503: try later") == ""


def test_report_rows_are_every_rejected_and_failed_line() -> None:
    lines = [
        {"row": "1", "email": "a@x.io", "outcome": "created", "reason": None},
        {"row": "2", "email": "", "outcome": "rejected", "reason": "email: missing"},
        {"row": "3", "email": "c@x.io", "outcome": "failed", "reason": "create: 503", "field": "x"},
    ]
    view = build_view(SUMMARY, task_state="success", report_lines=lines)
    assert [(r.key, r.outcome, r.field) for r in view.rows] == [
        ("2", "rejected", "email"),
        ("3", "failed", "x"),
    ]
    assert view.rows_source == "report"
    assert view.rows_complete
    assert view.counts == {"created": 5, "updated": 1, "skipped": 2, "rejected": 2, "failed": 0}
    assert view.throttled == 3
    assert view.quota_wait_s is None
    assert view.rows_per_s == 2.5
    assert view.parts == {"address": {"created": 4, "skipped": 1}}
    assert view.notes == ()


def test_without_report_the_capped_summary_list_says_so() -> None:
    view = build_view(SUMMARY, task_state="success", report_lines=None, report_note="unreadable")
    assert [(r.key, r.email, r.field) for r in view.rows] == [("7", "bad", "email")]
    assert view.rows_source == "summary"
    assert not view.rows_complete
    assert view.notes[0] == "unreadable"
    assert "only the first ones" in view.notes[1]


def test_no_summary() -> None:
    view = build_view(None, task_state="failed", report_lines=None)
    assert view.status == FAILED
    assert view.total == 0
    assert view.rows == ()
    assert "no summary" in view.notes[-1]


def test_a_created_customer_is_one_settled_row() -> None:
    from airflow_bigcommerce.view.model import as_sync_summary

    summary, note = as_sync_summary({"id": 42, "email": "ada@example.com", "first_name": "Ada"})
    assert summary == {"created": 1, "total": 1}
    assert note is not None
    assert "42" in note
    assert as_sync_summary(SUMMARY) == (SUMMARY, None)
    assert as_sync_summary("text") == (None, None)
    assert as_sync_summary({"other": 1})[0] is None
    view = build_view(summary, task_state="success", report_lines=None, report_note=note)
    assert view.status == COMPLETED
    assert view.notes == (note,)


def test_the_summary_says_what_the_run_was() -> None:
    from airflow_bigcommerce.sync.result import SyncResult

    assert SyncResult(created=2, total=2).to_dict()["status"] == COMPLETED
    assert SyncResult(created=1, rejected=1, total=2).to_dict()["status"] == COMPLETED_WITH_REJECTIONS
    assert SyncResult(rejected=1, failed=1, total=2).status == FAILED
    assert SyncResult(created=2, total=2, dry_run=True).status == DRY_RUN
    assert SyncResult(failed=1, total=1, dry_run=True).status == FAILED
    # a task failed by max_rejected: the summary says "completed with rejections", the view "failed"
    summary = SyncResult(created=1, rejected=1, total=2).to_dict()
    assert build_view(summary, task_state="failed", report_lines=None).status == FAILED
