"""``caseledger import``: bulk import of JSON-lines events, in one process or several."""

from __future__ import annotations

import bisect
import json
import signal
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from api.batch_items import apply_items
from api.cli.stores import console, open_ledger, stdout
from api.import_pool import ImportPool, ImportWorkerFailed, Line, Outcome, import_operator
from api.settings import Settings
from application.errors import StorageUnavailable
from application.service.batch import BatchSession
from application.service.caseledger import CaseLedger


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
    ledger = open_ledger(settings)  # also checks the master key and creates the tables
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
    session = BatchSession(ledger.writes)
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
