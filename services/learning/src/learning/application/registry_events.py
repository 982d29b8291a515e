"""Learning's reactions to the registry: branches, members, mobile hosts and transfers (history follows)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate

from learning.application.base import LearningBase
from learning.contracts import (
    CONSUMED,
    DecisionRecorded,
    DevelopmentStageChanged,
    InflowRegistered,
    MemberEnrolled,
    MemberRegistered,
    MobilityEnded,
    OrganisationFounded,
    ProbationChanged,
)
from learning.domain import (
    Branch,
    HistoryShare,
    MemberCategory,
    Participant,
    ProbationAssessment,
    ShareReason,
)
from shared.consumer import PermanentFailure, apply_tracked
from shared.envelope import CloudEvent
from shared.meta import event_meta


class RegistryReactions(LearningBase):
    def handle(self, event: CloudEvent) -> None:
        """Apply one upstream event once (shared.consumer): its effect is stored with its position."""
        apply_tracked(self, event, CONSUMED, self.react)

    def react(self, event: CloudEvent, data: object) -> list[Aggregate]:
        """What one registry event changes in learning."""
        if isinstance(data, OrganisationFounded):
            if self.find(Branch, data.organisation_id) is not None:
                return []
            return [
                Branch(
                    id=data.organisation_id,
                    tenant_id=event.tenantid,
                    kind=data.kind,
                    parent_id=data.parent_id,
                )
            ]
        if isinstance(data, MemberRegistered):
            return self._registered(event.tenantid, data)
        if isinstance(data, ProbationChanged):
            return self._probation(event.tenantid, data)
        if isinstance(data, InflowRegistered):
            member = self.find(Participant, data.member_id)
            if member is None:
                raise PermanentFailure(f"inflow of member {data.member_id}, unknown to learning")
            member.host_at(data.host_tenant, data.host_org_id, event.time)
            return [member, *self._share(member, data.host_tenant, data.member_id, ShareReason.Inflow, event)]
        if isinstance(data, MemberEnrolled):
            return self._enrolled(data, event)
        if isinstance(data, DevelopmentStageChanged):
            return self._development(event.tenantid, data)
        if isinstance(data, MobilityEnded):
            return self._mobility_ended(data, event)
        if isinstance(data, DecisionRecorded) and data.kind == "regularisation":
            regularised = self.find(Participant, data.member_id)
            if regularised is None:
                return []
            regularised.regularise(data.decided_on)
            return [regularised]
        return []

    def _development(self, tenant: str, data: DevelopmentStageChanged) -> list[Aggregate]:
        """入党积极分子 and 发展对象 write thought reports under their record's id; others do not (yet, or any more)."""
        writes = data.stage in ("activist", "candidate")
        category = MemberCategory.Activist if writes else MemberCategory.DevelopmentEnded
        person = self.find(Participant, data.record_id)
        if person is None:
            if not writes:
                return []
            return [
                Participant(
                    id=data.record_id,
                    tenant_id=tenant,
                    organisation_id=data.organisation_id,
                    category=category,
                    registered_on=data.since,
                )
            ]
        person.follow_development(data.organisation_id, category)
        return [person]

    def _mobility_ended(self, data: MobilityEnded, event: CloudEvent) -> list[Aggregate]:
        member = self.find(Participant, data.member_id)
        if member is None:
            return []
        shares = [self.find(HistoryShare, HistoryShare.create_id(member.id, host)) for host in member.hosts]
        member.end_hosting(data.ended_on)
        changed: list[Aggregate] = [member]
        for share in shares:
            if share is not None:
                share.revoke(event.id)
                changed.append(share)
        return changed

    def _registered(self, tenant: str, data: MemberRegistered) -> list[Aggregate]:
        if self.find(Participant, data.member_id) is not None:
            return []
        category = MemberCategory(data.category)
        member = Participant(
            id=data.member_id,
            tenant_id=tenant,
            organisation_id=data.organisation_id,
            category=category,
            registered_on=data.registered_on,
        )
        return [member]

    def _probation(self, tenant: str, data: ProbationChanged) -> list[Aggregate]:
        """The registry owns the period; a member arriving by transfer brings theirs (and the 突击发展 flag)."""
        assessment = self.find(ProbationAssessment, ProbationAssessment.create_id(data.member_id))
        if assessment is None:
            assessment = ProbationAssessment(
                tenant_id=tenant,
                member_id=data.member_id,
                organisation_id=data.organisation_id,
                admitted_on=data.admitted_on,
            )
        assessment.follow(
            admitted_on=data.admitted_on,
            extension_months=data.extension_months,
            state=data.state,
            rush_admission=data.rush_admission,
        )
        return [assessment]

    def _enrolled(self, data: MemberEnrolled, event: CloudEvent) -> list[Aggregate]:
        leaving = self.find(Participant, data.member_id)
        if leaving is None:
            raise PermanentFailure(f"enrolment of member {data.member_id}, unknown to learning")
        changed: list[Aggregate] = []
        if data.receiving_org_id is not None and self.find(Participant, data.new_member_id) is None:
            changed.append(
                Participant(
                    id=data.new_member_id,
                    tenant_id=data.receiving_tenant,
                    organisation_id=data.receiving_org_id,
                    category=leaving.category,
                    registered_on=event.time.date(),
                )
            )
        return changed + self._share(
            leaving, data.receiving_tenant, data.new_member_id, ShareReason.Transfer, event
        )

    def _share(
        self,
        member: Participant,
        grantee: str,
        grantee_member_id: UUID,
        reason: ShareReason,
        event: CloudEvent,
    ) -> list[Aggregate]:
        if grantee == member.tenant_id or self.find(HistoryShare, HistoryShare.create_id(member.id, grantee)):
            return []
        return [
            HistoryShare(
                member_id=member.id,
                source_tenant=member.tenant_id,
                grantee_tenant=grantee,
                grantee_member_id=grantee_member_id,
                reason=reason,
                cause=event.id,
                granted_at=event.time,
                meta=dict(event_meta("registry", correlation_id=event.correlationid, causation_id=event.id)),
            )
        ]
