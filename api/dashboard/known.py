"""The "Kendt pr." day: a page's figures as they were known at the end of a day (Danish time), read
as the report endpoints' ``known_at`` reads them (``KnownAt``, then ``api.basis.basis_of``), with the
basis they came from.

The day is asked for as ``known_on`` in the address, written the Danish way (``01.11.2026``) or as
``2026-11-01``; a text field rather than ``<input type="date">``, which Chromium renders in English
whatever the page's language, as it did the month pickers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from fastapi import Request

from api.basis import Basis, basis_of
from api.dashboard.formatting import COPENHAGEN
from application.service.caseledger import CaseLedger
from projections.known_at import KnownAt

T = TypeVar("T")


def known_on(request: Request) -> date | None:
    """The day asked for (``known_on``), or None for now; a text that is no date is ignored."""
    text = (request.query_params.get("known_on") or "").strip()
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def end_of(day: date) -> datetime:
    """The last instant of ``day`` in Danish time: what was known when the day was over."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=COPENHAGEN) - timedelta(microseconds=1)


def read_known(
    request: Request, ledger: CaseLedger, day: date | None, ask: Callable[..., T]
) -> tuple[Basis, T]:
    """``ask(reports)`` as known at the end of ``day`` (None: now), with its basis."""
    known_at: KnownAt = request.app.state.known_at
    instant = end_of(day) if day is not None else None
    # A day not over yet is known as far as it has gone: the live read models. An instant after
    # the log's newest event is never settled by a later event, so its position is not kept and
    # is looked up again every time (docs/benchmarks.md, "Figures behind choices in the code").
    past = instant is not None and instant < datetime.now(tz=COPENHAGEN)
    cut, answer = known_at.read(known_at.position_at(instant) if past and instant else None, ask)
    return basis_of(ledger, cut, instant), answer
