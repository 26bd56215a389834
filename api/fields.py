"""Field types for request and response bodies: exact money and hours, strict ISO dates, text."""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CENT = Decimal("0.01")
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
"""A month, ``YYYY-MM``."""
ANCHOR_PATTERN = r"^[0-9]{1,18}:[0-9a-fA-F]{64}$"
"""A chain head kept from an earlier verification, ``POSITION:GLOBAL_HASH``."""


def parse_anchor(text: str) -> tuple[int, str]:
    """``POSITION:GLOBAL_HASH`` as printed in a verification's head (already matched the pattern)."""
    position, digest = text.split(":")
    return int(position), digest.lower()


def parse_uuid(value: object) -> UUID | None:
    """``value`` as a UUID when it is text that a ``UUID`` field accepts, else None (for raw input
    read before its validation: a batch item's targets, a path parameter). Python's ``UUID()``
    alone reads more (a leading ``+``, hyphens elsewhere), which the fields answer with 422."""
    if not isinstance(value, str):
        return None
    try:
        return _uuid_field().validate_python(value)
    except ValidationError:
        return None


@functools.cache
def _uuid_field() -> TypeAdapter[UUID]:
    return TypeAdapter(UUID)


def _exact_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError('must be a decimal number, as a string ("850.00") or a JSON number')
    text = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    if amount.adjusted() >= 15:
        raise ValueError("is far too large")
    if amount != amount.quantize(CENT):
        raise ValueError("has more than two decimals; amounts are exact to the øre, never rounded")
    return amount.quantize(CENT)


def _two_decimals(amount: Decimal) -> str:
    return f"{amount:.2f}"


_DECIMAL_SCHEMA = WithJsonSchema(
    {
        "anyOf": [{"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$"}, {"type": "number"}],
        "examples": ["850.00"],
        "description": "Exact, at most two decimals; answered as a string with two decimals.",
    },
    mode="validation",
)

Money = Annotated[
    Decimal,
    PlainValidator(_exact_decimal),
    PlainSerializer(_two_decimals, return_type=str),
    _DECIMAL_SCHEMA,
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["850.00"]}, mode="serialization"
    ),
]
"""DKK with øre. Accepts "850.00" or 850 or 850.5; refuses a third decimal."""

Hours = Money
"""Hours per week (face-to-face), same exactness as money."""


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_date)]
"""A calendar date, only as ``YYYY-MM-DD``."""


def _aware(value: Any) -> Any:
    if isinstance(value, str) and not re.search(r"(Z|[+-]\d{2}:?\d{2})$", value.strip()):
        raise ValueError("must be an RFC 3339 instant with an offset, e.g. 2026-03-01T12:00:00Z")
    return value


Instant = Annotated[datetime, BeforeValidator(_aware)]
"""An RFC 3339 instant with an offset."""

MAX_POSITION = 2**63 - 1
"""The largest global position either database can store (a signed 64-bit integer)."""

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(min_length=1, max_length=10_000)]
Code = Annotated[str, Field(min_length=1, max_length=64)]
SearchText = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
"""A text filter in a query string: no control characters (PostgreSQL cannot compare text with NUL)."""
# A batch item's id: looked up in the claims table, so no control characters (PostgreSQL's text
# cannot hold NUL at all).
EventId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
Municipality = Annotated[str, Field(pattern=r"^\d{3}$", examples=["461"])]
Cvr = Annotated[str, Field(pattern=r"^\d{8}$", examples=["12345674"])]


def _instant_or_day(value: Any) -> date | datetime:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a date (YYYY-MM-DD) or an RFC 3339 instant")
    text = value.strip()
    if _ISO_DATE.match(text):
        return date.fromisoformat(text)
    _aware(text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("must be a date (YYYY-MM-DD) or an RFC 3339 instant") from None


InstantOrDay = Annotated[
    date | datetime,
    PlainValidator(_instant_or_day),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
            "examples": ["2026-06-01", "2026-06-01T08:00:00Z"],
            "description": "A date (YYYY-MM-DD, a whole day in Europe/Copenhagen) or an RFC 3339 instant.",
        }
    ),
]
"""A date or an instant with an offset."""


def instant_from(value: date | datetime | None, *, next_day: bool = False) -> datetime | None:
    """An instant as given; a date as the start of that day (or of the next: the end of an
    inclusive period) in Europe/Copenhagen."""
    if value is None or isinstance(value, datetime):
        return value
    day = value + timedelta(days=1) if next_day else value
    return datetime.combine(day, time(0), tzinfo=ZoneInfo("Europe/Copenhagen"))


# Dates and instants in answers, kept as the strings the views make (ISO 8601) and declared with
# their format, so that generated clients get date types.
DayText = Annotated[str, Field(json_schema_extra={"format": "date"})]
InstantText = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
MonthText = Annotated[str, Field(json_schema_extra={"pattern": MONTH_PATTERN})]
