"""The OpenAPI document: what FastAPI derives from the routes, plus what it cannot see."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union
from uuid import UUID

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import Field, TypeAdapter, create_model

from api.commands import COMMANDS
from api.fields import EventId
from api.problems import HEADERS_OF, PROBLEM_JSON
from api.schemas import AGREEMENT_FORMS, Body, PriceAgreementIn
from api.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the document with the batch limit this server enforces (``maxItems`` of ``events``) and
    the headers of every 401 and 503 (``api.problems.HEADERS_OF``), also where a route declares
    one by hand (``/readyz``)."""
    generate = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            events = schema["components"]["schemas"]["BatchIn"]["properties"]["events"]
            events["maxItems"] = settings.max_batch_items
            items, definitions = batch_items()
            events["items"] = items
            for name, definition in (definitions | agreement_forms()).items():
                schema["components"]["schemas"].setdefault(name, definition)
            schema["components"]["schemas"]["PriceAgreementIn"] = {
                "description": PriceAgreementIn.__doc__.split("\n")[0] if PriceAgreementIn.__doc__ else "",
                "oneOf": [{"$ref": f"#/components/schemas/{form.__name__}"} for form in AGREEMENT_FORMS],
            }
            for operations in schema["paths"].values():
                for operation in operations.values():
                    declare_problems(operation["responses"])
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = document  # type: ignore[method-assign]


def declare_problems(answers: dict[str, Any]) -> None:
    """Each problem answer as it is sent: only ``application/problem+json`` (FastAPI also lists the
    route's ``application/json`` for a ``model``), with the headers of its status."""
    for status, answer in answers.items():
        content = answer.get("content", {})
        if PROBLEM_JSON in content:
            content.pop("application/json", None)
        headers = HEADERS_OF.get(int(status), {}) if status.isdigit() else {}
        if headers:
            answer["headers"] = {**headers, **answer.get("headers", {})}


def batch_items() -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON schema of one ``POST /events`` item, a union of one model per command keyed by
    ``type`` (with the command's body as ``data``), and the definitions it refers to. Only for the
    document: the route reads items as plain objects and checks each one on its own, so that one
    malformed item is ``rejected`` without failing the batch."""
    models: list[Any] = []
    for kind, command in COMMANDS.items():
        # Creates may name their new id in the body instead of the item; a command ``per`` a
        # value finds its aggregate by the value in its data.
        target: Any = (UUID | None, None) if command.declared.creates else (UUID, ...)
        targets = {} if command.declared.per else {command.target: target}
        name = "".join(part.title() for part in re.split(r"[._]", kind)) + "Item"
        literal: Any = Literal[kind]
        models.append(
            create_model(
                name,
                __base__=Body,
                __doc__=f"A ``{kind}`` item: ``data`` is the body of the matching command.",
                event_id=(EventId, ...),
                type=(literal, ...),
                expected_version=(int | None, Field(default=None, ge=1)),
                data=(command.body, ...),
                **targets,
            )
        )
    item: Any = Annotated[Union[tuple(models)], Field(discriminator="type")]  # noqa: UP007
    schema = TypeAdapter(item).json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs")
    return schema, definitions


def agreement_forms() -> dict[str, Any]:
    """The three forms of a price agreement, with what they refer to. ``PriceAgreementIn`` is
    documented as ``oneOf`` them: what a valid request is, though the server reads the fields side by
    side and answers a mix with the domain's own 422."""
    found: dict[str, Any] = {}
    for form in AGREEMENT_FORMS:
        schema = TypeAdapter(form).json_schema(ref_template="#/components/schemas/{model}")
        found |= schema.pop("$defs", {})
        found[form.__name__] = schema
    return found


def operation_id(route: APIRoute) -> str:
    """An operation's id in the document: its route's name (``agree_price``, ``get_referral``), unique
    across the API, so that a generated client's functions read as the API's verbs rather than as
    FastAPI's default of name, path and method."""
    return route.name
