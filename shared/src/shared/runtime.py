"""A service's composition root at run time: migrations, event store, read pool, NATS, relay, projections, consumers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, Generic
from urllib.parse import unquote, urlparse

import anyio.to_thread
import asyncpg
import nats.errors
from fastapi import Depends, FastAPI, Request
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from pydantic import BaseModel, Field
from typing_extensions import (
    TypeVar,
)  # a TypeVar with a default (PEP 696) on Python 3.11; pydantic depends on it

from shared import audit, db, idempotency, messaging, shredding, telemetry
from shared.auditjob import AuditJob
from shared.auth import TenantRateLimiter, TokenVerifier
from shared.clock import Clock, SettableClock, SystemClock, stamp_events_with
from shared.consumer import ConsumerRunner, Handler
from shared.eventstore import ServiceApplication, persistence_env
from shared.fieldcrypt import FieldCipher
from shared.projection import Projection, ProjectionRunner, parked_events
from shared.relay import Outbound, Relay
from shared.scheduler import DeadlineHandler, DeadlineScheduler
from shared.settings import BaseServiceSettings

logger = logging.getLogger("lianxin.runtime")
RELAY_LAG_READY_LIMIT = 10_000
AppT = TypeVar("AppT", bound=ServiceApplication)
# The service's settings class. Covariant, because the runtime only hands its settings out: a handler that reads
# only the base settings (`Runtime[App]`, the default) plugs into a runtime of the service's own settings.
SettingsT = TypeVar("SettingsT", bound=BaseServiceSettings, default=BaseServiceSettings, covariant=True)
S = TypeVar(
    "S", bound=BaseServiceSettings
)  # the same, in a function's signature (where it cannot be covariant)


@dataclass
class ServiceParts(Generic[AppT, SettingsT]):
    """What a service plugs into the runtime; each service's main.py declares one, typed by its application and
    its settings (the handlers then read `runtime.settings` as the service's own class)."""

    service: str
    application: Callable[[Mapping[str, str], Clock], AppT]
    migrations: Sequence[str] = ()
    outbound: Outbound | None = None
    # Instead of `outbound`, when the mapping needs the application: events stored before they carried what
    # their contracts need (transfer's, before v2) are completed from their aggregate.
    outbound_of: Callable[[AppT], Outbound] | None = None
    projections: Sequence[Projection] = ()
    handlers: Mapping[str, Callable[[Runtime[AppT, SettingsT]], Handler]] = field(default_factory=dict)
    deadline_handlers: Mapping[str, Callable[[Runtime[AppT, SettingsT]], DeadlineHandler]] = field(
        default_factory=dict
    )
    extras: Mapping[str, Any] = field(
        default_factory=dict
    )  # service-specific objects the API needs (a cipher)

    def outbound_for(self, app: AppT) -> Outbound | None:
        return self.outbound_of(app) if self.outbound_of is not None else self.outbound


class Runtime(Generic[AppT, SettingsT]):
    """One service process at run time; `app` is the service's own application class, `settings` its own
    settings class."""

    def __init__(self, settings: SettingsT, parts: ServiceParts[AppT, SettingsT]) -> None:
        self.settings: SettingsT = settings
        self.parts = parts
        self.clock: Clock = (
            SettableClock(shift=timedelta(seconds=settings.test_clock_shift_seconds))
            if settings.test_clock
            else SystemClock()
        )
        stamp_events_with(self.clock)
        self.app: AppT
        self.pool: asyncpg.Pool
        self.nc: NATS
        self.js: JetStreamContext
        self.relay: Relay | None = None
        self.audit: AuditJob
        self.tasks: list[asyncio.Task[None]] = []
        self.extras: dict[str, Any] = dict(parts.extras)

    async def _apply_jetstream_config(self, s: BaseServiceSettings, attempts: int = 6) -> None:
        """The streams and consumers, retried while JetStream does not answer: a clustered JetStream that just
        lost a server (or is electing its meta leader) times out for some seconds, and an instance restarted then
        should come up once it answers, not exit."""
        for attempt in range(1, attempts + 1):
            try:
                await messaging.apply_jetstream_config(self.js, s.jetstream_config)
                return
            except nats.errors.TimeoutError:
                if attempt == attempts:
                    raise
                logger.warning(
                    "JetStream did not answer while applying its configuration; retrying",
                    extra={"attempt": attempt},
                )
                await asyncio.sleep(min(2.0**attempt, 10.0))

    async def start(self) -> None:
        s = self.settings
        anyio.to_thread.current_default_thread_limiter().total_tokens = s.db_pool_size + s.db_max_overflow
        idempotency.seal_bodies_with(FieldCipher(s.cipher_key))
        await db.migrate(s.owner_url, self.parts.service, self.parts.migrations)
        # Two instances starting together would race in eventsourcing's table creation (its migration tracking
        # row) and in the audit installs: the second waits on the migrations' advisory lock, then finds them made.
        lock = await asyncpg.connect(s.owner_url, timeout=5)
        try:
            await lock.execute("SELECT pg_advisory_lock($1)", db.MIGRATION_LOCK)
            await anyio.to_thread.run_sync(self._create_event_tables)
            await anyio.to_thread.run_sync(audit.install, s.owner_url, self.parts.service, self._app_role())
            await anyio.to_thread.run_sync(shredding.install, s.owner_url, self._app_role())
        finally:
            await lock.close()  # ends the session, and with it the lock
        self.app = self.parts.application(
            persistence_env(
                s.database_url,
                s.cipher_key,
                create_table=False,
                pool_size=s.db_pool_size,
                max_overflow=s.db_max_overflow,
            ),
            self.clock,
        )
        self.pool = await db.create_pool(s.database_url, max_size=s.db_pool_size + 2)
        self.nc = await messaging.connect(s.nats_url, f"lianxin-{self.parts.service}")
        self.js = self.nc.jetstream(timeout=10)
        await self._apply_jetstream_config(s)
        outbound = self.parts.outbound_for(self.app)
        if outbound is not None:
            self.relay = Relay(
                service=self.parts.service,
                app=self.app,
                js=self.js,
                pool=self.pool,
                listen_url=s.database_url,
                outbound=outbound,
                batch_size=s.relay_batch_size,
            )
            self._spawn("relay", self.relay.run)
        if self.parts.projections:
            # One runner for all of them: one read and one transaction per batch, not one per projection.
            runner = ProjectionRunner(
                service=self.parts.service,
                app=self.app,
                pool=self.pool,
                listen_url=s.database_url,
                projections=self.parts.projections,
            )
            self._spawn("projections", runner.run)
        if self.parts.deadline_handlers:
            scheduler = DeadlineScheduler(
                service=self.parts.service,
                pool=self.pool,
                clock=self.clock,
                handlers={kind: make(self) for kind, make in self.parts.deadline_handlers.items()},
                listen_url=s.database_url,
            )
            self._spawn("scheduler", scheduler.run)
        self.audit = AuditJob(
            service=self.parts.service,
            database_url=s.database_url,
            js=self.js,
            clock=self.clock,
            signing_key=s.audit_signing_key,
            trusted_keys=s.audit_trusted_keys,
            checkpoint_seconds=s.audit_checkpoint_seconds,
            verify_seconds=s.audit_verify_seconds,
        )
        self._spawn("audit:checkpoints", self.audit.run_checkpoints)
        self._spawn("audit:verification", self.audit.run_verification)
        for spec in messaging.consumer_specs(s.jetstream_config, self.parts.service):
            handler = self.parts.handlers[spec.durable](self)
            consumer = ConsumerRunner(
                nc=self.nc, js=self.js, spec=spec, handler=handler, lock_url=s.database_url
            )
            self._spawn(f"consumer:{spec.durable}", consumer.run)

    def _create_event_tables(self) -> None:
        s = self.settings
        owner_app = self.parts.application(
            persistence_env(s.owner_url, s.cipher_key, create_table=True, pool_size=1, max_overflow=0),
            self.clock,
        )
        owner_app.close()

    def _app_role(self) -> str | None:
        """The application role, when it differs from the owner: it loses the right to rewrite events."""
        s = self.settings
        app_user, owner_user = urlparse(s.database_url).username, urlparse(s.owner_url).username
        return unquote(app_user) if app_user and app_user != owner_user else None

    def _spawn(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        self.tasks.append(asyncio.create_task(supervise(name, loop), name=name))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if getattr(self, "nc", None) is not None and not self.nc.is_closed:
            try:
                await asyncio.wait_for(self.nc.drain(), timeout=5)
            except Exception:
                await self.nc.close()
        if getattr(self, "pool", None) is not None:
            await self.pool.close()
        if getattr(self, "app", None) is not None:
            await anyio.to_thread.run_sync(self.app.close)

    async def database_ready(self) -> tuple[bool, str]:
        await self.pool.fetchval("SELECT 1")
        return True, "ok"

    async def nats_ready(self) -> tuple[bool, str]:
        return self.nc.is_connected, "connected" if self.nc.is_connected else "disconnected"

    async def projections_ready(self) -> tuple[bool, str]:
        return await parked_events(self.pool)

    async def relay_ready(self) -> tuple[bool, str]:
        if self.relay is None:
            return True, "no relay"
        lag = await self.relay.lag()
        return lag < RELAY_LAG_READY_LIMIT, f"{lag} events behind"


async def supervise(name: str, loop: Callable[[], Awaitable[None]]) -> None:
    """Restart a background loop after a failure; its position is durable, so a restart loses nothing."""
    delay = 0.5
    while True:
        try:
            await loop()
            delay = 0.5
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("background loop failed; restarting", extra={"loop": name, "in_seconds": delay})
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10)


# Each service's parts as its create_app declared them: `lianxin audit verify --stream` reads a service's events
# with the service's own application and outbound mapping.
DECLARED: dict[str, ServiceParts[Any, Any]] = {}


def lifespan_for(settings: S, parts: ServiceParts[AppT, S]) -> Callable[[FastAPI], Any]:
    DECLARED[parts.service] = parts

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        telemetry.configure(
            parts.service, level=settings.log_level, otlp_endpoint=settings.otel_exporter_otlp_endpoint
        )
        runtime = Runtime(settings, parts)
        api.state.runtime = runtime
        api.state.verifier = TokenVerifier(settings)
        api.state.rate_limiter = TenantRateLimiter(settings.tenant_requests_per_minute)
        if settings.test_clock:
            install_test_clock(api)
        try:
            await runtime.start()
            api.state.readiness = [
                ("database", runtime.database_ready),
                ("nats", runtime.nats_ready),
                ("relay", runtime.relay_ready),
                ("audit", runtime.audit.ready),
                ("projections", runtime.projections_ready),
            ]
            yield
        finally:
            await runtime.stop()

    return lifespan


def runtime_of(request: Request) -> Runtime[Any, Any]:
    # The one untyped boundary: FastAPI's state holds whichever service's runtime this process runs.
    runtime: Runtime[Any, Any] = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime[Any, Any]:
    """A coroutine, as every dependency that does not block should be: FastAPI runs a plain `def` dependency in
    its worker threads, a hop there and back on every request."""
    return runtime_of(request)


RuntimeDep = Annotated[Runtime[Any, Any], Depends(get_runtime)]


class ClockAdvance(BaseModel):
    seconds: float = Field(ge=0, le=10 * 365 * 86400)


def install_test_clock(api: FastAPI) -> None:
    """Only with TEST_CLOCK=true, which settings refuse in production: lets tests move this service's time."""

    @api.get("/_test/clock", tags=["test"], include_in_schema=False)
    async def read_clock(request: Request) -> dict[str, str]:
        return {"now": runtime_of(request).clock.now().isoformat()}

    @api.post("/_test/clock/advance", tags=["test"], include_in_schema=False)
    async def advance_clock(body: ClockAdvance, request: Request) -> dict[str, str]:
        clock = runtime_of(request).clock
        assert isinstance(clock, SettableClock)
        return {"now": clock.advance(timedelta(seconds=body.seconds)).isoformat()}
