"""排查 (ScreeningCampaign): a committee sweeps its member relations; each branch confirms every member in scope.

Scopes: every mobile member, graduates (from three months after graduation; the graduate deferrals at school),
or a list of branches. Each member is confirmed by the branch (reachable or not, where, contact checked, or a
reason) or confirms themself; findings are 空挂 (relation hung nowhere), 失联 (unreachable), 口袋党员 (letter
never lodged) and 隐身党员 (hides their membership, no org life). The closing report counts them; a finding can open
a contact case. The campaign records; people judge each member.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from registry.domain.dates import months_later
from shared.errors import Conflict, Invalid


class ScreeningScope(enum.Enum):
    Mobile = "mobile"  # every member with an open mobile registration
    Graduates = "graduates"  # graduate deferrals at school, three months after graduation
    Branches = "branches"  # every member on the roll of the listed branches


class ScreeningOutcome(enum.Enum):
    Confirmed = "confirmed"  # reachable, where they are known, contact checked
    Dangling = "dangling"  # 空挂
    LostContact = "lost_contact"  # 失联
    Pocket = "pocket"  # 口袋党员
    Invisible = "invisible"  # 隐身党员


OUTCOME_WORDS = {
    ScreeningOutcome.Confirmed: "已确认",
    ScreeningOutcome.Dangling: "空挂",
    ScreeningOutcome.LostContact: "失联",
    ScreeningOutcome.Pocket: "口袋党员",
    ScreeningOutcome.Invisible: "隐身党员",
}
FINDINGS = [o for o in ScreeningOutcome if o is not ScreeningOutcome.Confirmed]


class ScreeningStateError(Conflict):
    type = "screening-state"


class InvalidScreening(Invalid):
    type = "invalid-screening"


# Which mobile registrations a scope sweeps (the branches scope lists its branches instead).
MOBILITY_KINDS = {
    ScreeningScope.Mobile: ["outflow", "abroad"],
    ScreeningScope.Graduates: ["graduate_deferral"],
}
GRADUATE_WAIT_MONTHS = 3


def check_graduates_due(graduated_on: date | None, today: date) -> None:
    """Graduates are screened from three months after graduation."""
    if graduated_on is None:
        raise InvalidScreening("give the graduation date", field="graduated_on")
    opens = months_later(graduated_on, GRADUATE_WAIT_MONTHS)
    if today < opens:
        raise InvalidScreening(
            f"graduates are screened three months after graduation: from {opens.isoformat()}",
            field="graduated_on",
        )


class ScreeningCampaign(Aggregate):
    TOPIC = "lianxin.registry.ScreeningCampaign"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.ScreeningCampaign.Created"

    class Opened(Created):
        TOPIC = "lianxin.registry.ScreeningCampaign.Opened"
        tenant_id: str
        title: str
        scope: ScreeningScope
        organisation_ids: list[str]
        members: dict[str, str]  # member id -> the branch that confirms them
        opened_on: date
        due_on: date
        meta: dict[str, Any]

    class MemberConfirmed(Event):
        TOPIC = "lianxin.registry.ScreeningCampaign.MemberConfirmed"
        tenant_id: str
        member_id: str
        organisation_id: str
        outcome: ScreeningOutcome
        reachable: bool
        whereabouts: str
        contact_checked: bool
        reason: str
        by: str
        by_member: bool
        on: date
        meta: dict[str, Any]

    class BranchReminded(Event):
        TOPIC = "lianxin.registry.ScreeningCampaign.BranchReminded"
        tenant_id: str
        organisation_id: str
        pending: int  # members the branch has still to confirm
        on: date
        due_on: date  # the campaign's deadline
        meta: dict[str, Any]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["due_on"] = date.fromisoformat(state["meta"]["due_on"])  # stored when meta carried it

    class CaseOpened(Event):
        TOPIC = "lianxin.registry.ScreeningCampaign.CaseOpened"
        member_id: str
        meta: dict[str, Any]

    class Closed(Event):
        TOPIC = "lianxin.registry.ScreeningCampaign.Closed"
        tenant_id: str
        counts: dict[str, int]
        on: date
        meta: dict[str, Any]

    @event(Opened)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        title: str,
        scope: ScreeningScope,
        organisation_ids: list[str],
        members: dict[str, str],
        opened_on: date,
        due_on: date,
        meta: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.title = title
        self.scope = scope
        self.organisation_ids = list(organisation_ids)
        self.members = dict(members)
        self.opened_on = opened_on
        self.due_on = due_on
        self.results: dict[str, dict[str, Any]] = {}
        self.cases: list[str] = []
        self.closed_on: date | None = None

    @classmethod
    def open(
        cls,
        *,
        campaign_id: UUID,
        tenant_id: str,
        title: str,
        scope: ScreeningScope,
        organisation_ids: list[str],
        members: dict[str, str],
        opened_on: date,
        due_on: date,
        meta: dict[str, Any],
    ) -> ScreeningCampaign:
        if due_on < opened_on:
            raise InvalidScreening("the campaign ends after it opens", field="due_on")
        return cls(
            id=campaign_id,
            tenant_id=tenant_id,
            title=title,
            scope=scope,
            organisation_ids=organisation_ids,
            members=members,
            opened_on=opened_on,
            due_on=due_on,
            meta=meta,
        )

    def _open_only(self) -> None:
        if self.closed_on is not None:
            raise ScreeningStateError("the campaign is closed")

    def confirm(
        self,
        *,
        member_id: str,
        outcome: ScreeningOutcome,
        reachable: bool,
        whereabouts: str,
        contact_checked: bool,
        reason: str,
        by: str,
        by_member: bool,
        on: date,
        meta: dict[str, Any],
    ) -> None:
        self._open_only()
        if member_id not in self.members:
            raise InvalidScreening("the member is not in this campaign's scope", field="member_id")
        if outcome is ScreeningOutcome.Confirmed and not (reachable and contact_checked and whereabouts):
            raise InvalidScreening(
                "a confirmed member is reachable, their whereabouts known and contact checked; "
                "otherwise record the finding and its reason",
                field="outcome",
            )
        if outcome is not ScreeningOutcome.Confirmed and not reason:
            raise InvalidScreening(f"{OUTCOME_WORDS[outcome]}: give the reason", field="reason")
        if by_member and member_id in self.results and not self.results[member_id]["by_member"]:
            raise ScreeningStateError("the branch has confirmed this member already")
        self._confirmed(
            tenant_id=self.tenant_id,
            member_id=member_id,
            organisation_id=self.members[member_id],
            outcome=outcome,
            reachable=reachable,
            whereabouts=whereabouts,
            contact_checked=contact_checked,
            reason=reason,
            by=by,
            by_member=by_member,
            on=on,
            meta=meta,
        )

    @event(MemberConfirmed)
    def _confirmed(
        self,
        tenant_id: str,
        member_id: str,
        organisation_id: str,
        outcome: ScreeningOutcome,
        reachable: bool,
        whereabouts: str,
        contact_checked: bool,
        reason: str,
        by: str,
        by_member: bool,
        on: date,
        meta: dict[str, Any],
    ) -> None:
        self.results[member_id] = {
            "outcome": outcome.value,
            "reachable": reachable,
            "whereabouts": whereabouts,
            "contact_checked": contact_checked,
            "reason": reason,
            "by": by,
            "by_member": by_member,
            "on": on.isoformat(),
        }

    def progress(self) -> dict[str, dict[str, int]]:
        """Per branch: in scope, confirmed (any outcome), pending, and each outcome's count."""
        out: dict[str, dict[str, int]] = {}
        for member_id, org in self.members.items():
            row = out.setdefault(
                org, {"in_scope": 0, "done": 0, "pending": 0, **{o.value: 0 for o in ScreeningOutcome}}
            )
            row["in_scope"] += 1
            result = self.results.get(member_id)
            if result is None:
                row["pending"] += 1
            else:
                row["done"] += 1
                row[result["outcome"]] += 1
        return out

    def counts(self) -> dict[str, int]:
        totals = {"in_scope": len(self.members), "pending": 0, **{o.value: 0 for o in ScreeningOutcome}}
        for row in self.progress().values():
            totals["pending"] += row["pending"]
            for o in ScreeningOutcome:
                totals[o.value] += row[o.value]
        return totals

    def remind(self, on: date, meta: dict[str, Any]) -> dict[str, int]:
        self._open_only()
        pending = {org: row["pending"] for org, row in self.progress().items() if row["pending"]}
        for org, count in sorted(pending.items()):
            self._reminded(
                tenant_id=self.tenant_id,
                organisation_id=org,
                pending=count,
                on=on,
                due_on=self.due_on,
                meta=meta,
            )
        return pending

    @event(BranchReminded)
    def _reminded(
        self,
        tenant_id: str,
        organisation_id: str,
        pending: int,
        on: date,
        due_on: date,
        meta: dict[str, Any],
    ) -> None:
        pass

    def open_case(self, member_id: str, meta: dict[str, Any]) -> None:
        result = self.results.get(member_id)
        if result is None or result["outcome"] == ScreeningOutcome.Confirmed.value:
            raise InvalidScreening("a case is opened on a finding", field="member_id")
        if member_id in self.cases:
            raise ScreeningStateError("a case was opened on this finding already")
        self._case_opened(member_id=member_id, meta=meta)

    @event(CaseOpened)
    def _case_opened(self, member_id: str, meta: dict[str, Any]) -> None:
        self.cases.append(member_id)

    def close(self, on: date, meta: dict[str, Any]) -> dict[str, int]:
        self._open_only()
        counts = self.counts()
        self._closed(tenant_id=self.tenant_id, counts=counts, on=on, meta=meta)
        return counts

    @event(Closed)
    def _closed(self, tenant_id: str, counts: dict[str, int], on: date, meta: dict[str, Any]) -> None:
        self.closed_on = on
