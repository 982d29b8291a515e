"""Registry composition root: create_app(settings) and the runtime parts it plugs in."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI
from shared.clock import Clock
from shared.fieldcrypt import FieldCipher
from shared.http import create_service_app
from shared.runtime import ServiceParts, lifespan_for

from registry.api import members, mobility, organisations
from registry.application import RegistryApplication
from registry.outbound import outbound
from registry.participation import transfer_requests
from registry.readmodels import MIGRATIONS, RegistryProjection
from registry.settings import RegistrySettings


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()  # type: ignore[call-arg]
    cipher = FieldCipher(settings.cipher_key)

    def application(env: Mapping[str, str], clock: Clock) -> RegistryApplication:
        return RegistryApplication(env, clock, platform_secret=settings.platform_secret)

    parts = ServiceParts(service="registry", application=application, migrations=MIGRATIONS, outbound=outbound,
                         projections=[RegistryProjection(cipher)],
                         handlers={"registry-from-transfer": transfer_requests}, extras={"cipher": cipher})
    app = create_service_app(
        service="registry", title="Lianxin registry", version="0.1.0",
        description="Organisations, members and their history; the registry's side of the transfer saga. "
                    "Personal data is masked unless a committee role asks for it, and such reads are recorded. "
                    "Errors are RFC 9457 problem+json.",
        lifespan=lifespan_for(settings, parts), max_body_bytes=settings.max_body_bytes)
    app.include_router(organisations)
    app.include_router(members)
    app.include_router(mobility)
    return app
