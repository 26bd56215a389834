"""Read model: every decision on every referral, searchable across referrals for auditors
("every match by this consultant last quarter", "every price above the list rate")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.referral import EFFECTIVE_DATE_FIELDS, Referral
from projections.codec import money, to_ore
from projections.database import Cursor, ProjectionDatabase, chunked
from projections.filters import conditions, counted_page
from projections.referral_list import ReferralRow
from projections.tables import table

REFERRED, PRICE_AGREED, ADJUSTED = (
    Referral.Referred.TOPIC,
    Referral.PriceAgreed.TOPIC,
    Referral.Adjusted.TOPIC,
)

COLUMNS = (
    "position",
    "referral_id",
    "version",
    "type",
    "recorded_at",
    "effective_date",
    "actor_id",
    "actor_name",
    "municipality",
    "supplier_id",
    "rationale",
    "above_list_rate",
    "agreed_rate_ore",
    "list_rate_ore",
    "decided_on",
    "list_negotiated_on",
    "case_index",
)


def row_for(event: Any, position: int, referral: ReferralRow) -> tuple[Any, ...]:
    """The decision row of one referral event, with the referral's state after it."""
    # Read from the event's ``__dict__``, where its fields are (no event class defines these names):
    # a bulk build calls this once per event, and a ``getattr`` of a field the event lacks costs as
    # much as the rest of the row (raising and catching ``AttributeError``).
    state = event.__dict__
    topic = type(event).TOPIC
    effective: date | None = state.get(EFFECTIVE_DATE_FIELDS[topic])
    actor = state.get("actor") or {}
    above = state.get("above_list_rate")
    agreed = None
    if topic == REFERRED:
        rationale = state["purpose"]  # sealed: the application opens it when the decision is read
    else:
        rationale = state.get("rationale")
        if topic == PRICE_AGREED:
            agreed = state["hourly_rate"] or state["daily_rate"] or (state["package"] or {}).get("price")
        elif topic == ADJUSTED:
            agreed = state["hourly_rate"] or state["daily_rate"]
    list_rate = state.get("list_rate")
    decided = state.get("agreed_on") or state.get("decided_on")
    negotiated = state.get("list_negotiated_on")
    values = referral.values
    return (
        position,
        values["referral_id"],
        event.originator_version,
        topic,
        event.timestamp.isoformat(),
        effective.isoformat() if effective else None,
        actor.get("id"),
        actor.get("name"),
        values["municipality"],
        values["supplier_id"],
        rationale,
        None if above is None else int(bool(above)),
        to_ore(agreed),
        to_ore(list_rate),
        decided.isoformat() if decided else None,
        negotiated.isoformat() if negotiated else None,
        # The keyed hash of the case number that the application gives a referral's first event
        # (application.privacy.case_index): never the case number itself.
        state.get("case_index") if topic == REFERRED else None,
    )


def save(cur: Cursor, generation: int, rows: list[tuple[Any, ...]]) -> None:
    cur.insert_many(table("cl_decisions", generation), COLUMNS, rows)


@dataclass(frozen=True)
class DecisionQuery:
    """``GET /audit/decisions``: filters combine with AND; the period is on the decision's business date."""

    actor: str | None = None
    type: str | None = None
    supplier_id: str | None = None
    municipality: str | None = None
    from_date: str | None = None
    to_date: str | None = None
    above_list_rate: bool | None = None
    referral_ids: tuple[str, ...] | None = None
    """Only these referrals' decisions (the ones a case number was found for); empty: none."""
    page: int = 1
    page_size: int = 50


def search(cur: Cursor, generation: int, query: DecisionQuery) -> dict[str, Any]:
    """A page of decisions, newest business date first, with the total that match."""
    where, params = conditions(
        (
            ("actor_id", query.actor),
            ("type", query.type),
            ("supplier_id", query.supplier_id),
            ("municipality", query.municipality),
        ),
        (("effective_date >= ?", query.from_date), ("effective_date <= ?", query.to_date)),
    )
    if query.above_list_rate is not None:
        where.append("above_list_rate = ?")
        params.append(int(query.above_list_rate))
    if query.referral_ids is not None:
        if not query.referral_ids:
            return {"items": [], "page": query.page, "page_size": query.page_size, "total": 0}
        where.append(f"referral_id IN ({', '.join('?' * len(query.referral_ids))})")
        params.extend(query.referral_ids)
    rows, total = counted_page(
        cur,
        table("cl_decisions", generation),
        where,
        params,
        columns="*",
        order="effective_date DESC, position DESC",
        page=query.page,
        page_size=query.page_size,
    )
    items = [
        {
            "position": row["position"],
            "referral_id": row["referral_id"],
            "version": row["version"],
            "type": row["type"],
            "recorded_at": row["recorded_at"],
            "effective_date": row["effective_date"],
            "actor": {"id": row["actor_id"], "name": row["actor_name"]},
            "municipality": row["municipality"],
            "supplier_id": row["supplier_id"],
            "rationale": row["rationale"],
            "above_list_rate": None if row["above_list_rate"] is None else bool(row["above_list_rate"]),
            "agreed_rate": money(row["agreed_rate_ore"]),
            "list_rate": money(row["list_rate_ore"]),
        }
        for row in rows
    ]
    return {"items": items, "page": query.page, "page_size": query.page_size, "total": total}


def referrals_by_case_index(
    cur: Cursor, generation: int, indexes: Sequence[str], municipality: str | None
) -> list[str]:
    """The referrals (of ``municipality``, None: of any) whose case index is one of ``indexes``."""
    found: list[str] = []
    for part in chunked(indexes):
        where, params = conditions((("municipality", municipality),))
        where.append(f"case_index IN ({', '.join('?' * len(part))})")
        cur.run(
            f"SELECT referral_id FROM {table('cl_decisions', generation)} WHERE {' AND '.join(where)}",
            [*params, *part],
        )
        found += [str(row["referral_id"]) for row in cur.rows()]
    return sorted(set(found))


def forget_case_indexes(db: ProjectionDatabase, referral_ids: Sequence[str]) -> None:
    """Clear the case indexes of ``referral_ids`` (erased) in every generation of the read models,
    the live one and one a rebuild is building."""
    if not referral_ids:
        return
    with db.transaction() as cur:
        cur.run("SELECT generation FROM cl_generations")
        for generation in [int(row["generation"]) for row in cur.rows()]:
            for part in chunked(list(referral_ids)):
                cur.run(
                    f"UPDATE {table('cl_decisions', generation)} SET case_index = NULL "
                    f"WHERE case_index IS NOT NULL AND referral_id IN ({', '.join('?' * len(part))})",
                    list(part),
                )
