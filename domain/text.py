"""Checks on free text: no CPR numbers (docs/domain.md rule 7), nothing blank where text is required.

Free text is screened for CPR numbers anywhere in it (``reject_cpr``). An identifier a system
generates (a case system's ``event_id``) is not free text: a random one holds ten digits reading as a
date often enough (0.11 % of ``uuid4().hex``) that its retries would be refused for ever. It is
refused only when it is a CPR number as a whole, or holds one written with its dash (or space) once
any UUID in it is set aside (``reject_cpr_identifier``). A whole UUID, with or without its dashes, is
taken for an identifier wherever it stands.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence

from domain.errors import InvalidInput

# Six digits forming a DDMMYY date, an optional dash (or space), four digits, not inside a longer number.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_CPR_LIKE = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})[- ]?\d{4}(?!\d)")
# About one random UUID in 2,400 has ten digits in a row that read as a date (one in 900 written as
# 32 hex digits without the dashes); a whole UUID, either way written, is an id.
_UUID_FORMS = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}"
_UUID = re.compile(_UUID_FORMS)
_UUID_INSIDE = re.compile(rf"(?<![0-9a-fA-F])(?:{_UUID_FORMS})(?![0-9a-fA-F])")
_CPR_WRITTEN = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})[- ]\d{4}(?!\d)")


def _is_ddmmyy(day: int, month: int, year: int) -> bool:
    if not 1 <= month <= 12:
        return False
    # The century is unknown: 29 February counts whenever YY is a leap year in some century.
    last_day = 29 if month == 2 and year % 4 == 0 else calendar.monthrange(2001, month)[1]
    return 1 <= day <= last_day


def contains_cpr(text: str) -> bool:
    """True when ``text`` contains something that reads as a CPR number (a whole UUID never does,
    with or without its dashes)."""
    if _CPR_LIKE.search(text) is None or _UUID.fullmatch(text):  # the first: nearly every text
        return False
    return any(_reads_as_cpr(m) for m in _CPR_LIKE.finditer(text))


def _reads_as_cpr(match: re.Match[str]) -> bool:
    return _is_ddmmyy(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def identifier_holds_cpr(identifier: str) -> bool:
    """True when ``identifier`` is as a whole (around blanks) a CPR number, or holds one written
    with its dash or space outside any UUID in it; ten digits among other characters are not."""
    whole = _CPR_LIKE.fullmatch(identifier.strip())
    if whole is not None and _reads_as_cpr(whole):
        return True
    rest = _UUID_INSIDE.sub(" ", identifier)
    return any(_reads_as_cpr(m) for m in _CPR_WRITTEN.finditer(rest))


def reject_cpr(value: object, field: str) -> None:
    """Walk strings, mappings and sequences; refuse the first CPR-like number or control character.

    Control characters (other than tab and line breaks) are refused too: they carry no meaning in a
    case record, and PostgreSQL cannot store NUL in text.
    """
    if isinstance(value, str):
        if contains_cpr(value):
            msg = f"{field} contains what looks like a CPR number; personal identity numbers are never stored"
            raise InvalidInput("cpr-number-in-text", msg, field=field)
        _reject_control(value, field)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            reject_cpr(item, f"{field}.{key}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes):
        for index, item in enumerate(value):
            reject_cpr(item, f"{field}[{index}]")


def reject_cpr_identifier(value: str, field: str) -> None:
    """Refuse an identifier that holds a CPR number (``identifier_holds_cpr``) or a control
    character; one that merely contains ten digits reading as a date among other characters, as
    one ``uuid4().hex`` in 900 does, is accepted."""
    if identifier_holds_cpr(value):
        msg = f"{field} contains what looks like a CPR number; personal identity numbers are never stored"
        raise InvalidInput("cpr-number-in-text", msg, field=field)
    _reject_control(value, field)


def _reject_control(value: str, field: str) -> None:
    if _CONTROL.search(value):
        msg = f"{field} contains a control character"
        raise InvalidInput("control-character-in-text", msg, field=field)


def reject_cpr_in(fields: Mapping[str, object]) -> None:
    """``reject_cpr`` over every named field of a command."""
    for name, value in fields.items():
        reject_cpr(value, name)


def required(value: str, field: str) -> str:
    """Non-blank text, trimmed."""
    text = value.strip()
    if not text:
        msg = f"{field} must not be blank"
        raise InvalidInput("blank-text", msg, field=field)
    return text


def optional(value: str | None) -> str | None:
    """Trimmed text, or None when absent or blank."""
    if value is None:
        return None
    return value.strip() or None
