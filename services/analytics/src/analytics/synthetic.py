"""Generated integration events shaped like the services' contracts, for tests and the benchmark.

Deterministic for a seed and a start date: times come from the arguments, never from the machine's clock.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from analytics.store import Incoming
from shared.envelope import CloudEvent

STREAM_OF = {
    "registry": "LIANXIN_REGISTRY",
    "transfer": "LIANXIN_TRANSFER",
    "learning": "LIANXIN_LEARNING",
    "notify": "LIANXIN_NOTIFY",
}
MEETING_TYPES = ("branch_assembly", "branch_committee", "group_meeting", "party_lecture", "themed_party_day")
CAUSES = ("migrant_work_or_business", "employer_changed", "residence_changed", "abroad", "other")


@dataclass
class Generator:
    seed: int = 1
    sequences: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def event(
        self, service: str, name: str, tenantid: str, at: datetime, subject: str, /, **data: Any
    ) -> CloudEvent:
        self.sequences[service] += 1
        seq = self.sequences[service]
        return CloudEvent(
            id=f"{subject}:{service}:{seq}",
            source=f"/lianxin/{service}",
            type=f"cn.lianxin.{service}.{name}.v1",
            subject=subject,
            time=at,
            tenantid=tenantid,
            sequence=str(seq),
            correlationid=subject,
            data=data,
        )


REGIONS = ("110105", "310115", "440305", "330106", "510107", "420111")


def stream_of(event: CloudEvent) -> str:
    return STREAM_OF[event.service]


class Feed:
    """Gives each event the next position of its stream, as JetStream would."""

    def __init__(self) -> None:
        self.seq: dict[str, int] = defaultdict(int)

    def messages(self, events: Iterable[CloudEvent]) -> list[Incoming]:
        out = []
        for event in events:
            stream = stream_of(event)
            self.seq[stream] += 1
            out.append(Incoming(stream, self.seq[stream], event.to_bytes()))
        return out


def at(day: date, hour: int = 2) -> datetime:
    """A UTC time on a given day: generated events take their times from fixed dates."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


def year_of_events(
    tenants: int = 10,
    *,
    start: date = date(2025, 1, 1),
    days: int = 365,
    branches: int = 4,
    members_per_branch: int = 40,
    seed: int = 7,
) -> Iterator[CloudEvent]:
    """A year in the life of `tenants` tenants: rolls, decisions, mobility, transfers, contact, meetings, study."""
    g = Generator(seed)
    rng = g.rng
    names = [f"tenant-{i:02d}" for i in range(tenants)]
    orgs: dict[str, list[str]] = {}
    roll: dict[str, list[tuple[str, str]]] = {}  # tenant -> (member, branch)
    for tenant in names:
        committee = g.uid()
        yield g.event(
            "registry",
            "organisation_founded",
            tenant,
            at(start),
            committee,
            organisation_id=committee,
            parent_id=None,
            kind="primary_committee",
        )
        orgs[tenant] = []
        roll[tenant] = []
        for _ in range(branches):
            branch = g.uid()
            orgs[tenant].append(branch)
            yield g.event(
                "registry",
                "organisation_founded",
                tenant,
                at(start),
                branch,
                organisation_id=branch,
                parent_id=committee,
                kind="branch",
            )
            for _ in range(members_per_branch):
                member = g.uid()
                category = "probationary" if rng.random() < 0.1 else "full"
                roll[tenant].append((member, branch))
                yield g.event(
                    "registry",
                    "member_registered",
                    tenant,
                    at(start),
                    member,
                    member_id=member,
                    organisation_id=branch,
                    category=category,
                    registered_on=start.isoformat(),
                )
    for offset in range(days):
        day = start + timedelta(days=offset)
        for tenant in names:
            yield from _a_day(g, tenant, day, names, orgs, roll)


def _a_day(
    g: Generator,
    tenant: str,
    day: date,
    names: list[str],
    orgs: dict[str, list[str]],
    roll: dict[str, list[tuple[str, str]]],
) -> Iterator[CloudEvent]:
    rng = g.rng
    members = roll[tenant]
    if rng.random() < 0.3:
        member, branch = g.uid(), rng.choice(orgs[tenant])
        members.append((member, branch))
        yield g.event(
            "registry",
            "member_registered",
            tenant,
            at(day, 3),
            member,
            member_id=member,
            organisation_id=branch,
            category="probationary",
            registered_on=day.isoformat(),
        )
    for branch in orgs[tenant]:
        if rng.random() < 0.12:
            meeting = g.uid()
            kind = rng.choice(MEETING_TYPES)
            yield g.event(
                "learning",
                "meeting_scheduled",
                tenant,
                at(day, 1),
                meeting,
                meeting_id=meeting,
                organisation_id=branch,
                meeting_type=kind,
                mode="in_person",
                starts_at=at(day, 10).isoformat(),
            )
            present = [m for m in members if m[1] == branch][:30]
            for member, _ in rng.sample(present, k=min(8, len(present))):
                yield g.event(
                    "learning",
                    "meeting_attended",
                    tenant,
                    at(day, 11),
                    member,
                    member_id=member,
                    tenant=tenant,
                    organisation_id=branch,
                    occurred_at=at(day, 11).isoformat(),
                    meeting_id=meeting,
                    meeting_type=kind,
                )
    if rng.random() < 0.15:  # a quiz a few members complete, and the inbox tells one branch about it
        quiz, questions = g.uid(), 5
        for member, branch in rng.sample(members, k=min(6, len(members))):
            score = rng.randint(0, questions)
            yield g.event(
                "learning",
                "quiz_completed",
                tenant,
                at(day, 13),
                quiz,
                member_id=member,
                tenant=tenant,
                organisation_id=branch,
                quiz_id=quiz,
                score=score,
                question_count=questions,
                passed=score >= 3,
                occurred_at=at(day, 13).isoformat(),
            )
        notification = g.uid()
        yield g.event(
            "notify",
            "notification_delivered" if rng.random() < 0.95 else "notification_failed",
            tenant,
            at(day, 13),
            notification,
            notification_id=notification,
            channel=rng.choice(("inbox", "email", "webhook")),
            kind="quiz_published",
            recipient_id=f"member@{rng.choice(orgs[tenant])}",
        )
    for member, branch in rng.sample(members, k=min(12, len(members))):
        yield g.event(
            "learning",
            "study_checked_in",
            tenant,
            at(day, 12),
            member,
            member_id=member,
            tenant=tenant,
            organisation_id=branch,
            occurred_at=at(day, 12).isoformat(),
        )
    if rng.random() < 0.1:
        member, branch = rng.choice(members)
        yield g.event(
            "registry",
            "contact_at_risk",
            tenant,
            at(day, 4),
            member,
            member_id=member,
            organisation_id=branch,
            cause=rng.choice(CAUSES),
            silent_days=95,
        )
        if rng.random() < 0.5:
            yield g.event(
                "registry",
                "contact_case_closed",
                tenant,
                at(day + timedelta(days=20), 4),
                member,
                member_id=member,
                organisation_id=branch,
                reason="reached",
            )
    if rng.random() < 0.08:
        member, branch = rng.choice(members)
        host = rng.choice(names)
        registration = g.uid()
        yield g.event(
            "registry",
            "outflow_registered",
            tenant,
            at(day, 5),
            registration,
            registration_id=registration,
            member_id=member,
            home_org_id=branch,
            kind="outflow",
            host_tenant=host,
            host_org_id=rng.choice(orgs[host]),
            host_region=rng.choice(REGIONS),
            left_on=day.isoformat(),
            until=None,
            transfer_suggested=False,
        )
    if rng.random() < 0.15 and len(members) > 20:
        yield from _a_transfer(g, tenant, day, names, orgs, roll)


def _a_transfer(
    g: Generator,
    tenant: str,
    day: date,
    names: list[str],
    orgs: dict[str, list[str]],
    roll: dict[str, list[tuple[str, str]]],
) -> Iterator[CloudEvent]:
    rng = g.rng
    member, branch = roll[tenant].pop(rng.randrange(len(roll[tenant])))
    to = rng.choice(names)
    to_org = rng.choice(orgs[to])
    case = g.uid()
    common = {
        "case_id": case,
        "member_id": member,
        "sending_tenant": tenant,
        "receiving_tenant": to,
        "sending_org_id": branch,
        "receiving_org_id": to_org,
    }
    when = at(day, 6)
    fate = rng.random()
    steps = ["transfer_requested", "branch_approved", "committee_approved"]
    if fate < 0.1:
        steps.append("transfer_refused")
    else:
        steps += ["letter_issued"]
        if fate < 0.2:
            steps.append("letter_expired")
        else:
            steps += ["transfer_received", "member_checked_in", "receipt_returned", "transfer_completed"]
    for step in steps:
        yield g.event("transfer", step, tenant, when, case, state=step, **common)
        when += timedelta(hours=rng.randint(4, 96))
    if steps[-1] == "transfer_completed":
        new_member = g.uid()
        roll[to].append((new_member, to_org))
        yield g.event(
            "registry",
            "member_enrolled",
            tenant,
            when,
            member,
            case_id=case,
            command_id=g.uid(),
            member_id=member,
            new_member_id=new_member,
            receiving_tenant=to,
            receiving_org_id=to_org,
            category="full",
        )
    else:
        roll[tenant].append((member, branch))
