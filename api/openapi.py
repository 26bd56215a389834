"""The OpenAPI document: what FastAPI derives from the routes, plus what it cannot see."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.settings import Settings

# Headers every answer of a status carries, whichever route gives it (api.problems adds them).
_HEADERS_BY_STATUS: dict[str, dict[str, Any]] = {
    "401": {
        "WWW-Authenticate": {"description": 'Bearer realm="caseledger"', "schema": {"type": "string"}},
    },
    "503": {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1},
        },
    },
}


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the document with the batch limit this server enforces (``maxItems`` of ``events``) and
    the headers of every 401 and 503."""
    generate = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            events = schema["components"]["schemas"]["BatchIn"]["properties"]["events"]
            events["maxItems"] = settings.max_batch_items
            for operations in schema["paths"].values():
                for operation in operations.values():
                    for status, headers in _HEADERS_BY_STATUS.items():
                        if status in operation["responses"]:
                            operation["responses"][status].setdefault("headers", {}).update(headers)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = document  # type: ignore[method-assign]
