"""Read model: the procurement practice of the matching unit, one row per referral with what the
practice report needs (its first match, agreement and start, how often it was matched, extended
and adjusted, whether a price was above the list rate, and its close), so that
``GET /reports/practice`` groups a period's rows instead of reading the referrals' events.

A referral belongs to the month of its ``referred_on``; every figure of a group is about the
referrals referred in it, as known now (docs/api.md, *Procurement practice*)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from operator import itemgetter
from typing import Any

from projections.database import Cursor, rows_where_in
from projections.filters import conditions
from projections.spending import group_names
from projections.tables import table
from projections.topics import ADJUSTED, CLOSED, EXTENDED, MATCHED, PRICE_AGREED, REFERRED

COLUMNS = (
    "referral_id",
    "municipality",
    "intervention",
    "legal_basis",
    "supplier_id",
    "month",
    "referred_on",
    "matched_on",
    "matches",
    "agreed_on",
    "to_matched",
    "to_agreed",
    "to_start",
    "extensions",
    "extension_days",
    "adjustments",
    "above_list",
    "closed_on",
    "close_reason",
)

_in_column_order = itemgetter(*COLUMNS)


BY = ("month", "intervention", "supplier", "legal_basis")
LEAD_TIMES = ("referred_to_matched", "matched_to_agreed", "agreed_to_start")


@dataclass
class PracticeRow:
    """One referral's practice while a batch is folded."""

    values: dict[str, Any]
    stored: bool = False

    def to_db(self) -> tuple[Any, ...]:
        return _in_column_order(self.values)  # type: ignore[no-any-return]


def load(cur: Cursor, generation: int, referral_ids: set[str]) -> dict[str, PracticeRow]:
    """The stored rows of the referrals a batch touches, in one query per chunk."""
    rows = rows_where_in(cur, table("cl_practice", generation), "referral_id", sorted(referral_ids))
    return {row["referral_id"]: PracticeRow(dict(row), stored=True) for row in rows}


def save(cur: Cursor, generation: int, rows: list[PracticeRow]) -> None:
    """Insert the rows the batch created, update the stored ones it touched."""
    name = table("cl_practice", generation)
    cur.insert_many(name, COLUMNS, [row.to_db() for row in rows if not row.stored])
    cur.update_many(name, COLUMNS, [row.to_db() for row in rows if row.stored])


def fold(row: PracticeRow | None, event: Any) -> PracticeRow:
    """Apply one referral event to its practice row (a new row for ``referral.referred``)."""
    # By topic, and from the event's ``__dict__``: a bulk build calls this once per referral event,
    # and a chain of ``isinstance`` checks against the events' abstract classes cost more than the
    # fold itself.
    topic = type(event).TOPIC
    state = event.__dict__
    if topic == REFERRED:
        referred_on = state["referred_on"].isoformat()
        return PracticeRow(
            {
                "referral_id": str(event.originator_id),
                "municipality": state["municipality"],
                "intervention": state["intervention"],
                "legal_basis": state["legal_basis"],
                "supplier_id": None,
                "month": referred_on[:7],
                "referred_on": referred_on,
                "matched_on": None,
                "matches": 0,
                "agreed_on": None,
                "to_matched": None,
                "to_agreed": None,
                "to_start": None,
                "extensions": 0,
                "extension_days": 0,
                "adjustments": 0,
                "above_list": 0,
                "closed_on": None,
                "close_reason": None,
            }
        )
    assert row is not None, f"event {type(event).__name__} for an unknown referral {event.originator_id}"
    values = row.values
    if topic == MATCHED:
        matched_on = state["matched_on"]
        values["supplier_id"] = str(state["supplier_id"])
        values["matches"] += 1
        if values["matched_on"] is None:
            values["matched_on"] = matched_on.isoformat()
            values["to_matched"] = _days(values["referred_on"], matched_on)
    elif topic == PRICE_AGREED:
        # A referral is priced once: rematching and a second agreement need it unpriced.
        agreed_on = state["agreed_on"]
        values["supplier_id"] = str(state["supplier_id"])
        values["agreed_on"] = agreed_on.isoformat()
        values["to_agreed"] = _days(values["matched_on"], agreed_on)
        values["to_start"] = (state["start"] - agreed_on).days
        values["above_list"] = max(values["above_list"], int(state["above_list_rate"]))
    elif topic == EXTENDED:
        values["extensions"] += 1
        values["extension_days"] += (state["new_end"] - state["previous_end"]).days
    elif topic == ADJUSTED:
        values["adjustments"] += 1
        values["above_list"] = max(values["above_list"], int(state["above_list_rate"]))
    elif topic == CLOSED:
        values["closed_on"] = state["closed_on"].isoformat()
        values["close_reason"] = state["reason"]
    return row


def _days(earlier: str, later: date) -> int:
    return (later - date.fromisoformat(earlier)).days


# -- the report --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PracticeQuery:
    """``GET /reports/practice``: referrals referred in months ``from_month``..``to_month``."""

    from_month: str
    to_month: str
    by: str | None = None
    municipality: str | None = None


def nearest_rank(count: int, percent: int) -> int:
    """The rank (from 1) of the nearest-rank percentile among ``count`` sorted values: ⌈percent/100 × n⌉."""
    return max(-(-percent * count // 100), 1)


def ratio(numerator: int, denominator: int, places: int) -> str | None:
    """``numerator / denominator`` (both ≥ 0) to ``places`` decimals, rounded half up, exactly;
    None when there is nothing to divide by."""
    if denominator == 0:
        return None
    scaled = (2 * numerator * 10**places + denominator) // (2 * denominator)
    whole, part = divmod(scaled, 10**places)
    return f"{whole}.{part:0{places}d}" if places else str(whole)


@dataclass
class _Group:
    """A group's counts and sums, its lead times in days, and its close reasons."""

    sums: dict[str, int] = field(default_factory=dict)
    lead_times: dict[str, list[int]] = field(default_factory=lambda: {name: [] for name in LEAD_TIMES})
    close_reasons: dict[str, int] = field(default_factory=dict)

    def lead_time(self, name: str) -> dict[str, int | None]:
        values = sorted(self.lead_times[name])
        if not values:
            return {"median": None, "p90": None}
        return {
            "median": values[nearest_rank(len(values), 50) - 1],
            "p90": values[nearest_rank(len(values), 90) - 1],
        }

    def figures(self) -> dict[str, Any]:
        get = self.sums.get
        return {
            "referred": get("referred", 0),
            "matched": get("matched", 0),
            "agreed": get("agreed", 0),
            "closed": get("closed", 0),
            **{name: self.lead_time(name) for name in LEAD_TIMES},
            "rematched_share": ratio(get("rematched", 0), get("matched", 0), 3),
            "extended_share": ratio(get("extended", 0), get("agreed", 0), 3),
            "mean_extension_days": ratio(get("extension_days", 0), get("extensions", 0), 1),
            "adjustments_per_referral": ratio(get("adjustments", 0), get("agreed", 0), 2),
            "above_list_share": ratio(get("above_list", 0), get("agreed", 0), 3),
            "close_reasons": dict(sorted(self.close_reasons.items())),
        }


def months_between(first: str, last: str) -> list[str]:
    """The months ``first``..``last`` (``YYYY-MM``), both included."""
    start = int(first[:4]) * 12 + int(first[5:]) - 1
    end = int(last[:4]) * 12 + int(last[5:]) - 1
    return [f"{index // 12:04d}-{index % 12 + 1:02d}" for index in range(start, end + 1)]


def iso_week(day: date) -> str:
    """The ISO 8601 week ``day`` falls in: ``2026-W03`` (the week's year may differ from the day's)."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def weeks_of(first_month: str, last_month: str) -> list[str]:
    """Every ISO week with a day in the months ``first_month``..``last_month``, in order."""
    first = date(int(first_month[:4]), int(first_month[5:]), 1)
    year, month = int(last_month[:4]), int(last_month[5:])
    last = date(year, month, calendar.monthrange(year, month)[1])  # not the day after: 9999-12 has none
    monday = first - timedelta(days=first.weekday())
    return [iso_week(monday + timedelta(weeks=n)) for n in range((last - monday).days // 7 + 1)]


SUMS = (
    "COUNT(*) AS referred, COUNT(to_matched) AS matched, COUNT(to_agreed) AS agreed, "
    "COUNT(close_reason) AS closed, SUM(CASE WHEN matches > 1 THEN 1 ELSE 0 END) AS rematched, "
    "SUM(CASE WHEN extensions > 0 THEN 1 ELSE 0 END) AS extended, SUM(extensions) AS extensions, "
    "SUM(extension_days) AS extension_days, SUM(adjustments) AS adjustments, SUM(above_list) AS above_list"
)
"""A group's counts and sums, added up by the database (extensions, adjustments and a price above
the list only ever belong to agreed referrals)."""
SUM_NAMES = (
    "referred",
    "matched",
    "agreed",
    "closed",
    "rematched",
    "extended",
    "extensions",
    "extension_days",
    "adjustments",
    "above_list",
)
LISTED = {
    "referred_to_matched": "to_matched",
    "matched_to_agreed": "to_agreed",
    "agreed_to_start": "to_start",
}


def _listed(dialect: str, column: str) -> str:
    """The group's non-null values of ``column`` as one comma-separated text."""
    if dialect == "postgres":
        return f"string_agg(CAST({column} AS TEXT), ',')"
    return f"group_concat({column}, ',')"


def report(cur: Cursor, generation: int, query: PracticeQuery) -> dict[str, Any]:
    """``{from, to, by, groups: [{key?, name?, referred, …}]}``: one group per ``by`` value (every
    month of the period for ``by=month``), or one for the whole period without ``by``. One
    statement reads the period's rows once (from an index that holds every column it needs): the
    database adds up each group and lists its lead times and close reasons as text, rather than
    sending a row per referral (a year of a municipality's referrals is about 14,000 rows in the
    1M-event benchmark data set)."""
    where, params = conditions(
        (("municipality", query.municipality),),
        (("month >= ?", query.from_month), ("month <= ?", query.to_month)),
    )
    key = {"supplier": "supplier_id"}.get(query.by or "", query.by) or "NULL"
    listed = ", ".join(
        f"{_listed(cur.dialect, column)} AS {name}"
        for name, column in (*LISTED.items(), ("reasons", "close_reason"))
    )
    cur.run(
        f"SELECT {key} AS key, {SUMS}, {listed} FROM {table('cl_practice', generation)} "
        f"WHERE {' AND '.join(where)} {f'GROUP BY {key}' if query.by else ''}",  # PostgreSQL groups by no constant
        params,
    )
    groups: dict[str | None, _Group] = {}
    if query.by in (None, "month"):
        keys = months_between(query.from_month, query.to_month) if query.by else [None]
        groups = {month: _Group() for month in keys}
    for found in cur.rows():
        group = groups.setdefault(found["key"], _Group())
        group.sums = {name: int(found[name] or 0) for name in SUM_NAMES}
        for name in LEAD_TIMES:
            group.lead_times[name] = list(map(int, found[name].split(","))) if found[name] else []
        for reason in (found["reasons"] or "").split(","):
            if reason:
                group.close_reasons[reason] = group.close_reasons.get(reason, 0) + 1

    ordered = sorted(groups, key=lambda value: (value is None, value or ""))
    if query.by is None:
        rows = [groups[None].figures()]
    elif query.by == "month":
        rows = [{"key": month, **groups[month].figures()} for month in ordered]
    else:
        names = group_names(cur, generation, query.by, [value for value in ordered if value])
        rows = [
            {"key": value, "name": names.get(value or ""), **groups[value].figures()} for value in ordered
        ]
    return {
        "from": query.from_month,
        "to": query.to_month,
        "by": query.by,
        "weekly_intake": weekly_intake(cur, generation, query, where, params),
        "groups": rows,
    }


def weekly_intake(
    cur: Cursor, generation: int, query: PracticeQuery, where: list[str], params: list[Any]
) -> dict[str, int]:
    """The period's referrals per ISO week of ``referred_on``, every week with a day in the period
    (0 for none); the first and last week count only their days inside the period. The database
    counts per day from the report's covering index; a period has at most ~3,650 days."""
    cur.run(
        f"SELECT referred_on, COUNT(*) AS n FROM {table('cl_practice', generation)} "
        f"WHERE {' AND '.join(where)} GROUP BY referred_on",
        params,
    )
    weeks = dict.fromkeys(weeks_of(query.from_month, query.to_month), 0)
    for found in cur.rows():
        weeks[iso_week(date.fromisoformat(str(found["referred_on"])))] += int(found["n"])
    return weeks
