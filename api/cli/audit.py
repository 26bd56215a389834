"""``caseledger audit``: integrity of the event store, decision trails and the access log."""

from __future__ import annotations

import getpass
import json
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from pydantic import TypeAdapter, ValidationError
from rich.markup import escape
from rich.table import Table

from api.audit_responses import TrailOut
from api.cli.receipts import issue_receipt, print_public_key, verify_receipt
from api.cli.stores import console, open_ledger, stdout
from api.fields import ANCHOR_PATTERN, InstantOrDay, instant_from, parse_anchor
from api.settings import Settings
from application.service.caseledger import CaseLedger
from application.storage.access_log import AccessEntry, AccessQuery
from domain.errors import NotFound

audit_cli = typer.Typer(
    help="Integrity of the event store, decision trails and the access log.", no_args_is_help=True
)


@audit_cli.command("verify")
def audit_verify(
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole result as JSON.")] = False,
    expect: Annotated[
        str | None,
        typer.Option(
            help="A chain head kept from an earlier run, POSITION:GLOBAL_HASH; the chain must still pass through it."
        ),
    ] = None,
    receipt: Annotated[
        Path | None,
        typer.Option(
            help="A receipt from 'caseledger audit receipt' or GET /audit/receipt: check its signature "
            "with the configured key and that the chain still holds its hash at its position.",
            dir_okay=False,
        ),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            help="With --receipt: the public key to check its signature with, as 'caseledger audit "
            "public-key' or GET /audit/public-key gave it (JSON), instead of the configured key; for a "
            "receipt signed before the key was changed, or to check without the signing key.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Recompute both hash chains over every stored event. Prints the problems and the chain head
    (keep it outside the database); exit code 1 when anything was altered, removed or reordered, or
    when the chain no longer passes through the ``--expect`` head. With ``--receipt``: one line,
    OK or why the receipt no longer holds (exit 1)."""
    if public_key is not None and receipt is None:
        raise typer.BadParameter("goes with --receipt", param_hint="--public-key")
    if receipt is not None:
        verify_receipt(receipt, public_key)
        return
    if expect is not None and not re.fullmatch(ANCHOR_PATTERN, expect):
        raise typer.BadParameter("expected POSITION:GLOBAL_HASH (64 hex digits)", param_hint="--expect")
    ledger = open_ledger(Settings(), existing=True)
    try:
        result = ledger.audit.verify_integrity(anchor=parse_anchor(expect) if expect else None)
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


@audit_cli.command("receipt")
def audit_receipt(
    out: Annotated[
        Path | None, typer.Option(help="Write the receipt to this file instead of stdout.", dir_okay=False)
    ] = None,
) -> None:
    """A signed receipt (JSON) of the global hash chain's head, as GET /audit/receipt gives it: keep
    it outside the database. Exit 1 when the chains do not verify (no receipt is issued)."""
    issue_receipt(out)


@audit_cli.command("public-key")
def audit_public_key() -> None:
    """The Ed25519 public key (base64, raw 32 bytes) receipts are signed with, and its key_id, as
    JSON: give it to whoever checks receipts."""
    print_public_key()


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
    ledger = open_ledger(Settings(), existing=True)
    try:
        try:
            trail = ledger.audit.referral_trail(referral_id)
        except NotFound as error:
            _record_cli_read(ledger, "audit.trail", status=404, referral_id=referral_id)
            console.print(f"[red]{error.detail}[/red]")
            raise typer.Exit(1) from None
        municipality = ledger.municipalities.of(referral_id) or "*"
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
    ledger = open_ledger(Settings(), existing=True)
    try:
        access_log = ledger.open_access_log()
        ids = ledger.privacy.access_log_referrals(referral, citizen_ref)
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
