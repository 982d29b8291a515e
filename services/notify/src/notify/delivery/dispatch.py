"""The deadline handlers: send a due delivery attempt, fire a due reminder. Both are idempotent.

An attempt is sent, then recorded. If the process dies in between, the deadline row was not marked fired, so the
attempt is sent again after the restart, with the same idempotency key (the delivery id) for the receiver to
drop; that is the one duplicate this design allows, and only at a crash.
"""

from __future__ import annotations

import logging
from uuid import UUID

from notify.application import NotifyApplication
from notify.channels.egress import parse_allowed_hosts
from notify.channels.senders import Sender, SmtpSettings
from notify.delivery.metrics import ATTEMPT_SECONDS, DELIVERIES, DELIVERY_LATENCY
from notify.delivery.mobile import mobile_sender
from notify.domain import DeliveryStatus
from notify.settings import NotifySettings
from shared.runtime import Runtime
from shared.scheduler import Deadline, DeadlineHandler
from shared.threads import run_sync

logger = logging.getLogger("lianxin.notify.dispatch")


def delivery_attempts(runtime: Runtime[NotifyApplication, NotifySettings]) -> DeadlineHandler:
    """The attempt handler: the senders are made from the service's own settings."""
    app, settings = runtime.app, runtime.settings
    sender = Sender(
        SmtpSettings(
            settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_timeout_seconds
        ),
        webhook_timeout_seconds=settings.webhook_timeout_seconds,
        mobile=mobile_sender(settings, app),
        allowed_hosts=parse_allowed_hosts(settings.webhook_allowed_hosts),
    )

    async def attempt(deadline: Deadline) -> None:
        delivery_id, number = UUID(deadline.payload["delivery_id"]), int(deadline.payload["attempt"])
        outgoing = await run_sync(app.prepare_attempt, delivery_id, number)
        if outgoing is None:
            return  # stale: sent, dead, withdrawn, or this attempt already recorded
        outcome = await sender.send(outgoing)
        ATTEMPT_SECONDS.labels(outgoing.channel).observe(outcome.latency_ms / 1000)
        delivery = await run_sync(app.record_attempt, delivery_id, number, outcome)
        if delivery is None:
            return
        if delivery.status is DeliveryStatus.Sent:
            DELIVERIES.labels(delivery.channel, "sent").inc()
            waited = (app.clock.now() - delivery.requested_at).total_seconds()
            DELIVERY_LATENCY.labels(delivery.channel).observe(max(0.0, waited))
        elif delivery.status is DeliveryStatus.Dead:
            DELIVERIES.labels(delivery.channel, "dead").inc()
            logger.warning(
                "delivery dead-lettered",
                extra={"delivery_id": str(delivery_id), "reason": delivery.last_error},
            )
        else:
            DELIVERIES.labels(delivery.channel, "failed").inc()

    return attempt


def reminder_firings(runtime: Runtime[NotifyApplication]) -> DeadlineHandler:
    app = runtime.app

    async def fire(deadline: Deadline) -> None:
        await run_sync(
            app.fire_reminder, UUID(deadline.payload["reminder_id"]), int(deadline.payload["occurrence"])
        )

    return fire
