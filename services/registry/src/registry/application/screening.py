"""Use cases of screening campaigns (排查) on the registry application; the routes work out who is in scope."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from registry.application.contact import ContactUseCases
from registry.domain import ContactState, Member
from registry.domain.screening import ScreeningCampaign, ScreeningOutcome, ScreeningScope
from shared.errors import NotFound
from shared.eventstore import rerun_on_clash
from shared.meta import EventMeta


class ScreeningNotFound(NotFound):
    type = "screening-not-found"


class ScreeningUseCases(ContactUseCases):
    def get_screening(self, tenant_id: str, campaign_id: UUID) -> ScreeningCampaign:
        campaign: ScreeningCampaign | None = self.find_in_tenant(ScreeningCampaign, campaign_id, tenant_id)
        if campaign is None:
            raise ScreeningNotFound(f"screening campaign {campaign_id} not found")
        return campaign

    def open_screening(
        self,
        *,
        campaign_id: UUID,
        tenant_id: str,
        title: str,
        scope: ScreeningScope,
        organisation_ids: list[str],
        members: dict[str, str],
        due_on: date,
        meta: EventMeta,
    ) -> ScreeningCampaign:
        campaign = ScreeningCampaign.open(
            campaign_id=campaign_id,
            tenant_id=tenant_id,
            title=title,
            scope=scope,
            organisation_ids=organisation_ids,
            members=members,
            opened_on=self.clock.now().date(),
            due_on=due_on,
            meta=dict(meta),
        )
        self.save(campaign)
        return campaign

    @rerun_on_clash
    def screening_action(
        self, tenant_id: str, campaign_id: UUID, action: str, meta: EventMeta, **values: Any
    ) -> ScreeningCampaign:
        campaign = self.get_screening(tenant_id, campaign_id)
        today = self.clock.now().date()
        changed: list[Aggregate] = [campaign]
        if action == "confirm":
            campaign.confirm(on=today, meta=dict(meta), **values)
        elif action == "remind":
            campaign.remind(today, dict(meta))
        elif action == "close":
            campaign.close(today, dict(meta))
        elif action == "case":
            member_id = values["member_id"]
            campaign.open_case(member_id, dict(meta))
            member: Member = self.get_member(tenant_id, UUID(member_id))
            status = self.contact_status(member)
            if status.state is ContactState.Normal:
                status.flag_if_due(self.clock.now(), at_risk_days=0, cause=self.cause_to_propose(member))
            changed.append(status)
        else:
            raise ValueError(action)
        self.save(*changed)
        return campaign


__all__ = ["ScreeningNotFound", "ScreeningOutcome", "ScreeningUseCases"]
