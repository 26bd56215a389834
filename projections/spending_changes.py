"""Changes after the fact: committed spend per referral and month as known at two positions, and the
referral events recorded between them (``GET /reports/spending/changes``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.codec import money
from projections.database import Cursor, chunked
from projections.known_at import Cut, KnownAt, PinnedReports
from projections.tables import table

Amounts = dict[tuple[str, str], int]
"""øre per ``(month, referral_id)``."""


def committed(cur: Cursor, generation: int, months_to: str | None, municipality: str | None) -> Amounts:
    """The monthly rows of the spending read model, up to ``months_to``, of one municipality or all."""
    where, params = [], []
    if months_to is not None:
        where.append("month <= ?")
        params.append(months_to)
    if municipality is not None:
        where.append("municipality = ?")
        params.append(municipality)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    cur.run(f"SELECT month, referral_id, amount_ore FROM {table('cl_spending', generation)}{clause}", params)
    return {(month, referral): int(amount) for month, referral, amount in cur.tuples()}


def events_between(
    cur: Cursor, generation: int, after: int, upto: int, referral_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Per referral, its events at positions ``after`` < p ≤ ``upto``, oldest first."""
    found: dict[str, list[dict[str, Any]]] = {}
    name = table("cl_decisions", generation)
    for ids in chunked(sorted(referral_ids)):
        marks = ",".join("?" * len(ids))
        cur.run(
            f"SELECT referral_id, position, version, type, recorded_at FROM {name} "
            f"WHERE position > ? AND position <= ? AND referral_id IN ({marks}) ORDER BY position",
            [after, upto, *ids],
        )
        for referral, position, version, kind, recorded_at in cur.tuples():
            found.setdefault(referral, []).append(
                {"position": int(position), "version": int(version), "type": kind, "recorded_at": recorded_at}
            )
    return found


def differences(before: Amounts, after: Amounts) -> list[tuple[str, str, int, int]]:
    """``(month, referral_id, before, after)`` where the two differ (a missing row is 0), by month
    and referral."""
    return sorted(
        (month, referral, before.get((month, referral), 0), after.get((month, referral), 0))
        for month, referral in before.keys() | after.keys()
        if before.get((month, referral), 0) != after.get((month, referral), 0)
    )


def changes_rows(
    changed: list[tuple[str, str, int, int]], causes: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The answer's rows: amounts as money strings, and the events that caused each change."""
    return [
        {
            "month": month,
            "referral_id": referral,
            "before": money(old),
            "after": money(new),
            "difference": money(new - old),
            "events": causes.get(referral, []),
        }
        for month, referral, old, new in changed
    ]


def changes(
    known_at: KnownAt, since: int, until: int | None, months_to: str | None, municipality: str | None
) -> tuple[Cut, Cut, list[dict[str, Any]]]:
    """Per month (up to ``months_to``) and referral, the committed spend that differs between the
    read models as known at position ``since`` and at ``until`` (None: the live ones), with the
    referral's events recorded in between; and the two cuts compared."""
    before_cut, before = known_at.read(since, lambda reports: reports.run(committed, months_to, municipality))

    def compared(reports: PinnedReports) -> list[dict[str, Any]]:
        after = reports.run(committed, months_to, municipality)
        changed = differences(before, after)
        referrals = sorted({referral for _, referral, _, _ in changed})
        causes = reports.run(events_between, before_cut.position, reports.position(), referrals)
        return changes_rows(changed, causes)

    after_cut, rows = known_at.read(until, compared)
    return before_cut, after_cut, rows
