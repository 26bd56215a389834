"""``caseledger audit receipt``, ``audit public-key`` and ``audit verify --receipt``: signed receipts
of the hash chain's head (``application.audit.receipts``)."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from api.cli.stores import console, open_ledger
from api.settings import Settings
from application.audit.receipts import public_key_of
from application.audit.signing_key import SigningKey, SigningKeyError
from domain.errors import RuleViolation


def configured_key(settings: Settings) -> SigningKey:
    """The receipt key the settings name; none or a malformed one is one line and exit 2."""
    try:
        key = settings.receipt_key()
    except SigningKeyError as error:
        console.print(f"[red]{escape(str(error))}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if key is None:
        console.print(
            "[red]no receipt signing key: set CASELEDGER_SIGNING_KEY or CASELEDGER_SIGNING_KEY_FILE[/red]",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)
    return key


def issue_receipt(out: Path | None) -> None:
    """Print (or write to ``out``) a signed receipt of the chain head; exit 1 when the chains do not
    verify (no receipt is issued for them)."""
    settings = Settings()
    key = configured_key(settings)
    ledger = open_ledger(settings, existing=True)
    try:
        receipt = ledger.audit.receipt(key)
    except RuleViolation as error:
        console.print(f"[red]{escape(error.detail)}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        ledger.close()
    text = json.dumps(receipt, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"receipt of position {receipt['position']} written to {out}")


def print_public_key() -> None:
    """Print ``{key_id, public_key}`` of the configured key as JSON."""
    typer.echo(json.dumps(public_key_of(configured_key(Settings()))))


def _json_object(path: Path, what: str) -> dict[str, Any]:
    """The JSON object in ``path``; anything else is one line and exit 1."""
    try:
        value: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        typer.echo(f"receipt NOT OK: cannot read {path}: {error}")
        raise typer.Exit(1) from None
    if not isinstance(value, dict):
        typer.echo(f"receipt NOT OK: {path} is not {what} (a JSON object)")
        raise typer.Exit(1)
    return value


def _exported_public_key(path: Path) -> bytes:
    """The raw public key of a ``{key_id, public_key}`` export; a malformed one is exit 1."""
    exported = _json_object(path, "a public key")
    try:
        raw = base64.b64decode(str(exported["public_key"]), validate=True)
    except (KeyError, binascii.Error):
        raw = b""
    if len(raw) != 32:
        typer.echo(f"receipt NOT OK: {path} holds no Ed25519 public key (public_key: 32 bytes, base64)")
        raise typer.Exit(1)
    return raw


def verify_receipt(path: Path, public_key_path: Path | None = None) -> None:
    """Check a receipt: its signature with the configured key's public key (or the exported one in
    ``public_key_path``), and that the chain still holds its hash at its position with nothing
    altered; one line, exit 0 or 1."""
    receipt = _json_object(path, "a receipt")
    settings = Settings()
    if public_key_path is None:
        public_key = configured_key(settings).public_key
    else:
        public_key = _exported_public_key(public_key_path)
    ledger = open_ledger(settings, existing=True)
    try:
        reason = ledger.audit.check_receipt(receipt, public_key)
    finally:
        ledger.close()
    if reason is not None:
        typer.echo(f"receipt NOT OK: {reason}")
        raise typer.Exit(1)
    typer.echo(f"receipt OK: the chain still holds {receipt['chain_head']} at position {receipt['position']}")
