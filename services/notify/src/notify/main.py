"""Notify composition root: the application with its collaborators, consumers, projections and deadlines."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import FastAPI

from notify.api import ROUTERS
from notify.application import DeliveryPolicy, NotifyApplication
from notify.application.directory import Directory, NoDirectory, RegistryDirectory
from notify.consumers import UPSTREAMS, upstream
from notify.delivery.dispatch import delivery_attempts, reminder_firings
from notify.delivery.mobile import ESCALATION, escalation_steps
from notify.outbound import outbound
from notify.readmodels.mobile import MOBILE_MIGRATIONS, MobileProjection
from notify.readmodels.projection import (
    ATTEMPT,
    ERASURE_MIGRATIONS,
    MIGRATIONS,
    REMINDER,
    InboxProjection,
    ScheduleProjection,
)
from notify.settings import NotifySettings
from shared.clock import Clock
from shared.fieldcrypt import FieldCipher
from shared.http import create_service_app
from shared.oauth import service_tokens
from shared.runtime import ServiceParts, lifespan_for


def _application_factory(settings: NotifySettings) -> Callable[[Mapping[str, str], Clock], NotifyApplication]:
    tokens = service_tokens(settings, settings.service_key())
    directory: Directory = (
        RegistryDirectory(settings.registry_url, tokens) if tokens is not None else NoDirectory()
    )
    delivery = DeliveryPolicy(
        settings.delivery_max_attempts,
        settings.delivery_backoff_base_seconds,
        settings.delivery_backoff_cap_seconds,
    )

    def build(env: Mapping[str, str], clock: Clock) -> NotifyApplication:
        return NotifyApplication(
            env, clock, box=FieldCipher(settings.cipher_key), directory=directory, delivery=delivery
        )

    return build


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()  # type: ignore[call-arg]
    cipher = FieldCipher(settings.cipher_key)
    parts: ServiceParts[NotifyApplication, NotifySettings] = ServiceParts(
        service="notify",
        application=_application_factory(settings),
        migrations=MIGRATIONS + MOBILE_MIGRATIONS + ERASURE_MIGRATIONS,
        projections=[InboxProjection(cipher), ScheduleProjection(), MobileProjection()],
        outbound=outbound,
        extras={"cipher": cipher},
        handlers=dict.fromkeys(UPSTREAMS, upstream),
        deadline_handlers={
            ATTEMPT: delivery_attempts,
            REMINDER: reminder_firings,
            ESCALATION: escalation_steps,
        },
    )
    app = create_service_app(
        service="notify",
        title="Lianxin notify",
        version="0.2.0",
        description="Who hears about what, by which channel, until it is closed: the inbox, email and signed "
        "webhooks, SMS (Alibaba Cloud, Tencent Cloud), WeChat Official Account and WeCom messages, escalation, reminders, and deliveries with retries and dead letters. Errors are RFC 9457 "
        "problem+json.",
        lifespan=lifespan_for(settings, parts),
        max_body_bytes=settings.max_body_bytes,
    )
    for router in ROUTERS:
        app.include_router(router)
    return app
