"""Request-scoped dependencies: the application, and what a write carries in its headers.

Dependencies that never wait on the database are ``async def``: FastAPI runs a plain ``def``
dependency in its thread pool, and each such hand-off costs a command about as much CPU as its
rules do (``benchmarks/suite.py``)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.fields import MAX_POSITION
from application.service.caseledger import CaseLedger
from application.service.context import WriteContext, WriteResult
from domain.errors import InvalidInput
from projections.reports import Reports as ReadModels
from projections.runner import wait_for_position

_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,12})"?\s*$')
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_IF_MATCH_DOCUMENTED = r'^\s*(\*|(W/)?"?\d{1,12}"?)\s*$'
"""What ``If-Match`` accepts, for the OpenAPI document (the patterns are checked here, with their own
problem types, not by FastAPI)."""


async def get_ledger(request: Request) -> CaseLedger:
    """The application built by the lifespan."""
    ledger: CaseLedger = request.app.state.ledger
    return ledger


Ledger = Annotated[CaseLedger, Depends(get_ledger)]


async def get_reports(request: Request) -> ReadModels:
    """The report queries on the live read models."""
    reports: ReadModels = request.app.state.reports
    return reports


Reports = Annotated[ReadModels, Depends(get_reports)]
Page = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=500)]
"""A list's page and its size: the same limits on every list."""


class NotYetProjected(Exception):
    """``min_position`` was not reached by the projections in time (HTTP 503)."""


async def fresh(
    request: Request,
    min_position: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_POSITION,
            description="Wait (up to 5 s) until the projections have processed this position; a "
            "position beyond the end of the event log is refused at once (422 position-beyond-log).",
        ),
    ] = None,
) -> None:
    """Read-your-writes: hold the query until the read models include ``min_position``."""
    if min_position is None:
        return
    reports: ReadModels = request.app.state.reports
    if not await run_in_threadpool(_reachable, request.app.state.ledger, reports, min_position):
        msg = f"position {min_position} is beyond the end of the event log; use a position a write answered"
        raise InvalidInput("position-beyond-log", msg, field="query.min_position")
    if not await run_in_threadpool(
        wait_for_position,
        reports.position,
        min_position,
        timeout=request.app.state.settings.min_position_wait,
    ):
        msg = f"the projections have not reached position {min_position} yet; retry shortly"
        raise NotYetProjected(msg)


Fresh = Annotated[None, Depends(fresh)]


def _reachable(ledger: CaseLedger, reports: ReadModels, position: int) -> bool:
    """Whether the read models have, or can reach, ``position``: it is not beyond the log's last
    stored event (a position no write has answered yet would be waited for in vain)."""
    return reports.position() >= position or ledger.last_position() >= position


class WriteHeaders:
    """``Idempotency-Key`` and ``If-Match`` of a write, and the request line they apply to."""

    def __init__(self, request: Request, idempotency_key: str | None, if_match: str | None) -> None:
        if idempotency_key is not None and not _KEY.match(idempotency_key):
            msg = "Idempotency-Key must be 1 to 255 visible ASCII characters"
            raise InvalidInput("invalid-idempotency-key", msg, field="header.Idempotency-Key")
        self.idempotency_key = idempotency_key
        self.expected_version = self._version(if_match)
        self.request_line = f"{request.method} {request.url.path}"
        self.request = request

    @staticmethod
    def _version(if_match: str | None) -> int | None:
        if if_match is None or if_match.strip() == "*":
            return None
        found = _IF_MATCH.match(if_match)
        if not found:
            msg = 'If-Match must be a version as an entity tag, e.g. "3"'
            raise InvalidInput("invalid-if-match", msg, field="header.If-Match")
        return int(found.group(1))

    def context(self, body: BaseModel) -> WriteContext:
        """The write context, fingerprinting the request line and the validated body; the
        idempotency key is scoped to the token that sent it (authenticated by the time a route
        body runs)."""
        principal = getattr(self.request.state, "principal", None)
        return WriteContext(
            idempotency_key=self.idempotency_key,
            fingerprint=fingerprint(self.request_line, body),
            expected_version=self.expected_version,
            requester=getattr(principal, "name", None),
        )


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    """``json.dumps(value, sort_keys=True, separators=(",", ":"))``, with one encoder for all calls."""
    return _CANONICAL.encode(value)


def fingerprint(request_line: str, body: BaseModel) -> str:
    """A hash of what a request asks for; equal bodies (850 and "850.00") hash alike."""
    canonical = canonical_json(body.model_dump(mode="json"))
    return hashlib.sha256(f"{request_line}\n{canonical}".encode()).hexdigest()


IdempotencyKey = Annotated[
    str | None,
    Header(
        description="Repeat a POST with the same key and body: the first answer, nothing appended.",
        json_schema_extra={"pattern": _KEY.pattern},
    ),
]
"""The ``Idempotency-Key`` header, as a write and a create both document it."""


async def write_headers(
    request: Request,
    idempotency_key: IdempotencyKey = None,
    if_match: Annotated[
        str | None,
        Header(
            description='The version you expect, e.g. "3" (or *); 412 if it has moved on.',
            json_schema_extra={"pattern": _IF_MATCH_DOCUMENTED},
        ),
    ] = None,
) -> WriteHeaders:
    return WriteHeaders(request, idempotency_key, if_match)


Writing = Annotated[WriteHeaders, Depends(write_headers)]


async def create_headers(
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> WriteHeaders:
    """A create's headers: ``Idempotency-Key`` only (there is no version to match yet)."""
    return WriteHeaders(request, idempotency_key, None)


Creating = Annotated[WriteHeaders, Depends(create_headers)]


_ETAG = {
    "ETag": {
        "description": 'The aggregate\'s version as an entity tag, e.g. "3"; send it in If-Match.',
        "schema": {"type": "string", "pattern": '^"[1-9][0-9]*"$'},
    }
}
_REPLAYED = {
    "Idempotent-Replayed": {
        "description": "true when this is the stored answer to an earlier request with the same key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
_LOCATION = {
    "Location": {"description": "The new resource's path.", "schema": {"type": "string"}},
}


def versioned(status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI headers of an answer naming an aggregate's version (reads of one aggregate)."""
    return {status: {"headers": dict(_ETAG)}}


def write_answers(status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI headers ``written`` sends: ETag, Idempotent-Replayed and, on a create, Location."""
    headers = {**_ETAG, **_REPLAYED, **(_LOCATION if status == 201 else {})}
    return {status: {"headers": headers}}


def etag(version: int) -> dict[str, str]:
    """The ETag header for an aggregate at ``version``."""
    return {"ETag": f'"{version}"'}


def written(result: WriteResult, status_code: int = 200, collection: str | None = None) -> JSONResponse:
    """The answer to a successful write, with its ETag (and a marker when it is a replay); a create
    names the new resource under ``collection`` in ``Location``. Built here rather than from the
    route's ``response_model`` (which documents it): FastAPI validating and serialising the three
    fields again cost a command about a twentieth of its API CPU."""
    headers = etag(result.version)
    if collection is not None:
        headers["Location"] = f"{collection}/{result.id}"
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(result.body(), status_code=status_code, headers=headers)
