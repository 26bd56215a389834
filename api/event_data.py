"""The ``data`` of each event type, derived from the domain event's own fields.

An event's ``data`` is its fields (``application.views.event_view``), so its schema is derived from
the event class of each event type in ``application.service.commands.EVENTS``: a new command gets its schema
without an edit here, unless it carries a mapping or a list of mappings, whose shape the domain
leaves as ``dict`` and is named in ``NESTED``. ``by_type`` turns a model with ``type`` and ``data``
into the union of one model per event type, keyed by ``type``.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, Union
from uuid import UUID

from eventsourcing.domain import Aggregate
from pydantic import BaseModel, Discriminator, Field, Tag, create_model
from typing_extensions import TypedDict

from api.fields import DayText
from api.responses import ContactOut, PackageOut, PackageTermsOut, RateOut
from application.service.commands import EVENTS
from application.views import EVENT_META

DecimalText = Annotated[
    str, Field(description="A decimal number as text, two decimals.", examples=["850.00"])
]
UuidText = Annotated[str, Field(json_schema_extra={"format": "uuid"})]


class ConsideredCandidateOut(BaseModel):
    """A supplier considered for a match and not chosen."""

    supplier_id: UuidText
    hourly_rate: DecimalText | None
    reason: str


class SupplierChangesOut(TypedDict, total=False):
    """The registered fields a details update changed: only those sent."""

    name: str
    contact: ContactOut
    target_groups: list[str]
    competencies: list[str]
    education_levels: list[str]
    capacity_hours_per_week: DecimalText | None


NESTED: dict[str, Any] = {
    "candidates": list[ConsideredCandidateOut],
    "package": PackageTermsOut | None,
    "contact": ContactOut,
    "changes": SupplierChangesOut,
    "rates": list[RateOut],
    "packages": list[PackageOut],
}
"""The shapes of the event fields the domain keeps as mappings, by field name."""

_PLAIN: dict[Any, Any] = {Decimal: DecimalText, date: DayText, UUID: UuidText}


def event_class(event_type: str) -> type[Aggregate.Event]:
    """The domain event class that records ``event_type`` (its ``TOPIC``)."""
    return EVENTS[event_type][1]


def _field_type(event_type: str, name: str, annotation: Any) -> Any:
    if name in NESTED:
        return NESTED[name]
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [_field_type(event_type, name, arg) for arg in typing.get_args(annotation)]
        return functools.reduce(lambda left, right: left | right, members)
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        return list[_field_type(event_type, name, item)]  # type: ignore[misc]
    if annotation in (str, bool, int, type(None)):
        return annotation
    if annotation in _PLAIN:
        return _PLAIN[annotation]
    raise TypeError(f"{event_type}.{name}: no schema for {annotation!r}; name its shape in NESTED")


def title(event_type: str, suffix: str) -> str:
    words = event_type.replace(".", "_").split("_")
    return "".join(word.capitalize() for word in words) + suffix


@functools.cache
def data_model(event_type: str) -> type[BaseModel]:
    """The model of ``data`` for one event type: ``ReferralMatchedData``."""
    cls = event_class(event_type)
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {
        name: (_field_type(event_type, name, annotation), ...)
        for name, annotation in hints.items()
        if name in {f.name for f in dataclasses.fields(cls)} and name not in EVENT_META
    }
    return create_model(title(event_type, "Data"), **fields)


def by_type(
    base: type[BaseModel],
    suffix: str,
    *,
    doc: str | None = None,
    aggregate: type[Aggregate] | None = None,
    unread: bool = False,
) -> Any:
    """The union of ``base`` specialised to each event type (of ``aggregate``, or all): ``type`` a
    constant, ``data`` that type's model, described as ``doc``; keyed by ``type``. With ``unread``,
    an entry without ``data`` (its stored bytes could not be read as an event) is ``base`` itself,
    whatever its ``type``."""
    event_types = [name for name, (owner, _) in EVENTS.items() if aggregate in (None, owner)]
    variants = [
        create_model(
            title(event_type, suffix),
            __base__=base,
            __doc__=f"{doc or base.__doc__} Type ``{event_type}``.",
            type=(Literal[event_type], ...),  # type: ignore[arg-type]
            data=(data_model(event_type), ...),
        )
        for event_type in event_types
    ]
    if not unread:
        return Annotated[Union[tuple(variants)], Field(discriminator="type")]  # noqa: UP007
    tagged = [Annotated[v, Tag(n)] for v, n in zip(variants, event_types, strict=True)]
    return Annotated[
        Union[(*tagged, Annotated[base, Tag(UNREAD)])],
        Discriminator(_read_type(frozenset(event_types))),
    ]


UNREAD = "unread"


def _read_type(event_types: frozenset[str]) -> Callable[[Any], str]:
    """The tag of an entry: its ``type`` when it is one of ``event_types`` and was read, else unread."""

    def tag(entry: Any) -> str:
        if isinstance(entry, dict):
            event_type, data = entry.get("type"), entry.get("data")
        else:
            event_type, data = getattr(entry, "type", None), getattr(entry, "data", None)
        return event_type if event_type in event_types and data is not None else UNREAD

    return tag
