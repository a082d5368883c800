"""The BigCommerce connection in Airflow's own UI, driven in a real (headless) Chromium.

Starts ``airflow api-server`` (simple auth manager, everyone admin, Test button enabled) and the
sandbox store, adds a connection through the Add Connection dialog, presses its Test button, then
edits it to a wrong token. Then runs ``make ui`` itself (``python -m airflow_bigcommerce.demo --ui``:
``airflow standalone``, the sandbox, the demo's connections in the metadata DB) and checks what a new
user sees: both connections listed in Admin > Connections, the Test button working, the UI on
127.0.0.1 only, their own ``AIRFLOW__*`` settings applied, an earlier demo's reports kept.
Screenshots land in ``test-artifacts/connection-ui/``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import airflow
import pytest
from airflow_server import AirflowServer, free_port, run_airflow_api_server
from dag_runner import clean_env

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "connection-ui"
#: The docs' screenshot is refreshed only on request (UPDATE_README_IMAGE=1): tests keep the tree clean.
README_IMAGE = (
    REPO / "docs" / "img" / "connection-form.png"
    if os.environ.get("UPDATE_README_IMAGE") == "1"
    else ARTIFACTS / "connection-form.png"
)
CONN_ID = "my_store"
UI_TIMEOUT_MS = 20_000
#: Airflow 3.0 has no plugin tabs: the task's "BigCommerce sync" extra link opens the view instead.
AIRFLOW_3_0 = airflow.__version__.startswith("3.0.")
#: What a store owner sees: relabelled standard fields and the extra fields, in the UI's words.
EXPECTED_STANDARD = {"host": "API Host", "password": "Access Token"}
EXPECTED_HIDDEN = {"login", "url_schema", "port"}
EXPECTED_EXTRA = {
    "store_hash": "Store Hash",
    "timeout": "Request Timeout (s)",
    "max_retries": "Max Retries",
    "retry_budget_s": "Retry Budget (s)",
}


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the connection UI test drives Debian's Chromium. Install it with "
            "`apt-get install -y chromium` (CI's .ci/run does this) and run the test again.",
            pytrace=False,
        )


def _hook_meta(server: AirflowServer) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.url}/ui/connections/hook_meta", timeout=30) as response:
        metas = json.load(response)
    ours = [meta for meta in metas if meta.get("connection_type") == "bigcommerce"]
    assert ours, (
        "Airflow's /ui/connections/hook_meta lists no 'bigcommerce' type: is the provider installed "
        f"(entry point apache_airflow_provider)? Server log:\n{server.log_tail()}"
    )
    return dict(ours[0])


def _check_hook_meta(meta: dict[str, Any]) -> None:
    """Fail with a readable message when Airflow's description of our form changes shape."""
    assert meta.get("hook_name") == "BigCommerce", f"hook_name changed: {meta.get('hook_name')!r}"
    standard = meta.get("standard_fields") or {}
    for field, title in EXPECTED_STANDARD.items():
        got = (standard.get(field) or {}).get("title")
        assert got == title, f"hook_meta standard field {field!r} is titled {got!r}, expected {title!r}"
    assert (standard.get("host") or {}).get("placeholder") == "https://api.bigcommerce.com"
    for field in EXPECTED_HIDDEN:
        assert (standard.get(field) or {}).get("hidden") is True, f"hook_meta shows {field!r}: {standard}"
    extra = meta.get("extra_fields") or {}
    assert set(extra) == set(EXPECTED_EXTRA), f"hook_meta extra fields changed: {sorted(extra)}"
    for field, title in EXPECTED_EXTRA.items():
        assert extra[field]["schema"].get("title") == title, f"extra field {field!r}: {extra[field]}"
        assert extra[field].get("description"), f"extra field {field!r} lost its description"
    assert "pattern" in extra["store_hash"]["schema"], "the Store Hash field lost its pattern check"


def _toast(page: Any, title: str) -> Any:
    """Return the toast with ``title`` once visible (toasts stack; pick ours by its title)."""
    toast = page.locator("[data-part='root'][data-scope='toast']").filter(has_text=title).last
    toast.wait_for(state="visible", timeout=UI_TIMEOUT_MS)
    return toast


def _stack_images(browser: Any, parts: list[Path], target: Path) -> None:
    """Write ``parts`` one above the other as one PNG (the accordion shows one section at a time)."""
    sources = [f"data:image/png;base64,{base64.b64encode(part.read_bytes()).decode()}" for part in parts]
    images = "".join(f'<img style="display:block" src="{source}">' for source in sources)
    page = browser.new_page()
    try:
        page.set_content(
            f'<body style="margin:0;background:#fff"><div id="all" style="width:max-content">{images}</div>'
        )
        page.locator("#all").screenshot(path=str(ARTIFACTS / "form.png"))
    finally:
        page.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTIFACTS / "form.png", target)


def test_configure_and_test_connection_in_the_ui(tmp_path: Path) -> None:
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    from airflow_bigcommerce.testing import run_sandbox

    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    with (
        run_sandbox(store_hash="abc123", token="sandbox-token") as sandbox,
        run_airflow_api_server(tmp_path / "airflow") as server,
        sync_playwright() as playwright,
    ):
        _check_hook_meta(_hook_meta(server))
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT_MS)
            page.goto(f"{server.url}/connections")

            # -- Add Connection: type picker, relabelled standard fields ---------------------------
            page.get_by_role("button", name="Add Connection").click()
            dialog = page.get_by_role("dialog")
            dialog.get_by_label("Connection ID").fill(CONN_ID)
            dialog.get_by_role("combobox").click()
            page.keyboard.type("BigCommerce")
            page.get_by_role("option", name="BigCommerce", exact=True).click()

            host = dialog.get_by_label("API Host")
            expect(host).to_have_attribute("placeholder", "https://api.bigcommerce.com")
            for hidden in ("Login", "Schema", "Port"):
                expect(dialog.get_by_text(hidden, exact=True)).to_have_count(0)
            host.fill(sandbox.url)  # the sandbox's port travels in the host URL; the Port field is hidden
            dialog.get_by_label("Access Token").fill(sandbox.token)
            dialog.get_by_label("Description").fill("Sandbox store (airflow-provider-bigcommerce e2e test)")

            # -- Extra Fields: Store Hash with its description and pattern check ------------------
            dialog.get_by_text("Extra Fields", exact=True).click()
            expect(dialog.locator("label", has_text="Store Hash")).to_be_visible()
            expect(dialog.get_by_text("/stores/{store_hash}/v3/", exact=False)).to_be_visible()
            store_hash = dialog.locator("#element_store_hash")
            save = dialog.get_by_role("button", name="Save")
            expect(save).to_be_disabled()  # Store Hash is required
            # (Airflow 3.3's form does not enforce the schema's ``pattern``; the Test button does.)
            store_hash.fill(sandbox.store_hash)
            store_hash.blur()
            dialog.screenshot(path=str(ARTIFACTS / "2-extra-fields.png"))
            dialog.get_by_text("Standard Fields", exact=True).click()
            expect(host).to_be_visible()
            dialog.screenshot(path=str(ARTIFACTS / "1-standard-fields.png"))
            _stack_images(
                browser, [ARTIFACTS / "1-standard-fields.png", ARTIFACTS / "2-extra-fields.png"], README_IMAGE
            )
            expect(save).to_be_enabled()
            save.click()
            expect(dialog).to_have_count(0)

            # -- Test button on the row: success with the store name ------------------------------
            row = page.get_by_role("row").filter(has_text=CONN_ID)
            row.get_by_role("button", name="Test Connection").click()
            toast = _toast(page, "Test Connection")
            assert "Bad Request" not in toast.inner_text(), (
                "The Test button got 400 Bad Request before the hook ran: Airflow 3.3.0-3.3.2 sends port 0 "
                "for an empty port (apache/airflow#73298). The provider's work-around is not active."
            )
            expect(toast).to_contain_text("Test Connection Successful", timeout=UI_TIMEOUT_MS)
            expect(toast).to_contain_text("Connected to store 'Sandbox Store'")
            page.screenshot(path=str(ARTIFACTS / "3-test-success.png"))

            # -- Edit to a wrong token: the failure says what to fix ------------------------------
            row.get_by_role("button", name="Edit Connection").click()
            dialog = page.get_by_role("dialog")
            token = dialog.get_by_label("Access Token")
            token.fill("wrong-token")
            dialog.get_by_role("button", name="Save").click()
            expect(dialog).to_have_count(0)
            row.get_by_role("button", name="Test Connection").click()
            toast = _toast(page, "Test Connection Failed")
            expect(toast).to_contain_text("rejected the access token")
            page.wait_for_timeout(500)  # let the toast finish sliding in
            page.screenshot(path=str(ARTIFACTS / "4-test-wrong-token.png"))
        except Exception:
            for open_page in browser.contexts[0].pages if browser.contexts else []:
                open_page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
            print(f"api-server log (tail):\n{server.log_tail()}")
            raise
        finally:
            browser.close()


#: ``make ui`` (db migrate, sandbox, connections import, airflow standalone) must answer within this.
MAKE_UI_START_TIMEOUT_S = 300
#: What ``make ui`` runs (``Makefile``'s ``ui`` target, less ``--port $(PORT)``).
MAKE_UI = [sys.executable, "-m", "airflow_bigcommerce.demo", "--ui"]
DEMO_DAG = "crm_contacts_to_bigcommerce"
#: The scheduler runs the last hour as soon as the demo unpauses the DAG; both tasks must be done by then.
FIRST_RUN_TIMEOUT_S = 240
FIRST_PAGE_TIMEOUT_MS = 60_000


@contextlib.contextmanager
def _make_ui(workdir: Path, port: int, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """Run ``python -m airflow_bigcommerce.demo --ui`` (what ``make ui PORT=...`` runs); Ctrl-C it after."""
    log_path = workdir.parent / "make-ui.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*MAKE_UI, "--port", str(port), "--workdir", str(workdir), "--contacts", "20"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, log_path
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # the demo stops what it started, as on Ctrl-C
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + MAKE_UI_START_TIMEOUT_S
    while True:
        with contextlib.suppress(urllib.error.URLError, OSError):
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2) as response:
                if response.status == 200:
                    return
        tail = log_path.read_text(errors="replace")[-4000:]
        assert process.poll() is None, f"make ui exited ({process.returncode}):\n{tail}"
        assert time.monotonic() < deadline, f"make ui not serving in {MAKE_UI_START_TIMEOUT_S}s:\n{tail}"
        time.sleep(1)


def _listening_addresses(port: int) -> set[str]:
    """Return the local IPv4/IPv6 addresses (hex, as /proc/net shows them) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table, encoding="ascii") as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.add(address)
    return found


def _api(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:  # every visitor is admin: no token
        return json.load(response)


def _check_first_scheduled_run(url: str, log_path: Path) -> str:
    """The DAG is unpaused once the server answers; its first run's tasks pass on their first try, and
    the report task's table is in its task log before "Done. Returned value was" (logged, not printed).
    """
    dag = f"{url}/api/v2/dags/{DEMO_DAG}"
    deadline = time.monotonic() + FIRST_RUN_TIMEOUT_S
    states: dict[str, tuple[str | None, int]] = {}
    while time.monotonic() < deadline:
        runs = _api(f"{dag}/dagRuns")["dag_runs"]
        if runs:
            run_id = urllib.parse.quote(runs[0]["dag_run_id"], safe="")
            instances = _api(f"{dag}/dagRuns/{run_id}/taskInstances")["task_instances"]
            states = {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in instances}
            if states.get("report", (None, 0))[0] in {"success", "failed", "upstream_failed"}:
                break
        time.sleep(2)
    tail = log_path.read_text(errors="replace")[-3000:]
    assert _api(dag)["is_paused"] is False, tail
    assert states == {"sync_customers": ("success", 1), "report": ("success", 1)}, f"{states}\n{tail}"
    events = [
        str(line.get("event", ""))
        for line in _api(f"{dag}/dagRuns/{run_id}/taskInstances/report/logs/1")["content"]
    ]
    table = next(i for i, event in enumerate(events) if event.startswith("CRM -> BigCommerce sync:"))
    done = next(i for i, event in enumerate(events) if event.startswith("Done. Returned value was"))
    assert table < done, events
    assert "Per-row report: " in events[table]
    return str(runs[0]["dag_run_id"])


def _check_sync_view_is_one_click_from_the_task(url: str, run_id: str, log_path: Path) -> None:
    """On the first run's sync task, the "BigCommerce sync" tab opens the run's view (3.0: the extra link)."""
    from playwright.sync_api import expect, sync_playwright

    quoted = urllib.parse.quote(run_id, safe="")
    task_url = f"{url}/dags/{DEMO_DAG}/runs/{quoted}/tasks/sync_customers"
    view_path = f"/bigcommerce/dags/{DEMO_DAG}/runs/{quoted}/tasks/sync_customers?map_index=-1"
    links = _api(f"{url}/api/v2/dags/{DEMO_DAG}/dagRuns/{quoted}/taskInstances/sync_customers/links")
    assert str(links["extra_links"]["BigCommerce sync"]).endswith(view_path), links
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(UI_TIMEOUT_MS)
        try:
            page.goto(task_url, timeout=FIRST_PAGE_TIMEOUT_MS)
            if AIRFLOW_3_0:  # no plugin tabs: the extra link's page is the view
                page.goto(url + view_path)
                frame: Any = page
            else:
                tab = page.locator("a[href$='/plugin/bigcommerce-sync']")
                expect(tab).to_contain_text("BigCommerce sync", timeout=FIRST_PAGE_TIMEOUT_MS)
                tab.click()  # the one click
                page.wait_for_url(re.compile(r"/plugin/bigcommerce-sync$"))
                frame = page.frame_locator("iframe[title='BigCommerce sync']")
            expect(frame.locator("#status")).to_contain_text("completed", timeout=FIRST_PAGE_TIMEOUT_MS)
            expect(frame.locator("#counts")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "7-make-ui-sync-view-tab.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "make-ui-sync-view-failure.png"), full_page=True)
            print(f"make ui log (tail):\n{log_path.read_text(errors='replace')[-4000:]}")
            raise
        finally:
            browser.close()


def test_make_ui_lists_the_demo_connections_and_tests_them(tmp_path: Path) -> None:
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    workdir = tmp_path / "demo"
    earlier = workdir / "reports" / "crm_contacts_to_bigcommerce" / "manual__earlier.jsonl"
    earlier.parent.mkdir(parents=True)
    earlier.write_text('{"row": "1"}\n')  # a report of an earlier `make demo`
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # A user's own settings: passed through to every airflow process (one API worker keeps it light).
    env = clean_env(AIRFLOW__API__INSTANCE_NAME="make ui under test", AIRFLOW__API__WORKERS="1")
    env |= {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with _make_ui(workdir, port, env) as (process, log_path):
        _wait_healthy(url, process, log_path)
        assert _listening_addresses(port) == {"0100007F"}, "make ui must listen on 127.0.0.1 only"
        with urllib.request.urlopen(f"{url}/ui/config", timeout=30) as response:
            config = json.load(response)
        assert config["instance_name"] == "make ui under test"  # the user's AIRFLOW__* reached it
        assert config["test_connection"] == "Enabled"
        assert earlier.read_text() == '{"row": "1"}\n', "make ui deleted an earlier demo's report"

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                page.set_default_timeout(UI_TIMEOUT_MS)
                page.goto(f"{url}/connections", timeout=FIRST_PAGE_TIMEOUT_MS)  # a busy standalone: slow
                store_row = page.get_by_role("row").filter(has_text="bigcommerce_default")
                crm_row = page.get_by_role("row").filter(has_text="crm_default")
                # The first page load of a busy standalone (its scheduler running the first run) is slow.
                expect(store_row).to_have_count(1, timeout=FIRST_PAGE_TIMEOUT_MS)
                expect(crm_row).to_have_count(1, timeout=UI_TIMEOUT_MS)
                expect(store_row).to_contain_text("bigcommerce", timeout=UI_TIMEOUT_MS)
                expect(crm_row).to_contain_text("sqlite", timeout=UI_TIMEOUT_MS)
                page.screenshot(path=str(ARTIFACTS / "5-make-ui-connections.png"))

                store_row.get_by_role("button", name="Test Connection").click()
                toast = _toast(page, "Test Connection")
                expect(toast).to_contain_text("Test Connection Successful", timeout=UI_TIMEOUT_MS)
                expect(toast).to_contain_text("Connected to store 'Sandbox Store'")
                page.wait_for_timeout(500)
                page.screenshot(path=str(ARTIFACTS / "6-make-ui-test-success.png"))

                store_row.get_by_role("button", name="Edit Connection").click()  # editable: a DB row
                dialog = page.get_by_role("dialog")
                expect(dialog.get_by_label("API Host")).to_have_value(
                    re.compile(r"^http://127\.0\.0\.1:\d+$"), timeout=UI_TIMEOUT_MS
                )
            except Exception:
                for open_page in browser.contexts[0].pages if browser.contexts else []:
                    open_page.screenshot(path=str(ARTIFACTS / "make-ui-failure.png"), full_page=True)
                print(f"make ui log (tail):\n{log_path.read_text(errors='replace')[-4000:]}")
                raise
            finally:
                browser.close()
        run_id = _check_first_scheduled_run(url, log_path)
        _check_sync_view_is_one_click_from_the_task(url, run_id, log_path)
    assert process.returncode is not None
    stray = subprocess.run(["pgrep", "-f", str(workdir)], capture_output=True, text=True, check=False)
    assert stray.stdout.strip() == "", "make ui left processes running"
