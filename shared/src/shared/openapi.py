"""The OpenAPI document says what the services really do: bearer tokens and problem+json errors.

The `bearer` scheme comes from the token dependency (shared.auth.BEARER); the errors are answered by the problem
handlers, which FastAPI does not see, so the generated document is completed once with the problem+json answers
each operation can give.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM = "application/problem+json"
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; validation problems list the fields in `errors`",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "kind": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}
ALWAYS = {
    "413": "The body is over the size limit",
    "422": "Invalid input; `errors` names the fields",
    "500": "An unexpected error (logged with the trace id)",
}
WITH_TOKEN = {
    "401": "No token, or a token that is not valid",
    "403": "The token's roles do not allow this",
    "404": "Not found, or outside the caller's tenant or scope",
    "409": "The record's state forbids this",
    "429": "The tenant is over its request rate",
}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = document.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                answers = operation.setdefault("responses", {})
                secured = bool(operation.get("security"))  # FastAPI adds it for the bearer dependency
                extra = {**ALWAYS, **(WITH_TOKEN if secured else {})}
                for status, description in extra.items():
                    answers.setdefault(status, {"description": description})
                for status, answer in answers.items():
                    if status[:1] in ("4", "5"):  # every error is answered as problem+json
                        answer["content"] = problem
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
