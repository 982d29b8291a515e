"""Use cases of contact status: contacts recorded from every service, timers, searches, cases, settings."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from registry.application.base import RegistryBase
from registry.domain import CauseCode, ContactStatus, Member, MobileRegistration, MobilityKind, TenantSettings
from shared.eventstore import rerun_on_clash
from shared.meta import EventMeta

CAUSE_BY_MOBILITY = {
    MobilityKind.Outflow: CauseCode.MigrantWorkOrBusiness,
    MobilityKind.Abroad: CauseCode.Abroad,
    MobilityKind.GraduateDeferral: CauseCode.GraduateWhereaboutsUnknown,
}


class ContactUseCases(RegistryBase):
    def settings_for(self, tenant_id: str) -> TenantSettings:
        found = self.find(TenantSettings, TenantSettings.create_id(tenant_id))
        return found if found is not None else TenantSettings(tenant_id=tenant_id)

    @rerun_on_clash
    def change_settings(self, tenant_id: str, values: dict[str, int], meta: EventMeta) -> TenantSettings:
        settings = self.settings_for(tenant_id)
        settings.change(values, dict(meta))
        self.save(settings)
        return settings

    def contact_status(self, member: Member) -> ContactStatus:
        found = self.find(ContactStatus, ContactStatus.create_id(member.id))
        if found is not None:
            return found
        return ContactStatus(
            tenant_id=member.tenant_id,
            member_id=member.id,
            organisation_id=member.organisation_id,
            since=self.clock.now(),
        )

    def contact_recorded(
        self, member_id: UUID, *, kind: str, at: datetime, source: str, tenant_id: str | None = None
    ) -> ContactStatus | None:
        """The member's contact status with this contact in it, unsaved; None for a member not on this roll.
        Another service's events name no tenant: a mobile member's contact at the host counts."""
        member = self.find(Member, member_id)
        if member is None or (tenant_id is not None and member.tenant_id != tenant_id):
            return None
        status = self.contact_status(member)
        status.record_contact(kind, at, source)
        return status

    def record_contact(
        self, member_id: UUID, *, kind: str, at: datetime, source: str, tenant_id: str
    ) -> ContactStatus | None:
        """A secretary's record of contact with a member of their tenant."""
        status = self.contact_recorded(member_id, kind=kind, at=at, source=source, tenant_id=tenant_id)
        if status is not None:
            self.save(status)
        return status

    def contact_timer(self, member_id: UUID, timer: str) -> None:
        """Deadline handler: idempotent, and a contact recorded meanwhile wins."""
        member = self.find(Member, member_id)
        if member is None or not member.on_roll:
            return
        status = self.contact_status(member)
        values = self.settings_for(member.tenant_id).values
        now = self.clock.now()
        if timer == "at_risk":
            status.flag_if_due(now, at_risk_days=values["at_risk_days"], cause=self.cause_to_propose(member))
        elif timer == "lost":
            status.propose_lost_contact_if_due(now, lost_contact_days=values["lost_contact_days"])
        elif timer in ("self_lapse", "self_lapse_dues", "self_lapse_work"):
            status.open_self_lapse_review_if_due(now, self_lapse_days=values["self_lapse_days"])
        self.save(status)

    def cause_to_propose(self, member: Member) -> CauseCode:
        """The cause the software proposes from the mobile registration; a person chooses the one recorded."""
        if member.mobile_registration_id is None:
            return CauseCode.Other
        registration = self.find(MobileRegistration, member.mobile_registration_id)
        return CAUSE_BY_MOBILITY.get(registration.kind, CauseCode.Other) if registration else CauseCode.Other

    @rerun_on_clash
    def record_search(
        self, tenant_id: str, member_id: UUID, *, method: str, succeeded: bool, note: str, by: str
    ) -> ContactStatus:
        member = self.get_member(tenant_id, member_id)
        status = self.contact_status(member)
        status.record_search(
            method=method,
            succeeded=succeeded,
            note=note,
            by=by,
            at=self.clock.now(),
            lost_contact_days=self.settings_for(tenant_id).values["lost_contact_days"],
        )
        self.save(status)
        return status

    def close_contact_case(self, tenant_id: str, member_id: UUID, reason: str, *, by: str) -> ContactStatus:
        return self._on_status(tenant_id, member_id, lambda status: status.close_case(reason, by=by))

    def choose_cause(self, tenant_id: str, member_id: UUID, cause: CauseCode, *, by: str) -> ContactStatus:
        return self._on_status(tenant_id, member_id, lambda status: status.choose_cause(cause, by=by))

    def classify_lost_contact(self, tenant_id: str, member_id: UUID, *, basis: str, by: str) -> ContactStatus:
        days = self.settings_for(tenant_id).values["lost_contact_days"]
        return self._on_status(
            tenant_id,
            member_id,
            lambda status: status.classify_lost_contact(
                self.clock.now(), by=by, basis=basis, lost_contact_days=days
            ),
        )

    def assign_work(
        self, tenant_id: str, member_id: UUID, *, title: str, by: str
    ) -> tuple[ContactStatus, str]:
        assignment_id = secrets.token_hex(8)
        status = self._on_status(
            tenant_id,
            member_id,
            lambda status: status.assign_work(
                assignment_id=assignment_id, title=title, at=self.clock.now(), by=by
            ),
        )
        return status, assignment_id

    def complete_work(self, tenant_id: str, member_id: UUID, assignment_id: str, *, by: str) -> ContactStatus:
        return self._on_status(
            tenant_id,
            member_id,
            lambda status: status.complete_work(assignment_id=assignment_id, at=self.clock.now(), by=by),
        )

    @rerun_on_clash
    def _on_status(
        self, tenant_id: str, member_id: UUID, command: Callable[[ContactStatus], None]
    ) -> ContactStatus:
        status = self.contact_status(self.get_member(tenant_id, member_id))
        command(status)
        self.save(status)
        return status
