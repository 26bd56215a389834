"""Every business event of the domain can be asked for by exactly one declared command."""

from __future__ import annotations

from application.service.commands import COMMANDS
from domain.own_cost import OwnCosts
from domain.referral import Referral
from domain.supplier import Supplier


def _business_topics(aggregate: type) -> set[str]:
    """The stable topics of an aggregate's business events (not the internal ``*.created`` base, nor
    ``own_cost.started``, which its first command records with its own event)."""
    return {
        value.TOPIC
        for value in vars(aggregate).values()
        if isinstance(value, type)
        and hasattr(value, "TOPIC")
        and not value.TOPIC.endswith((".created", ".started"))
    }


def test_each_business_event_has_its_declared_command() -> None:
    assert set(COMMANDS) == _business_topics(Referral) | _business_topics(Supplier) | _business_topics(
        OwnCosts
    )


def test_each_declared_command_calls_a_method_of_its_aggregate() -> None:
    for command in COMMANDS.values():
        assert callable(getattr(command.aggregate, command.method)), command.name
