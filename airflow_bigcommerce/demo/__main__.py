"""
``make demo``: sync a seeded CRM into a sandbox BigCommerce store with the example DAG, twice.

The CRM's contacts carry their parts (address, lifecycle stage -> customer group, ``crm_id`` ->
attribute, newsletter opt-in); the store is given the groups and the attribute before the first run,
as an owner would in the control panel, and each run prints every part's outcome.

Everything lives in a throwaway folder (default ``.demo/``, git-ignored): an Airflow home with a
SQLite metadata DB, the CRM database, the sandbox store's SQLite file, the per-row reports and the
logs. Every process started here is stopped at the end, on failure and on Ctrl-C.

``--ui`` (``make ui``, ``make ui PORT=8081``) starts ``airflow standalone`` with the same store and
connections instead, to watch and trigger runs in the web UI on 127.0.0.1 (every visitor is admin);
it keeps the reports of an earlier ``make demo``. The connections live in the metadata DB (Admin >
Connections lists them; the Test button is on), and a user's ``AIRFLOW__*`` variables reach every
``airflow`` process except for the settings the demo owns (see :mod:`.airflow_setup`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from airflow_bigcommerce.demo.airflow_setup import (
    BIGCOMMERCE_CONN_ID,
    CRM_CONN_ID,
    SANDBOX_STORE_HASH,
    UI_HOST,
    demo_connections,
    import_command,
    merged_env,
    owned_settings,
    unpause_when_served,
    write_connections_file,
)
from airflow_bigcommerce.demo.crm import UNKNOWN_STAGE, seed_crm, touch_contacts
from airflow_bigcommerce.demo.ledger_view import format_ledger, ledger_keys, read_ledger
from airflow_bigcommerce.demo.processes import Children, DemoError, start_sandbox, terminate_on_signals
from airflow_bigcommerce.demo.report import format_parts, format_summary, newest_report, read_report
from airflow_bigcommerce.demo.store import StoreContents, seed_store

DAG_ID = "crm_contacts_to_bigcommerce"
DAG_FILE = "crm_contacts_to_bigcommerce.py"
#: ``airflow db migrate`` and each ``airflow dags test`` must finish within this many seconds.
STEP_TIMEOUT_S = 600


@dataclass(frozen=True)
class Layout:
    """Where the demo keeps its files."""

    workdir: Path
    dags_folder: Path

    @property
    def airflow_home(self) -> Path:
        """Return the throwaway ``AIRFLOW_HOME``."""
        return self.workdir / "airflow"

    @property
    def crm_db(self) -> Path:
        """Return the CRM's SQLite file."""
        return self.workdir / "crm.db"

    @property
    def store_db(self) -> Path:
        """Return the sandbox store's SQLite file."""
        return self.workdir / "sandbox-store.db"

    @property
    def reports(self) -> Path:
        """Return the folder of per-row sync reports (Variable ``bigcommerce_report_dir``)."""
        return self.workdir / "reports"

    @property
    def logs(self) -> Path:
        """Return the folder of the demo's step logs."""
        return self.workdir / "logs"


def default_dags_folder() -> Path:
    """Return the repository's ``dags/`` (this file is ``<repo>/airflow_bigcommerce/demo/__main__.py``)."""
    repo_dags = Path(__file__).resolve().parents[2] / "dags"
    return repo_dags if (repo_dags / DAG_FILE).exists() else Path.cwd() / "dags"


def airflow_env(
    layout: Layout, *, ui_port: int | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the environment for ``airflow`` commands (see :mod:`.airflow_setup` for what wins)."""
    owned = owned_settings(
        airflow_home=layout.airflow_home,
        dags_folder=layout.dags_folder,
        reports=layout.reports,
        ui_port=ui_port,
    )
    return merged_env(os.environ if environ is None else environ, owned)


class Demo:
    """The steps of ``make demo`` / ``make ui``; :meth:`run` and :meth:`ui` stop what they start."""

    def __init__(self, layout: Layout, *, contacts: int, quota: int) -> None:
        self.layout = layout
        self.contacts = contacts
        self.quota = quota
        self.children = Children()
        self.store_url = ""
        self._step = 0
        self._steps = 0
        self._started = time.monotonic()

    # -- output ----------------------------------------------------------------------------------
    def banner(self, text: str) -> None:
        """Print the header of the next step."""
        self._step += 1
        elapsed = time.monotonic() - self._started
        print(f"\n==> [{self._step}/{self._steps}] {text}   (t+{elapsed:.0f}s)", flush=True)

    @staticmethod
    def say(text: str) -> None:
        """Print an indented line under the current step."""
        print(f"    {text}", flush=True)

    # -- steps -----------------------------------------------------------------------------------
    def prepare(self, *, keep_reports: bool = False) -> None:
        """Create a fresh Airflow home with a migrated SQLite metadata DB, and seed the CRM.

        ``keep_reports`` (``make ui``) leaves the per-row reports of an earlier ``make demo`` in place.
        """
        layout = self.layout
        self.banner(f"Preparing a throwaway Airflow home in {layout.airflow_home}")
        wiped = (
            (layout.airflow_home, layout.logs)
            if keep_reports
            else (layout.airflow_home, layout.reports, layout.logs)
        )
        for path in wiped:
            shutil.rmtree(path, ignore_errors=True)
        for path in (layout.crm_db, layout.store_db):
            path.unlink(missing_ok=True)
        layout.airflow_home.mkdir(parents=True)
        seconds = self.children.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=airflow_env(layout),
            log_path=layout.logs / "db-migrate.log",
            timeout=STEP_TIMEOUT_S,
        )
        self.say(f"airflow db migrate: SQLite metadata DB ready in {seconds:.1f} s")
        self.say(f"DAGs folder: {layout.dags_folder}")

        self.banner(f"Seeding the CRM: {self.contacts} contacts in {layout.crm_db}")
        stats = seed_crm(layout.crm_db, n=self.contacts)
        self.say(f"table contacts: {stats.total} rows, updated between {stats.oldest} and {stats.newest} UTC")
        self.say(
            f"{stats.valid_unique} valid unique people, {len(stats.duplicates)} entered twice "
            f"(e-mail in another case), {len(stats.invalid)} invalid (bad e-mail or phone, "
            "missing last name, over-long name, a lifecycle stage the store has no group for)"
        )
        skipped = len(stats.address_skipped)
        self.say(
            f"addresses: {len(stats.places)} complete (state codes such as TX/ca, country names such as"
            f" germany/UK), {skipped} without street or city; lifecycle_stage -> customer group,"
            f" crm_id -> attribute, {len(stats.newsletter)} newsletter answers (yes/no/1/0...)"
        )
        self.say(f"connection {CRM_CONN_ID}: conn type sqlite, host = that file")

    def start_store(self) -> None:
        """Start the sandbox store on loopback, persisting to a SQLite file."""
        self.banner("Starting the sandbox BigCommerce store")
        _proc, self.store_url = start_sandbox(
            self.children,
            db_path=self.layout.store_db,
            quota=self.quota,
            env=os.environ,
            log_path=self.layout.logs / "sandbox.log",
        )
        self.say(f"listening on {self.store_url} (store hash 'sandbox', {self.quota} requests per 30 s)")
        groups, attributes = seed_store(self.store_url)
        self.say(
            f"store set up like its control panel: customer groups {', '.join(groups)};"
            f" customer attribute {', '.join(attributes)} (admin routes /__sandbox/groups, /attributes)"
        )
        self.add_connections()

    def add_connections(self) -> None:
        """Create the demo's connections in the metadata DB (listed, editable and testable in the UI)."""
        layout = self.layout
        path = write_connections_file(
            layout.airflow_home / "demo-connections.json",
            demo_connections(crm_db=layout.crm_db, store_url=self.store_url),
        )
        try:
            seconds = self.children.run(
                import_command(path),
                env=airflow_env(layout),
                log_path=layout.logs / "connections-import.log",
                timeout=STEP_TIMEOUT_S,
            )
        finally:
            path.unlink(missing_ok=True)
        self.say(
            f"connections {CRM_CONN_ID} (the CRM file) and {BIGCOMMERCE_CONN_ID} (that host) created in the"
            f" metadata DB ({seconds:.1f} s): Admin > Connections lists them"
        )

    def sync(self, run: int, purpose: str, *, show_rejected: int = 8, args: Sequence[str] = ()) -> None:
        """Run the DAG once with ``airflow dags test`` (a manual run: the whole history) and summarise."""
        self.banner(f"Run {run}: airflow dags test {DAG_ID} {' '.join(args)}".rstrip() + f"  ({purpose})")
        started = time.time()
        seconds = self.children.run(
            [sys.executable, "-m", "airflow", "dags", "test", DAG_ID, *args],
            # `dags test` would wait out the sync task's retries (3 x 5 min) on a failure: show it at once.
            env={**airflow_env(self.layout), "BIGCOMMERCE_EXAMPLE_SYNC_RETRIES": "0"},
            log_path=self.layout.logs / f"run-{run}.log",
            timeout=STEP_TIMEOUT_S,
        )
        report = newest_report(self.layout.reports, newer_than=started - 1)
        if report is None:
            raise DemoError(f"run {run} wrote no report under {self.layout.reports}")
        summary = read_report(report)
        self.say(f"DAG run succeeded in {seconds:.1f} s; per-row report: {report}")
        print(format_summary(summary, show_rejected=show_rejected), flush=True)
        if summary.parts:
            print("\n" + format_parts(summary), flush=True)
        held = StoreContents.read(self.store_url)
        self.say(
            f"store now holds {held.customers} customers, {held.duplicate_emails} duplicate e-mails,"
            f" {held.addresses} addresses, {held.newsletter} newsletter subscribers"
        )

    def ledger_run(self) -> None:
        """
        Run 3: a contact's e-mail changes in the CRM and the store gets the group some rows lacked.

        The run covers only the last hour (``window=interval``): the changed contact is in it; the
        rows rejected for the missing group are not, and come back from the ledger.
        """
        crm, store_hash = self.layout.crm_db, SANDBOX_STORE_HASH
        # contacts delivered and unchanged since (run 2 skipped them as such)
        created = ledger_keys(crm, store_hash, "skipped", "unchanged%") or ledger_keys(
            crm, store_hash, "created"
        )
        waiting = ledger_keys(crm, store_hash, "rejected", "%no group of that name%")
        if not created:
            raise DemoError("no contact was delivered by the first runs: nothing to show of the ledger")
        moved = created[0]
        (before,) = read_ledger(crm, store_hash, [moved])
        hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
        touch_contacts(
            crm, [moved], when=hour - timedelta(minutes=15), changes={"email": "moved.{id}@example.com"}
        )
        seed_store(self.store_url, groups=[UNKNOWN_STAGE], attributes=())
        window = f"[{(hour - timedelta(hours=1)):%H:%M}, {hour:%H:%M}) UTC"
        self.sync(
            3,
            f"the hour {window}: contact {moved} changed its e-mail; the owner created the group"
            f" {UNKNOWN_STAGE!r} that {len(waiting)} rows named",
            show_rejected=0,
            args=[hour.isoformat(), "--conf", '{"window": "interval"}'],
        )
        (after,) = read_ledger(crm, store_hash, [moved])
        self.say(
            f"e-mail change: contact {moved}'s customer {after.customer_id} (before: {before.customer_id})"
            f" now has {after.ledger_email} (was {before.ledger_email}): updated, no second customer"
        )
        retried = read_ledger(crm, store_hash, waiting)
        delivered = sum(line.outcome == "created" for line in retried)
        self.say(
            f"retried from the ledger: {len(waiting)} rows rejected earlier for the missing group, outside"
            f" this run's window: {delivered} created now"
        )
        self.say(f"a few ledger rows (table bigcommerce_sync_ledger in {crm.name}, joined to contacts):")
        print(format_ledger(read_ledger(crm, store_hash, [moved, *waiting[:2], *created[1:3]])), flush=True)

    def where_to_look(self) -> None:
        """Print where the results are."""
        layout = self.layout
        self.banner("Where to look")
        self.say(f"store customers (JSON):  {self.store_url}/__sandbox/customers   (while a sandbox runs)")
        self.say(f"store customers (page):  {self.store_url}/manage/customers   (the tasks' extra link)")
        self.say(f"store file:              {layout.store_db}")
        self.say(
            "  reopen it:             python -m airflow_bigcommerce.sandbox --db "
            f"{layout.store_db}  -> http://127.0.0.1:8765/__sandbox/customers"
        )
        self.say(f"per-row reports:         {layout.reports}/{DAG_ID}/")
        self.say(f"the sync's ledger:       table bigcommerce_sync_ledger in {layout.crm_db}")
        self.say(f"DAG run logs:            {layout.logs}/run-*.log")
        self.say(f"task logs:               {layout.airflow_home}/logs/")
        self.say("watch runs in the UI:    make ui")

    def run(self) -> None:
        """Run the whole demo."""
        self._steps = 7
        self.prepare()
        self.start_store()
        self.sync(1, "manual run: every contact in the CRM")
        self.sync(2, "the same again: nothing is created twice", show_rejected=0)
        self.ledger_run()
        self.where_to_look()
        print(f"\nDemo finished in {time.monotonic() - self._started:.0f} s.", flush=True)

    def ui(self, port: int) -> None:
        """Start ``airflow standalone`` with the sandbox and connections until Ctrl-C."""
        self._steps = 4
        if not port_is_free(UI_HOST, port):
            raise DemoError(
                f"port {port} on {UI_HOST} is in use: choose another, e.g. make ui PORT={port + 1}"
            )
        self.prepare(keep_reports=True)
        self.start_store()
        url = f"http://{UI_HOST}:{port}"
        self.banner(f"Starting airflow standalone on {url}")
        env = airflow_env(self.layout, ui_port=port)
        # Paused until the API server answers: standalone starts its components at once, and a task
        # the scheduler starts before the server is up fails its first try (then waits out a retry).
        unpause = env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"].strip().lower() != "true"
        env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "True"
        log_path = self.layout.logs / "standalone.log"
        with log_path.open("w", encoding="utf-8") as log:
            proc = self.children.popen(
                [sys.executable, "-m", "airflow", "standalone"], env=env, stdout=log, stderr=log
            )
            self.say(f"web UI:     {url}  (loopback only: simple auth manager, every visitor is admin,")
            self.say("            no password: AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True)")
            test = env["AIRFLOW__CORE__TEST_CONNECTION"]
            self.say(f"connections: Admin > Connections: {BIGCOMMERCE_CONN_ID}, {CRM_CONN_ID} (Test: {test})")
            self.say(f"store:      {self.store_url}/__sandbox/customers")
            self.say(f"sync view:  a run of {DAG_ID} > its sync task > tab 'BigCommerce sync'")
            self.say("            (on Airflow 3.0: the task's 'BigCommerce sync' extra link)")
            self.say(f"log:        {log_path}")
            if unpause:
                self.say(f"DAG:        {DAG_ID}: unpaused once the UI answers (runs the last hour;")
                self.say("            Trigger = whole history)")
                if not unpause_when_served(url, DAG_ID, alive=lambda: proc.poll() is None):
                    raise DemoError(f"airflow standalone did not serve {DAG_ID}; log: {log_path}")
                self.say(f"{DAG_ID} unpaused: the UI is ready at {url}")
            else:
                self.say(f"DAG:        {DAG_ID} (paused, as AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION says)")
            self.say("Ctrl-C stops Airflow and the store.")
            code = proc.wait()
        raise DemoError(f"airflow standalone exited with {code}; log: {log_path}")


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on ``host:port`` yet (the UI's API server must be the one answering there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is free
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_number(text: str) -> int:
    """Parse a TCP port (1-65535) for ``--port``."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535")
    return port


def build_parser() -> argparse.ArgumentParser:
    """Describe the command-line options."""
    parser = argparse.ArgumentParser(prog="python -m airflow_bigcommerce.demo", description=__doc__)
    parser.add_argument("--contacts", type=int, default=1000, help="contacts to seed the CRM with (1000)")
    parser.add_argument("--quota", type=int, default=150, help="sandbox requests per 30 s window (150)")
    parser.add_argument("--workdir", type=Path, default=Path(".demo"), help="throwaway folder (.demo)")
    parser.add_argument("--dags-folder", type=Path, default=None, help="DAGs folder (the repository's dags/)")
    parser.add_argument("--ui", action="store_true", help="start airflow standalone instead (make ui)")
    parser.add_argument(
        "--port", type=port_number, default=8080, help="web UI port with --ui (8080; make ui PORT=8081)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo (or the UI); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.contacts < 1:
        parser.error("--contacts must be at least 1")
    layout = Layout(
        workdir=args.workdir.resolve(), dags_folder=(args.dags_folder or default_dags_folder()).resolve()
    )
    demo = Demo(layout, contacts=args.contacts, quota=args.quota)
    with terminate_on_signals():
        try:
            if args.ui:
                demo.ui(args.port)
            else:
                demo.run()
        except DemoError as exc:
            print(f"\nDemo failed: {exc}", file=sys.stderr, flush=True)
            return 1
        except KeyboardInterrupt:
            print("\nInterrupted; stopping what the demo started.", file=sys.stderr, flush=True)
            return 130
        finally:
            demo.children.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
