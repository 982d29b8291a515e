"""Use cases of member development (发展党员) on the registry application: open, decide, record, move, hand over."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from registry.application.members import MemberUseCases
from registry.domain import MemberCategory
from registry.domain.dates import months_later
from registry.domain.development import (
    ACTIVIST_MONTHS,
    NEXT,
    DevelopmentNotFound,
    DevelopmentRecord,
    InvalidDevelopmentStep,
    Stage,
)
from shared.eventstore import rerun_on_clash
from shared.meta import EventMeta

BEIJING = timezone(timedelta(hours=8))


class DevelopmentUseCases(MemberUseCases):
    def get_development(self, tenant_id: str, record_id: UUID) -> DevelopmentRecord:
        record: DevelopmentRecord | None = self.find_in_tenant(DevelopmentRecord, record_id, tenant_id)
        if record is None:
            raise DevelopmentNotFound(f"development record {record_id} not found")
        return record

    def open_development(
        self,
        *,
        record_id: UUID,
        tenant_id: str,
        organisation_id: UUID,
        profile: dict[str, Any],
        applied_on: date,
        meta: EventMeta,
    ) -> DevelopmentRecord:
        self.get_organisation(tenant_id, organisation_id, field="organisation_id")
        record = DevelopmentRecord(
            id=record_id,
            tenant_id=tenant_id,
            organisation_id=organisation_id,
            profile=profile,
            applied_on=applied_on,
            carried=None,
            meta=dict(meta),
        )
        self.save(record)
        return record

    @rerun_on_clash
    def decide_development(
        self,
        tenant_id: str,
        record_id: UUID,
        *,
        stage: Stage,
        decided_on: date,
        decided_by: str,
        basis: str,
        details: dict[str, Any],
        meta: EventMeta,
    ) -> DevelopmentRecord:
        """A step people decided. Admission as 预备党员 registers the Member and hands the record over, together."""
        record = self.get_development(tenant_id, record_id)
        if decided_on > self.clock.now().date():
            raise InvalidDevelopmentStep(
                "a decision is recorded after it was taken, not before", field="decided_on"
            )
        record.decide(
            stage=stage,
            decided_on=decided_on,
            decided_by=decided_by,
            basis=basis,
            details=details,
            meta=dict(meta),
        )
        aggregates: list[Aggregate] = [record]
        if stage is Stage.Probationary:
            organisation = self.get_organisation(tenant_id, record.organisation_id)
            profile = {**record.profile, "joined_on": str(details["branch_assembly_on"])}
            member_id = uuid.uuid4()
            member_aggregates = self.new_member_aggregates(
                member_id=member_id,
                tenant_id=tenant_id,
                organisation=organisation,
                category=MemberCategory.Probationary,
                profile=profile,
                person_key=None,
                meta=meta,
            )
            record.hand_over(member_id, dict(meta))
            aggregates += member_aggregates
        self.save(*aggregates)
        return record

    @rerun_on_clash
    def record_development(
        self, tenant_id: str, record_id: UUID, action: str, meta: EventMeta, **values: Any
    ) -> DevelopmentRecord:
        """Contact persons, a thought report, the political review, training, sponsors, a move in the tenant."""
        record = self.get_development(tenant_id, record_id)
        today = self.clock.now().date()
        m = dict(meta)
        if action == "contact_persons":
            record.assign_contact_persons(values["persons"], values.get("on") or today, m)
        elif action == "thought_report":
            record.record_thought_report(values.get("on") or today, values.get("source", "branch"), m)
        elif action == "review":
            record.conclude_review(
                concluded_on=values["on"],
                passed=values["passed"],
                reviewed_by=values["reviewed_by"],
                summary=values["summary"],
                meta=m,
            )
        elif action == "training":
            record.record_training(
                course=values["course"],
                days=values["days"],
                hours=values["hours"],
                finished_on=values["on"],
                meta=m,
            )
        elif action == "sponsors":
            record.assign_sponsors(values["sponsors"], m)
        elif action == "move":
            self.get_organisation(tenant_id, values["organisation_id"], field="organisation_id")
            record.move(values["organisation_id"], today, m)
        else:
            raise ValueError(action)
        self.save(record)
        return record

    def development_report_recorded(
        self, record_id: UUID, at: datetime, *, source: str
    ) -> DevelopmentRecord | None:
        """A thought report an activist wrote in learning, to save with the upstream position; None when the id is
        not an activist's or 发展对象's record."""
        record: DevelopmentRecord | None = self.find(DevelopmentRecord, record_id)
        if record is None or record.stage not in (Stage.Activist, Stage.Candidate):
            return None
        record.record_thought_report(at.astimezone(BEIJING).date(), source, {"actor": "service:learning"})
        return record

    @rerun_on_clash
    def move_development_out(
        self, tenant_id: str, record_id: UUID, to_tenant: str, meta: EventMeta
    ) -> tuple[DevelopmentRecord, str]:
        """The person moves to another tenant: a random handover code the receiving committee enters."""
        record = self.get_development(tenant_id, record_id)
        code = secrets.token_urlsafe(12)
        record.move_out(to_tenant, code, self.clock.now().date(), dict(meta))
        self.save(record)
        return record, code

    @rerun_on_clash
    def receive_development(
        self,
        *,
        tenant_id: str,
        source_id: UUID,
        code: str,
        organisation_id: UUID,
        new_id: UUID,
        meta: EventMeta,
    ) -> DevelopmentRecord:
        """The receiving tenant opens the record carried over: stage, activist time, reports and training count on.
        Two takeovers at once clash on the source; the rerun finds it taken over (a Conflict)."""
        self.get_organisation(tenant_id, organisation_id, field="organisation_id")
        source = self.find(DevelopmentRecord, source_id)
        if source is None:
            raise DevelopmentNotFound(f"development record {source_id} not found")
        source.accept_arrival(tenant_id, code, new_id, dict(meta))
        carried = source.carried()
        record = DevelopmentRecord(
            id=new_id,
            tenant_id=tenant_id,
            organisation_id=organisation_id,
            profile=source.profile,
            applied_on=source.applied_on,
            carried=carried,
            meta=dict(meta),
        )
        self.save(source, record)
        return record


def readiness(record: DevelopmentRecord, on: date) -> dict[str, Any]:
    """The next step, what it still needs on that day, and from when the minimum period is served."""
    nxt = NEXT.get(record.stage)
    if nxt is None:
        return {"next_stage": None, "missing": [], "period_served_on": None}
    missing = record.missing(
        nxt,
        on,
        {"branch_assembly_on": "x", "approved_on": "x", "approved_by": "x"}
        if nxt is Stage.Probationary
        else None,
    )
    served = None
    if nxt is Stage.Candidate:
        served = months_later(record.since[Stage.Activist.value], ACTIVIST_MONTHS)
    return {"next_stage": nxt.value, "missing": missing, "period_served_on": served}
