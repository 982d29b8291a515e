"""Per-tenant letter validity: defaults and caps from DOMAIN.md section 0, changed by an event."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.errors import Invalid

POLICY_NAMESPACE = UUID("5a7c9e1b-3d2f-4a6b-8c0d-9e8f7a6b5c43")
DEFAULTS: dict[str, int] = {
    "in_province_days": 30,
    "graduate_or_cross_province_days": 90,
    "cap_days": 90,
    "cross_province_cap_days": 180,
}


class TransferPolicy(Aggregate):
    TOPIC = "lianxin.transfer.TransferPolicy"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.transfer.TransferPolicy.Created"

    class Started(Created):
        TOPIC = "lianxin.transfer.TransferPolicy.Started"
        tenant_id: str

    class Changed(Event):
        TOPIC = "lianxin.transfer.TransferPolicy.Changed"
        values: dict[str, int]
        meta: dict[str, Any]

    @staticmethod
    def create_id(tenant_id: str) -> UUID:
        return uuid5(POLICY_NAMESPACE, tenant_id)

    @event(Started)
    def __init__(self, *, tenant_id: str) -> None:
        self.values = dict(DEFAULTS)

    def change(self, values: dict[str, int], meta: dict[str, Any]) -> None:
        merged = {**self.values, **values}
        if set(values) - set(DEFAULTS):
            raise Invalid(f"unknown settings: {sorted(set(values) - set(DEFAULTS))}", field="body")
        if merged["cap_days"] > 90 or merged["cross_province_cap_days"] > 180:
            raise Invalid("a letter is valid at most 3 months, 6 across provinces", field="cap_days")
        if (
            max(merged["in_province_days"], merged["graduate_or_cross_province_days"])
            > merged["cross_province_cap_days"]
        ):
            raise Invalid("a default validity exceeds its cap", field="in_province_days")
        self._changed(values=values, meta=meta)

    @event(Changed)
    def _changed(self, values: dict[str, int], meta: dict[str, Any]) -> None:
        self.values.update(values)

    def validity(self, *, graduate: bool, cross_province: bool, asked: int | None) -> int:
        default = self.values[
            "graduate_or_cross_province_days" if graduate or cross_province else "in_province_days"
        ]
        cap = self.values["cross_province_cap_days" if cross_province else "cap_days"]
        days = asked or default
        if not 1 <= days <= cap:
            raise Invalid(f"validity is 1 to {cap} days for this letter", field="valid_days")
        return days
