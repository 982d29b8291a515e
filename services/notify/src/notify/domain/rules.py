"""Default rules: which integration event reaches whom, through which channels, with which template.

A tenant overrides a rule (off, other channels, channels members cannot opt out of) in its TenantPolicy; the
defaults here are the rest. Reminder rules have event types `reminder:<kind>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notify.contracts import LEARNING_ORG_ACTIVITIES, MemberRegistered

CHANNELS = ("inbox", "email", "webhook")


@dataclass(frozen=True)
class Recipient:
    tenant: str
    role: str
    org: str | None  # None: everyone holding the role in the tenant
    subject: str | None = None  # one person (`member:<member_id>`); role and org then only describe them

    def key(self, event_tenant: str) -> str:
        local = self.subject or f"{self.role}@{self.org or '*'}"
        return local if self.tenant == event_tenant else f"{self.tenant}/{local}"


@dataclass(frozen=True)
class Audience:
    """`member`: the member the event is about; `members`: everyone with the member role in `org_field`."""

    role: str
    org_field: str | None = None
    tenant_field: str | None = None  # a data field naming the tenant; None: the event's tenant

    def resolve(self, event_tenant: str, data: Mapping[str, Any]) -> Recipient | None:
        tenant = data.get(self.tenant_field) if self.tenant_field else event_tenant
        if not tenant:
            return None
        if self.role == "member":
            member_id = data.get("member_id")
            return Recipient(str(tenant), "member", None, f"member:{member_id}") if member_id else None
        org = data.get(self.org_field) if self.org_field else None
        if self.org_field and not org:
            return None
        return Recipient(
            str(tenant), "member" if self.role == "members" else self.role, str(org) if org else None
        )


@dataclass(frozen=True)
class Rule:
    name: str
    event_type: str
    audiences: tuple[Audience, ...]
    template: str
    link: str | None = None
    channels: tuple[str, ...] = CHANNELS

    def recipients(self, event_tenant: str, data: Mapping[str, Any]) -> list[Recipient]:
        found = [a.resolve(event_tenant, data) for a in self.audiences]
        unique: dict[tuple[str, str, str | None, str | None], Recipient] = {}
        for r in found:
            if r is not None:
                unique.setdefault((r.tenant, r.role, r.org, r.subject), r)
        return list(unique.values())


MEMBER = Audience("member")
BRANCH_SECRETARY = Audience("branch_secretary", "organisation_id")
COMMITTEE = Audience("committee")
BRANCH_MEMBERS = Audience("members", "organisation_id")
SENDER_SECRETARY = Audience("branch_secretary", "sending_org_id", "sending_tenant")
SENDER_COMMITTEE = Audience("committee", None, "sending_tenant")
RECEIVER_SECRETARY = Audience("branch_secretary", "receiving_org_id", "receiving_tenant")
RECEIVER_COMMITTEE = Audience("committee", None, "receiving_tenant")
TRANSFER_LINK = "/v1/transfers/{case_id}"


def _event(service: str, name: str) -> str:
    return f"cn.lianxin.{service}.{name}.v1"


TRANSFER_AUDIENCES: dict[str, tuple[Audience, ...]] = {
    "transfer_requested": (MEMBER, SENDER_SECRETARY),
    "branch_approved": (MEMBER, SENDER_COMMITTEE),
    "committee_approved": (MEMBER, SENDER_SECRETARY),
    "letter_issued": (MEMBER, SENDER_SECRETARY, RECEIVER_SECRETARY, RECEIVER_COMMITTEE),
    "transfer_received": (MEMBER, SENDER_SECRETARY, RECEIVER_SECRETARY),
    "member_checked_in": (MEMBER, SENDER_SECRETARY, RECEIVER_SECRETARY, RECEIVER_COMMITTEE),
    "receipt_returned": (SENDER_SECRETARY, SENDER_COMMITTEE),
    "transfer_completed": (MEMBER, SENDER_SECRETARY, RECEIVER_SECRETARY),
    "transfer_returned": (MEMBER, SENDER_SECRETARY),
    "letter_expired": (MEMBER, SENDER_SECRETARY, SENDER_COMMITTEE),
    "letter_voided": (MEMBER, SENDER_SECRETARY),
    "transfer_cancelled": (MEMBER, SENDER_SECRETARY, RECEIVER_SECRETARY),
    "transfer_refused": (MEMBER, SENDER_SECRETARY, SENDER_COMMITTEE),
    # letter_expiry_reminder and receipt_overdue from the transfer service are not messaged again: notify's own
    # reminders (reminders.py) already chase the letter (T-7, T-1) and the receipt, with quiet hours and repeats.
}

# A mobile member: the home branch keeps the relation, the host branch (maybe another tenant) their org life.
HOME_SECRETARY = Audience("branch_secretary", "home_org_id", "home_tenant")
HOST_SECRETARY = Audience("branch_secretary", "host_org_id", "host_tenant")
OUTFLOW_HOME_SECRETARY = Audience("branch_secretary", "home_org_id")

REGISTRY_AUDIENCES: dict[str, tuple[Audience, ...]] = {
    "decision_recorded": (MEMBER,),
    "outflow_registered": (MEMBER, OUTFLOW_HOME_SECRETARY, HOST_SECRETARY),
    "inflow_registered": (Audience("member", None, "home_tenant"), HOME_SECRETARY, HOST_SECRETARY),
    "mobility_ended": (MEMBER,),
    "contact_at_risk": (BRANCH_SECRETARY, COMMITTEE),
    "lost_contact_case_opened": (BRANCH_SECRETARY, COMMITTEE),
    "self_lapse_review_opened": (BRANCH_SECRETARY, COMMITTEE),
    "contact_case_closed": (BRANCH_SECRETARY,),
    "certificate_issued": (MEMBER, BRANCH_SECRETARY),
    # A month before probation ends the branch prepares 转正 (the registry's deadline fires it once).
    "probation_ending": (MEMBER, BRANCH_SECRETARY),
    "lost_contact_proposed": (BRANCH_SECRETARY,),
}

REMINDER_AUDIENCES: dict[str, tuple[Audience, ...]] = {
    "letter-expiry": (MEMBER, SENDER_SECRETARY),
    # Overdue receipts escalate to the sender's committee (DOMAIN.md section 0).
    "receipt-overdue": (RECEIVER_COMMITTEE, SENDER_COMMITTEE),
    "certificate-review": (MEMBER, BRANCH_SECRETARY),
    "contact-due": (MEMBER, BRANCH_SECRETARY),
    "contact-case": (BRANCH_SECRETARY, COMMITTEE),
    "thought-report": (MEMBER, BRANCH_SECRETARY),
}

RULES: tuple[Rule, ...] = (
    Rule(
        "member-registered-to-secretaries",
        MemberRegistered.TYPE,
        (BRANCH_SECRETARY, COMMITTEE),
        "member_registered",
        "/v1/members/{member_id}",
    ),
    *(
        Rule(f"transfer.{step}", _event("transfer", step), audiences, f"transfer.{step}", TRANSFER_LINK)
        for step, audiences in TRANSFER_AUDIENCES.items()
    ),
    *(
        Rule(
            f"registry.{name}",
            _event("registry", name),
            audiences,
            f"registry.{name}",
            "/v1/members/{member_id}",
        )
        for name, audiences in REGISTRY_AUDIENCES.items()
    ),
    *(
        Rule(
            f"learning.{name}",
            _event("learning", name),
            (BRANCH_MEMBERS, BRANCH_SECRETARY),
            f"learning.{name}",
        )
        for name in LEARNING_ORG_ACTIVITIES
    ),
    Rule(
        "registry.screening_reminder",
        _event("registry", "screening_reminder"),
        (BRANCH_SECRETARY,),
        "registry.screening_reminder",
        "/v1/screenings/{item_id}",
    ),
    *(
        Rule(f"reminder.{kind}", f"reminder:{kind}", audiences, f"reminder.{kind}")
        for kind, audiences in REMINDER_AUDIENCES.items()
    ),
)
RULES_BY_NAME = {rule.name: rule for rule in RULES}


def owning_tenant(event_tenant: str, data: Mapping[str, Any]) -> str:
    """The tenant whose roll holds the member the event is about (the sender in a transfer, the home tenant of a
    mobile member): where the member's name is asked for and where reminders about them live."""
    return str(data.get("sending_tenant") or data.get("home_tenant") or data.get("tenant") or event_tenant)


def rules_for(event_type: str) -> tuple[Rule, ...]:
    """The rules of an event type (asked several times for every event of a consumer's run: looked up, not
    searched)."""
    return _RULES_BY_EVENT_TYPE.get(event_type, ())


_RULES_BY_EVENT_TYPE: dict[str, tuple[Rule, ...]] = {
    event_type: tuple(rule for rule in RULES if rule.event_type == event_type)
    for event_type in dict.fromkeys(rule.event_type for rule in RULES)
}
