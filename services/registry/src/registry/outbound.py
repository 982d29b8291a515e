"""Which stored events leave the registry, and as which contract: a pure function of the stored event.

Each event carries what its contract needs; events stored when that data rode in `meta` are upcast on reading
(their `upcast_v1_v2`), so they publish as they did.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from registry import contracts as c
from registry.domain import (
    ActivityCertificate,
    ContactStatus,
    Member,
    MobileRegistration,
    MobilityDeclaration,
    Organisation,
    Outcome,
    ParticipantCommand,
)
from registry.domain.categories import CategoryCount
from registry.domain.dates import add_months
from registry.domain.development import DevelopmentRecord
from registry.domain.dues import DuesAccount
from registry.domain.screening import ScreeningCampaign
from shared.envelope import IntegrationEvent

REPLIES: dict[Outcome, type[c.ParticipantReply]] = {
    Outcome.HoldPlaced: c.HoldPlaced,
    Outcome.HoldRefused: c.HoldRefused,
    Outcome.HoldLifted: c.HoldLifted,
    Outcome.MemberEnrolled: c.MemberEnrolled,
    Outcome.EnrolmentRefused: c.EnrolmentRefused,
    Outcome.MemberReleased: c.MemberReleased,
}


def outbound(event: Any) -> tuple[str, IntegrationEvent] | None:
    mobile = _mobile(event)
    if mobile is not None:
        return mobile
    if isinstance(event, CategoryCount.Counted):
        return event.tenant_id, c.MemberCategoriesCounted(
            count_id=event.originator_id, reference_date=event.reference_date, counts=event.counts
        )
    if isinstance(event, Member.Registered):
        return event.tenant_id, c.MemberRegistered(
            member_id=event.originator_id,
            organisation_id=event.organisation_id,
            category=event.category.value,
            registered_on=event.registered_on,
        )
    if isinstance(event, Member.ProbationSet):
        return event.tenant_id, c.ProbationChanged(
            member_id=event.originator_id, organisation_id=event.organisation_id, **event.facts
        )
    if isinstance(event, Member.ProbationEndNear):
        return event.tenant_id, c.ProbationEnding(
            member_id=event.originator_id, organisation_id=event.organisation_id, ends_on=event.ends_on
        )
    if isinstance(event, Organisation.Founded):
        return event.tenant_id, c.OrganisationFounded(
            organisation_id=event.originator_id, parent_id=event.parent_id, kind=event.kind.value
        )
    if isinstance(event, Member.DecisionRecorded):
        return event.tenant_id, c.DecisionRecorded(
            member_id=event.originator_id, kind=event.kind.value, decided_on=event.decided_on
        )
    if isinstance(event, Member.PersonalDataErased):
        if not event.tenant_id:  # erasures stored before it was published carry no tenant: not sent
            return None
        return event.tenant_id, c.PersonalDataErased(member_id=event.originator_id, erased_on=event.erased_on)
    contact = _contact(event)
    if contact is not None:
        return contact
    if isinstance(event, DuesAccount.PaymentRecorded):
        return event.tenant_id, c.DuesPaymentRecorded(
            member_id=event.member_id,
            organisation_id=event.organisation_id,
            payment_id=event.payment_id,
            months=sorted(event.months),
            amount=event.amount,
            recorded_by=event.by,
            mode=event.mode,
            by_proxy=event.by_proxy,
            paid_at=event.paid_at,
            received_on=date.fromisoformat(event.received_on),
            paid_through=event.paid_through,
        )
    if isinstance(event, DuesAccount.PaymentCorrected):
        return event.tenant_id, c.DuesPaymentCorrected(
            member_id=event.member_id,
            organisation_id=event.organisation_id,
            payment_id=event.payment_id,
            months=sorted(event.months),
            amount=event.amount,
            recorded_by=event.by,
            reason=event.reason,
        )
    if isinstance(event, ParticipantCommand.Answered):
        return event.tenant_id, _reply(event)
    if isinstance(event, DevelopmentRecord.Event):
        return _development(event)
    if isinstance(event, ScreeningCampaign.BranchReminded):
        return event.tenant_id, c.ScreeningReminder(
            campaign_id=event.originator_id,
            organisation_id=UUID(event.organisation_id),
            pending=event.pending,
            due_on=event.due_on,
        )
    if isinstance(event, ScreeningCampaign.Closed):
        return event.tenant_id, c.ScreeningClosed(
            campaign_id=event.originator_id, closed_on=event.on, counts=event.counts
        )
    return None


def _contact(event: Any) -> tuple[str, IntegrationEvent] | None:
    if isinstance(event, ContactStatus.ContactCycleOpened):
        return event.tenant_id, c.ContactDue(
            member_id=event.member_id,
            organisation_id=event.organisation_id,
            item_id=event.item_id,
            due_on=event.due_on,
        )
    if isinstance(event, ContactStatus.ContactCycleClosed):
        return event.tenant_id, c.ContactRecorded(
            member_id=event.member_id,
            organisation_id=event.organisation_id,
            item_id=event.item_id,
            outcome=event.outcome,
            recorded_at=event.at,
        )
    if isinstance(event, ContactStatus.LostContactProposed):
        return event.tenant_id, c.LostContactProposed(
            member_id=event.member_id, organisation_id=event.organisation_id, silent_days=event.silent_days
        )
    if isinstance(event, ContactStatus.FlaggedAtRisk):
        return event.tenant_id, c.ContactAtRisk(
            member_id=event.member_id,
            organisation_id=event.organisation_id,
            cause=event.cause.value,
            silent_days=event.silent_days,
        )
    if isinstance(event, ContactStatus.LostContactCaseOpened):
        return event.tenant_id, c.LostContactCaseOpened(
            member_id=event.member_id,
            organisation_id=event.organisation_id,
            silent_days=event.silent_days,
            decided_by=event.by,
        )
    if isinstance(event, ContactStatus.SelfLapseReviewOpened):
        return event.tenant_id, c.SelfLapseReviewOpened(
            member_id=event.member_id,
            organisation_id=event.organisation_id,
            months_without_org_life=event.months_without_org_life,
            ground=event.ground,
        )
    if isinstance(event, ContactStatus.BackToNormal):
        return event.tenant_id, c.ContactCaseClosed(
            member_id=event.member_id,
            organisation_id=event.organisation_id,
            reason=event.reason,
            closed_by=event.by,
        )
    return None


def _reply(event: ParticipantCommand.Answered) -> IntegrationEvent:
    common: dict[str, Any] = {
        "case_id": event.case_id,
        "command_id": event.command_id,
        "member_id": event.member_id,
    }
    if event.outcome in (Outcome.HoldRefused, Outcome.EnrolmentRefused):
        common |= {"reason_code": event.reason_code or "refused", "reason": event.reason or ""}
    if event.outcome is Outcome.MemberEnrolled:
        common |= {
            "new_member_id": UUID(event.details["new_member_id"]),
            "receiving_tenant": event.details["receiving_tenant"],
            "receiving_org_id": UUID(event.details["receiving_org_id"]),
            "category": event.details["category"],
        }
    return REPLIES[event.outcome](**common)


def _certificate(event: Any) -> tuple[str, IntegrationEvent] | None:
    if isinstance(event, ActivityCertificate.Presented):
        return None  # the host branch saw the certificate: nothing for other services
    home = event.home
    if not home:  # certificates issued before their events said whose they were
        return None
    common = {"member_id": UUID(home["member_id"]), "organisation_id": UUID(home["org_id"])}
    if isinstance(event, ActivityCertificate.Issued):
        due = add_months(event.issued_on, 12)
        return event.tenant_id, c.CertificateReviewDue(
            **common, item_id=f"{event.originator_id}:{due.isoformat()}", due_on=due
        )
    if isinstance(event, ActivityCertificate.ReviewDue):
        return event.tenant_id, c.CertificateReviewDue(
            **common, item_id=f"{event.originator_id}:{event.due_on.isoformat()}", due_on=event.due_on
        )
    if isinstance(event, ActivityCertificate.Reviewed):
        return event.tenant_id, c.CertificateReviewed(**common, item_id=event.item_id)
    if isinstance(event, ActivityCertificate.Closed):
        return event.tenant_id, c.CertificateSurrendered(
            **common, item_id=event.item_id, state=event.state.value
        )
    return None


def _declaration(event: Any) -> tuple[str, IntegrationEvent] | None:
    if isinstance(event, MobilityDeclaration.Declared):
        return event.tenant_id, c.MobilityDeclared(
            declaration_id=event.originator_id, member_id=event.member_id, home_org_id=event.home_org_id
        )
    if isinstance(event, MobilityDeclaration.Confirmed | MobilityDeclaration.Questioned):
        home = event.home
        confirmed = isinstance(event, MobilityDeclaration.Confirmed)
        return home["tenant_id"], c.DeclarationAnswered(
            declaration_id=event.originator_id,
            member_id=UUID(home["member_id"]),
            outcome="confirmed" if confirmed else "questioned",
            registration_id=getattr(event, "registration_id", None),
        )
    return None


def _mobile(event: Any) -> tuple[str, IntegrationEvent] | None:
    if isinstance(event, MobilityDeclaration.Event):
        return _declaration(event)
    if isinstance(event, ActivityCertificate.Event):
        return _certificate(event)
    if isinstance(event, MobileRegistration.OutflowRegistered):
        return event.tenant_id, c.OutflowRegistered(
            registration_id=event.originator_id,
            member_id=event.member_id,
            home_org_id=event.home_org_id,
            kind=event.kind.value,
            host_tenant=event.host_tenant,
            host_org_id=event.host_org_id,
            left_on=event.left_on,
            until=event.until,
            transfer_suggested=event.transfer_suggested,
            host_region=event.host_region,
        )
    if isinstance(event, MobileRegistration.InflowRegistered):
        home = event.home
        return event.host_tenant, c.InflowRegistered(
            registration_id=event.originator_id,
            member_id=UUID(home["member_id"]),
            home_tenant=home["tenant_id"],
            home_org_id=UUID(home["org_id"]),
            host_tenant=event.host_tenant,
            host_org_id=event.host_org_id,
            registered_on=event.registered_on,
        )
    if isinstance(event, MobileRegistration.Returned | MobileRegistration.ConvertedToTransfer):
        home = event.home
        returned = isinstance(event, MobileRegistration.Returned)
        return home["tenant_id"], c.MobilityEnded(
            registration_id=event.originator_id,
            member_id=UUID(home["member_id"]),
            outcome="returned" if returned else "converted_to_transfer",
            ended_on=getattr(event, "returned_on" if returned else "converted_on"),
        )
    return None


def _development(event: Any) -> tuple[str, IntegrationEvent] | None:
    """What learning needs to let an activist write thought reports: the stage and the branch, never the name."""
    change = c.DevelopmentStageChanged
    if isinstance(event, DevelopmentRecord.Opened):
        carried = event.carried or {}
        stage = carried.get("stage", "applicant")
        since = date.fromisoformat(carried.get("since", {}).get(stage, event.applied_on.isoformat()))
        return event.tenant_id, change(
            record_id=event.originator_id, organisation_id=event.organisation_id, stage=stage, since=since
        )
    if isinstance(event, DevelopmentRecord.StepDecided):
        return event.tenant_id, change(
            record_id=event.originator_id,
            organisation_id=event.organisation_id,
            stage=event.stage.value,
            since=event.decided_on,
        )
    if isinstance(event, DevelopmentRecord.Moved):
        return event.tenant_id, change(
            record_id=event.originator_id,
            organisation_id=event.organisation_id,
            stage=event.stage.value,
            since=event.moved_on,
        )
    if isinstance(event, DevelopmentRecord.MovedOut):
        return event.tenant_id, change(
            record_id=event.originator_id,
            organisation_id=event.organisation_id,
            stage="moved_out",
            since=event.moved_on,
        )
    if isinstance(event, DevelopmentRecord.HandedOver):
        return event.tenant_id, change(
            record_id=event.originator_id,
            organisation_id=event.organisation_id,
            stage="probationary",
            since=event.on,
            member_id=event.member_id,
        )
    return None
