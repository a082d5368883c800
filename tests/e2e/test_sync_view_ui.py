"""The "BigCommerce sync" view in Airflow's own UI, driven in a real (headless) Chromium.

A real sync run with rejections (``airflow dags test`` against the sandbox store), then
``airflow api-server`` with the simple auth manager and two users: ``viewer`` (may read every DAG)
and ``nobody`` (no role: may read nothing; the simple auth manager has no per-DAG grants). The
viewer logs in, opens the sync task's "BigCommerce sync" tab and sees the run's counts and rejected
rows; the filter, the search and the CSV download work. ``nobody`` and an anonymous browser are
refused, with none of the run's data. Screenshots land in ``test-artifacts/sync-view/``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import airflow
import pytest
from airflow_server import airflow_env, run_airflow_api_server

from airflow_bigcommerce.testing import run_sandbox

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "sync-view"
#: The docs screenshot is refreshed only on request (UPDATE_README_IMAGE=1): tests keep the tree clean.
DOCS_IMAGE = (
    REPO / "docs" / "img" / "sync-view.png"
    if os.environ.get("UPDATE_README_IMAGE") == "1"
    else ARTIFACTS / "sync-view-docs.png"
)
#: Airflow 3.0 has no plugin tabs: the task's "BigCommerce sync" extra link opens the page itself, and
#: its UI keeps the API token in local storage (the page's 401 answer asks again with it).
AIRFLOW_3_0 = airflow.__version__.startswith("3.0.")
DAG_ID = "sync_view_e2e"
TASK_ID = "sync_contacts"
UI_TIMEOUT_MS = 30_000
PASSWORDS = {"viewer": "viewer-pw-7c1e", "nobody": "nobody-pw-4a9d"}
GOOD = [
    {"id": 1, "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
    {"id": 2, "email": "alan@example.com", "first_name": "Alan", "last_name": "Turing"},
    {"id": 3, "email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper"},
    {"id": 4, "email": "edsger@example.com", "first_name": "Edsger", "last_name": "Dijkstra"},
]
BAD = [
    {"id": 5, "email": "jane.at.example.com", "first_name": "Jane", "last_name": "Doe"},
    {"id": 6, "email": "john@@example", "first_name": "John", "last_name": "Roe"},
    {"id": 7, "first_name": "Nomail", "last_name": "Person"},
]

DAG_SOURCE = textwrap.dedent(
    f'''
    """A sync with rejections, for the sync view's browser test."""
    from __future__ import annotations

    import pendulum
    from airflow.sdk import DAG

    from airflow_bigcommerce.operators.customers import SyncCustomersOperator

    with DAG("{DAG_ID}", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
        SyncCustomersOperator(
            task_id="{TASK_ID}",
            contacts={json.dumps(GOOD + BAD)},
            max_rejected=10,
            report_path="{{{{ var.value.report_dir }}}}/{{{{ run_id | replace(':', '_') }}}}.jsonl",
        )
    '''
)


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`.", pytrace=False)


def _token(url: str, user: str) -> str:
    body = json.dumps({"username": user, "password": PASSWORDS[user]}).encode()
    request = urllib.request.Request(
        f"{url}/auth/token", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.load(response)["access_token"])


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _run_sync(home: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run the DAG once (``dags test``); return its report's path and the output."""
    if AIRFLOW_3_0:  # its ``dags test`` leaves the DAG out of the API: register it as the processor does
        subprocess.run(
            [sys.executable, "-m", "airflow", "dags", "reserialize"], env=env, timeout=300, check=True
        )
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", DAG_ID],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    reports = sorted((home / "reports").glob("*.jsonl"))
    assert len(reports) == 1, reports
    return {"report": reports[0], "log": done.stdout + done.stderr}


def test_sync_view_shows_the_run_to_a_reader_and_nothing_to_others(tmp_path: Path) -> None:
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    (home / "reports").mkdir()
    (home / "dags" / f"{DAG_ID}.py").write_text(DAG_SOURCE)
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with run_sandbox() as sandbox:
        settings = {
            **sandbox.env(),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "viewer:viewer,nobody:",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API_AUTH__JWT_SECRET": "sync-view-e2e-" + "s" * 50,
            "AIRFLOW__API_AUTH__JWT_ISSUER": "sync-view-e2e",  # Airflow 3.0 signs no token without one
            "AIRFLOW_VAR_REPORT_DIR": str(home / "reports"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        }
        with run_airflow_api_server(home, extra_env=settings) as server:
            run = _run_sync(home, airflow_env(home, settings))
            report_lines = [json.loads(line) for line in run["report"].read_text().splitlines()]
            rejected = [line for line in report_lines if line["outcome"] == "rejected"]
            assert {line["row"] for line in rejected} == {"5", "6", "7"}, report_lines
            viewer = _token(server.url, "viewer")
            status, runs = _get(f"{server.url}/api/v2/dags/{DAG_ID}/dagRuns", viewer)
            assert status == 200, runs
            run_id = json.loads(runs)["dag_runs"][0]["dag_run_id"]
            quoted = urllib.parse.quote(run_id, safe="")
            page_url = f"{server.url}/bigcommerce/dags/{DAG_ID}/runs/{quoted}/tasks/{TASK_ID}?map_index=-1"
            tab_url = f"{server.url}/dags/{DAG_ID}/runs/{quoted}/tasks/{TASK_ID}/plugin/bigcommerce-sync"

            # --- who may not read the DAG sees none of the run (API client and browser) ---------
            anonymous_status, anonymous_body = _get(page_url)
            nobody_status, nobody_body = _get(page_url, _token(server.url, "nobody"))
            viewer_status, viewer_body = _get(page_url, viewer)
            results = {"anonymous": anonymous_status, "nobody": nobody_status, "viewer": viewer_status}
            results_file = ARTIFACTS / f"permission-results-airflow-{airflow.__version__}.json"
            results_file.write_text(json.dumps(results, indent=2) + "\n")
            assert results == {"anonymous": 401, "nobody": 403, "viewer": 200}, results
            for body in (anonymous_body, nobody_body):
                assert "jane.at.example.com" not in body
                assert "ada@example.com" not in body
            assert "jane.at.example.com" in viewer_body
            status, links = _get(
                f"{server.url}/api/v2/dags/{DAG_ID}/dagRuns/{quoted}/taskInstances/{TASK_ID}/links", viewer
            )
            assert status == 200, links
            links_by_name = json.loads(links).get("extra_links", {})
            assert links_by_name.get("BigCommerce sync") == page_url.removeprefix(server.url), links

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
                )
                try:
                    _check_refused(browser, server.url, page_url, expect)
                    _check_viewer(browser, server.url, tab_url, page_url, expect)
                finally:
                    browser.close()


def _login(page: Any, url: str, user: str) -> None:
    page.goto(f"{url}/auth/login")
    page.locator("input[name='username']").fill(user)
    page.locator("input[name='password']").fill(PASSWORDS[user])
    page.locator("button[type='submit']").click()
    page.wait_for_url(lambda u: "/auth/login" not in u, timeout=UI_TIMEOUT_MS)
    if AIRFLOW_3_0:  # its UI moves the token from the login's cookie to local storage once it runs
        page.wait_for_function("localStorage.getItem('token') !== null", timeout=UI_TIMEOUT_MS)


def _check_refused(browser: Any, url: str, page_url: str, expect: Any) -> None:
    anonymous = browser.new_page()
    answer = anonymous.goto(page_url)
    assert answer is not None
    assert answer.status == 401
    expect(anonymous.locator("body")).to_contain_text("Log in to Airflow")
    assert "jane.at.example.com" not in anonymous.content()
    anonymous.screenshot(path=str(ARTIFACTS / f"refused-anonymous-airflow-{airflow.__version__}.png"))
    anonymous.close()
    context = browser.new_context()
    nobody = context.new_page()
    _login(nobody, url, "nobody")
    answer = nobody.goto(page_url)
    assert answer is not None
    if AIRFLOW_3_0:  # no cookie: the page asks again with the UI's stored token, and is refused
        assert answer.status == 401
        expect(nobody.locator("body")).to_contain_text("Airflow refused this page (403)")
    else:
        assert answer.status == 403
        expect(nobody.locator("body")).to_contain_text("You may not read this DAG")
    assert "jane.at.example.com" not in nobody.content()
    nobody.screenshot(path=str(ARTIFACTS / f"refused-nobody-airflow-{airflow.__version__}.png"))
    context.close()


def _check_viewer(browser: Any, url: str, tab_url: str, page_url: str, expect: Any) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    try:
        _login(page, url, "viewer")
        if AIRFLOW_3_0:  # the extra link's page, in the browser that logged in to the UI
            page.goto(tab_url.split("/plugin/", maxsplit=1)[0])
            expect(page.get_by_text("SyncCustomersOperator").first).to_be_visible(timeout=UI_TIMEOUT_MS)
            page.goto(page_url)
            frame: Any = page
        else:
            page.goto(tab_url)
            frame = page.frame_locator("iframe[title='BigCommerce sync']")
        expect(frame.locator("#status")).to_contain_text("completed with rejections", timeout=UI_TIMEOUT_MS)
        counts = frame.locator("#counts")
        expect(counts.locator(".card.created .n")).to_have_text("4")
        expect(counts.locator(".card.rejected .n")).to_have_text("3")
        expect(counts.locator(".card.failed .n")).to_have_text("0")
        rows = frame.locator("#rows tbody tr")
        expect(rows).to_have_count(3)
        expect(frame.locator("#rows")).to_contain_text("jane.at.example.com")
        if not AIRFLOW_3_0:  # the screenshot once Airflow's own header has the task instance too
            expect(page.get_by_text("SyncCustomersOperator").first).to_be_visible(timeout=UI_TIMEOUT_MS)
        version = f"airflow-{airflow.__version__}-" + ("extra-link-page" if AIRFLOW_3_0 else "tab")
        page.screenshot(path=str(ARTIFACTS / f"1-{version}.png"))
        if not AIRFLOW_3_0:
            page.screenshot(path=str(DOCS_IMAGE))

        frame.locator("#search").fill("john")
        expect(frame.locator("#rows tbody tr:visible")).to_have_count(1)
        expect(frame.locator("#shown")).to_have_text("1 of 3 rows shown")
        with page.expect_download() as download_info:
            frame.locator("#download").click()
        shown = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text())))
        assert shown[0] == ["key", "email", "outcome", "field", "reason"]
        assert [row[:3] for row in shown[1:]] == [["6", "john@@example", "rejected"]], shown
        frame.locator("#search").fill("")
        fields = frame.locator("#field option").all_text_contents()
        assert "email" in fields, fields
        frame.locator("#field").select_option("email")
        expect(frame.locator("#rows tbody tr:visible")).to_have_count(3)  # every rejection: the e-mail
        frame.locator("#outcome").select_option("failed")
        expect(frame.locator("#rows tbody tr:visible")).to_have_count(0)
        frame.locator("#outcome").select_option("")
        frame.locator("#field").select_option("")
        page.screenshot(path=str(ARTIFACTS / f"2-{version}-after-filters.png"))

        full = context.new_page()
        full.goto(page_url)
        expect(full.locator("#status")).to_contain_text("completed with rejections")
        full.screenshot(path=str(ARTIFACTS / f"3-{version}-full-page.png"), full_page=True)
        full.close()
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
        raise
    finally:
        context.close()
