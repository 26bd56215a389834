"""What a report answer was computed from (its *basis*), and reports as known at an earlier time.

Every report and list answer says the notification-log position its read models had reached, the
hash chain's head at that position and the read models' version: in the JSON body as ``basis``, and
on JSON and CSV alike as the headers ``Caseledger-Position`` and ``Caseledger-Chain-Head``.
``known_at=<instant>`` or ``known_at_position=N`` asks for the answer as it was when the log ended
there (``projections.known_at``; docs/knowledge-time.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import Depends, Query, Request, Response

from api.csv_export import csv_response, wants_csv
from api.dependencies import Ledger
from api.fields import MAX_POSITION, Instant
from api.problems import responses
from application.errors import StorageUnavailable
from application.service.caseledger import CaseLedger
from application.storage.chain_links import GENESIS
from domain.errors import InvalidInput
from projections.known_at import Cut, KnownAt, PinnedReports

T = TypeVar("T")

POSITION_HEADER = "Caseledger-Position"
CHAIN_HEAD_HEADER = "Caseledger-Chain-Head"
BASIS_HEADERS: dict[str, dict[str, Any]] = {
    POSITION_HEADER: {
        "description": "The event-log position the answer was computed from (see `basis`).",
        "schema": {"type": "integer", "minimum": 0},
    },
    CHAIN_HEAD_HEADER: {
        "description": "The hash chain's head (global hash, 64 hex digits) at that position.",
        "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    },
}
"""The OpenAPI declaration of the basis headers, for the 200 answer of every report route."""


def report_responses(csv_description: str, *problems: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of a report route: JSON or CSV with the basis headers, and ``problems``."""
    return {
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": f"JSON, or CSV for `Accept: text/csv` ({csv_description})",
            "headers": BASIS_HEADERS,
        },
        **responses(*problems),
    }


def chain_head(ledger: CaseLedger, position: int) -> str | None:
    """The global chain's hash at ``position`` (None: no chain row there, an event stored before
    the chain existed)."""
    if position == 0:
        return GENESIS.hex()
    try:
        rows = ledger.keyed_recorder.chain_rows_by_position(position - 1, position, 1)
    except (OperationalError, InterfaceError) as error:
        raise StorageUnavailable(str(error)) from error
    return rows[0].global_hash if rows and rows[0].position == position else None


@dataclass(frozen=True)
class Basis:
    """What an answer was computed from."""

    position: int
    chain_head: str | None
    known_at: datetime | None
    read_model_version: int

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"position": self.position, "chain_head": self.chain_head}
        if self.known_at is not None:
            found["known_at"] = self.known_at.isoformat()
        found["read_model_version"] = self.read_model_version
        return found

    def headers(self) -> dict[str, str]:
        found = {POSITION_HEADER: str(self.position)}
        if self.chain_head is not None:
            found[CHAIN_HEAD_HEADER] = self.chain_head
        return found

    def body(self, answer: dict[str, Any], response: Response) -> dict[str, Any]:
        """A JSON answer with ``basis``, and the headers on its response."""
        response.headers.update(self.headers())
        return {**answer, "basis": self.as_dict()}

    def rows(self, rows: list[dict[str, Any]], response: Response) -> list[dict[str, Any]]:
        """A JSON answer that is a list (no room for ``basis``): the headers only."""
        response.headers.update(self.headers())
        return rows

    def csv(self, rows: Sequence[dict[str, Any]], filename: str) -> Response:
        answer = csv_response(rows, filename)
        answer.headers.update(self.headers())
        return answer


@dataclass(frozen=True)
class AsKnown:
    """A report read, on the live read models or as known at the position or instant asked for,
    and its answer as JSON (with ``basis``) or CSV, with the basis headers on either."""

    known_at: KnownAt
    ledger: CaseLedger
    position: int | None
    instant: datetime | None
    request: Request
    response: Response

    def read(self, ask: Callable[[PinnedReports], T]) -> tuple[Basis, T]:
        position = self.position
        if self.instant is not None:
            position = self.known_at.position_at(self.instant)
        cut, answer = self.known_at.read(position, ask)
        return basis_of(self.ledger, cut, self.instant), answer

    def answer(
        self,
        basis: Basis,
        found: dict[str, Any] | list[dict[str, Any]],
        filename: str,
        csv_rows: Sequence[dict[str, Any]] | None = None,
    ) -> Any:
        """``found`` as JSON, or for ``Accept: text/csv`` ``csv_rows`` (default: ``found``, a list)."""
        if wants_csv(self.request):
            rows = found if csv_rows is None else csv_rows
            if isinstance(rows, dict):
                msg = f"{filename}: a JSON object needs its CSV rows"
                raise TypeError(msg)
            return basis.csv(rows, filename)
        if isinstance(found, list):
            return basis.rows(found, self.response)
        return basis.body(found, self.response)

    def report(
        self,
        ask: Callable[[PinnedReports], dict[str, Any] | list[dict[str, Any]]],
        filename: str,
        csv_rows: Callable[[Any], Sequence[dict[str, Any]]] | None = None,
    ) -> Any:
        """Read ``ask`` and answer it (``csv_rows(found)``: the CSV rows of a JSON object)."""
        basis, found = self.read(ask)
        return self.answer(basis, found, filename, None if csv_rows is None else csv_rows(found))


def basis_of(ledger: CaseLedger, cut: Cut, instant: datetime | None = None) -> Basis:
    """The basis of an answer read at ``cut`` (as known at ``instant``, when one was asked for)."""
    return Basis(cut.position, chain_head(ledger, cut.position), instant, cut.read_model_version)


async def get_known_at(request: Request) -> KnownAt:
    """The report reads as known at a position (built by the lifespan)."""
    known_at: KnownAt = request.app.state.known_at
    return known_at


Knowledge = Annotated[KnownAt, Depends(get_known_at)]


async def as_known(
    request: Request,
    response: Response,
    ledger: Ledger,
    known_at: Annotated[
        Instant | None,
        Query(
            description="The answer as known at this instant (RFC 3339): computed from the events "
            "recorded up to the last position at or before it. One instant later than the log's "
            "newest event is the newest."
        ),
    ] = None,
    known_at_position: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_POSITION,
            description="The answer as known when the event log ended at this position (beyond its "
            "end: the end).",
        ),
    ] = None,
) -> AsKnown:
    if known_at is not None and known_at_position is not None:
        msg = "give known_at or known_at_position, not both"
        raise InvalidInput("known-at-conflict", msg, field="query.known_at_position")
    return AsKnown(await get_known_at(request), ledger, known_at_position, known_at, request, response)


AsKnownAt = Annotated[AsKnown, Depends(as_known)]
