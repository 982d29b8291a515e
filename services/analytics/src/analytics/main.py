"""Analytics composition root: the DuckDB store, NATS, one lander per stream, the statistics API and the page.

Analytics has no PostgreSQL and no event store of its own, so it does not use shared.runtime.Runtime; it
reuses its pieces (settings, token verifier, rate limiter, supervised background loops, the FastAPI shell).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio.to_thread
from fastapi import FastAPI

from analytics.api import operator, page, statistics
from analytics.consumers import StreamLander
from analytics.settings import AnalyticsSettings
from analytics.store import AnalyticsStore
from shared import messaging, telemetry
from shared.auth import TenantRateLimiter, TokenVerifier
from shared.clock import SettableClock, SystemClock
from shared.http import create_service_app
from shared.runtime import supervise

SERVICE = "analytics"


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    settings = settings or AnalyticsSettings()  # type: ignore[call-arg]

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        telemetry.configure(
            SERVICE, level=settings.log_level, otlp_endpoint=settings.otel_exporter_otlp_endpoint
        )
        api.state.settings = settings
        # "today" for a statistic's default period; under tests the shifted clock the other services run on
        api.state.clock = (
            SettableClock(shift=timedelta(seconds=settings.test_clock_shift_seconds))
            if settings.test_clock
            else SystemClock()
        )
        api.state.verifier = TokenVerifier(settings)
        api.state.rate_limiter = TenantRateLimiter(settings.tenant_requests_per_minute)
        store = await anyio.to_thread.run_sync(AnalyticsStore, settings.analytics_database)
        api.state.store = store
        nc = await messaging.connect(settings.nats_url, f"lianxin-{SERVICE}")
        tasks: list[asyncio.Task[None]] = []
        try:
            js = nc.jetstream(timeout=10)
            await messaging.apply_jetstream_config(js, settings.jetstream_config)
            for spec in messaging.consumer_specs(settings.jetstream_config, SERVICE):
                lander = StreamLander(js=js, spec=spec, store=store, batch=settings.landing_batch)
                tasks.append(asyncio.create_task(supervise(f"landing:{spec.durable}", lander.run)))

            async def store_ready() -> tuple[bool, str]:
                await anyio.to_thread.run_sync(store.positions)
                return True, "ok"

            async def nats_ready() -> tuple[bool, str]:
                return nc.is_connected, "connected" if nc.is_connected else "disconnected"

            api.state.readiness = [("store", store_ready), ("nats", nats_ready)]
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                await asyncio.wait_for(nc.drain(), timeout=5)
            except Exception:
                await nc.close()
            await anyio.to_thread.run_sync(store.close)

    app = create_service_app(
        service=SERVICE,
        title="Lianxin analytics",
        version="0.1.0",
        description="Every service's integration stream landed exactly once in DuckDB (raw events and modelled "
        "facts, ids only), statistics per tenant with small cells from other tenants suppressed, a "
        "partitioned Parquet export and a page of charts. Errors are RFC 9457 problem+json.",
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
    )
    app.include_router(statistics)
    app.include_router(operator)
    app.include_router(page)
    return app
