"""排查 campaigns in the domain: confirmations, findings need reasons, progress per branch, reminders, report."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from registry.domain.screening import (
    InvalidScreening,
    ScreeningCampaign,
    ScreeningOutcome,
    ScreeningScope,
    ScreeningStateError,
    check_graduates_due,
)

META = {"actor": "user:committee"}
ON = date(2026, 11, 23)


def campaign() -> ScreeningCampaign:
    return ScreeningCampaign.open(
        campaign_id=uuid.uuid4(),
        tenant_id="t",
        title="排查",
        scope=ScreeningScope.Mobile,
        organisation_ids=[],
        members={"m1": "b1", "m2": "b1", "m3": "b2"},
        opened_on=ON,
        due_on=date(2026, 12, 31),
        meta=META,
    )


def confirm(
    c: ScreeningCampaign, member: str, outcome: ScreeningOutcome, reason: str = "", *, by_member: bool = False
) -> None:
    good = outcome is ScreeningOutcome.Confirmed
    c.confirm(
        member_id=member,
        outcome=outcome,
        reachable=good,
        whereabouts="深圳" if good else "",
        contact_checked=good,
        reason=reason,
        by="user:x",
        by_member=by_member,
        on=ON,
        meta=META,
    )


def test_findings_need_a_reason_and_a_confirmation_needs_whereabouts_and_checked_contact() -> None:
    c = campaign()
    with pytest.raises(InvalidScreening) as no_reason:
        confirm(c, "m1", ScreeningOutcome.Pocket)
    assert no_reason.value.extensions["field"] == "reason"
    with pytest.raises(InvalidScreening):
        c.confirm(
            member_id="m1",
            outcome=ScreeningOutcome.Confirmed,
            reachable=True,
            whereabouts="",
            on=ON,
            contact_checked=True,
            reason="",
            by="x",
            by_member=False,
            meta=META,
        )
    with pytest.raises(InvalidScreening):
        confirm(c, "stranger", ScreeningOutcome.Confirmed)


def test_progress_per_branch_reminders_only_where_pending_and_the_closing_counts() -> None:
    c = campaign()
    confirm(c, "m1", ScreeningOutcome.Confirmed, by_member=True)
    confirm(c, "m2", ScreeningOutcome.Invisible, "不参加组织生活，不亮明身份")
    assert c.progress()["b1"] == {
        "in_scope": 2,
        "done": 2,
        "pending": 0,
        "confirmed": 1,
        "dangling": 0,
        "lost_contact": 0,
        "pocket": 0,
        "invisible": 1,
    }
    assert c.remind(ON, META) == {"b2": 1}
    confirm(c, "m3", ScreeningOutcome.LostContact, "电话停机，家属不知去向")
    c.open_case("m3", META)
    with pytest.raises(InvalidScreening):
        c.open_case("m1", META)
    counts = c.close(ON, META)
    assert counts == {
        "in_scope": 3,
        "pending": 0,
        "confirmed": 1,
        "dangling": 0,
        "lost_contact": 1,
        "pocket": 0,
        "invisible": 1,
    }
    with pytest.raises(ScreeningStateError):
        confirm(c, "m1", ScreeningOutcome.Confirmed)


def test_a_member_does_not_overwrite_the_branch() -> None:
    c = campaign()
    confirm(c, "m1", ScreeningOutcome.Dangling, "组织关系在本支部，人不在，也不参加流入地组织生活")
    with pytest.raises(ScreeningStateError):
        confirm(c, "m1", ScreeningOutcome.Confirmed, by_member=True)


def test_graduates_are_screened_from_three_months_after_graduation() -> None:
    check_graduates_due(date(2026, 7, 31), date(2026, 10, 31))
    with pytest.raises(InvalidScreening, match="from 2026-10-31"):
        check_graduates_due(date(2026, 7, 31), date(2026, 10, 30))
    with pytest.raises(InvalidScreening, match="graduation date"):
        check_graduates_due(None, ON)
