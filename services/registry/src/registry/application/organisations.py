"""Use cases of the organisation tree: found, rename, move, close, grant and revoke roles."""

from __future__ import annotations

from uuid import UUID

from registry.application.base import RegistryBase
from registry.domain import Organisation, OrgKind
from shared.errors import Conflict
from shared.eventstore import IntegrityError, rerun_on_clash
from shared.meta import EventMeta


class OrganisationUseCases(RegistryBase):
    def found_organisation(
        self, *, tenant_id: str, code: str, name: str, kind: OrgKind, parent_id: UUID | None, meta: EventMeta
    ) -> Organisation:
        parent = self.get_organisation(tenant_id, parent_id, field="parent_id") if parent_id else None
        organisation = Organisation.found(
            tenant_id=tenant_id, code=code, name=name, kind=kind, parent=parent, meta=dict(meta)
        )
        try:
            self.save(organisation)
        except IntegrityError:
            raise Conflict(f"an organisation with code {code!r} already exists", field="code") from None
        return organisation

    @rerun_on_clash
    def change_organisation(
        self,
        tenant_id: str,
        organisation_id: UUID,
        *,
        name: str | None,
        parent_id: UUID | None,
        close_reason: str | None,
        meta: EventMeta,
    ) -> Organisation:
        organisation = self.get_organisation(tenant_id, organisation_id)
        if name is not None:
            organisation.rename(name, dict(meta))
        if parent_id is not None:
            organisation.move(self.get_organisation(tenant_id, parent_id, field="parent_id"), dict(meta))
        if close_reason is not None:
            organisation.close(close_reason, dict(meta))
        self.save(organisation)
        return organisation

    @rerun_on_clash
    def assign_role(
        self,
        tenant_id: str,
        organisation_id: UUID,
        *,
        subject: str,
        role: str,
        granted: bool,
        meta: EventMeta,
    ) -> Organisation:
        organisation = self.get_organisation(tenant_id, organisation_id)
        if granted:
            organisation.grant_role(subject, role, dict(meta))
        else:
            organisation.revoke_role(subject, role, dict(meta))
        self.save(organisation)
        return organisation
