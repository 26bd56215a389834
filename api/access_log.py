"""Recording reads of referral-level data in the access log: one middleware, one marker per route.

A route whose answers carry referral-level data says so with ``@logged("referral.read")``; the
middleware ``AccessLogMiddleware`` then writes one entry for each of its requests that an authenticated
token made and that answered

- 2xx: the data was read or exported (``format`` csv or json), or
- 403 or 404: a denied attempt (a role without the right; a referral of another municipality or
  one that does not exist) — an auditor wants these as much as the reads.

401 (no token to attribute it to), 422 (nothing was read, nothing checked against data) and 5xx
are not recorded.

A write route marked ``@logged("referral.refer", refusals=("already-exists",))`` is recorded only
when it is refused with one of those problems: filing a referral under an id that is taken tells the
client the id is taken, so such a refusal is a probe the referral's municipality should see.

The entry is written before the answer leaves. When it cannot be written the data is withheld and
the client gets 503 (``access-log-unavailable``, with ``Retry-After``): an unlogged read of personal
data is exactly what the log exists to exclude.

What is stored: the token's name, role and municipality; the municipality of the data (the
referral's, or for a query the municipality it covered, ``*`` for all); the referral id for a read of
one referral; the query's declared parameters with their effective values for a list or search
(as text, defaults included; ``citizen_ref`` and ``case_ref`` stored as ``[redacted]``, other values cut at 200
characters); the status; the format.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from psycopg_pool import PoolTimeout
from pydantic_core import PydanticUndefined
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem, respond, storage_unavailable
from application.service.caseledger import CaseLedger
from application.storage.access_log import AccessEntry, AccessLog
from application.token_roles import Token

log = logging.getLogger("caseledger.access_log")
ACTION_ATTRIBUTE = "__access_log_action__"
REFUSALS_ATTRIBUTE = "__access_log_refusals__"
NEVER_STORED = frozenset({"citizen_ref", "case_ref"})
REDACTED = "[redacted]"
MAX_VALUE_LENGTH = 200
F = TypeVar("F", bound=Callable[..., Any])


def logged(action: str, *, refusals: tuple[str, ...] | None = None) -> Callable[[F], F]:
    """Mark a route whose answers are recorded in the access log as ``action``: its reads and denied
    attempts (``recorded``), or with ``refusals`` only its answers refused with one of these problems
    (a write that tells the client something about data it may not see, such as ``already-exists``)."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, ACTION_ATTRIBUTE, action)
        setattr(endpoint, REFUSALS_ATTRIBUTE, refusals)
        return endpoint

    return mark


def recorded(status: int) -> bool:
    """Reads that returned data, and denied attempts."""
    return 200 <= status < 300 or status in (403, 404)


def _declared_query(route: APIRoute) -> list[tuple[str, Any]]:
    """The route's query parameters (its dependencies' included) and their defaults."""
    found: dict[str, Any] = {}
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        for field in dependant.query_params:
            found.setdefault(field.alias, field.field_info.default)
        pending.extend(dependant.dependencies)
    return list(found.items())


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


def _format(media_type: str) -> str:
    if media_type.startswith("text/csv"):
        return "csv"
    if media_type.startswith("application/vnd.openxmlformats-officedocument.spreadsheetml"):
        return "xlsx"
    return "html" if media_type.startswith("text/html") else "json"


class AccessRecorder:
    """Builds and writes the entry for one answered request (see the module's docstring)."""

    def __init__(self, ledger: CaseLedger, access_log: AccessLog) -> None:
        self.ledger = ledger
        self.access_log = access_log
        self._declared: dict[int, list[tuple[str, Any]]] = {}

    def query_of(self, route: APIRoute, request: Request) -> dict[str, Any]:
        if id(route) not in self._declared:
            self._declared[id(route)] = _declared_query(route)
        query: dict[str, Any] = {}
        for name, default in self._declared[id(route)]:
            raw = request.query_params.get(name)
            if raw is None and (default is None or default is PydanticUndefined):
                continue
            # As a query string carries them: a default 50 is recorded as "50".
            value = raw if raw is not None else default if isinstance(default, str) else json.dumps(default)
            query[name] = REDACTED if name in NEVER_STORED else value[:MAX_VALUE_LENGTH]
        return query

    def entry(
        self, action: str, principal: Token, route: APIRoute, request: Request, status: int, media_type: str
    ) -> AccessEntry:
        # A page that reads referral-level data from its own query string (the dashboard's) names
        # what it read on ``request.state``; API routes declare it in their path and query.
        query = getattr(request.state, "access_query", None) or self.query_of(route, request)
        referral_id: UUID | None = None
        raw_id = request.path_params.get("referral_id", getattr(request.state, "access_referral_id", None))
        if raw_id is not None:
            # Refused before the path was validated (a role without the right), the id may be no
            # UUID: the attempt is recorded without it.
            referral_id = _uuid(raw_id)
            known = self.ledger.municipalities.of(referral_id) if referral_id else None
            municipality = known or principal.municipality
        elif principal.all_municipalities:
            municipality = str(query.get("municipality", principal.municipality))
        else:
            municipality = principal.municipality
        return AccessEntry(
            token=principal.name,
            role=principal.role,
            token_municipality=principal.municipality,
            municipality=municipality,
            action=action,
            status=status,
            referral_id=referral_id,
            query=query if (query or raw_id is None) else None,
            format=_format(media_type),
        )

    def record(
        self, action: str, principal: Token, route: APIRoute, request: Request, status: int, media_type: str
    ) -> None:
        entry = self.entry(action, principal, route, request, status, media_type)
        try:
            self.access_log.append(entry)
        except Exception as error:
            if cannot_take_writes(error):
                # Counted by kind and, if new, logged once. Only an event write that succeeds ends
                # the episode: a small entry may still fit in a page that an event no longer does.
                self.ledger.keyed_recorder.health.write_failed(error)
            raise


def cannot_take_writes(error: BaseException) -> bool:
    """Whether a failed write failed because the store cannot take writes now (a full disk, no
    connection, a lock): no bug, so no traceback."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, sqlite3.OperationalError | psycopg.OperationalError | PoolTimeout):
            return True
        seen = seen.__cause__
    return storage_unavailable(error)


class AccessLogMiddleware:
    """The recording point: when a ``@logged`` route starts its answer, the entry is written first;
    if it cannot be, a 503 goes out instead of the data. Plain ASGI (Starlette's
    ``BaseHTTPMiddleware`` cost a task and a memory stream on every request, logged or not)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        withheld = False

        async def sending(message: Message) -> None:
            nonlocal withheld
            if withheld:
                return  # the route's body: replaced by the 503 below
            if message["type"] == "http.response.start" and not await self._recorded(scope, message):
                withheld = True
                detail = (
                    "the read could not be recorded in the access log, so its data is withheld; retry later"
                )
                refusal = respond(
                    problem(503, "access-log-unavailable", "Access log unavailable", detail),
                    {"Retry-After": "5"},
                )
                await refusal(scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, sending)

    @staticmethod
    async def _recorded(scope: Scope, start: Message) -> bool:
        """Record the answer if its route is marked ``@logged``; False when that failed."""
        route = scope.get("route")
        endpoint = getattr(route, "endpoint", None)
        action = getattr(endpoint, ACTION_ATTRIBUTE, None)
        refusals = getattr(endpoint, REFUSALS_ATTRIBUTE, None)
        state = scope.get("state", {})
        principal = state.get("principal")
        status = int(start["status"])
        wanted = recorded(status) if refusals is None else state.get("problem") in refusals
        if not isinstance(route, APIRoute) or action is None or principal is None or not wanted:
            return True
        recorder: AccessRecorder = scope["app"].state.access_recorder
        media_type = Headers(raw=start.get("headers", [])).get("content-type", "")
        try:
            await run_in_threadpool(
                recorder.record, action, principal, route, Request(scope), status, media_type
            )
        except Exception as error:
            message = "could not record %s by %s in the access log; answering 503"
            if cannot_take_writes(error):  # said once per episode by application.storage.health
                log.warning(message + ": %s", action, principal.name, error)
            else:
                log.exception(message, action, principal.name)
            return False
        return True
