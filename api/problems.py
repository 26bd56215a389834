"""Every error, mapped once, to an RFC 9457 problem+json answer.

400 malformed JSON · 401 missing, unknown or revoked token (WWW-Authenticate: Bearer) · 403 role or
municipality not allowed · 404 unknown id (also a referral of another municipality) · 408 body not
arrived in time · 409 rule or state · 412 If-Match · 413 body too large · 422 invalid input · 503
storage unavailable (Retry-After). Nothing a client sends causes a 500.

"Storage unavailable" is every error that means the database could not be reached or answered in
time, whichever layer raised it: psycopg's ``OperationalError``/``InterfaceError`` (refused or
dropped connections, server shutdown, statement or lock timeouts), psycopg_pool's ``PoolTimeout``,
eventsourcing's wrappers of those (``OperationalError``, ``InterfaceError``, and a bare
``PersistenceError`` caused by one), the application's ``StorageUnavailable``, and SQLite's
"database is locked"/"busy" once its lock timeout has passed. Other database errors (a constraint,
a syntax error) are bugs and stay 500.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

import psycopg
import psycopg_pool
from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.auth import Forbidden, Unauthenticated
from api.dependencies import NotYetProjected
from api.responses import ProblemOut
from application.audit.signing_key import SigningKeyMissing
from application.errors import IdempotencyKeyReused, StorageUnavailable, VersionMismatch
from application.storage.health import failure_kind
from domain.errors import DomainError, InvalidInput, NotFound, RuleViolation

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = "5"
WWW_AUTHENTICATE = 'Bearer realm="caseledger"'
HEADERS_OF: dict[int, dict[str, dict[str, Any]]] = {
    401: {"WWW-Authenticate": {"description": WWW_AUTHENTICATE, "schema": {"type": "string"}}},
    503: {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
"""The OpenAPI headers every problem answer of a status carries, whichever route or layer gives it
(``responses`` declares them; ``api.openapi`` adds them to 401s and 503s a route declares by hand)."""
log = logging.getLogger("caseledger.api")

_STATUS_OF: list[tuple[type[DomainError], int, str]] = [
    (Unauthenticated, 401, "Unauthorized"),
    (Forbidden, 403, "Forbidden"),
    (VersionMismatch, 412, "Precondition failed"),
    (IdempotencyKeyReused, 422, "Idempotency key reused"),
    (NotFound, 404, "Not found"),
    (InvalidInput, 422, "Invalid input"),
    (RuleViolation, 409, "Conflict with a business rule or the current state"),
    (SigningKeyMissing, 503, "No receipt signing key"),
]


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The problem body (RFC 9457) with a stable ``type`` per kind of problem."""
    body: dict[str, Any] = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = list(errors)
    return body


def respond(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


def _location(field: str) -> list[str]:
    """``loc`` of a refused field: in the body, unless it names a header (``header.If-Match``)."""
    parts = field.split(".")
    return parts if parts[0] == "header" else ["body", *parts]


def domain_problem(error: DomainError) -> dict[str, Any]:
    """The problem for a refused command (also used per item by batch ingestion)."""
    status, title = next(
        ((status, title) for kind, status, title in _STATUS_OF if isinstance(error, kind)), (409, "Conflict")
    )
    errors = [{"loc": _location(error.field), "msg": error.detail}] if error.field else None
    return problem(status, error.problem, title, error.detail, errors)


def validation_problem(errors: Sequence[Any]) -> dict[str, Any]:
    """400 for JSON that does not parse, 422 for JSON that does not fit the schema."""
    if any(error.get("type") == "json_invalid" for error in errors):
        detail = "; ".join(str(e.get("ctx", {}).get("error", e.get("msg"))) for e in errors)
        return problem(
            400, "malformed-json", "Malformed JSON", f"the request body is not valid JSON: {detail}"
        )
    listed = [
        {"loc": [str(part) for part in error.get("loc", ())], "msg": error.get("msg", "")} for error in errors
    ]
    summary = "; ".join(f"{'.'.join(item['loc'])}: {item['msg']}" for item in listed[:5])
    return problem(422, "invalid-input", "Invalid input", summary or "the request is invalid", listed)


_UNREACHABLE = (
    StorageUnavailable,
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
)


def storage_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) means the database is out of reach for now."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, _UNREACHABLE):
            return True
        if isinstance(seen, sqlite3.OperationalError):
            message = str(seen).lower()
            return "locked" in message or "busy" in message
        seen = seen.__cause__
    return False


def unavailable_problem(error: Exception) -> dict[str, Any]:
    log.warning("storage unavailable: %s", error)
    return problem(
        503, "storage-unavailable", "Storage unavailable", "the database cannot be reached; retry later"
    )


def install(app: FastAPI) -> None:
    """Register the one mapping from exceptions to problem+json."""

    @app.exception_handler(RequestValidationError)
    def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return respond(validation_problem(error.errors()))

    @app.exception_handler(ValidationError)
    def _invalid(request: Request, error: ValidationError) -> JSONResponse:
        return respond(validation_problem(error.errors()))

    @app.exception_handler(Unauthenticated)
    def _unauthenticated(request: Request, error: Unauthenticated) -> JSONResponse:
        return respond(domain_problem(error), {"WWW-Authenticate": WWW_AUTHENTICATE})

    @app.exception_handler(DomainError)
    def _refused(request: Request, error: DomainError) -> JSONResponse:
        request.state.problem = error.problem  # for the access log (``api.access_log.logged``)
        body = domain_problem(error)  # a 503 (no signing key) carries Retry-After, as every 503 does
        return respond(body, {"Retry-After": RETRY_AFTER_SECONDS} if body["status"] == 503 else None)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        slug = {
            400: "malformed-json",
            404: "no-such-route",
            405: "method-not-allowed",
            413: "body-too-large",
        }.get(error.status_code, "http-error")
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return respond(problem(error.status_code, slug, str(error.detail), str(error.detail)), headers)

    for kind in (*_UNREACHABLE, PersistenceError, sqlite3.OperationalError):

        @app.exception_handler(kind)
        def _unavailable(request: Request, error: Exception) -> JSONResponse:
            if not storage_unavailable(error):
                return internal_error(request, error)
            metrics = getattr(request.app.state, "metrics", None)
            if metrics is not None:  # every refusal counted, the token check's too, not only writes
                metrics.unavailable_answered(failure_kind(error))
            return respond(unavailable_problem(error), {"Retry-After": RETRY_AFTER_SECONDS})

    @app.exception_handler(NotYetProjected)
    def _behind(request: Request, error: NotYetProjected) -> JSONResponse:
        body = problem(503, "projections-behind", "Projections behind", str(error))
        return respond(body, {"Retry-After": "1"})

    app.exception_handler(Exception)(internal_error)


def internal_error(request: Request, error: Exception) -> JSONResponse:
    """A bug: 500, logged with its traceback, nothing of it told to the client."""
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return respond(problem(500, "internal-error", "Internal error", "an unexpected error occurred"))


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """Every method the path answers to (Starlette's 405 names only those of the first route on it)."""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    )


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI descriptions of the problem answers a route can give, with the headers each carries
    (``HEADERS_OF``). A route that takes a body (413) can also answer 408: both come from
    ``api.body_limit.BodyLimit``, which reads every body."""
    if 413 in statuses and 408 not in statuses:
        statuses = (*statuses, 408)
    meaning = {
        400: "Malformed JSON",
        401: "Missing, unknown or revoked bearer token (WWW-Authenticate: Bearer)",
        403: "The token's role or municipality does not allow this",
        404: "Unknown id",
        408: "The body did not arrive within the body timeout (the connection is closed)",
        409: "A business rule or the current state forbids it",
        412: "If-Match does not match the current version",
        413: "Body too large",
        422: "Invalid input",
        503: "Storage unavailable (Retry-After)",
    }
    schema = {"schema": {"$ref": f"#/components/schemas/{ProblemOut.__name__}"}}
    declared: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        answer = {"model": ProblemOut, "description": meaning[status], "content": {PROBLEM_JSON: schema}}
        if status in HEADERS_OF:
            answer["headers"] = dict(HEADERS_OF[status])
        declared[status] = answer
    return declared
