"""The OpenAPI document: what FastAPI derives from the routes, plus what it cannot see."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union
from uuid import UUID

from fastapi import FastAPI
from pydantic import Field, TypeAdapter, create_model

from api.commands import COMMANDS
from api.fields import EventId
from api.problems import HEADERS_OF, PROBLEM_JSON
from api.schemas import Body
from api.settings import Settings

# Creates may name their new id in the body instead of the item.
_CREATES = {"supplier.registered", "referral.referred"}


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
            for name, definition in definitions.items():
                schema["components"]["schemas"].setdefault(name, definition)
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
        target: Any = (UUID | None, None) if kind in _CREATES else (UUID, ...)
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
                **{command.target: target},
            )
        )
    item: Any = Annotated[Union[tuple(models)], Field(discriminator="type")]  # noqa: UP007
    schema = TypeAdapter(item).json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs")
    return schema, definitions
