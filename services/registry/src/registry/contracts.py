"""Integration events the registry publishes, and its own copies of the transfer requests it consumes.

Ids, states, dates and reason codes only: never names, national ID numbers or phone numbers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.envelope import IntegrationEvent


class OrganisationFounded(IntegrationEvent):
    """An organisation (committee, general branch, branch, group) was founded in the tenant's tree."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.organisation_founded.v1"
    organisation_id: UUID
    parent_id: UUID | None
    kind: str


class MemberRegistered(IntegrationEvent):
    """A member was registered in a branch; fetch the profile from the registry with your own authorisation."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.member_registered.v1"
    member_id: UUID
    organisation_id: UUID
    category: Literal["full", "probationary"]
    registered_on: date


class DecisionRecorded(IntegrationEvent):
    """A decision about a member was recorded (转正, 延长预备期, 停止党籍, 恢复党籍, 除名)."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.decision_recorded.v1"
    member_id: UUID
    kind: str
    decided_on: date


class OutflowRegistered(IntegrationEvent):
    """A member left for elsewhere as a mobile member (or a deferral at school, or abroad)."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.outflow_registered.v1"
    registration_id: UUID
    member_id: UUID
    home_org_id: UUID
    kind: str
    host_tenant: str | None
    host_org_id: UUID | None
    left_on: date
    until: date | None
    transfer_suggested: bool


class InflowRegistered(IntegrationEvent):
    """The host branch enrolled the mobile member for organisational life; the home branch keeps the relation."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.inflow_registered.v1"
    registration_id: UUID
    member_id: UUID
    home_tenant: str
    home_org_id: UUID
    host_tenant: str
    host_org_id: UUID
    registered_on: date


class MobilityEnded(IntegrationEvent):
    """The member returned home, or the mobile registration became a formal transfer."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.mobility_ended.v1"
    registration_id: UUID
    member_id: UUID
    outcome: Literal["returned", "converted_to_transfer"]
    ended_on: date


class PersonalDataErased(IntegrationEvent):
    """A member's personal data was erased (PIPL art. 47): destroy your key for this member and clear your copies.

    Who decided and on what basis stay in the registry (free text may itself name people)."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.personal_data_erased.v1"
    member_id: UUID
    erased_on: date


class CertificateItem(IntegrationEvent):
    member_id: UUID
    organisation_id: UUID
    item_id: str = Field(description="<certificate id>:<review due date>: one year's review")


class CertificateReviewDue(CertificateItem):
    """An activity certificate's yearly review (年审) is due on due_on."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.certificate_review_due.v1"
    due_on: date


class CertificateReviewed(CertificateItem):
    """The review of item_id was recorded."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.certificate_reviewed.v1"


class CertificateSurrendered(CertificateItem):
    """The certificate is no longer in force (surrendered, superseded or voided); its review is not chased."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.certificate_surrendered.v1"
    state: str


class ContactCase(IntegrationEvent):
    member_id: UUID
    organisation_id: UUID


class ContactAtRisk(ContactCase):
    """No org life, dues or member-initiated contact for longer than the tenant's threshold (default 90 days)."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.contact_at_risk.v1"
    cause: str
    silent_days: int


class LostContactCaseOpened(ContactCase):
    """失联: 180 days of silence and a failed search; suspension stays a decision for people."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.lost_contact_case_opened.v1"
    silent_days: int


class SelfLapseReviewOpened(ContactCase):
    """Six consecutive months without org life or dues (党章 art. 9): a review case for the branch."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.self_lapse_review_opened.v1"
    months_without_org_life: int


class ContactCaseClosed(ContactCase):
    """The member is reached again, or people closed the case; reminders about it stop."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.contact_case_closed.v1"
    reason: str


class ParticipantReply(IntegrationEvent):
    case_id: str
    command_id: str
    member_id: UUID


class HoldPlaced(ParticipantReply):
    """The member is held for this transfer: no second transfer, deletion or conflicting registration."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.hold_placed.v1"


class HoldRefused(ParticipantReply):
    """No hold: the reason code says why (transfer_pending, not_on_roll, suspended, member_not_found)."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.hold_refused.v1"
    reason_code: str
    reason: str


class HoldLifted(ParticipantReply):
    """The hold for this transfer is gone (or never existed); the member stays active at the sender."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.hold_lifted.v1"


class MemberEnrolled(ParticipantReply):
    """The member is on the receiving roll and, in the same transaction, off the sending one."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.member_enrolled.v1"
    new_member_id: UUID
    receiving_tenant: str
    receiving_org_id: UUID
    category: Literal["full", "probationary"]


class EnrolmentRefused(ParticipantReply):
    """The receiving roll could not take the member; people must look (reason_code, reason)."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.enrolment_refused.v1"
    reason_code: str
    reason: str


class MemberReleased(ParticipantReply):
    """The member left this roll by transfer; the sender's responsibility ends here."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.member_released.v1"


PUBLISHED: tuple[type[IntegrationEvent], ...] = (
    OrganisationFounded, MemberRegistered, DecisionRecorded, OutflowRegistered, InflowRegistered, MobilityEnded,
    ContactAtRisk, LostContactCaseOpened, SelfLapseReviewOpened, ContactCaseClosed, CertificateReviewDue,
    CertificateReviewed, CertificateSurrendered, HoldPlaced, HoldRefused, HoldLifted, MemberEnrolled,
    EnrolmentRefused, MemberReleased, PersonalDataErased,
)


class Consumed(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    TYPE: ClassVar[str]


class TransferRequest(Consumed):
    case_id: str
    command_id: str
    member_id: UUID


class HoldRequested(TransferRequest):
    TYPE: ClassVar[str] = "cn.lianxin.transfer.hold_requested.v1"
    sending_tenant: str


class HoldReleaseRequested(TransferRequest):
    TYPE: ClassVar[str] = "cn.lianxin.transfer.hold_release_requested.v1"
    reason: str | None = None


class EnrolmentRequested(TransferRequest):
    TYPE: ClassVar[str] = "cn.lianxin.transfer.enrolment_requested.v1"
    sending_tenant: str
    receiving_tenant: str
    receiving_org_id: UUID
    letter_no: str | None = None


class ReleaseRequested(TransferRequest):
    TYPE: ClassVar[str] = "cn.lianxin.transfer.release_requested.v1"


TRANSFER_REQUESTS: dict[str, type[TransferRequest]] = {
    c.TYPE: c for c in (HoldRequested, HoldReleaseRequested, EnrolmentRequested, ReleaseRequested)}


class ContactSignal(Consumed):
    """Learning's contact signals (meeting attended, study check-in, thought report): the registry's own copy."""

    member_id: UUID
    occurred_at: datetime


CONTACT_SIGNALS: dict[str, str] = {
    "cn.lianxin.learning.meeting_attended.v1": "meeting_attended",
    "cn.lianxin.learning.study_checked_in.v1": "study_checked_in",
    "cn.lianxin.learning.thought_report_submitted.v1": "thought_report_submitted",
}
