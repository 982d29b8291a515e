"""Registry composition root: create_app(settings) and the runtime parts it plugs in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from uuid import UUID

from fastapi import FastAPI

from registry.access import principal_refiner
from registry.api import (
    categories,
    contact,
    declarations,
    destinations,
    development,
    dues,
    dues_reports,
    me,
    members,
    mobility,
    organisations,
    printed,
    probation,
    roll,
    screening,
    worklists,
)
from registry.application import RegistryApplication
from registry.consumers import learning_signals, transfer_requests
from registry.outbound import outbound
from registry.readmodels import MIGRATIONS, RegistryProjection
from registry.settings import RegistrySettings
from shared import printing
from shared.clock import Clock
from shared.fieldcrypt import FieldCipher
from shared.http import create_service_app
from shared.runtime import Runtime, ServiceParts, lifespan_for
from shared.scheduler import Deadline, DeadlineHandler
from shared.threads import run_sync


def _contact_timer(timer: str) -> Callable[[Runtime[RegistryApplication]], DeadlineHandler]:
    def make(runtime: Runtime[RegistryApplication]) -> DeadlineHandler:
        app = runtime.app

        async def fire(deadline: Deadline) -> None:
            await run_sync(app.contact_timer, UUID(deadline.subject_id), timer)

        return fire

    return make


def _probation_ending(runtime: Runtime[RegistryApplication]) -> DeadlineHandler:
    app = runtime.app

    async def fire(deadline: Deadline) -> None:
        await run_sync(app.probation_ending, UUID(deadline.subject_id))

    return fire


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()  # type: ignore[call-arg]
    printing.require_font()  # forms print: without the CJK font they would print as boxes
    cipher = FieldCipher(settings.cipher_key)

    def application(env: Mapping[str, str], clock: Clock) -> RegistryApplication:
        return RegistryApplication(env, clock, platform_secret=settings.platform_secret)

    parts: ServiceParts[RegistryApplication, RegistrySettings] = ServiceParts(
        service="registry",
        application=application,
        migrations=MIGRATIONS,
        outbound=outbound,
        projections=[RegistryProjection(cipher)],
        handlers={"registry-from-transfer": transfer_requests, "registry-from-learning": learning_signals},
        deadline_handlers={
            **{
                f"contact.{timer}": _contact_timer(timer)
                for timer in ("at_risk", "lost", "self_lapse", "self_lapse_dues", "self_lapse_work")
            },
            "probation.ending": _probation_ending,
        },
        extras={"cipher": cipher},
    )
    app = create_service_app(
        service="registry",
        title="Lianxin registry",
        version="0.1.0",
        description="Organisations, members and their history; the registry's side of the transfer saga. "
        "Personal data is masked unless a committee role asks for it, and such reads are recorded. "
        "Errors are RFC 9457 problem+json.",
        lifespan=lifespan_for(settings, parts),
        max_body_bytes=settings.max_body_bytes,
    )
    app.state.refine_principal = principal_refiner(lambda: app.state.runtime)
    app.include_router(organisations)
    app.include_router(destinations)
    app.include_router(roll)  # before members: /v1/members/export.csv is not a member id
    app.include_router(members)
    app.include_router(mobility)
    app.include_router(contact)
    app.include_router(worklists)
    app.include_router(me)
    app.include_router(declarations)
    app.include_router(dues)
    app.include_router(dues_reports)
    app.include_router(probation)
    app.include_router(printed)
    app.include_router(development)
    app.include_router(screening)
    app.include_router(categories)
    return app
