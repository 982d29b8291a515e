"""Learning's reactions to the registry: branches, members, mobile hosts and transfers (history follows).

One plain function per upstream contract: (application, event, contract) -> the aggregates to store with the
event's position. Tracking, the contract check and the thread hand-off are shared.consumer's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from learning.application import LearningApplication
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
from shared.consumer import Handler, PermanentFailure, Reaction, tracked_handler
from shared.envelope import CloudEvent
from shared.meta import event_meta
from shared.runtime import Runtime

Changed = list[Aggregate]


def organisation_founded(app: LearningApplication, event: CloudEvent, data: OrganisationFounded) -> Changed:
    if app.find(Branch, data.organisation_id) is not None:
        return []
    return [
        Branch(id=data.organisation_id, tenant_id=event.tenantid, kind=data.kind, parent_id=data.parent_id)
    ]


def member_registered(app: LearningApplication, event: CloudEvent, data: MemberRegistered) -> Changed:
    if app.find(Participant, data.member_id) is not None:
        return []
    member = Participant(
        id=data.member_id,
        tenant_id=event.tenantid,
        organisation_id=data.organisation_id,
        category=MemberCategory(data.category),
        registered_on=data.registered_on,
    )
    return [member]


def probation_changed(app: LearningApplication, event: CloudEvent, data: ProbationChanged) -> Changed:
    """The registry owns the period; a member arriving by transfer brings theirs (and the 突击发展 flag)."""
    assessment = app.find(ProbationAssessment, ProbationAssessment.create_id(data.member_id))
    if assessment is None:
        assessment = ProbationAssessment(
            tenant_id=event.tenantid,
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


def inflow_registered(app: LearningApplication, event: CloudEvent, data: InflowRegistered) -> Changed:
    member = app.find(Participant, data.member_id)
    if member is None:
        raise PermanentFailure(f"inflow of member {data.member_id}, unknown to learning")
    member.host_at(data.host_tenant, data.host_org_id, event.time)
    return [member, *_share(app, member, data.host_tenant, data.member_id, ShareReason.Inflow, event)]


def member_enrolled(app: LearningApplication, event: CloudEvent, data: MemberEnrolled) -> Changed:
    leaving = app.find(Participant, data.member_id)
    if leaving is None:
        raise PermanentFailure(f"enrolment of member {data.member_id}, unknown to learning")
    changed: Changed = []
    if data.receiving_org_id is not None and app.find(Participant, data.new_member_id) is None:
        changed.append(
            Participant(
                id=data.new_member_id,
                tenant_id=data.receiving_tenant,
                organisation_id=data.receiving_org_id,
                category=leaving.category,
                registered_on=event.time.date(),
            )
        )
    return changed + _share(
        app, leaving, data.receiving_tenant, data.new_member_id, ShareReason.Transfer, event
    )


def development_stage_changed(
    app: LearningApplication, event: CloudEvent, data: DevelopmentStageChanged
) -> Changed:
    """入党积极分子 and 发展对象 write thought reports under their record's id; others do not (yet, or any more)."""
    writes = data.stage in ("activist", "candidate")
    category = MemberCategory.Activist if writes else MemberCategory.DevelopmentEnded
    person = app.find(Participant, data.record_id)
    if person is None:
        if not writes:
            return []
        return [
            Participant(
                id=data.record_id,
                tenant_id=event.tenantid,
                organisation_id=data.organisation_id,
                category=category,
                registered_on=data.since,
            )
        ]
    person.follow_development(data.organisation_id, category)
    return [person]


def mobility_ended(app: LearningApplication, event: CloudEvent, data: MobilityEnded) -> Changed:
    member = app.find(Participant, data.member_id)
    if member is None:
        return []
    shares = [app.find(HistoryShare, HistoryShare.create_id(member.id, host)) for host in member.hosts]
    member.end_hosting(data.ended_on)
    changed: Changed = [member]
    for share in shares:
        if share is not None:
            share.revoke(event.id)
            changed.append(share)
    return changed


def decision_recorded(app: LearningApplication, event: CloudEvent, data: DecisionRecorded) -> Changed:
    """Only 转正 matters here: the member is full from the decision's date."""
    if data.kind != "regularisation":
        return []
    regularised = app.find(Participant, data.member_id)
    if regularised is None:
        return []
    regularised.regularise(data.decided_on)
    return [regularised]


def _share(
    app: LearningApplication,
    member: Participant,
    grantee: str,
    grantee_member_id: UUID,
    reason: ShareReason,
    event: CloudEvent,
) -> Changed:
    if grantee == member.tenant_id or app.find(HistoryShare, HistoryShare.create_id(member.id, grantee)):
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


REACTIONS: dict[type[Any], Callable[[LearningApplication, CloudEvent, Any], Changed]] = {
    OrganisationFounded: organisation_founded,
    MemberRegistered: member_registered,
    ProbationChanged: probation_changed,
    InflowRegistered: inflow_registered,
    MemberEnrolled: member_enrolled,
    DevelopmentStageChanged: development_stage_changed,
    MobilityEnded: mobility_ended,
    DecisionRecorded: decision_recorded,
}


def reacting(app: LearningApplication) -> Reaction:
    """What one registry event changes in learning, for shared.consumer."""

    def react(event: CloudEvent, data: Any) -> Changed:
        return REACTIONS[type(data)](app, event, data)

    return react


def registry_events(runtime: Runtime[LearningApplication]) -> Handler:
    return tracked_handler(runtime.app, CONSUMED, reacting(runtime.app))
