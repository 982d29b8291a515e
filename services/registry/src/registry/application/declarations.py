"""Use cases of a member acting for themself: declaring that they leave, reporting where they are, returning."""

from __future__ import annotations

from uuid import UUID, uuid5

from registry.application.mobility import MobilityUseCases
from registry.domain import MobileRegistration, MobilityDeclaration, MobilityKind, TransferPending
from shared.errors import NotFound
from shared.eventstore import rerun_on_clash
from shared.meta import EventMeta

REGISTRATION_NAMESPACE = UUID("5b0f7c1e-3d2a-4e8b-9f61-0a7c2d4e6b18")


class DeclarationNotFound(NotFound):
    type = "mobility-declaration-not-found"


class DeclarationUseCases(MobilityUseCases):
    def declare_leaving(
        self,
        *,
        declaration_id: UUID,
        tenant_id: str,
        member_id: UUID,
        reason: str,
        destination: str,
        expected_months: int,
        fixed_place: bool,
        contact: str,
        meta: EventMeta,
    ) -> MobilityDeclaration:
        member = self.get_member(tenant_id, member_id)
        if member.mobile_registration_id is not None:
            raise TransferPending(
                "you already have an open mobile registration",
                registration_id=str(member.mobile_registration_id),
            )
        declaration = MobilityDeclaration(
            id=declaration_id,
            tenant_id=tenant_id,
            member_id=member.id,
            home_org_id=member.organisation_id,
            reason=reason,
            destination=destination,
            expected_months=expected_months,
            fixed_place=fixed_place,
            contact=contact,
            meta=dict(meta),
        )
        self.save(declaration)
        return declaration

    def get_declaration(self, tenant_id: str, declaration_id: UUID) -> MobilityDeclaration:
        declaration = self.find(MobilityDeclaration, declaration_id)
        if declaration is None or declaration.tenant_id != tenant_id:
            raise DeclarationNotFound(f"mobility declaration {declaration_id} not found")
        return declaration

    @rerun_on_clash
    def confirm_declaration(
        self, tenant_id: str, declaration_id: UUID, meta: EventMeta
    ) -> MobilityDeclaration:
        """The home branch confirms: the outflow is registered (and the activity certificate issued) in the same
        transaction; a clash reruns the whole, declaration included."""
        declaration = self.get_declaration(tenant_id, declaration_id)
        registration_id = uuid5(REGISTRATION_NAMESPACE, str(declaration.id))
        if self.find(MobileRegistration, registration_id) is not None:
            return declaration
        declaration.confirm(registration_id, dict(meta))
        self.outflow_once(
            registration_id=registration_id,
            tenant_id=tenant_id,
            member_id=declaration.member_id,
            kind=MobilityKind.Outflow,
            reason=declaration.reason,
            destination=declaration.destination,
            host_tenant=None,
            host_org_id=None,
            expected_months=declaration.expected_months,
            fixed_place=declaration.fixed_place,
            contact=declaration.contact,
            meta=meta,
            confirms=declaration,
        )
        return declaration

    @rerun_on_clash
    def question_declaration(
        self, tenant_id: str, declaration_id: UUID, question: str, meta: EventMeta
    ) -> MobilityDeclaration:
        declaration = self.get_declaration(tenant_id, declaration_id)
        declaration.ask(question, dict(meta))
        self.save(declaration)
        return declaration
