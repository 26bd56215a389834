"""The Supplier aggregate: one external provider per CVR number, with negotiated price lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import money
from domain.cvr import valid_cvr
from domain.errors import InvalidInput
from domain.reference import load_reference
from domain.text import optional, reject_cpr_in, required
from domain.values import Actor, Source, day, decided, municipality, not_before

UNITS = ("hour", "day")
CONTACT_FIELDS = ("name", "email", "phone", "address")
LIST_FIELDS = ("target_groups", "competencies", "education_levels")
CAPACITY = "capacity_hours_per_week"
"""An optional detail: the face-to-face hours a week the supplier says it can take on. Advisory: a
match beyond it is allowed (the candidate ranking says so)."""
MAX_CAPACITY = Decimal("10000")
"""A supplier's weekly capacity may exceed the hours of one week (it has many staff)."""


@dataclass(frozen=True)
class ListRate:
    """A negotiated rate in force on some date, with the list it came from."""

    rate: Decimal
    negotiated_on: date
    valid_from: date
    valid_to: date | None


def _contact(value: Mapping[str, str | None]) -> dict[str, str]:
    unknown = set(value) - set(CONTACT_FIELDS)
    if unknown:
        msg = f"contact has unknown fields: {', '.join(sorted(unknown))}"
        raise InvalidInput("unknown-field", msg, field="contact")
    return {key: text for key in CONTACT_FIELDS if (text := optional(value.get(key)))}


def _labels(values: Sequence[str], field: str) -> list[str]:
    labels = [required(v, f"{field}[{i}]") for i, v in enumerate(values)]
    return list(dict.fromkeys(labels))


def _rates(values: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    reference = load_reference()
    seen: set[tuple[str, str]] = set()
    rates = []
    for i, item in enumerate(values):
        where = f"rates[{i}]"
        intervention = reference.intervention(item["intervention"], f"{where}.intervention").code
        unit = item["unit"]
        if unit not in UNITS:
            msg = f"{where}.unit must be 'hour' or 'day', got {unit!r}"
            raise InvalidInput("invalid-unit", msg, field=f"{where}.unit")
        if (intervention, unit) in seen:
            msg = f"{where} repeats the rate for {intervention} per {unit}"
            raise InvalidInput("duplicate-rate", msg, field=where)
        seen.add((intervention, unit))
        rates.append(
            {"intervention": intervention, "unit": unit, "rate": money.rate(item["rate"], f"{where}.rate")}
        )
    return rates


def _packages(values: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    reference = load_reference()
    seen: set[str] = set()
    packages = []
    for i, item in enumerate(values):
        where = f"packages[{i}]"
        name = required(item["name"], f"{where}.name")
        if name in seen:
            msg = f"{where} repeats the package name {name!r}"
            raise InvalidInput("duplicate-package", msg, field=f"{where}.name")
        seen.add(name)
        packages.append(
            {
                "name": name,
                "intervention": reference.intervention(item["intervention"], f"{where}.intervention").code,
                "price": money.price(item["price"], f"{where}.price"),
                "hours": money.hours_total(item["hours"], f"{where}.hours"),
            }
        )
    return packages


class Supplier(Aggregate):
    """An external provider. Shared by all municipalities; price lists are per municipality."""

    TOPIC = "supplier"

    class Created(Aggregate.Created):
        TOPIC = "supplier.created"

    class Registered(Aggregate.Created):
        TOPIC = "supplier.registered"
        name: str
        cvr: str
        contact: dict[str, str]
        target_groups: list[str]
        competencies: list[str]
        education_levels: list[str]
        actor: Actor
        source: Source | None

    class DetailsUpdated(Aggregate.Event):
        TOPIC = "supplier.details_updated"
        changes: dict[str, Any]
        actor: Actor
        source: Source | None

    class PriceListNegotiated(Aggregate.Event):
        TOPIC = "supplier.price_list_negotiated"
        municipality: str
        negotiated_on: date
        valid_from: date
        valid_to: date | None
        rates: list[dict[str, Any]]
        packages: list[dict[str, Any]]
        note: str | None
        actor: Actor
        source: Source | None

    # -- registration --------------------------------------------------------------------------

    @classmethod
    def register(
        cls,
        *,
        supplier_id: UUID,
        name: str,
        cvr: str,
        contact: Mapping[str, str | None],
        target_groups: Sequence[str],
        competencies: Sequence[str],
        education_levels: Sequence[str],
        decided_by: Mapping[str, str | None],
        origin: Mapping[str, str | None] | None = None,
    ) -> Supplier:
        """Register a supplier. Uniqueness of the CVR number is checked by the application."""
        reject_cpr_in(
            {
                "name": name,
                "contact": contact,
                "target_groups": target_groups,
                "competencies": competencies,
                "education_levels": education_levels,
                "actor": decided_by,
            }
        )
        return cls._create(
            cls.Registered,
            id=supplier_id,
            name=required(name, "name"),
            cvr=valid_cvr(cvr),
            contact=_contact(contact),
            target_groups=_labels(target_groups, "target_groups"),
            competencies=_labels(competencies, "competencies"),
            education_levels=_labels(education_levels, "education_levels"),
            **decided(decided_by, origin),
        )

    @event(Registered)
    def __init__(
        self,
        *,
        name: str,
        cvr: str,
        contact: dict[str, str],
        target_groups: list[str],
        competencies: list[str],
        education_levels: list[str],
        actor: Actor,
        source: Source | None,
    ) -> None:
        self.name = name
        self.cvr = cvr
        self.contact = contact
        self.target_groups = target_groups
        self.competencies = competencies
        self.education_levels = education_levels
        # Stated only by a later ``details updated`` (events recorded before it existed lack it).
        self.capacity_hours_per_week: Decimal | None = None
        self.price_lists: list[dict[str, Any]] = []

    # -- details -------------------------------------------------------------------------------

    def update_details(
        self,
        *,
        changes: Mapping[str, Any],
        decided_by: Mapping[str, str | None],
        origin: Mapping[str, str | None] | None = None,
    ) -> None:
        """Change any registered field but the CVR number."""
        if "cvr" in changes:
            msg = "the CVR number identifies the supplier and cannot be changed; register a new supplier"
            raise InvalidInput("cvr-immutable", msg, field="cvr")
        if not changes:
            msg = (
                "give at least one of name, contact, target_groups, competencies, education_levels, "
                "capacity_hours_per_week"
            )
            raise InvalidInput("nothing-to-change", msg)
        reject_cpr_in({**changes, "actor": decided_by})
        clean: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "name":
                clean[key] = required(value, "name")
            elif key == "contact":
                clean[key] = _contact(value)
            elif key in LIST_FIELDS:
                clean[key] = _labels(value, key)
            elif key == CAPACITY:
                clean[key] = None if value is None else money.positive(value, key, upper=MAX_CAPACITY)
            else:
                msg = f"{key} is not a supplier detail"
                raise InvalidInput("unknown-field", msg, field=key)
        self.trigger_event(self.DetailsUpdated, changes=clean, **decided(decided_by, origin))

    @event(DetailsUpdated)
    def _details_updated(self, *, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    # -- price lists ---------------------------------------------------------------------------

    def negotiate_price_list(
        self,
        *,
        municipality_code: str,
        negotiated_on: date,
        valid_from: date,
        valid_to: date | None,
        rates: Sequence[Mapping[str, Any]],
        packages: Sequence[Mapping[str, Any]],
        note: str | None,
        decided_by: Mapping[str, str | None],
        origin: Mapping[str, str | None] | None = None,
    ) -> None:
        """Record a price list negotiated with one municipality."""
        reject_cpr_in({"rates": rates, "packages": packages, "note": note, "actor": decided_by})
        day(negotiated_on, "negotiated_on")
        day(valid_from, "valid_from")
        if valid_to is not None:
            day(valid_to, "valid_to")
            not_before(valid_to, valid_from, "valid_to", "valid_from")
        clean_rates = _rates(rates)
        clean_packages = _packages(packages)
        if not clean_rates and not clean_packages:
            msg = "a price list needs at least one rate or package"
            raise InvalidInput("empty-price-list", msg, field="rates")
        self.trigger_event(
            self.PriceListNegotiated,
            municipality=municipality(municipality_code),
            negotiated_on=negotiated_on,
            valid_from=valid_from,
            valid_to=valid_to,
            rates=clean_rates,
            packages=clean_packages,
            note=optional(note),
            **decided(decided_by, origin),
        )

    @event(PriceListNegotiated)
    def _price_list_negotiated(
        self,
        *,
        municipality: str,
        negotiated_on: date,
        valid_from: date,
        valid_to: date | None,
        rates: list[dict[str, Any]],
        packages: list[dict[str, Any]],
        note: str | None,
    ) -> None:
        self.price_lists.append(
            {
                "municipality": municipality,
                "negotiated_on": negotiated_on,
                "valid_from": valid_from,
                "valid_to": valid_to,
                "rates": rates,
                "packages": packages,
                "note": note,
            }
        )

    # -- queries -------------------------------------------------------------------------------

    def _lists_in_force(self, municipality_code: str, on: date) -> list[dict[str, Any]]:
        """Lists covering ``on``, the one that supersedes last: later valid_from, then later recorded."""
        covering = [
            (price_list["valid_from"], order, price_list)
            for order, price_list in enumerate(self.price_lists)
            if price_list["municipality"] == municipality_code
            and price_list["valid_from"] <= on
            and (price_list["valid_to"] is None or on <= price_list["valid_to"])
        ]
        return [price_list for _, _, price_list in sorted(covering, key=lambda c: (c[0], c[1]))]

    def list_rate(self, municipality_code: str, intervention: str, unit: str, on: date) -> ListRate | None:
        """The negotiated rate for the intervention and unit in force on ``on``, if any."""
        found: ListRate | None = None
        for price_list in self._lists_in_force(municipality_code, on):
            for item in price_list["rates"]:
                if item["intervention"] == intervention and item["unit"] == unit:
                    found = ListRate(
                        rate=item["rate"],
                        negotiated_on=price_list["negotiated_on"],
                        valid_from=price_list["valid_from"],
                        valid_to=price_list["valid_to"],
                    )
        return found

    def prices_in_force(self, municipality_code: str, on: date) -> dict[str, list[dict[str, Any]]]:
        """Every rate and package in force on ``on`` for one municipality, with its negotiation date."""
        rates: dict[tuple[str, str], dict[str, Any]] = {}
        packages: dict[str, dict[str, Any]] = {}
        for price_list in self._lists_in_force(municipality_code, on):
            dates = {
                "negotiated_on": price_list["negotiated_on"],
                "valid_from": price_list["valid_from"],
                "valid_to": price_list["valid_to"],
            }
            for item in price_list["rates"]:
                rates[(item["intervention"], item["unit"])] = {**item, **dates}
            for item in price_list["packages"]:
                packages[item["name"]] = {**item, **dates}
        return {"rates": list(rates.values()), "packages": list(packages.values())}

    def municipalities(self) -> list[str]:
        """The municipalities this supplier has negotiated price lists with."""
        return sorted({price_list["municipality"] for price_list in self.price_lists})
