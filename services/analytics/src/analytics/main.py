"""Analytics composition root: the DuckDB store, NATS, one lander for every stream, the statistics API and the page.

Analytics has no PostgreSQL and no event store of its own, so it does not use shared.runtime.Runtime; it
reuses its pieces (settings, token verifier, rate limiter, supervised background loops, the FastAPI shell).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from analytics.api import operator, page, statistics
from analytics.consumers import Lander
from analytics.settings import AnalyticsSettings
from analytics.standby import open_when_free
from analytics.store import AnalyticsStore
from shared import messaging, telemetry
from shared.auth import TenantRateLimiter, TokenVerifier
from shared.clock import SettableClock, SystemClock
from shared.http import create_service_app
from shared.runtime import supervise
from shared.threads import run_sync

SERVICE = "analytics"
logger = logging.getLogger("lianxin.analytics")


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
        api.state.store = None  # until this instance holds the DuckDB file (analytics.standby)
        api.state.standby = "opening the analytics file"
        nc = await messaging.connect(settings.nats_url, f"lianxin-{SERVICE}")
        tasks: list[asyncio.Task[None]] = []
        opening: asyncio.Task[None] | None = None
        try:
            js = nc.jetstream(timeout=10)
            await messaging.apply_jetstream_config(js, settings.jetstream_config)

            def waiting(reason: str) -> None:
                api.state.standby = f"standby: another instance holds the analytics file ({reason})"

            async def take_over() -> None:
                while True:
                    try:
                        store = await open_when_free(
                            settings.analytics_database,
                            poll_seconds=settings.analytics_standby_poll_seconds,
                            waiting=waiting,
                        )
                        break
                    except Exception as exc:  # not a lock: a broken file, a full disk; keep trying, loudly
                        logger.exception("the analytics file cannot be opened")
                        api.state.standby = f"the analytics file cannot be opened: {exc}"[:500]
                        await asyncio.sleep(settings.analytics_standby_poll_seconds)
                api.state.store, api.state.standby = store, None
                lander = Lander(
                    js=js,
                    specs=messaging.consumer_specs(settings.jetstream_config, SERVICE),
                    store=store,
                    batch=settings.landing_batch,
                    linger=settings.landing_linger_seconds,
                )
                tasks.append(asyncio.create_task(supervise("landing", lander.run)))

            opening = asyncio.create_task(take_over())

            async def store_ready() -> tuple[bool, str]:
                store: AnalyticsStore | None = api.state.store
                if store is None:
                    return False, str(api.state.standby)
                await run_sync(store.positions)
                return True, "ok"

            async def nats_ready() -> tuple[bool, str]:
                return nc.is_connected, "connected" if nc.is_connected else "disconnected"

            api.state.readiness = [("store", store_ready), ("nats", nats_ready)]
            yield
        finally:
            for task in [opening, *tasks] if opening is not None else tasks:
                task.cancel()
            await asyncio.gather(*([opening] if opening is not None else []), *tasks, return_exceptions=True)
            try:
                await asyncio.wait_for(nc.drain(), timeout=5)
            except Exception:
                await nc.close()
            if api.state.store is not None:
                await run_sync(api.state.store.close)

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
