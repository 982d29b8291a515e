"""Notify composition root."""

from __future__ import annotations

from collections.abc import Mapping

import anyio.to_thread
from fastapi import FastAPI
from shared.clock import Clock
from shared.consumer import Handler
from shared.envelope import CloudEvent
from shared.http import create_service_app
from shared.runtime import Runtime, ServiceParts, lifespan_for

from notify.api import inbox
from notify.application import NotifyApplication
from notify.readmodels import MIGRATIONS, InboxProjection
from notify.settings import NotifySettings


def _application(env: Mapping[str, str], clock: Clock) -> NotifyApplication:
    return NotifyApplication(env, clock)


def _upstream_handler(runtime: Runtime) -> Handler:
    app = runtime.app
    assert isinstance(app, NotifyApplication)

    async def handle(event: CloudEvent) -> None:
        await anyio.to_thread.run_sync(app.handle, event)

    return handle


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()  # type: ignore[call-arg]
    parts = ServiceParts(service="notify", application=_application, migrations=MIGRATIONS,
                         projections=[InboxProjection()], handlers={"notify-from-registry": _upstream_handler})
    app = create_service_app(
        service="notify", title="Lianxin notify", version="0.1.0",
        description="Who hears about what: the in-app inbox. Errors are RFC 9457 problem+json.",
        lifespan=lifespan_for(settings, parts), max_body_bytes=settings.max_body_bytes)
    app.include_router(inbox)
    return app
