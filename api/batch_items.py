"""The items of a batch (``POST /events``, ``caseledger import``): each checked, authorised and
applied on its own, in order, with the ``/events`` result of each."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeGuard
from uuid import UUID

from pydantic import BaseModel, ValidationError

from api.auth import Principal, authorize_command
from api.commands import COMMANDS
from api.dependencies import canonical_json
from api.fields import parse_uuid
from api.problems import domain_problem, problem, validation_problem
from api.schemas import BatchItemIn
from application.keys import ANY_SCOPE, earlier_event_key, event_key
from application.service.batch import BatchSession, iter_batch
from application.service.caseledger import CaseLedger
from application.service.context import WriteContext, WriteResult
from domain.errors import DomainError, NotFound


def _echo(event_id: Any) -> str | None:
    """The item's ``event_id`` as sent, if it is text; lone surrogates escaped so the answer encodes."""
    if not isinstance(event_id, str):
        return None
    return event_id.encode("utf-8", "backslashreplace").decode("utf-8")


def _rejected(event_id: Any, problem: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": _echo(event_id), "status": "rejected", "problem": problem}


ITEM_FINGERPRINT = "v2:"
"""Marks the current form of an item's fingerprint (claims stored before it have the earlier one)."""


def _item_fingerprint(item: BatchItemIn, body: BaseModel) -> str:
    """A hash of what an item asks for. The body is the validated model as pydantic writes it to
    JSON: its fields in the model's order, values normalised (850 and "850.00" alike), so equal
    items hash alike — and cheaper per item than sorting a dump of it (figures: docs/benchmarks.md)."""
    header = f"{item.type}\n{item.referral_id or ''}\n{item.supplier_id or ''}\n"
    return ITEM_FINGERPRINT + hashlib.sha256((header + body.model_dump_json()).encode()).hexdigest()


def _earlier_item_fingerprint(item: BatchItemIn, body: BaseModel) -> str:
    """The fingerprint items were claimed with before ``ITEM_FINGERPRINT``: the same content as
    sorted JSON."""
    canonical = canonical_json(
        {
            "type": item.type,
            "referral_id": str(item.referral_id) if item.referral_id else None,
            "supplier_id": str(item.supplier_id) if item.supplier_id else None,
            "data": body.model_dump(mode="json"),
        }
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ItemWritten(WriteResult):
    """An accepted (or replayed) item's write result with its ``event_id``."""

    event_id: str = ""


def _apply(
    ledger: CaseLedger, principal: Principal, raw: Any, source_system: str | None
) -> ItemWritten | dict[str, Any]:
    """One item: its write result when accepted or a replay, else its ``rejected`` answer."""
    if not isinstance(raw, dict):
        detail = "each item must be an object {event_id, type, referral_id | supplier_id, data}"
        return _rejected(None, problem(422, "invalid-input", "Invalid input", detail))
    try:
        item = BatchItemIn.model_validate(raw)
        command = COMMANDS[item.type]
        body = command.body.model_validate(item.data)
    except ValidationError as error:
        return _rejected(raw.get("event_id"), validation_problem(error.errors()))
    # None for a command whose aggregate its data names (``CommandType.per``)
    target: UUID | None = getattr(item, command.target, None)
    try:
        body = authorize_command(principal, ledger, item.type, target, body)
    except DomainError as error:
        return _rejected(item.event_id, domain_problem(error))
    try:
        context = WriteContext(
            fingerprint=_item_fingerprint(item, body),
            expected_version=item.expected_version,
            event_id=item.event_id,
            event_scope=_event_scope(principal, ledger, item.type, target, body),
            source_system=source_system,
            earlier_fingerprint=partial(_earlier_item_fingerprint, item, body),
        )
        result = command.run(ledger, target, body, context)
    except DomainError as error:
        return _rejected(item.event_id, domain_problem(error))
    return ItemWritten(result.id, result.version, result.position, result.replayed, event_id=item.event_id)


def _files_referral(item_type: str) -> bool:
    """Whether ``item_type`` is the command that files a new referral (which names its municipality)."""
    command = COMMANDS.get(item_type)
    return command is not None and command.declared.kind == "referral" and command.declared.creates


def _on_referral(item_type: str) -> bool:
    """Whether ``item_type`` is a command on an existing referral (whose municipality is stored)."""
    command = COMMANDS.get(item_type)
    return command is not None and command.declared.kind == "referral" and not command.declared.creates


def _event_scope(
    principal: Principal, ledger: CaseLedger, item_type: str, target: UUID | None, body: Any
) -> str:
    """The municipality an item's ``event_id`` is claimed in (docs/idempotency.md): a scoped token's
    own (every item it may write concerns it); for a token of every municipality, the municipality
    of the referral the item concerns, or ``*`` for a supplier item. A referral that does not exist
    answers as the command would."""
    if not principal.all_municipalities:
        return principal.municipality
    if _files_referral(item_type):
        return str(body.municipality)
    if not _on_referral(item_type) or target is None:
        return ANY_SCOPE
    municipality = ledger.municipalities.of(target)
    if municipality is None:
        msg = f"no referral with id {target}"
        raise NotFound("referral-not-found", msg)
    return municipality


@dataclass(frozen=True)
class _Shape:
    """What an unvalidated item says about the scope of its ``event_id``."""

    kind: str
    referral_id: UUID | None
    municipality: str | None  # the one an item filing a referral names

    @classmethod
    def of(cls, raw: Any) -> _Shape:
        raw = raw if isinstance(raw, dict) else {}
        kind = raw.get("type") if isinstance(raw.get("type"), str) else ""
        data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
        referral_id = parse_uuid(raw.get("referral_id"))
        if _files_referral(kind):
            named = data.get("municipality")
            return cls(
                kind, referral_id or parse_uuid(data.get("id")), named if isinstance(named, str) else None
            )
        return cls(kind, referral_id, None)


def _scope_hints(principal: Principal, ledger: CaseLedger, raws: Sequence[Any]) -> list[str | None]:
    """The scope ``_event_scope`` will find for each raw item, where it is known without reading
    item by item, so that the batch's claims are read in one query: a scoped token's municipality;
    for a token of every municipality, the referral's (read for the batch's referrals in one query),
    or the one an item filing it names. None where it is not known (an invalid item, a
    referral that does not exist): that item's claim is then read on its own."""
    if not principal.all_municipalities:
        return [principal.municipality] * len(raws)
    shapes = [_Shape.of(raw) for raw in raws]
    filed = {
        s.referral_id: s.municipality
        for s in reversed(shapes)  # the first of them wins, as in the batch
        if _files_referral(s.kind) and s.referral_id is not None and s.municipality is not None
    }
    # Those filed by an item of this batch too: when that item is a duplicate, nothing else reads them.
    ledger.municipalities.learn(
        [s.referral_id for s in shapes if s.referral_id and not _files_referral(s.kind)]
    )
    hints: list[str | None] = []
    for shape in shapes:
        if _files_referral(shape.kind):
            hints.append(shape.municipality)
        elif not _on_referral(shape.kind) or shape.referral_id is None:
            hints.append(ANY_SCOPE)
        else:
            known = ledger.municipalities.remembered(shape.referral_id) or filed.get(shape.referral_id)
            hints.append(known)
    return hints


def _outcome(result: WriteResult | dict[str, Any]) -> dict[str, Any]:
    if not isinstance(result, ItemWritten):
        assert isinstance(result, dict)
        return result
    return {
        "event_id": result.event_id,
        "status": "duplicate" if result.replayed else "accepted",
        **result.body(),
    }


def _encodable(value: Any) -> TypeGuard[str]:
    """Whether an item's raw ``event_id`` can be looked up before the item is checked: a string that
    both databases can hold (UTF-8, no NUL, which PostgreSQL's text refuses)."""
    try:
        return isinstance(value, str) and bool(value.encode("utf-8")) and "\x00" not in value
    except UnicodeEncodeError:
        return False


def apply_items(
    ledger: CaseLedger,
    principal: Principal,
    raws: Sequence[Any],
    source_system: str | None,
    *,
    session: BatchSession | None = None,
) -> list[dict[str, Any]]:
    """Apply batch items in order, each accepted or rejected on its own, committed in chunks (see
    ``application.service.batch``); the ``/events`` result of each. Shared by ``POST /events`` and
    ``caseledger import``."""
    keys: list[str] = []
    targets: list[UUID] = []
    for raw, scope in zip(raws, _scope_hints(principal, ledger, raws), strict=True):
        if isinstance(raw, dict):
            if _encodable(event_id := raw.get("event_id")):
                keys.append(earlier_event_key(event_id))
                if scope is not None:
                    keys.append(event_key(scope, event_id))
            targets += [
                t for t in (parse_uuid(raw.get("referral_id")), parse_uuid(raw.get("supplier_id"))) if t
            ]
    items: list[Callable[[], WriteResult | dict[str, Any]]] = [
        partial(_apply, ledger, principal, raw, source_system) for raw in raws
    ]
    results = list(iter_batch(ledger.writes, items, keys=keys, aggregate_ids=targets, session=session))
    return [_outcome(result) for result in results]
