"""RFC 9457 problem+json: one base exception per service, one handler set for every app."""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.persistence import IntegrityError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_BASE = "https://lianxin.example/problems/"
logger = logging.getLogger("lianxin.errors")


class ServiceError(Exception):
    """Base of every service's error hierarchy; subclasses fix status and a stable problem type."""

    status = 400
    type = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(ServiceError):
    status, type, title = 404, "not-found", "Not found"


class Conflict(ServiceError):
    status, type, title = 409, "conflict", "Conflict"


class Invalid(ServiceError):
    status, type, title = 422, "invalid", "Unprocessable content"


class Forbidden(ServiceError):
    status, type, title = 403, "forbidden", "Forbidden"


class Unauthorized(ServiceError):
    status, type, title = 401, "unauthorized", "Unauthorized"


class TooManyRequests(ServiceError):
    status, type, title = 429, "rate-limited", "Too many requests"


class PayloadTooLarge(ServiceError):
    status, type, title = 413, "payload-too-large", "Payload too large"


def problem(status: int, type_: str, title: str, detail: str, instance: str | None = None,
            **extensions: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + type_, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extensions)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return problem(exc.status, exc.type, exc.title, exc.detail, request.url.path, **exc.extensions)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(e.get("loc", ())), "message": e.get("msg", "invalid"), "kind": e.get("type")}
            for e in exc.errors()
        ]
        if any(e["kind"] == "json_invalid" for e in errors):
            detail = "the request body is not valid JSON"
        else:
            detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "validation", "Invalid request", detail, request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, f"http-{exc.status_code}", str(exc.detail), str(exc.detail),
                       request.url.path)

    @app.exception_handler(IntegrityError)
    async def _clash(request: Request, exc: IntegrityError) -> JSONResponse:
        return problem(409, "concurrent-change", "Conflict",
                       "the record was changed or created concurrently; reload and retry", request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"path": request.url.path})
        return problem(500, "internal", "Internal error", "an unexpected error occurred", request.url.path)
