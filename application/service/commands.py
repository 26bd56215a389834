"""The write commands, each declared once.

A command is data: the event type it records (also a batch item's ``type``), the aggregate and the
method it calls, the right it needs, its Danish label, and what the write path must look up or claim
for it. The routes, the batch item union, the OpenAPI document, the access checks, the CLI import
and the dashboard's labels are all derived from ``COMMANDS``; the write path
(``application.service.write_path``) runs any of them the same way.

Adding a command: the domain method (and its event), one ``CommandType`` here, its request body in
``api.schemas`` bound in ``api.commands.BODIES`` (and its route, if it has one, in
``api.commands.ROUTES``), and tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from eventsourcing.domain import Aggregate

from domain.own_cost import OwnCosts
from domain.referral import Referral
from domain.supplier import Supplier

CHOSEN: Final = "chosen"
MATCHED: Final = "matched"


@dataclass(frozen=True)
class Unique:
    """An argument whose value only one aggregate may hold (claimed with the events it is saved in)."""

    argument: str
    problem: str
    message: str
    """Formatted with ``value`` and ``owner`` (the aggregate holding it)."""

    def key(self, value: str) -> str:
        return f"{self.argument}:{value}"


@dataclass(frozen=True)
class CommandType:
    """One write command."""

    name: str
    """The type of the event it records: ``referral.matched``."""
    aggregate: type[Aggregate]
    method: str
    """The aggregate's command method (a class method when ``creates``)."""
    right: str
    label: str
    """Danish, for people reading a decision history."""
    creates: bool = False
    renamed: Mapping[str, str] = field(default_factory=dict)
    """Request fields whose domain argument is named otherwise: ``{"municipality": "municipality_code"}``."""
    supplier: Literal["chosen", "matched"] | None = None
    """Which supplier the command reads: the one the request names (``supplier_id``, and each
    candidate's, must be registered) or the referral's matched supplier."""
    unique: Unique | None = None
    per: str | None = None
    """One aggregate per value of this request field (``municipality``): the command names no id,
    the aggregate's ``id_for(value)`` is it, and its first command starts it (``start(id, value)``)."""

    @property
    def target(self) -> str:
        """The id field naming the aggregate: ``referral_id`` or ``supplier_id``."""
        return f"{self.aggregate.__name__.lower()}_id"

    @property
    def kind(self) -> str:
        return self.aggregate.__name__.lower()


CVR = Unique(
    "cvr",
    "cvr-already-registered",
    "CVR {value} is already registered (supplier {owner}); one supplier per CVR number",
)

COMMANDS: dict[str, CommandType] = {
    command.name: command
    for command in (
        CommandType(
            "supplier.registered",
            Supplier,
            "register",
            "supplier:write",
            "Leverandør registreret",
            creates=True,
            unique=CVR,
        ),
        CommandType(
            "supplier.details_updated", Supplier, "update_details", "supplier:write", "Leverandør ændret"
        ),
        CommandType(
            "supplier.price_list_negotiated",
            Supplier,
            "negotiate_price_list",
            "price_list:write",
            "Prisliste forhandlet",
            renamed={"municipality": "municipality_code"},
        ),
        CommandType(
            "referral.referred",
            Referral,
            "refer",
            "referral:refer",
            "Indstillet",
            creates=True,
            renamed={"municipality": "municipality_code"},
        ),
        CommandType(
            "referral.matched", Referral, "match", "referral:match", "Leverandør valgt", supplier=CHOSEN
        ),
        CommandType(
            "referral.price_agreed",
            Referral,
            "agree_price",
            "referral:agree_price",
            "Takst aftalt",
            supplier=MATCHED,
        ),
        CommandType("referral.extended", Referral, "extend", "referral:extend", "Forlænget"),
        CommandType("referral.adjusted", Referral, "adjust", "referral:adjust", "Justeret", supplier=MATCHED),
        CommandType("referral.closed", Referral, "close", "referral:close", "Afsluttet"),
        # Recorded by those who negotiate prices: own cost is what a negotiation compares with.
        CommandType(
            "own_cost.recorded",
            OwnCosts,
            "record",
            "price_list:write",
            "Egen omkostning registreret",
            renamed={"municipality": "municipality_code"},
            per="municipality",
        ),
    )
}


def _business_events(aggregate: type[Aggregate]) -> dict[str, type[Aggregate.Event]]:
    """An aggregate's event classes by topic, but its unused ``*.created`` base."""
    found: dict[str, type[Aggregate.Event]] = {}
    for value in vars(aggregate).values():
        topic = getattr(value, "TOPIC", None)
        is_event = isinstance(value, type) and issubclass(value, Aggregate.Event)
        if is_event and isinstance(topic, str) and not topic.endswith(".created"):
            found[topic] = value
    return found


EVENTS: dict[str, tuple[type[Aggregate], type[Aggregate.Event]]] = {
    **{
        name: (command.aggregate, _business_events(command.aggregate)[name])
        for name, command in COMMANDS.items()
    },
    **{
        topic: (command.aggregate, event_class)
        for command in COMMANDS.values()
        for topic, event_class in _business_events(command.aggregate).items()
        if topic not in COMMANDS
    },
}
"""Every type a stored event may have, with its aggregate and class: each command's, then those a
command records beside its own (``own_cost.started``, with a municipality's first own cost)."""
