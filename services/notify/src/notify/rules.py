"""Default rules: which integration event reaches whom, with which words (zh-CN)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from notify.contracts import Consumed, MemberRegistered

CATEGORY_ZH = {"full": "正式党员", "probationary": "预备党员"}


@dataclass(frozen=True)
class Recipient:
    role: str
    org: str | None  # None: everyone holding the role in the tenant


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    link: str | None


@dataclass(frozen=True)
class Rule:
    name: str
    event_type: str
    recipients: Callable[[Consumed], list[Recipient]]
    render: Callable[[Consumed], Rendered]


def _member_registered_recipients(data: Consumed) -> list[Recipient]:
    assert isinstance(data, MemberRegistered)
    return [Recipient("branch_secretary", str(data.organisation_id)), Recipient("committee", None)]


def _member_registered_render(data: Consumed) -> Rendered:
    assert isinstance(data, MemberRegistered)
    return Rendered(
        title="新党员登记",
        body=f"一名{CATEGORY_ZH[data.category]}已于{data.registered_on.isoformat()}登记到本组织，请核对其信息。",
        link=f"/v1/members/{data.member_id}",
    )


RULES: tuple[Rule, ...] = (
    Rule("member-registered-to-secretaries", MemberRegistered.TYPE, _member_registered_recipients,
         _member_registered_render),
)


def rules_for(event_type: str) -> list[Rule]:
    return [rule for rule in RULES if rule.event_type == event_type]
