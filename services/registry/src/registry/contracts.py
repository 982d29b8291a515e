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


class ProbationChanged(IntegrationEvent):
    """预备期 as the registry holds it (the one owner): from the 支部大会 date, one extension of 6-12 months, and its
    outcome (running, regularised, cancelled). `rush_admission`: admitted less than three months before arriving by
    transfer (突击发展), for the receiving committee to look at."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.probation_changed.v1"
    member_id: UUID
    organisation_id: UUID
    admitted_on: date
    extension_months: int
    ends_on: date
    state: str = Field(description="running, regularised or cancelled")
    rush_admission: bool


class ProbationEnding(IntegrationEvent):
    """A month before a probation ends: the branch prepares 转正 (the assembly meets on or after `ends_on`)."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.probation_ending.v1"
    member_id: UUID
    organisation_id: UUID
    ends_on: date


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
    host_region: str | None = Field(default=None, description="流入地行政区划代码 (6 digits), when given")


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


class MobilityDeclared(IntegrationEvent):
    """A member declared that they are leaving; the home branch confirms (an outflow follows) or questions it."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.mobility_declared.v1"
    declaration_id: UUID
    member_id: UUID
    home_org_id: UUID


class DeclarationAnswered(IntegrationEvent):
    """The home branch confirmed the member's declaration (an outflow registration follows) or questioned it."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.declaration_answered.v1"
    declaration_id: UUID
    member_id: UUID
    outcome: Literal["confirmed", "questioned"]
    registration_id: UUID | None


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
    cause: str = Field(
        description="the cause code the software proposes; the branch chooses the one recorded"
    )
    silent_days: int


class LostContactProposed(ContactCase):
    """180 days of silence and a failed search: the software proposes 失联; the branch decides."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.lost_contact_proposed.v1"
    silent_days: int


class LostContactCaseOpened(ContactCase):
    """失联: the branch classified the member (180 days of silence and a failed search); suspension is a
    later decision for people."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.lost_contact_case_opened.v1"
    silent_days: int
    decided_by: str | None = None


class SelfLapseReviewOpened(ContactCase):
    """Six consecutive months of no org life, no dues or no assigned work (党章 art. 9): a review for the branch."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.self_lapse_review_opened.v1"
    months_without_org_life: int
    ground: str = Field(default="org_life", description="org_life, dues or assigned_work")


class ContactCaseClosed(ContactCase):
    """The member is reached again, or people closed the case; reminders about it stop."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.contact_case_closed.v1"
    reason: str
    closed_by: str | None = Field(default=None, description="who closed it (a user, or the contact's source)")


class ContactDue(ContactCase):
    """A member abroad or deferred must be in contact by `due_on` (every six months); chase until recorded."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.contact_due.v1"
    item_id: str = Field(description="this six-month cycle: <member_id>:<due_on>")
    due_on: date


class ContactRecorded(ContactCase):
    """The cycle's contact came (`met`) or the member no longer needs one (`ended`): stop chasing it."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.contact_recorded.v1"
    item_id: str
    outcome: str = Field(description="met or ended")
    recorded_at: datetime


class DuesPayment(IntegrationEvent):
    member_id: UUID
    organisation_id: UUID
    payment_id: str
    months: list[str] = Field(description="YYYY-MM")
    amount: str = Field(description="yuan, as a decimal string")
    recorded_by: str


class DuesPaymentRecorded(DuesPayment):
    """党费: the branch recorded a payment (monthly, quarterly, in advance, in arrears; by proxy; at the host)."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.dues_payment_recorded.v1"
    mode: str
    by_proxy: bool
    paid_at: str = Field(
        description="home (the formal relation's branch) or host (with an activity certificate)"
    )
    received_on: date
    paid_through: str | None = Field(description="党费已交到 after this payment (YYYY-MM)")


class DuesPaymentCorrected(DuesPayment):
    """A payment recorded in error was voided (the months it covered are unpaid again)."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.dues_payment_corrected.v1"
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


class DevelopmentStageChanged(IntegrationEvent):
    """发展党员: a record's stage (入党申请人, 入党积极分子, 发展对象, 预备党员, moved out, closed) or branch changed.

    `record_id` is also the person's subject in tokens (`member:<record_id>`) until admission, so an activist can
    write thought reports in learning; on admission `member_id` names the Member who carries on.
    """

    TYPE: ClassVar[str] = "cn.lianxin.registry.development_stage_changed.v1"
    record_id: UUID
    organisation_id: UUID
    stage: Literal["applicant", "activist", "candidate", "probationary", "moved_out", "closed"]
    since: date
    member_id: UUID | None = None


class ScreeningReminder(IntegrationEvent):
    """排查: a branch still has members to confirm in a screening campaign (the committee sent reminders)."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.screening_reminder.v1"
    campaign_id: UUID
    organisation_id: UUID
    pending: int
    due_on: date


class ScreeningClosed(IntegrationEvent):
    """排查 closed: counts by outcome (confirmed, dangling 空挂, lost_contact 失联, pocket 口袋党员, invisible 隐身党员)."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.screening_closed.v1"
    campaign_id: UUID
    closed_on: date
    counts: dict[str, int]


class MemberCategoriesCounted(IntegrationEvent):
    """The committee counted its roll's 党员基本情况 categories at a reference date: counts only (ADR 0004), every
    cell of 1 to 4 members null. Cells: registry.domain.categories.CELLS."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.member_categories_counted.v1"
    count_id: UUID
    reference_date: date
    counts: dict[str, int | None]


PUBLISHED: tuple[type[IntegrationEvent], ...] = (
    MemberCategoriesCounted,
    OrganisationFounded,
    MemberRegistered,
    DecisionRecorded,
    ProbationChanged,
    ProbationEnding,
    OutflowRegistered,
    InflowRegistered,
    MobilityEnded,
    MobilityDeclared,
    DeclarationAnswered,
    ContactAtRisk,
    LostContactProposed,
    LostContactCaseOpened,
    SelfLapseReviewOpened,
    ContactCaseClosed,
    ContactDue,
    ContactRecorded,
    DuesPaymentRecorded,
    DuesPaymentCorrected,
    CertificateReviewDue,
    CertificateReviewed,
    CertificateSurrendered,
    HoldPlaced,
    HoldRefused,
    HoldLifted,
    MemberEnrolled,
    EnrolmentRefused,
    MemberReleased,
    DevelopmentStageChanged,
    ScreeningReminder,
    ScreeningClosed,
    PersonalDataErased,
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
    c.TYPE: c for c in (HoldRequested, HoldReleaseRequested, EnrolmentRequested, ReleaseRequested)
}


class ContactSignal(Consumed):
    """Learning's contact signals (meeting attended, study check-in, thought report): the registry's own copy."""

    member_id: UUID
    occurred_at: datetime


CONTACT_SIGNALS: dict[str, str] = {
    "cn.lianxin.learning.meeting_attended.v1": "meeting_attended",
    "cn.lianxin.learning.study_checked_in.v1": "study_checked_in",
    "cn.lianxin.learning.thought_report_submitted.v1": "thought_report_submitted",
}
