"""Guards in front of every service's routes: control characters in paths and query strings, bounded labels."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.text import control_character

# The methods a route can answer; anything else is counted under one label so random verbs add no series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"


def metric_method(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


def offending_parameter(scope: Scope) -> tuple[str, str] | None:
    """(field, character) of the first control character in the path or a query parameter, else None."""
    bad = control_character(scope.get("path", ""))
    if bad is not None:
        return "path", bad
    query = scope.get("query_string", b"").decode("utf-8", errors="replace")
    for name, value in parse_qsl(query, keep_blank_values=True):
        for text in (name, value):
            bad = control_character(text)
            if bad is not None:
                return (name if control_character(name) is None else "query"), bad
    return None


class RefuseControlCharacters:
    """422 before routing when a path or query parameter holds a control character (NUL breaks PostgreSQL)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = offending_parameter(scope) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        from shared.http import problem  # the shell installs this guard; imported here to avoid a cycle

        field, character = found
        response = problem(
            422,
            "validation",
            "Invalid request",
            f"{field}: control character {character} is not allowed",
            None,
            errors=[
                {
                    "field": field,
                    "message": f"control character {character} is not allowed",
                    "kind": "control_character",
                }
            ],
        )
        await response(scope, receive, send)
