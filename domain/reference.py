"""Reference data shipped with caseledger: legal bases, intervention types and municipalities.

Read from the CSV files in ``domain/reference_data`` on first use.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import TypeVar

from domain.errors import InvalidInput, RuleViolation

_Entry = TypeVar("_Entry")


@dataclass(frozen=True)
class LegalBasis:
    """A section of law a measure can be granted under."""

    code: str
    law: str
    section: str
    subsection: str
    number: str
    title_da: str
    title_en: str
    valid_from: date
    valid_to: date | None
    successor: str | None

    def is_valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Intervention:
    """A kind of measure, its usual unit and the legal bases that allow it."""

    code: str
    name_da: str
    name_en: str
    unit: str
    legal_bases: frozenset[str]


@dataclass(frozen=True)
class Municipality:
    """One of Denmark's 98 municipalities: its kommunekode and name."""

    code: str
    name: str


@dataclass(frozen=True)
class Reference:
    """The legal bases and interventions caseledger validates against, and the municipalities."""

    legal_bases: dict[str, LegalBasis]
    interventions: dict[str, Intervention]
    municipalities: dict[str, Municipality]

    def intervention(self, code: str, field: str = "intervention") -> Intervention:
        return _known(self.interventions, code, field, "intervention")

    def legal_basis(self, code: str, field: str = "legal_basis") -> LegalBasis:
        return _known(self.legal_bases, code, field, "legal basis")

    def check_grant(self, legal_basis: str, intervention: str, on: date) -> None:
        """Rule 5 of the domain: the intervention is allowed under the basis, valid on ``on``."""
        basis = self.legal_basis(legal_basis)
        kind = self.intervention(intervention)
        if basis.code not in kind.legal_bases:
            allowed = ", ".join(sorted(kind.legal_bases))
            msg = f"intervention {intervention!r} is not allowed under {legal_basis!r} (allowed: {allowed})"
            raise RuleViolation("intervention-not-allowed", msg, field="intervention")
        if not basis.is_valid_on(on):
            until = basis.valid_to.isoformat() if basis.valid_to else "open"
            hint = f"; use {basis.successor}" if basis.successor else ""
            msg = (
                f"legal basis {legal_basis!r} is valid {basis.valid_from.isoformat()} to {until}, "
                f"not on requested_start {on.isoformat()}{hint}"
            )
            raise RuleViolation("legal-basis-not-valid", msg, field="legal_basis")


def _known(table: Mapping[str, _Entry], code: str, field: str, kind: str) -> _Entry:
    """``table[code]``, or the error that names ``field`` and the ``kind`` of code it should hold."""
    try:
        return table[code]
    except KeyError:
        msg = f"{field} {code!r} is not a known {kind} code"
        raise InvalidInput(f"unknown-{kind.replace(' ', '-')}", msg, field=field) from None


def _date_or_none(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _rows(name: str) -> list[dict[str, str]]:
    text = (resources.files("domain") / "reference_data" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _record(make: Callable[..., _Entry], row: dict[str, str], **parsed: object) -> _Entry:
    """The record of a CSV ``row``: its columns as text, but those ``parsed`` (a column the record
    does not have is an error)."""
    return make(**(row | parsed))


@cache
def load_reference() -> Reference:
    """Read the shipped reference CSVs once per process."""
    legal_bases = {
        row["code"]: _record(
            LegalBasis,
            row,
            valid_from=date.fromisoformat(row["valid_from"]),
            valid_to=_date_or_none(row["valid_to"]),
            successor=row["successor"] or None,
        )
        for row in _rows("legal_bases.csv")
    }
    interventions = {
        row["code"]: _record(Intervention, row, legal_bases=frozenset(row["legal_bases"].split(";")))
        for row in _rows("interventions.csv")
    }
    municipalities = {row["code"]: _record(Municipality, row) for row in _rows("municipalities.csv")}
    return Reference(legal_bases=legal_bases, interventions=interventions, municipalities=municipalities)
