"""A referral's decision trail for auditors: who decided what, when (recorded and effective), why,
and what each decision changed against the state before it.

Built straight from the event store (always current), event by event, folding the aggregate to
compare the state before and after each decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from eventsourcing.persistence import Mapper, StoredEvent

from application.views import event_view, plain
from domain.referral import EFFECTIVE_DATE_FIELDS, HOURLY, Referral
from domain.spending import value_on

ONE_DAY = timedelta(days=1)


def _terms_date(event_type: str, data: Mapping[str, Any]) -> date | None:
    """The day from which a decision changes hours or rate (None: it changes neither)."""
    if event_type == "referral.price_agreed":
        start: date = data["start"]
        return start
    if event_type == "referral.extended":
        previous_end: date = data["previous_end"]
        return previous_end + ONE_DAY
    if event_type == "referral.adjusted":
        effective_from: date = data["effective_from"]
        return effective_from
    return None


def facts(referral: Referral | None, on: date | None) -> dict[str, Any]:
    """What an auditor compares between two versions; hours and rate as in force on ``on``."""
    if referral is None:
        return {}
    terms = referral.terms
    found: dict[str, Any] = {
        "status": referral.status,
        "supplier_id": referral.supplier_id,
        "start": referral.start,
        "end": referral.end,
        "pricing": terms.kind if terms else None,
        "package_price": terms.packages[-1][1] if terms and terms.packages else None,
        "closed_on": referral.closed_on,
        "close_reason": referral.close_reason,
    }
    if on is not None and terms is not None:
        found["hours_per_week"] = value_on(terms.hours, on)
        found["hourly_rate" if terms.kind == HOURLY else "daily_rate"] = value_on(terms.rate, on)
    return found


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {from, to}}`` for every fact that differs."""
    return {
        key: {"from": plain(before.get(key)), "to": plain(after.get(key))}
        for key in after.keys() | before.keys()
        if before.get(key) != after.get(key)
    }


def trail_entries(
    stored_events: Sequence[StoredEvent], mapper: Mapper[Any], problems: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One entry per stored event, oldest first, with the integrity problems found at its version.

    An event that cannot be decoded (its bytes were altered) still gets an entry; from there on
    the fold cannot continue, so later entries carry ``changes: null``.
    """
    by_version: dict[int, list[str]] = {}
    for problem in problems:
        by_version.setdefault(problem["version"], []).append(problem["problem"])
    entries = []
    referral: Referral | None = None
    folding = True
    for stored in stored_events:
        version = stored.originator_version
        found = by_version.get(version, [])
        try:
            domain_event: Any = mapper.to_domain_event(stored)
        except Exception:  # altered bytes must not hide the rest of the trail
            folding = False
            entries.append(_undecodable(stored, found))
            continue
        view = event_view(domain_event)
        state = vars(domain_event)
        on = _terms_date(view["type"], state)
        entry_changes = None
        if folding:
            try:
                before = facts(referral, on)
                referral = domain_event.mutate(referral)
                entry_changes = changes(before, facts(referral, on))
            except Exception:  # e.g. a version gap after a deletion
                folding = False
        rationale = state.get("rationale")
        if view["type"] == "referral.referred":
            rationale = state.get("purpose")  # the legally required reason for a referral
        entries.append(
            {
                "version": version,
                "type": view["type"],
                "recorded_at": view["recorded_at"],
                "effective_date": plain(state.get(EFFECTIVE_DATE_FIELDS.get(view["type"], ""))),
                "actor": view["actor"],
                "rationale": rationale,
                "source": view["source"],
                "data": view["data"],
                "changes": entry_changes,
                "integrity": "; ".join(found) or "ok",
            }
        )
    return entries


def _undecodable(stored: StoredEvent, found: Sequence[str]) -> dict[str, Any]:
    return {
        "version": stored.originator_version,
        "type": stored.topic,
        "recorded_at": None,
        "effective_date": None,
        "actor": None,
        "rationale": None,
        "source": None,
        "data": None,
        "changes": None,
        "integrity": "; ".join([*found, "undecodable"]),
    }
