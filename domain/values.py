"""Small value checks shared by the aggregates: actors, sources, dates, municipality codes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TypedDict

from domain.errors import InvalidInput
from domain.text import optional, reject_cpr, reject_cpr_identifier, required

EARLIEST = date(1990, 1, 1)
LATEST = date(2199, 12, 31)


class Actor(TypedDict, total=False):
    """Who decided: an id from the municipality's directory, and a display name."""

    id: str
    name: str


class Source(TypedDict, total=False):
    """Where an integrated event came from: the case system and its own event id."""

    system: str
    event_id: str


def actor(value: Mapping[str, str | None], field: str = "actor") -> Actor:
    """An actor with a non-blank id and an optional name."""
    result: Actor = {"id": required(value.get("id") or "", f"{field}.id")}
    name = optional(value.get("name"))
    if name:
        result["name"] = name
    return result


def source(value: Mapping[str, str | None] | None) -> Source | None:
    """The integration source of an event, if any. Its system's name is screened as free text, its
    event id as an identifier (``domain.text``)."""
    if not value:
        return None
    reject_cpr({key: item for key, item in value.items() if key != "event_id"}, "source")
    event_id = value.get("event_id")
    if event_id is not None:
        reject_cpr_identifier(event_id, "source.event_id")
    result: Source = {}
    for key in ("system", "event_id"):
        text = optional(value.get(key))
        if text:
            result[key] = text
    return result or None


class Decided(TypedDict):
    """The last two fields of every command's event: who decided, and where it came from."""

    actor: Actor
    source: Source | None


def decided(decided_by: Mapping[str, str | None], origin: Mapping[str, str | None] | None) -> Decided:
    """A command's ``decided_by`` and ``origin`` checked (``actor``, ``source``), as its event's fields."""
    return {"actor": actor(decided_by), "source": source(origin)}


def day(value: date, field: str) -> date:
    """A business date within the range caseledger accepts."""
    if not EARLIEST <= value <= LATEST:
        msg = f"{field} {value.isoformat()} is outside {EARLIEST.isoformat()}..{LATEST.isoformat()}"
        raise InvalidInput("date-out-of-range", msg, field=field)
    return value


def not_before(later: date, earlier: date, later_field: str, earlier_field: str) -> None:
    """Refuse ``later`` when it lies before ``earlier`` (both inclusive calendar dates)."""
    if later < earlier:
        msg = (
            f"{later_field} ({later.isoformat()}) must not be before {earlier_field} ({earlier.isoformat()})"
        )
        raise InvalidInput("dates-out-of-order", msg, field=later_field)


def municipality(code: str, field: str = "municipality") -> str:
    """A three-digit kommunekode."""
    if len(code) != 3 or not code.isascii() or not code.isdigit():
        msg = f"{field} must be a three-digit municipality code, got {code!r}"
        raise InvalidInput("invalid-municipality", msg, field=field)
    return code
