"""The write routes of the commands on an existing aggregate, made from the command registry.

Each is ``POST {path}`` with the command's body: the token's right (and, for a referral, that it is
one of the token's municipality) is checked before the body, a municipality the body names must be
the token's, a supplier write without an ``actor`` is recorded as the token's, and the answer is the
write's ``{id, version, position}`` with its ETag. Creating commands have routes of their own.
"""

import inspect
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.auth import Principal, attributed, check_municipality, referral_access, require
from api.commands import COMMANDS, Command
from api.dependencies import Ledger, WriteHeaders, Writing, write_answers, written
from api.problems import responses
from api.responses import WriteResultOut
from api.schemas import Body
from application.service.caseledger import CaseLedger

WRITE_ERRORS = responses(400, 401, 403, 404, 409, 412, 413, 422, 503) | write_answers()
CREATE_ERRORS = responses(400, 401, 403, 404, 409, 413, 422, 503) | write_answers(201)


def created(
    command_name: str, ledger: CaseLedger, body: Body, writing: WriteHeaders, collection: str
) -> JSONResponse:
    """Run the creating command ``command_name`` and answer 201, the new resource under ``collection``."""
    return written(
        COMMANDS[command_name].run(ledger, None, body, writing.context(body)),
        status_code=201,
        collection=collection,
    )


def add_command_routes(router: APIRouter, kind: str) -> None:
    """``add_command_route`` for each command on an existing ``kind`` aggregate (``referral``,
    ``supplier``) that declares a route, in the registry's order."""
    for command in COMMANDS.values():
        if command.route is not None and command.declared.kind == kind:
            add_command_route(router, command)


def add_command_route(router: APIRouter, command: Command) -> None:
    """Add ``POST path`` running ``command`` on the aggregate named in the path, as the route's
    ``name`` (the OpenAPI document's operation) described by its ``description``."""
    assert command.route is not None
    path, name, description = command.route.path, command.route.name, command.route.description
    access: Callable[[str], Any] = referral_access if command.target == "referral_id" else require

    def endpoint(**values: Any) -> JSONResponse:
        body, principal = values["body"], values["principal"]
        if isinstance(getattr(body, "municipality", None), str):
            check_municipality(principal, body.municipality)
        body = attributed(body, principal)
        context = values["writing"].context(body)
        return written(command.run(values["ledger"], values[command.target], body, context))

    parameter = inspect.Parameter.POSITIONAL_OR_KEYWORD
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(command.target, parameter, annotation=UUID),
            inspect.Parameter("body", parameter, annotation=command.body),
            inspect.Parameter("ledger", parameter, annotation=Ledger),
            inspect.Parameter(
                "principal",
                parameter,
                annotation=Annotated[Principal, Depends(access(command.declared.right))],
            ),
            inspect.Parameter("writing", parameter, annotation=Writing),
        ],
        return_annotation=JSONResponse,
    )
    endpoint.__name__ = name
    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        name=name,
        description=description,
        response_model=WriteResultOut,
        responses=WRITE_ERRORS,
    )
