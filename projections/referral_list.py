"""Read model: one row per referral (the referral list), with the terms the spending fold needs.

The runner is given events with their personal fields sealed: ``citizen_ref`` and ``case_ref`` are
stored as the events' envelopes (never plaintext) and opened by the application when listed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from domain.spending import Terms, monthly_commitments_ore
from projections.codec import iso, money, terms_from_json, terms_to_json, to_ore
from projections.database import Cursor, Row, rows_where_in
from projections.filters import conditions, counted_page
from projections.tables import table
from projections.topics import ADJUSTED, CLOSED, EXTENDED, MATCHED, PRICE_AGREED, REFERRED

COLUMNS = (
    "referral_id",
    "version",
    "position",
    "municipality",
    "citizen_ref",
    "case_ref",
    "legal_basis",
    "intervention",
    "status",
    "supplier_id",
    "kind",
    "unit",
    "agreed_rate_ore",
    "list_rate_ore",
    "start_date",
    "end_date",
    "closed_on",
    "close_reason",
    "referred_on",
    "committed_total_ore",
    "terms",
)

_in_column_order = itemgetter(*COLUMNS)


@dataclass
class ReferralRow:
    """The projection's state of one referral while a batch is folded."""

    values: dict[str, Any]
    terms: Terms | None = None
    terms_changed: bool = False
    dimensions_changed: bool = False
    stored: bool = False
    """Whether the row was loaded from the table (else the batch created it: nothing to replace)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def monthly_ore(self) -> dict[str, int]:
        """Committed spend per month in øre after the batch's events: as worked out after the
        referral's last event (``spending_log.step``), else computed once."""
        if "months" not in self.extra:
            self.extra["months"] = monthly_commitments_ore(self.terms) if self.terms else {}
        months: dict[str, int] = self.extra["months"]
        return months

    @classmethod
    def from_db(cls, row: Row) -> ReferralRow:
        loaded = cls(values=dict(row), terms=terms_from_json(row["terms"]), stored=True)
        loaded.extra["caseload"] = loaded.caseload_key()
        return loaded

    def caseload_key(self) -> tuple[str, str, str] | None:
        """(supplier, municipality, status) this referral counts under in the caseload, if matched."""
        v = self.values
        return (v["supplier_id"], v["municipality"], v["status"]) if v["supplier_id"] else None

    def to_db(self) -> tuple[Any, ...]:
        self.values["terms"] = terms_to_json(self.terms)
        if self.terms is not None:
            self.values["start_date"] = iso(self.terms.start)
            self.values["end_date"] = iso(self.terms.end)
            self.values["committed_total_ore"] = sum(self.monthly_ore().values())
        return _in_column_order(self.values)  # type: ignore[no-any-return]


def load(cur: Cursor, generation: int, referral_ids: set[str]) -> dict[str, ReferralRow]:
    """The stored rows of the referrals a batch touches, in one query."""
    rows = rows_where_in(cur, table("cl_referrals", generation), "referral_id", sorted(referral_ids))
    return {row["referral_id"]: ReferralRow.from_db(row) for row in rows}


def save(cur: Cursor, generation: int, rows: list[ReferralRow]) -> None:
    """Insert the rows the batch created, update the stored ones it touched."""
    name = table("cl_referrals", generation)
    cur.insert_many(name, COLUMNS, [row.to_db() for row in rows if not row.stored])
    cur.update_many(name, COLUMNS, [row.to_db() for row in rows if row.stored])


def fold(row: ReferralRow | None, event: Any, position: int) -> ReferralRow:
    """Apply one referral event to its row (a new row for ``referral.referred``)."""
    # By topic: a bulk build folds every referral event here, and a chain of ``isinstance`` checks
    # against the events' abstract classes costs more than the simpler folds themselves.
    topic = type(event).TOPIC
    if topic == REFERRED:
        row = ReferralRow(
            values={
                "referral_id": str(event.originator_id),
                "municipality": event.municipality,
                "citizen_ref": event.citizen_ref,
                "case_ref": event.case_ref,
                "legal_basis": event.legal_basis,
                "intervention": event.intervention,
                "status": "referred",
                "supplier_id": None,
                "kind": None,
                "unit": None,
                "agreed_rate_ore": None,
                "list_rate_ore": None,
                "start_date": None,
                "end_date": None,
                "closed_on": None,
                "close_reason": None,
                "referred_on": event.referred_on.isoformat(),
                "committed_total_ore": 0,
                "terms": None,
            }
        )
    assert row is not None, f"event {type(event).__name__} for an unknown referral {event.originator_id}"
    values = row.values
    values["version"] = event.originator_version
    values["position"] = position
    if topic == MATCHED:
        values["supplier_id"] = str(event.supplier_id)
        values["status"] = "matched"
        row.dimensions_changed = True
    elif topic == PRICE_AGREED:
        rate = event.hourly_rate if event.kind == "hourly" else event.daily_rate
        package_price = event.package["price"] if event.package else None
        row.terms = Terms.agreed(
            kind=event.kind,
            start=event.start,
            end=event.end,
            rate=rate,
            hours_per_week=event.hours_per_week,
            package_price=package_price,
        )
        values.update(
            status="active",
            supplier_id=str(event.supplier_id),
            kind=event.kind,
            unit={"hourly": "hour", "daily": "day"}.get(event.kind, "package"),
            agreed_rate_ore=to_ore(rate if rate is not None else package_price),
            list_rate_ore=to_ore(event.list_rate),
        )
        row.extra["agreed"] = (
            values["municipality"],
            values["intervention"],
            values["unit"],
            values["agreed_rate_ore"],
        )
        row.terms_changed = True
    elif topic == EXTENDED:
        assert row.terms is not None
        row.terms.extend(
            new_end=event.new_end, hours_per_week=event.hours_per_week, package_price=event.package_price
        )
        row.terms_changed = True
    elif topic == ADJUSTED:
        assert row.terms is not None
        rate = event.hourly_rate if event.hourly_rate is not None else event.daily_rate
        row.terms.adjust(effective_from=event.effective_from, hours_per_week=event.hours_per_week, rate=rate)
        row.terms_changed = True
    elif topic == CLOSED:
        if row.terms is not None:
            row.terms.close(event.closed_on)
            row.terms_changed = True
        values.update(status="closed", closed_on=event.closed_on.isoformat(), close_reason=event.reason)
    return row


FILTERS = ("status", "supplier_id", "intervention", "municipality", "legal_basis")
"""The columns the referral list is filtered by (an exact match each)."""


SORTS = {
    "referred": "referred_on {way}, referral_id {way}",
    "supplier": "CASE WHEN supplier_id IS NULL THEN 1 ELSE 0 END, LOWER((SELECT s.name FROM {suppliers} s "
    "WHERE s.supplier_id = {referrals}.supplier_id)) {way}, referred_on DESC, referral_id",
    "status": "CASE status WHEN 'referred' THEN 1 WHEN 'matched' THEN 2 WHEN 'active' THEN 3 ELSE 4 END {way}, "
    "referred_on DESC, referral_id",
    "committed": "committed_total_ore {way}, referred_on DESC, referral_id",
}
"""The orders the referral list can be read in (``sort``): referred date, supplier name (referrals
without a supplier last), status in the order of a referral's course, committed total."""


def page(
    cur: Cursor,
    generation: int,
    filters: dict[str, str | None],
    page: int,
    page_size: int,
    sort: str = "referred",
    descending: bool = True,
    referral_ids: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A page of the referral list in ``sort`` order (newest referral first by default), with the
    total that match; of ``referral_ids`` only, when given (a handful: the referrals a case number
    was found for)."""
    where, params = conditions((column, filters.get(column)) for column in FILTERS)
    if referral_ids is not None:
        where.append(f"referral_id IN ({', '.join('?' * len(referral_ids))})" if referral_ids else "1 = 0")
        params.extend(referral_ids)
    referrals = table("cl_referrals", generation)
    order = SORTS[sort].format(
        way="DESC" if descending else "ASC", referrals=referrals, suppliers=table("cl_suppliers", generation)
    )
    rows, total = counted_page(
        cur,
        referrals,
        where,
        params,
        columns="referral_id, version, municipality, citizen_ref, case_ref, legal_basis, intervention, "
        "status, supplier_id, kind, start_date, end_date, closed_on, close_reason, referred_on, "
        "committed_total_ore",
        order=order,
        page=page,
        page_size=page_size,
    )
    items = [
        {
            "id": row["referral_id"],
            "version": row["version"],
            "status": row["status"],
            "municipality": row["municipality"],
            "citizen_ref": row["citizen_ref"],
            "case_ref": row["case_ref"],
            "legal_basis": row["legal_basis"],
            "intervention": row["intervention"],
            "supplier_id": row["supplier_id"],
            "pricing_kind": row["kind"],
            "start": row["start_date"],
            "end": row["end_date"],
            "closed_on": row["closed_on"],
            "close_reason": row["close_reason"],
            "referred_on": row["referred_on"],
            "committed_total": money(row["committed_total_ore"]),
        }
        for row in rows
    ]
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def supplier_names(cur: Cursor, generation: int, municipality: str | None) -> dict[str, str]:
    """The suppliers the referral list names (of ``municipality``; None: of every one), id → name,
    by name."""
    where, params = conditions([("r.municipality", municipality)])
    clause = " AND ".join(["r.supplier_id IS NOT NULL", *where])
    cur.run(
        f"SELECT DISTINCT s.supplier_id, s.name FROM {table('cl_referrals', generation)} r "
        f"JOIN {table('cl_suppliers', generation)} s ON s.supplier_id = r.supplier_id WHERE {clause} "
        "ORDER BY s.name, s.supplier_id",
        params,
    )
    return {row["supplier_id"]: row["name"] for row in cur.rows()}
