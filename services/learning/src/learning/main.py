"""Learning composition root: create_app(settings) and the runtime parts it plugs in."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from fastapi import FastAPI

from learning.api import ROUTERS
from learning.application import LearningApplication
from learning.consumers import registry_events
from learning.outbound import outbound
from learning.readmodels import MIGRATIONS, REPORT_DUE, LearningProjection
from learning.settings import LearningSettings
from shared import printing
from shared.clock import Clock
from shared.http import create_service_app
from shared.runtime import Runtime, ServiceParts, lifespan_for
from shared.scheduler import Deadline, DeadlineHandler
from shared.threads import run_sync


def _application(env: Mapping[str, str], clock: Clock) -> LearningApplication:
    return LearningApplication(env, clock)


def _report_duty_handler(runtime: Runtime[LearningApplication]) -> DeadlineHandler:
    app = runtime.app

    async def fire(deadline: Deadline) -> None:
        await run_sync(app.announce_report_duty, UUID(deadline.subject_id), str(deadline.payload["quarter"]))

    return fire


def create_app(settings: LearningSettings | None = None) -> FastAPI:
    settings = settings or LearningSettings()  # type: ignore[call-arg]
    printing.require_font()  # the 民主评议 登记表 prints: without the CJK font it would print as boxes
    parts: ServiceParts[LearningApplication, LearningSettings] = ServiceParts(
        service="learning",
        application=_application,
        migrations=MIGRATIONS,
        outbound=outbound,
        projections=[LearningProjection()],
        handlers={"learning-from-registry": registry_events},
        deadline_handlers={REPORT_DUE: _report_duty_handler},
    )
    app = create_service_app(
        service="learning",
        title="Lianxin learning",
        version="0.1.0",
        description="Organisational life, study, quizzes, thought reports, points and probation assessment. "
        "Errors are RFC 9457 problem+json.",
        lifespan=lifespan_for(settings, parts),
        max_body_bytes=settings.max_body_bytes,
    )
    for router in ROUTERS:
        app.include_router(router)
    return app
