"""CloudEvents 1.0 (structured JSON mode) envelope for Lianxin's integration events."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

TENANT_PATTERN = r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$"
EVENT_NAME = re.compile(r"^cn\.lianxin\.(?P<service>[a-z]+)\.(?P<event>[a-z_]+)\.v(?P<version>\d+)$")


def event_subject(event_type: str, tenant: str = "*") -> str:
    """The NATS subject an event type is published on, for every tenant by default (a consumer's filter)."""
    match = EVENT_NAME.match(event_type)
    if match is None:
        raise ValueError(f"not a Lianxin event type: {event_type}")
    return f"lianxin.{match['service']}.{tenant}.{match['event']}"


class CloudEvent(BaseModel):
    """The envelope; `data` is the payload of one contract model and never carries personal data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: str = "1.0"
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    datacontenttype: str = "application/json"
    tenantid: str = Field(pattern=TENANT_PATTERN)
    sequence: str
    correlationid: str
    causationid: str | None = None
    traceparent: str | None = None
    data: dict[str, Any]

    @property
    def notification_id(self) -> int:
        return int(self.sequence)

    @property
    def service(self) -> str:
        return self.source.rsplit("/", 1)[-1]

    @property
    def event_name(self) -> str:
        match = EVENT_NAME.match(self.type)
        if match is None:
            raise ValueError(f"not a Lianxin event type: {self.type}")
        return match["event"]

    def nats_subject(self) -> str:
        return event_subject(self.type, self.tenantid)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> CloudEvent:
        return cls.model_validate(json.loads(raw))


class IntegrationEvent(BaseModel):
    """Base of every contract model: subclasses set TYPE and carry ids, states and dates only."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    TYPE: ClassVar[str]
