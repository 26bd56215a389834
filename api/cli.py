"""The ``caseledger`` command line."""

from __future__ import annotations

import bisect
import getpass
import json
import logging.config
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import psycopg
import typer
import uvicorn
from eventsourcing.persistence import OperationalError as PersistenceOperationalError
from pydantic import TypeAdapter, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from api.app import create_app, projections_for
from api.fields import InstantOrDay, instant_from
from api.import_pool import ImportPool, ImportWorkerFailed, Line, Outcome, import_operator
from api.logs import log_config
from api.routers.audit import ANCHOR_PATTERN, parse_anchor
from api.routers.events import apply_items
from api.runtime import open_files_needed, raise_open_files_limit, tune_garbage_collector
from api.schemas import TrailOut
from api.settings import (
    DEFAULT_MAX_WORKERS,
    Settings,
    effective_settings,
    settings_table,
    start_problems,
    unknown_setting_message,
    unknown_settings,
)
from api.supervisor import MULTIPROCESS_DIR, metrics_directory
from application.access_log import AccessEntry, AccessQuery
from application.batch import BatchSession
from application.caseledger import CaseLedger, copenhagen_today
from application.demo import load_demo
from application.errors import StorageUnavailable
from application.personal_data import MasterKeyError
from application.storage.environment import describe_store, prepare_storage, store_exists
from application.tokens import ROLES
from domain.errors import DomainError, NotFound
from projections.database import ProjectionDatabase
from projections.runner import ProjectionRunner, lead, watch_lead

cli = typer.Typer(
    help="caseledger: event-sourced case flow for social-services procurement.", no_args_is_help=True
)
console = Console(stderr=True)
AUTH_HINT = "create an API token with: caseledger tokens create --role admin --municipality '*' --name me"


@cli.callback()
def refuse_unknown_settings() -> None:
    """Before any command (``serve`` too), and before anything is created: a ``CASELEDGER_*``
    variable that names no setting (a typo such as ``CASELEDGER_DATABSE_URL`` would otherwise leave
    the intended setting at its default) stops the command with exit status 2."""
    unknown = unknown_settings(os.environ)
    if unknown:
        for name in unknown:
            typer.echo(unknown_setting_message(name), err=True)
        raise typer.Exit(2)


def _open_ledger(settings: Settings, *, existing: bool = False) -> CaseLedger:
    """The ledger on the configured store. ``existing``: a command that only reads (or changes what
    is there) refuses a store that does not exist rather than creating an empty one. A store that
    cannot be reached is one line and exit 2, not a traceback."""
    env = settings.storage_env(make_directory=not existing)
    try:
        if existing and not store_exists(env):
            console.print(
                f"[red]no caseledger store at {escape(describe_store(env))}: nothing to read "
                "(is CASELEDGER_DATABASE_URL set as for serve?)[/red]",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(2)
        prepare_storage(env)
        return CaseLedger(env)
    except MasterKeyError as error:
        console.print(f"[red]{error}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except (psycopg.OperationalError, PersistenceOperationalError) as error:
        reason = escape(str(error).strip().splitlines()[-1])
        console.print(
            f"[red]cannot open {escape(describe_store(env))}: {reason}[/red]", highlight=False, soft_wrap=True
        )
        raise typer.Exit(2) from None


def _load_demo(ledger: CaseLedger, weeks: int, suppliers: int, per_week: int, seed: int) -> None:
    with Progress(
        TextColumn("[bold]demo[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("loading", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        summary = load_demo(
            ledger,
            today=copenhagen_today(),
            weeks=weeks,
            suppliers=suppliers,
            per_week=per_week,
            seed=seed,
            progress=report,
        )
    console.print(f"demo loaded: {summary}")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (CASELEDGER_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CASELEDGER_PORT).")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo municipality first if the store is empty.")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="API processes (CASELEDGER_WORKERS). With more than one, the projections run in one "
            "process of their own beside them. Default: on PostgreSQL one per available core, at most "
            f"{DEFAULT_MAX_WORKERS}; on SQLite 1.",
        ),
    ]
    | None = None,
) -> None:
    """Serve the HTTP API on CASELEDGER_DATABASE_URL (default: SQLite under ./caseledger-data/)."""
    settings = Settings()
    processes = workers or settings.serve_processes()
    demo_token = None
    if demo:
        ledger = _open_ledger(settings)
        try:
            if ledger.last_position() == 0:
                _load_demo(ledger, weeks=52, suppliers=180, per_week=60, seed=461)
                demo_token = ledger.open_tokens().create(role="admin", municipality="*").secret
            else:
                console.print(f"store already holds {ledger.last_position()} events; demo not loaded again")
        finally:
            ledger.close()
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(f"store: {settings.store_description()}", highlight=False, soft_wrap=True)
    console.print(
        f"caseledger on http://{bind_host}:{bind_port}  (API docs: http://{bind_host}:{bind_port}/docs)"
    )
    console.print(f"dashboard: http://{bind_host}:{bind_port}/dashboard/ (log in with a token)")
    if demo_token:
        console.print(
            "admin token for the demo (shown once; send it as Authorization: Bearer <token>):",
            highlight=False,
        )
        console.print(f"  {demo_token}", highlight=False, soft_wrap=True)
        console.print(
            f"  e.g. curl -H 'Authorization: Bearer {demo_token}' http://{bind_host}:{bind_port}/referrals",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print(AUTH_HINT, highlight=False)
    if os.environ.get(MULTIPROCESS_DIR) == "":
        # prometheus_client would write its files into the working directory.
        console.print(f"[red]{MULTIPROCESS_DIR} is set but empty: name a directory or unset it[/red]")
        raise typer.Exit(2)
    raise_open_files_limit(open_files_needed(processes, settings.storage_env()))
    if processes == 1:
        with metrics_directory(several=False):
            uvicorn.run(
                create_app(settings),
                host=bind_host,
                port=bind_port,
                log_level="info",
                log_config=log_config(),
            )
        return
    # The API processes, the projection process and their keeper (``api.supervisor``) read their
    # settings from the environment, as this process did; the keeper takes over this process.
    supervisor = [sys.executable, "-m", "api.supervisor", "--workers", str(processes)]
    supervisor += ["--host", bind_host, "--port", str(bind_port)]
    supervisor += ["--projections"] if settings.run_projections else []
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, supervisor)  # noqa: S606 - our own module, with this interpreter


@cli.command()
def demo(
    weeks: Annotated[int, typer.Option(min=1, max=520, help="Weeks of referrals, ending today.")] = 52,
    suppliers: Annotated[int, typer.Option(min=3, max=5000, help="Suppliers to register.")] = 180,
    per_week: Annotated[int, typer.Option(min=1, max=10000, help="Referrals filed per week.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 461,
    force: Annotated[
        bool, typer.Option("--force", help="Load even if the store already holds events.")
    ] = False,
) -> None:
    """Load a realistic demo municipality (Odense, 461): suppliers, price lists, a year of referrals."""
    ledger = _open_ledger(Settings())
    try:
        if ledger.last_position() and not force:
            console.print(
                f"store already holds {ledger.last_position()} events; use --force to add the demo anyway"
            )
            raise typer.Exit(1)
        _load_demo(ledger, weeks=weeks, suppliers=suppliers, per_week=per_week, seed=seed)
    finally:
        ledger.close()
    console.print(AUTH_HINT, highlight=False)


@cli.command()
def config(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the table of every setting (docs/configuration.md).")
    ] = False,
) -> None:
    """The effective settings, where each came from (environment or default), secrets as ***; exit 0
    when caseledger can start with them, 2 with the reason when it cannot. Creates and connects to
    nothing."""
    if markdown:
        typer.echo(settings_table(), nl=False)
        return
    settings, problems = start_problems(os.environ)
    if settings is not None:
        rows = effective_settings(settings, os.environ)
        width = max(len(row.name) for row in rows)
        for row in rows:
            typer.echo(f"{row.name:<{width}}  {row.value}  ({row.source})")
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(2)
    assert settings is not None
    typer.echo(f"store: {settings.store_description()}")
    typer.echo("configuration OK")


projections_cli = typer.Typer(help="The projection worker and full rebuilds.", no_args_is_help=True)
cli.add_typer(projections_cli, name="projections")


def _runner(ledger: CaseLedger, settings: Settings) -> tuple[ProjectionRunner, ProjectionDatabase]:
    return projections_for(ledger, settings.storage_env(), settings)


@projections_cli.command("run")
def projections_run(
    stop_with_parent: Annotated[
        int | None, typer.Option(hidden=True, help="Stop when this process (serve --workers) is gone.")
    ] = None,
) -> None:
    """Follow the event store and keep the read models current (for production: serve with
    CASELEDGER_RUN_PROJECTIONS=false and run this as its own process). Stops on SIGINT/SIGTERM."""
    logging.config.dictConfig(log_config())
    settings = Settings()
    ledger = _open_ledger(settings)
    runner, db = _runner(ledger, settings)
    if db.dialect == "postgres" and settings.projection_nice:
        os.nice(settings.projection_nice)
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()
        runner.wake.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    if stop_with_parent is not None:
        threading.Thread(
            target=_stop_when_orphaned, args=(stop_with_parent, stop, runner), daemon=True
        ).start()
    if db.dialect == "postgres":
        console.print("waiting to be the one projection process (leader lock)")
    leader = lead(db, stop)
    if stop.is_set():
        db.close()
        ledger.close()
        return
    lost = threading.Event()
    if leader is not None:
        threading.Thread(target=watch_lead, args=(leader, stop, runner.wake, lost), daemon=True).start()
    console.print(
        f"projections at {runner.position()} of {ledger.last_position()}; following the log "
        f"(batches of up to {runner.batch_size:,} events, nice {os.nice(0)})"
    )
    try:
        runner.run_forever(stop)
    finally:
        console.print(f"projections stopped at {runner.position()}")
        if leader is not None:
            leader.close()
        db.close()
        ledger.close()
    if lost.is_set():
        console.print("[red]lost the leader lock (its connection ended); start again to wait for it[/red]")
        raise typer.Exit(1)


def _stop_when_orphaned(parent: int, stop: threading.Event, runner: ProjectionRunner) -> None:
    """Stop the runner once ``parent`` is no longer this process's parent (it was killed)."""
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()
            runner.wake.set()


@projections_cli.command("rebuild")
def projections_rebuild() -> None:
    """Rebuild every read model from position 0 beside the live ones, then switch (no downtime)."""
    settings = Settings()
    ledger = _open_ledger(settings, existing=True)
    runner, db = _runner(ledger, settings)
    try:
        started = time.perf_counter()
        with Progress(
            TextColumn("[bold]rebuild[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} events/s"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("rebuild", total=ledger.last_position(), rate="-")

            def advance(processed: int) -> None:
                progress.advance(task, processed)
                done = progress.tasks[0].completed
                progress.update(task, rate=f"{done / max(time.perf_counter() - started, 1e-9):,.0f}")

            done = runner.rebuild(advance)
        elapsed = time.perf_counter() - started
        console.print(f"rebuilt {done} events in {elapsed:.1f} s ({done / max(elapsed, 1e-9):,.0f} events/s)")
    finally:
        db.close()
        ledger.close()


audit_cli = typer.Typer(
    help="Integrity of the event store, decision trails and the access log.", no_args_is_help=True
)
cli.add_typer(audit_cli, name="audit")
stdout = Console()


@audit_cli.command("verify")
def audit_verify(
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole result as JSON.")] = False,
    expect: Annotated[
        str | None,
        typer.Option(
            help="A chain head kept from an earlier run, POSITION:GLOBAL_HASH; the chain must still pass through it."
        ),
    ] = None,
) -> None:
    """Recompute both hash chains over every stored event. Prints the problems and the chain head
    (keep it outside the database); exit code 1 when anything was altered, removed or reordered, or
    when the chain no longer passes through the ``--expect`` head."""
    if expect is not None and not re.fullmatch(ANCHOR_PATTERN, expect):
        raise typer.BadParameter("expected POSITION:GLOBAL_HASH (64 hex digits)", param_hint="--expect")
    ledger = _open_ledger(Settings(), existing=True)
    try:
        result = ledger.verify_integrity(anchor=parse_anchor(expect) if expect else None)
    finally:
        ledger.close()
    head = result["head"]
    if as_json:
        stdout.print_json(json.dumps(result))
    else:
        for problem in result["problems"]:
            stdout.print(
                f"[red]{problem['problem']}[/red] stream {problem['stream_id']} version {problem['version']}"
                f" position {problem['position']}: {problem['detail']}",
                highlight=False,
                soft_wrap=True,
            )
        verdict = (
            "[green]ok[/green]" if result["ok"] else f"[red]NOT OK[/red] ({result['problem_count']} problems)"
        )
        stdout.print(f"{verdict}: {result['checked']} events checked, {result['chained']} chain rows")
        anchor = result["anchor"]
        if anchor is not None:
            stdout.print(
                f"expected head at position {anchor['position']}: "
                + (
                    "[green]matches[/green]"
                    if anchor["ok"]
                    else f"[red]DOES NOT MATCH[/red] (found {anchor['found_hash']})"
                ),
                highlight=False,
                soft_wrap=True,
            )
        stdout.print(
            f"chain head: position {head['position']} global_hash {head['global_hash']} "
            f"computed_at {head['computed_at']}",
            highlight=False,
            soft_wrap=True,
        )
    if not result["ok"]:
        raise typer.Exit(1)


def _record_cli_read(
    ledger: CaseLedger,
    action: str,
    *,
    status: int = 200,
    referral_id: UUID | None = None,
    municipality: str = "*",
    query: dict[str, str] | None = None,
    output: str = "table",
) -> None:
    """Record a read of referral-level data by this command in the access log, as token
    ``cli:<OS user>`` (role ``cli``, every municipality). Raises when it cannot be recorded: the
    command then shows nothing (as the API answers 503)."""
    try:
        ledger.open_access_log().append(
            AccessEntry(
                token=f"cli:{getpass.getuser()}",
                role="cli",
                token_municipality="*",  # noqa: S106 -- a municipality, not a password
                municipality=municipality,
                action=action,
                status=status,
                referral_id=referral_id,
                query=query,
                format=output,
            )
        )
    except Exception as error:
        reason = escape(str(error))
        console.print(
            f"[red]the read could not be recorded in the access log, so nothing is shown: {reason}[/red]",
            highlight=False,
        )
        raise typer.Exit(2) from None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_cell(item)}" for key, item in value.items())
    return str(value)


@audit_cli.command("trail")
def audit_trail(
    referral_id: Annotated[UUID, typer.Argument(help="The referral's id.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the trail as JSON, as GET /audit/referrals/{id} answers it.")
    ] = False,
) -> None:
    """One referral's decision trail: who decided what, when, why and what it changed. This read is
    recorded in the access log (``audit.trail``), as token ``cli:<user>``; shown only once it is."""
    ledger = _open_ledger(Settings(), existing=True)
    try:
        try:
            trail = ledger.referral_trail(referral_id)
        except NotFound as error:
            _record_cli_read(ledger, "audit.trail", status=404, referral_id=referral_id)
            console.print(f"[red]{error.detail}[/red]")
            raise typer.Exit(1) from None
        municipality = ledger.referral_municipality(referral_id) or "*"
        _record_cli_read(
            ledger,
            "audit.trail",
            referral_id=referral_id,
            municipality=municipality,
            output="json" if as_json else "table",
        )
    finally:
        ledger.close()
    if as_json:
        document = TrailOut.model_validate(trail).model_dump(mode="json")
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        if not trail["integrity"]["ok"]:
            raise typer.Exit(1)
        return
    table = Table(title=f"referral {referral_id}", show_lines=True)
    for column in ("v", "type", "recorded at", "effective", "actor", "rationale", "changes", "integrity"):
        table.add_column(column)
    for entry in trail["entries"]:
        changes = entry["changes"] or {}
        table.add_row(
            str(entry["version"]),
            entry["type"],
            entry["recorded_at"] or "",
            entry["effective_date"] or "",
            _cell(entry["actor"]),
            entry["rationale"] or "",
            "\n".join(
                f"{key}: {_cell(c['from']) or '-'} → {_cell(c['to']) or '-'}"
                for key, c in sorted(changes.items())
            ),
            entry["integrity"],
        )
    stdout.print(table)
    integrity = trail["integrity"]
    verdict = "[green]intact[/green]" if integrity["ok"] else "[red]NOT intact[/red]"
    stdout.print(f"stream {verdict}: {integrity['checked']} events checked")
    if not integrity["ok"]:
        raise typer.Exit(1)


def _instant_option(value: str | None, *, next_day: bool = False) -> datetime | None:
    if value is None:
        return None
    try:
        return instant_from(TypeAdapter(InstantOrDay).validate_python(value), next_day=next_day)
    except ValidationError:
        raise typer.BadParameter(
            f"{value!r} is neither a date (YYYY-MM-DD) nor an RFC 3339 instant"
        ) from None


@audit_cli.command("access-log")
def audit_access_log(
    referral: Annotated[UUID | None, typer.Option("--referral", help="Only reads of this referral.")] = None,
    citizen_ref: Annotated[
        str | None,
        typer.Option("--citizen-ref", help="Only reads of this citizen's referrals (never stored)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="From this date (Copenhagen) or RFC 3339 instant, inclusive.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="To this date (inclusive) or before this instant.")
    ] = None,
    token: Annotated[str | None, typer.Option(help="Only reads by this token (its name).")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. referral.read.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Show at most the newest N entries.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print the entries as JSON.")] = False,
) -> None:
    """Who read or exported referral-level data (and who was refused), oldest first. This read is
    itself recorded, as token ``cli:<user>``."""
    query = AccessQuery(
        since=_instant_option(since),
        until=_instant_option(until, next_day=True),
        token=token,
        action=action,
        page_size=limit,
        newest_first=True,
    )
    ledger = _open_ledger(Settings(), existing=True)
    try:
        access_log = ledger.open_access_log()
        ids = ledger.access_log_referrals(referral, citizen_ref)
        found = access_log.entries(replace(query, referral_ids=ids))
        filters: dict[str, object] = {"referral": referral, "citizen_ref": citizen_ref, "since": since}
        filters |= {"until": until, "token": token, "action": action, "limit": limit}
        recorded = {k: "[redacted]" if k == "citizen_ref" else str(v) for k, v in filters.items() if v}
        _record_cli_read(ledger, "access_log.read", query=recorded, output="json" if as_json else "table")
    finally:
        ledger.close()
    items = list(reversed(found["items"]))
    if as_json:
        stdout.print_json(json.dumps(items))
        return
    table = Table(title=f"access log: {len(items)} of {found['total']} entries")
    for column in ("at", "token", "role", "municipality", "action", "referral / query", "status", "format"):
        table.add_column(column)
    for entry in items:
        target = entry["referral_id"] or _cell(entry["query"])
        table.add_row(
            entry["at"],
            entry["token"],
            entry["role"],
            entry["municipality"],
            entry["action"],
            target,
            str(entry["status"]),
            entry["format"],
        )
    stdout.print(table)


@cli.command()
def erase(
    citizen_ref: Annotated[
        str,
        typer.Argument(
            help="The citizen's citizen_ref; '-' reads it from standard input (keeps it "
            "out of the shell history)."
        ),
    ],
    municipality: Annotated[
        str,
        typer.Option(
            help="The municipality whose data of the citizen is erased (each municipality is its own "
            "data controller; the citizen's referrals elsewhere stay).",
            show_default=False,
        ),
    ],
    reason: Annotated[
        str, typer.Option(help="Why (kept with the erasure record; not the citizen_ref).")
    ] = "",
    actor: Annotated[str, typer.Option(help="Who erases (kept with the erasure record).")] = "cli",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase what one municipality holds about a citizen: destroy their data key of that
    municipality, so that citizen_ref, case_ref and purpose of each of its referrals for them read
    "erased" everywhere. Suppliers, prices, spending, decisions and the citizen's referrals in other
    municipalities stay. Cannot be undone."""
    if not re.fullmatch(r"\d{3}", municipality):
        console.print(f"[red]--municipality must be a 3-digit municipality code, not {municipality!r}[/red]")
        raise typer.Exit(2)
    if citizen_ref == "-":
        citizen_ref = typer.get_text_stream("stdin").readline().strip()
    ledger = _open_ledger(Settings(), existing=True)
    try:
        referral_ids = ledger.referral_ids_of_citizen(citizen_ref, municipality=municipality)
        if referral_ids and not yes:
            typer.confirm(
                f"erase the personal data of {len(referral_ids)} referral(s) of municipality "
                f"{municipality}? this cannot be undone",
                abort=True,
            )
        erased = ledger.erase_citizen(citizen_ref, municipality=municipality, actor=actor, reason=reason)
    except DomainError as error:
        console.print(f"[red]{error.detail}[/red]", highlight=False)
        raise typer.Exit(1) from None
    finally:
        ledger.close()
    if erased["already_erased"]:
        stdout.print(
            f"already erased at {erased['erased_at']} (erasure {erased['erasure_id']})", highlight=False
        )
    else:
        stdout.print(
            f"erased at {erased['erased_at']}: key {erased['key_id']} destroyed (erasure {erased['erasure_id']})",
            highlight=False,
        )
    for referral_id in erased["referral_ids"]:
        stdout.print(f"  referral {referral_id}", highlight=False)
    if not erased["purged"]:
        console.print(
            "[yellow]the SQLite write-ahead log could not be truncated (readers kept it busy); the key is "
            "destroyed, its old bytes leave the files at the next checkpoint[/yellow]",
            highlight=False,
        )


@dataclass
class ImportSummary:
    """What ``caseledger import`` did, line by line counted."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    lines: int = 0
    rejections: list[tuple[int, str | None, dict[str, Any]]] = field(default_factory=list)
    """The first rejections by line number (outcomes of several processes arrive out of order)."""

    def count(self, line: int, outcome: dict[str, Any], keep: int) -> None:
        self.lines += 1
        status = outcome["status"]
        if status == "accepted":
            self.accepted += 1
        elif status == "duplicate":
            self.duplicates += 1
        else:
            self.rejected += 1
            if keep and (len(self.rejections) < keep or line < self.rejections[-1][0]):
                bisect.insort(
                    self.rejections, (line, outcome.get("event_id"), outcome["problem"]), key=itemgetter(0)
                )
                del self.rejections[keep:]


def _malformed(detail: str) -> dict[str, Any]:
    return {
        "event_id": None,
        "status": "rejected",
        "problem": {
            "type": "/problems/malformed-line",
            "title": "Malformed line",
            "status": 400,
            "detail": detail,
        },
    }


def _numbered_chunks(lines: Iterable[bytes], size: int) -> Iterator[list[Line]]:
    """The file's non-blank lines, ``size`` at a time."""
    chunk: list[Line] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            chunk.append((number, json.loads(line), None))
        except ValueError as error:  # also UnicodeDecodeError
            chunk.append((number, None, _malformed(f"line {number} is not JSON: {error}")))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@cli.command("import")
def import_events(
    file: Annotated[str, typer.Argument(help="A JSON-lines file of /events items, or - for stdin.")],
    source_system: Annotated[
        str | None,
        typer.Option(help="Recorded as each event's source system (as POST /events source_system)."),
    ] = None,
    chunk: Annotated[
        int, typer.Option(min=1, max=10_000, help="Lines applied per batch (by each process, on average).")
    ] = 1000,
    show: Annotated[int, typer.Option(min=0, help="How many rejections to list in the summary.")] = 20,
    processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=16,
            help="Processes checking items, the lines shared out by referral. "
            "Default: one per available core, at most 3.",
        ),
    ] = None,
) -> None:
    """Bulk import of JSON-lines events (one /events item per line: event_id, type, referral_id |
    supplier_id, expected_version?, data), with the same per-item semantics as POST /events.

    Each event_id is claimed once, so running an import again is safe (its items answer
    duplicate). Runs as an operator with every right in every municipality; the actors recorded
    are those in the items' data (a supplier write without one: caseledger-import). Reads the file
    as a stream. With several processes, each referral's lines are applied in file order by one of
    them and supplier lines after everything before them. Exit code 0 when every line was accepted
    or a duplicate, 1 when any was rejected or malformed (listed with line numbers), 2 when the
    import stopped (storage unavailable, a worker process failed, Ctrl-C; what was stored stays
    stored, run it again)."""
    # Ctrl-C stops the import even when it was started with SIGINT ignored (as a shell starts a
    # background job, and a Python process keeps that): only an explicit SIGINT reaches it then.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        stream = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115
        total = None if file == "-" else Path(file).stat().st_size
    except OSError as error:
        console.print(f"[red]cannot read {file}: {error.strerror}[/red]", highlight=False)
        raise typer.Exit(2) from None
    settings = Settings()
    processes = processes or settings.import_processes()
    ledger = _open_ledger(settings)  # also checks the master key and creates the tables
    if processes > 1:
        ledger.close()  # the workers open their own: its connections would only sit idle
    summary = ImportSummary()
    started = time.perf_counter()
    pool = None
    try:
        if processes > 1:
            pool = ImportPool(processes, source_system)
        with Progress(
            TextColumn("[bold]import[/bold]"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[lines]:,} lines, {task.fields[rate]} events/s"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("import", total=total, lines=0, rate="-")
            chunks = _numbered_chunks(stream, chunk * processes)
            applied = pool.outcomes(chunks) if pool else _applied_here(ledger, chunks, source_system)
            for outcomes in applied:
                for number, outcome in outcomes:
                    summary.count(number, outcome, show)
                elapsed = max(time.perf_counter() - started, 1e-9)
                progress.update(
                    task,
                    completed=stream.tell() if total is not None else None,
                    lines=summary.lines,
                    rate=f"{(summary.accepted + summary.duplicates) / elapsed:,.0f}",
                )
    except (StorageUnavailable, ImportWorkerFailed, KeyboardInterrupt) as error:
        if isinstance(error, KeyboardInterrupt):
            reason = "interrupted"
        else:
            kind = (
                "storage unavailable" if isinstance(error, StorageUnavailable) else "a worker process failed"
            )
            reason = f"{kind}: {error}"
        console.print(f"[red]import stopped, {escape(reason)}[/red]", highlight=False)
        _print_import_summary(summary, time.perf_counter() - started)
        raise typer.Exit(2) from None
    finally:
        if pool:
            pool.close()
        if processes == 1:
            ledger.close()
        if file != "-":
            stream.close()
    _print_import_summary(summary, time.perf_counter() - started)
    if summary.rejected:
        raise typer.Exit(1)


def _applied_here(
    ledger: CaseLedger, chunks: Iterable[list[Line]], source_system: str | None
) -> Iterator[list[Outcome]]:
    """The outcomes of an import in this one process, a chunk at a time."""
    session = BatchSession(ledger)
    operator = import_operator()
    for lines in chunks:
        raws = [raw for _, raw, malformed in lines if malformed is None]
        results = iter(apply_items(ledger, operator, raws, source_system, session=session))
        yield [(number, malformed or next(results)) for number, _, malformed in lines]


def _print_import_summary(summary: ImportSummary, elapsed: float) -> None:
    stored = summary.accepted + summary.duplicates
    stdout.print(
        f"{summary.lines:,} lines in {elapsed:.1f} s: {summary.accepted:,} accepted, "
        f"{summary.duplicates:,} duplicates, {summary.rejected:,} rejected "
        f"({stored / max(elapsed, 1e-9):,.0f} events/s)",
        highlight=False,
    )
    if summary.rejections:
        stdout.print(f"first {len(summary.rejections)} of {summary.rejected:,} rejections:", highlight=False)
    for line, event_id, problem in summary.rejections:
        errors = [
            f"{'.'.join(str(part) for part in e.get('loc', []))}: {e.get('msg')}"
            for e in problem.get("errors") or []
        ]
        details = errors or [problem.get("detail") or ""]
        kind = str(problem.get("type", "")).removeprefix("/problems/")
        stdout.print(
            f"  line {line}" + (f" (event_id {event_id})" if event_id else "") + f": {problem.get('status')} "
            f"{kind}: " + "; ".join(d for d in dict.fromkeys(details) if d),
            highlight=False,
            soft_wrap=True,
            markup=False,
        )


tokens_cli = typer.Typer(help="Bearer tokens for the API (stored only as hashes).", no_args_is_help=True)
cli.add_typer(tokens_cli, name="tokens")


@tokens_cli.command("create")
def tokens_create(
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")],
    municipality: Annotated[
        str, typer.Option(help="The municipality code (three digits) the token covers, or '*' for all.")
    ],
    name: Annotated[
        str | None, typer.Option(help="A unique name, recorded as the actor; default: generated.")
    ] = None,
) -> None:
    """Create a token and print it once (only its SHA-256 hash is stored)."""
    ledger = _open_ledger(Settings())
    try:
        issued = ledger.open_tokens().create(role=role, municipality=municipality, name=name)
    except DomainError as error:
        console.print(f"[red]{error.detail}[/red]", highlight=False)
        raise typer.Exit(1) from None
    finally:
        ledger.close()
    token = issued.token
    console.print(
        f"token {token.name!r}: role {token.role}, municipality {token.municipality}. "
        "It is shown only now; send it as Authorization: Bearer <token>",
        highlight=False,
    )
    stdout.print(issued.secret, highlight=False, soft_wrap=True)


@tokens_cli.command("list")
def tokens_list() -> None:
    """Every token's name, role, municipality, creation and revocation (never the secrets)."""
    ledger = _open_ledger(Settings(), existing=True)
    try:
        tokens = ledger.open_tokens().tokens()
    finally:
        ledger.close()
    table = Table(title="tokens")
    for column in ("name", "role", "municipality", "created at", "revoked at"):
        table.add_column(column)
    for token in tokens:
        table.add_row(token.name, token.role, token.municipality, token.created_at, token.revoked_at or "")
    stdout.print(table)


@tokens_cli.command("revoke")
def tokens_revoke(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke a token: from now on it answers 401."""
    ledger = _open_ledger(Settings(), existing=True)
    try:
        token = ledger.open_tokens().revoke(name)
    except NotFound as error:
        console.print(f"[red]{error.detail}[/red]", highlight=False)
        raise typer.Exit(1) from None
    finally:
        ledger.close()
    stdout.print(f"revoked {token.name} at {token.revoked_at}", highlight=False)


def main() -> None:
    """Entry point of the ``caseledger`` console script."""
    tune_garbage_collector()
    cli()
