"""The FastAPI shell every service shares: problem+json, body cap, tracing, metrics, health and readiness."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import prometheus_client
from eventsourcing.persistence import IntegrityError
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)
from shared.httpguard import UNMATCHED_ROUTE, RefuseControlCharacters, metric_method
from shared.openapi import install_openapi
from shared.telemetry import HTTP_LATENCY, HTTP_REQUESTS, extract_context, tracer

ReadinessCheck = Callable[[], Awaitable[tuple[bool, str]]]
PROBLEM_BASE = "https://lianxin.example/problems/"
logger = logging.getLogger("lianxin.errors")

# The one place a domain error becomes an HTTP status: a service's error takes the status of the nearest
# kind it derives from; a bare ServiceError is a 400.
STATUS: dict[type[ServiceError], int] = {
    Invalid: 422,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Unauthorized: 401,
    TooManyRequests: 429,
    PayloadTooLarge: 413,
    Unavailable: 503,
}


def status_of(error: ServiceError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def problem(
    status: int, type_: str, title: str, detail: str, instance: str | None = None, **extensions: Any
) -> JSONResponse:
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
        return problem(status_of(exc), exc.type, exc.title, exc.detail, request.url.path, **exc.extensions)

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
        response = problem(
            exc.status_code, f"http-{exc.status_code}", str(exc.detail), str(exc.detail), request.url.path
        )
        response.headers.update(exc.headers or {})  # 405 keeps its Allow header
        return response

    @app.exception_handler(IntegrityError)
    async def _clash(request: Request, exc: IntegrityError) -> JSONResponse:
        return problem(
            409,
            "concurrent-change",
            "Conflict",
            "the record was changed or created concurrently; reload and retry",
            request.url.path,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"path": request.url.path})
        return problem(500, "internal", "Internal error", "an unexpected error occurred", request.url.path)


class BodySizeLimit:
    """Refuses bodies over the cap with 413 before the endpoint sees them, declared length or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        seen = 0
        refused = False

        async def counting_receive() -> Message:
            # Answer 413 ourselves and tell the app the client left: frameworks turn exceptions raised while
            # reading the body into a 400, which would hide the real reason.
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    await self._too_large(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413,
            "payload-too-large",
            "Payload too large",
            f"the request body exceeds {self.max_bytes} bytes",
            scope.get("path"),
        )
        await response(scope, receive, send)


class Observe:
    """A server span per request (W3C context from the headers) and the request counter and latency histogram,
    labelled by the route's template.

    Plain ASGI: starlette's `BaseHTTPMiddleware` (what `@app.middleware("http")` installs) runs the rest of the
    request in a task of its own and streams the response through memory channels, which cost more per request
    than the span and the metrics it carried."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"]
        status = 500  # an exception that escapes before any answer is what the server turns into a 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with tracer().start_as_current_span(
            f"{method} {scope['path']}", context=extract_context(headers), kind=SpanKind.SERVER
        ) as span:
            try:
                await self.app(scope, receive, observed_send)
            finally:
                route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(trace.StatusCode.ERROR)
                label = metric_method(method)
                HTTP_REQUESTS.labels(self.service, label, route, str(status)).inc()
                HTTP_LATENCY.labels(self.service, label, route).observe(time.perf_counter() - started)


def create_service_app(
    *, service: str, title: str, version: str, description: str, lifespan: Any, max_body_bytes: int
) -> FastAPI:
    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        # Observe (below) makes the one server span per request and the Prometheus metrics. FastAPI's own telemetry
        # would add a second server span and one per dependency, endpoint and serialisation on every request once
        # a tracer provider is set (shared.telemetry sets one): a fifth of a registration's request CPU.
        telemetry={"tracing": False, "operation_spans": False},
    )
    install_problem_handlers(app)
    install_openapi(app)
    app.state.readiness = []

    app.add_middleware(Observe, service=service)
    app.add_middleware(RefuseControlCharacters)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get(
        "/readyz", tags=["operations"], summary="Readiness: database, NATS, relay lag and the audit chain"
    )
    async def readyz(request: Request) -> JSONResponse:
        checks: dict[str, dict[str, Any]] = {}
        for name, check in request.app.state.readiness:
            try:
                ok, detail = await check()
            except Exception as exc:  # a failing probe is a not-ready answer, never a 500
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            checks[name] = {"ok": ok, "detail": detail}
        ready = bool(checks) and all(c["ok"] for c in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        include_in_schema=True,
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics() -> Response:
        return Response(prometheus_client.generate_latest(), media_type=prometheus_client.CONTENT_TYPE_LATEST)

    return app
