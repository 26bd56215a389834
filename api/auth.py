"""Access control, enforced in one place: a dependency per route that names the right it needs.

``Authorization: Bearer <token>``; the token's role grants rights (``application.token_roles.RIGHTS``)
and its municipality (or ``*``) bounds what it sees and writes. Missing, unknown or revoked token:
401. A right the role lacks, or a body or query naming another municipality: 403. A referral of
another municipality answers as if it did not exist: 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.dependencies import Ledger
from api.fields import Municipality, parse_uuid
from api.schemas import ActorIn, Body
from application.service.caseledger import CaseLedger
from application.service.commands import COMMANDS
from application.storage.tokens import TokenStore
from application.token_roles import Token
from domain.errors import DomainError, NotFound
from domain.own_cost import OwnCosts
from domain.referral import Referral

Principal = Token
"""Who is asking: the token's name, role and municipality."""

bearer = HTTPBearer(
    auto_error=False,
    description="A token from `caseledger tokens create --role R --municipality M`.",
)


class Unauthenticated(DomainError):
    """No token, or one that is unknown or revoked (HTTP 401 with ``WWW-Authenticate: Bearer``)."""


class Forbidden(DomainError):
    """The token's role lacks the right, or the request names another municipality (HTTP 403)."""


def get_tokens(request: Request) -> TokenStore:
    tokens: TokenStore = request.app.state.tokens
    return tokens


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
"""What ``Authorization: Bearer …`` carries; declared by each token dependency (and so in OpenAPI)."""


async def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None, right: str
) -> Principal:
    """The token presented in ``Authorization: Bearer …``: 401 without a live one, 403 when its role
    lacks ``right``. Checked against the database on every request, in a worker thread (one read of
    the tokens' generation, and of the token itself when the cache cannot answer: see
    ``application.storage.tokens``), so that a revocation holds from the next request on in every process.
    Called by the route's one dependency rather than being one: each level of dependencies costs
    FastAPI about as much per request as the check itself."""
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("missing-token", "send the header Authorization: Bearer <token>")
    tokens = get_tokens(request)
    token = await run_in_threadpool(tokens.authenticate, credentials.credentials)
    if token is None:
        raise Unauthenticated("invalid-token", "the bearer token is unknown or revoked")
    request.state.principal = token
    check_right(token, right)
    return token


def require(right: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that answers 401 without a live token and 403 when its role lacks ``right``."""

    async def dependency(request: Request, credentials: Credentials) -> Principal:
        return await authenticate(request, credentials, right)

    dependency.__name__ = f"require_{right.replace(':', '_')}"
    return dependency


def check_right(principal: Principal, right: str) -> None:
    if not principal.can(right):
        msg = f"a {principal.role} token may not do this ({right})"
        raise Forbidden("role-not-allowed", msg)


def check_municipality(principal: Principal, municipality: str, field: str | None = "municipality") -> None:
    """403 when a body or query names a municipality the token does not cover."""
    if not principal.sees(municipality):
        msg = f"this token covers municipality {principal.municipality}, not {municipality}"
        raise Forbidden("municipality-not-allowed", msg, field=field)


def check_referral(
    principal: Principal, ledger: CaseLedger, referral_id: UUID, municipality: str | None = None
) -> None:
    """404 for a referral of another municipality, as for one that does not exist (``municipality``:
    the referral's, when the caller knows it already)."""
    if principal.all_municipalities:
        return
    if (municipality or ledger.municipalities.of(referral_id)) != principal.municipality:
        msg = f"no referral with id {referral_id}"
        raise NotFound("referral-not-found", msg)


def referral_access(right: str) -> Callable[..., Awaitable[Principal]]:
    """``require(right)`` plus: the referral in the path belongs to the token's municipality (else 404).
    A municipality the ledger remembers costs no thread hand-off; others are read in one. The path's
    ``referral_id`` is read here rather than declared, so that the token answers first; one that is
    not a UUID is left to the route's own validation (422)."""

    async def dependency(request: Request, credentials: Credentials) -> Principal:
        principal = await authenticate(request, credentials, right)
        referral_id = parse_uuid(request.path_params["referral_id"])
        if referral_id is not None and not principal.all_municipalities:
            ledger: CaseLedger = request.app.state.ledger
            known = ledger.municipalities.remembered(referral_id)
            if known is None:
                await run_in_threadpool(check_referral, principal, ledger, referral_id)
            else:
                check_referral(principal, ledger, referral_id, known)
        return principal

    dependency.__name__ = f"referral_{right.replace(':', '_')}"
    return dependency


def municipality_scope(right: str) -> Callable[..., Awaitable[str | None]]:
    """``require(right)`` plus the ``municipality`` query parameter, bounded by the token: a scoped
    token always queries its own municipality (403 if it names another); ``*`` queries what it asks.
    The token is checked by a dependency of its own so that it answers before the query is validated."""
    # The default-value form: string annotations (PEP 563) cannot see the closure's variables.
    authorised = Depends(require(right))

    async def dependency(
        principal: Principal = authorised,
        municipality: Annotated[
            Municipality | None, Query(description="Only this municipality (a scoped token: its own).")
        ] = None,
    ) -> str | None:
        if municipality is not None:
            check_municipality(principal, municipality, field=None)
            return municipality
        return None if principal.all_municipalities else principal.municipality

    dependency.__name__ = f"scope_{right.replace(':', '_')}"
    return dependency


def attributed(body: Any, principal: Principal) -> Any:
    """A supplier write without an ``actor`` is recorded as made by the token (by its name)."""
    if isinstance(body, Body) and "actor" in type(body).model_fields and getattr(body, "actor", 1) is None:
        return body.model_copy(update={"actor": ActorIn(id=principal.name)})
    return body


# -- a batch item's command, checked as its route checks it -------------------------------------------


def authorize_command(
    principal: Principal, ledger: CaseLedger, event_type: str, target: UUID | None, body: Any
) -> Any:
    """Check one write as a route would (for batch items); returns the body to run."""
    command = COMMANDS[event_type]
    check_right(principal, command.right)
    municipality = getattr(body, "municipality", None)
    if isinstance(municipality, str):
        check_municipality(principal, municipality, field="data.municipality")
    if command.kind == "referral" and not command.creates and target is not None:
        check_referral(principal, ledger, target)
    return attributed(body, principal) if command.kind == "supplier" else body


class FeedFilter:
    """Which stored events a token may see in the feed: its municipality's referrals and own costs,
    every supplier."""

    def __init__(self, principal: Principal, ledger: CaseLedger) -> None:
        self.principal = principal
        self.ledger = ledger
        self._municipality: dict[UUID, str | None] = {}

    def visible(self, event: Any) -> bool:
        if self.principal.all_municipalities:
            return True
        if isinstance(event, OwnCosts.Event):
            return getattr(event, "municipality", None) == self.principal.municipality  # each names it
        if not isinstance(event, Referral.Event):
            return True
        stream: UUID = event.originator_id
        if stream not in self._municipality:
            if isinstance(event, Referral.Referred):
                self._municipality[stream] = str(event.municipality)
            else:
                self._municipality[stream] = self.ledger.municipalities.of(stream)
        return self._municipality[stream] == self.principal.municipality

    def read(self, after: int, limit: int) -> list[tuple[int, Any]]:
        """Up to ``limit`` visible events after ``after``, reading on past invisible ones."""
        found: list[tuple[int, Any]] = []
        while len(found) < limit:
            batch = self.ledger.read_events(after, limit, reveal=True)
            found.extend(item for item in batch if self.visible(item[1]))
            if len(batch) < limit:
                break
            after = batch[-1][0]
        return found[:limit]


def feed_filter(ledger: Ledger, principal: Annotated[Principal, Depends(require("feed:read"))]) -> FeedFilter:
    return FeedFilter(principal, ledger)
