"""Learning composition root."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI
from shared.clock import Clock
from shared.http import create_service_app
from shared.runtime import ServiceParts, lifespan_for

from learning.application import LearningApplication
from learning.settings import LearningSettings


def _application(env: Mapping[str, str], clock: Clock) -> LearningApplication:
    return LearningApplication(env, clock)


def create_app(settings: LearningSettings | None = None) -> FastAPI:
    settings = settings or LearningSettings()  # type: ignore[call-arg]
    parts = ServiceParts(service="learning", application=_application)
    return create_service_app(
        service="learning", title="Lianxin learning", version="0.1.0",
        description="Lianxin learning: organisational life, study, quizzes, thought reports and points. Errors are RFC 9457 problem+json.",
        lifespan=lifespan_for(settings, parts), max_body_bytes=settings.max_body_bytes)
