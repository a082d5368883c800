from __future__ import annotations

from airflow_bigcommerce.view.model import Row, RunView
from airflow_bigcommerce.view.page import render_page


def view(**changes: object) -> RunView:
    base = RunView(
        status="completed with rejections",
        counts={"created": 3, "updated": 0, "skipped": 1, "rejected": 1, "failed": 0},
        total=5,
        dry_run=False,
        mode="insert",
        parts={"address": {"created": 3}},
        requests={"lookup": 1, "create": 1, "list": 0},
        requests_per_row=0.4,
        throttled=2,
        quota_wait_s=1.5,
        duration_s=2.0,
        rows_per_s=2.5,
        rows=(Row("<k>", "x@y.io", "rejected", "email", "email: <script>alert(1)</script>"),),
        rows_source="report",
        rows_complete=True,
        customers_url="http://127.0.0.1:8123/manage/customers",
    )
    return RunView(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_page_shows_status_counts_figures_and_rows_escaped() -> None:
    html = render_page(view(), dag_id="d", run_id="manual__1", task_id="sync", map_index=-1)
    assert "<b>completed with rejections</b>" in html
    assert '<div class="n">3</div><div class="l">created</div>' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert 'data-key="&lt;k&gt;"' in html
    assert "1.50 s" in html  # quota wait
    assert '<div class="n">2</div><div class="l">429 answers</div>' in html
    assert 'href="http://127.0.0.1:8123/manage/customers"' in html
    assert "<td>lookup</td>" in html
    assert "<td>list</td>" not in html  # kinds never used are left out
    assert 'data-filename="d-sync-manual__1-rows.csv"' in html


def test_only_http_links_are_shown() -> None:
    html = render_page(
        view(customers_url="javascript:alert(1)"), dag_id="d", run_id="r", task_id="t", map_index=2
    )
    assert "javascript:" not in html
    assert "d / t [2]" in html
