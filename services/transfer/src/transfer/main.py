"""Transfer composition root."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI
from shared.clock import Clock
from shared.http import create_service_app
from shared.runtime import ServiceParts, lifespan_for

from transfer.application import TransferApplication
from transfer.settings import TransferSettings


def _application(env: Mapping[str, str], clock: Clock) -> TransferApplication:
    return TransferApplication(env, clock)


def create_app(settings: TransferSettings | None = None) -> FastAPI:
    settings = settings or TransferSettings()  # type: ignore[call-arg]
    parts = ServiceParts(service="transfer", application=_application)
    return create_service_app(
        service="transfer", title="Lianxin transfer", version="0.1.0",
        description="Lianxin transfer: the organisational-relation transfer saga. Errors are RFC 9457 problem+json.",
        lifespan=lifespan_for(settings, parts), max_body_bytes=settings.max_body_bytes)
