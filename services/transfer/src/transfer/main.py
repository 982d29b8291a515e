"""Transfer composition root."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from fastapi import FastAPI

from shared import printing
from shared.auth import TenantRateLimiter
from shared.http import create_service_app
from shared.oauth import service_tokens
from shared.runtime import Runtime, ServiceParts, lifespan_for
from shared.scheduler import Deadline, DeadlineHandler
from shared.threads import run_sync
from transfer.api import batches, case_letters, cases, letters, me, worklists
from transfer.application import TransferApplication
from transfer.application.registry_client import RegistryClient
from transfer.consumers import registry_replies
from transfer.outbound import outbound_of
from transfer.readmodels import MIGRATIONS, TransferProjection
from transfer.settings import TransferSettings


def _timer(action: str) -> Callable[[Runtime[TransferApplication]], DeadlineHandler]:
    def make(runtime: Runtime[TransferApplication]) -> DeadlineHandler:
        app = runtime.app

        async def fire(deadline: Deadline) -> None:
            await run_sync(getattr(app, action), UUID(deadline.subject_id))

        return fire

    return make


def _reminder(runtime: Runtime[TransferApplication]) -> DeadlineHandler:
    app = runtime.app

    async def fire(deadline: Deadline) -> None:
        await run_sync(app.remind_expiry, UUID(deadline.subject_id), int(deadline.payload["days_before"]))

    return fire


def create_app(settings: TransferSettings | None = None) -> FastAPI:
    settings = settings or TransferSettings()  # type: ignore[call-arg]
    printing.require_font()  # letters print: without the CJK font they would print as boxes
    parts: ServiceParts[TransferApplication, TransferSettings] = ServiceParts(
        service="transfer",
        application=TransferApplication,
        migrations=MIGRATIONS,
        outbound_of=outbound_of,
        projections=[TransferProjection()],
        handlers={"transfer-from-registry": registry_replies},
        deadline_handlers={
            "transfer.expiry": _timer("expire"),
            "transfer.receipt_overdue": _timer("receipt_overdue"),
            "transfer.expiry_reminder": _reminder,
        },
        extras={
            "registry": RegistryClient(
                settings.registry_url, service_tokens(settings, settings.service_key())
            ),
            "public_limiter": TenantRateLimiter(settings.public_requests_per_minute),
        },
    )
    app = create_service_app(
        service="transfer",
        title="Lianxin transfer",
        version="0.1.0",
        description="The transfer of a member's organisational relation (组织关系转接): a saga with approvals, a "
        "signed introduction letter anyone can verify, check-in, receipt, deadlines and compensation. "
        "Errors are RFC 9457 problem+json.",
        lifespan=lifespan_for(settings, parts),
        max_body_bytes=settings.max_body_bytes,
    )
    app.include_router(letters)
    app.include_router(cases)
    app.include_router(case_letters)
    app.include_router(worklists)
    app.include_router(batches)
    app.include_router(me)
    return app
