"""Console composition root: create_app(settings). Pages for members (phone) and secretaries (desk), rendered on
the server from the four services' APIs, called with the signed-in person's own token."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from console.api import auth, desk, member, public
from console.api.common import Pages, Submissions, page_error
from console.clients.api import Services
from console.oidc import OidcClient, PendingBox
from console.session import SessionBox
from console.settings import ConsoleSettings

HERE = Path(__file__).parent


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services(
            {
                "registry": settings.registry_url,
                "transfer": settings.transfer_url,
                "learning": settings.learning_url,
                "notify": settings.notify_url,
                "analytics": settings.analytics_url,
            },
            settings.api_timeout_seconds,
        )
        app.state.services = services
        oidc_http = httpx.AsyncClient(timeout=settings.api_timeout_seconds)
        if settings.oidc_issuer:
            app.state.oidc = OidcClient(
                settings.oidc_issuer,
                settings.oidc_client_id,
                settings.oidc_client_secret,
                settings.oidc_audience,
                settings.oidc_scopes,
                oidc_http,
            )
        try:
            yield
        finally:
            await services.close()
            await oidc_http.aclose()

    app = FastAPI(
        title="Lianxin console",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.sessions = SessionBox(
        settings.session_secret, hours=settings.session_hours, secure=settings.secure_cookies
    )
    app.state.pages = Pages(HERE / "templates")
    app.state.submissions = Submissions()
    app.state.oidc = None  # production sign-in, set up with its HTTP client at start (OIDC_ISSUER)
    app.state.pending = PendingBox(app.state.sessions.fernet)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        return JSONResponse({"status": "ready"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return page_error(request, exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # The type only: a message or a URL could carry personal data.
        logging.getLogger("console").error("unhandled error: %s", type(exc).__name__, exc_info=exc)
        return page_error(request, 500)

    app.include_router(auth.router)
    app.include_router(public.router)
    app.include_router(member.router)
    app.include_router(desk.router)
    return app
