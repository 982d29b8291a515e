"""Use cases of mobile members and activity certificates, on the registry application."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from registry.application.contact import ContactUseCases
from registry.domain import (
    ActivityCertificate,
    CertificateBook,
    CertificateState,
    MobileRegistration,
    MobilityDeclaration,
    MobilityKind,
    Organisation,
    OrgKind,
)
from shared.errors import NotFound
from shared.eventstore import rerun_on_clash
from shared.meta import EventMeta
from shared.regions import check_region
from shared.scope import Scope

ISSUING_KINDS = {OrgKind.PrimaryCommittee, OrgKind.OrgDepartment, OrgKind.StreetCommittee}
# Members abroad or deferred at school are contacted at least every six months (DOMAIN.md section 0).
SIX_MONTHLY_CONTACT = {MobilityKind.Abroad, MobilityKind.GraduateDeferral}


class RegistrationNotFound(NotFound):
    type = "mobile-registration-not-found"


class MobilityUseCases(ContactUseCases):
    @rerun_on_clash
    def register_outflow(
        self,
        *,
        registration_id: UUID,
        tenant_id: str,
        member_id: UUID,
        kind: MobilityKind,
        reason: str,
        destination: str,
        host_tenant: str | None,
        host_org_id: UUID | None,
        expected_months: int,
        fixed_place: bool,
        contact: str,
        meta: EventMeta,
        host_region: str | None = None,
    ) -> tuple[MobileRegistration, ActivityCertificate | None]:
        return self.outflow_once(
            registration_id=registration_id,
            tenant_id=tenant_id,
            member_id=member_id,
            kind=kind,
            reason=reason,
            destination=destination,
            host_tenant=host_tenant,
            host_org_id=host_org_id,
            expected_months=expected_months,
            fixed_place=fixed_place,
            contact=contact,
            meta=meta,
            host_region=host_region,
        )

    def outflow_once(
        self,
        *,
        registration_id: UUID,
        tenant_id: str,
        member_id: UUID,
        kind: MobilityKind,
        reason: str,
        destination: str,
        host_tenant: str | None,
        host_org_id: UUID | None,
        expected_months: int,
        fixed_place: bool,
        contact: str,
        meta: EventMeta,
        confirms: MobilityDeclaration | None = None,
        host_region: str | None = None,
    ) -> tuple[MobileRegistration, ActivityCertificate | None]:
        """One attempt, for a use case that reruns as a whole: `confirms` is the member's declaration this
        registration confirms, saved in the same transaction (a clash reloads it with everything else)."""
        member = self.get_member(tenant_id, member_id)
        today = self.clock.now().date()
        registration = MobileRegistration.register_outflow(
            registration_id=registration_id,
            tenant_id=tenant_id,
            member_id=member.id,
            home_org_id=member.organisation_id,
            kind=kind,
            reason=reason,
            destination=destination,
            host_tenant=host_tenant,
            host_org_id=host_org_id,
            expected_months=expected_months,
            fixed_place=fixed_place,
            contact=contact,
            left_on=today,
            meta=dict(meta),
            host_region=check_region(host_region),
        )
        member.go_mobile(registration.id, by=meta["actor"])
        certificate = book = None
        if kind is MobilityKind.Outflow:
            committee = self.issuing_committee(tenant_id, member.organisation_id)
            book = self.find(
                CertificateBook, CertificateBook.create_id(tenant_id, committee.id)
            ) or CertificateBook(tenant_id=tenant_id, committee_id=committee.id, prefix=committee.code)
            certificate = ActivityCertificate(
                id=ActivityCertificate.id_for(registration.id),
                tenant_id=tenant_id,
                number=book.take_number(today.year),
                member_id=member.id,
                registration_id=registration.id,
                issued_on=today,
                home=registration.home,
                meta=dict(meta),
            )
        status = None
        if kind in SIX_MONTHLY_CONTACT:
            status = self.contact_status(member)
            status.open_contact_cycle(self.today())
        self.save(registration, member, book, certificate, status, confirms)
        return registration, certificate

    def issuing_committee(self, tenant_id: str, organisation_id: UUID) -> Organisation:
        """The committee above a branch issues and numbers its certificates."""
        organisation: Organisation = self.get_organisation(tenant_id, organisation_id)
        while organisation.kind not in ISSUING_KINDS and organisation.parent_id is not None:
            organisation = self.get_organisation(tenant_id, organisation.parent_id)
        return organisation

    def get_registration(
        self, tenant_id: str, registration_id: UUID, *, as_host: bool = False, scope: Scope | None = None
    ) -> MobileRegistration:
        """The registration if the caller may act on it: the home tenant (within `scope`, the home branch) or,
        as host, the host tenant; anything else is not found."""
        registration = self.find(MobileRegistration, registration_id)
        if registration is None or not (
            (
                registration.tenant_id == tenant_id
                and (scope is None or scope.covers(registration.home_org_id))
            )
            or (as_host and registration.host_tenant == tenant_id)
        ):
            raise RegistrationNotFound(f"mobile registration {registration_id} not found")
        return registration

    @rerun_on_clash
    def register_inflow(
        self,
        *,
        host_tenant: str,
        registration_id: UUID,
        host_org_id: UUID,
        host_contact: str,
        meta: EventMeta,
    ) -> MobileRegistration:
        registration = self.get_registration(host_tenant, registration_id, as_host=True)
        if registration.host_tenant != host_tenant:
            raise RegistrationNotFound(f"mobile registration {registration_id} not found")
        host_org = self.get_organisation(host_tenant, host_org_id, field="host_org_id")
        today = self.clock.now().date()
        registration.register_inflow(
            host_tenant=host_tenant,
            host_org_id=host_org.id,
            host_contact=host_contact,
            registered_on=today,
            meta=dict(meta),
        )
        certificate = self.find(ActivityCertificate, ActivityCertificate.id_for(registration.id))
        if certificate is not None:
            certificate.present(host_org.id, today, dict(meta))
        self.save(registration, certificate)
        return registration

    @rerun_on_clash
    def end_registration(
        self, scope: Scope, registration_id: UUID, *, converted: bool, meta: EventMeta
    ) -> MobileRegistration:
        """Return home (certificate surrendered) or conversion to a transfer (certificate superseded)."""
        tenant_id = scope.tenant
        registration = self.get_registration(tenant_id, registration_id, scope=scope)
        today = self.clock.now().date()
        if converted:
            registration.convert_to_transfer(today, dict(meta))
        else:
            registration.return_home(today, dict(meta))
        member = self.get_member(tenant_id, registration.member_id)
        member.end_mobility(registration.id)
        certificate = self.find(ActivityCertificate, ActivityCertificate.id_for(registration.id))
        if certificate is not None:
            certificate.close(
                CertificateState.Superseded if converted else CertificateState.Surrendered,
                today,
                "converted to a transfer" if converted else "returned home",
                dict(meta),
            )
        status = self.contact_status(member)
        status.end_contact_cycle(self.clock.now())
        self.save(registration, member, certificate, status)
        return registration

    @rerun_on_clash
    def certificate_action(
        self,
        scope: Scope,
        certificate_id: UUID,
        *,
        action: str,
        reviewer: str = "",
        remarks: str = "",
        meta: EventMeta,
    ) -> ActivityCertificate:
        """The yearly review or the voiding, by the home tenant within the scope of the registration's branch."""
        certificate = self.find(ActivityCertificate, certificate_id)
        registration = (
            self.find(MobileRegistration, certificate.registration_id) if certificate is not None else None
        )
        if (
            certificate is None
            or certificate.tenant_id != scope.tenant
            or registration is None
            or not scope.covers(registration.home_org_id)
        ):
            raise RegistrationNotFound(f"activity certificate {certificate_id} not found")
        today: date = self.clock.now().date()
        if action == "review":
            certificate.review(today, reviewer, remarks, dict(meta))
        else:
            certificate.close(CertificateState.Voided, today, remarks or "voided", dict(meta))
        self.save(certificate)
        return certificate
