"""Who did what, why and in which trace: carried by every domain event and copied into its CloudEvent."""

from __future__ import annotations

import uuid
from typing import TypedDict

from shared.telemetry import current_traceparent


class EventMeta(TypedDict):
    actor: str
    correlation_id: str
    causation_id: str | None
    traceparent: str | None


def event_meta(
    actor: str, *, correlation_id: str | None = None, causation_id: str | None = None
) -> EventMeta:
    return EventMeta(
        actor=actor,
        correlation_id=correlation_id or str(uuid.uuid4()),
        causation_id=causation_id,
        traceparent=current_traceparent(),
    )
