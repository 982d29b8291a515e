"""A store in memory, a generator, a feed of stream positions and a scenario with the counts it must give.

Times come from fixed dates, never the machine's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from analytics.store import AnalyticsStore
from analytics.synthetic import Feed, Generator, at
from shared.envelope import CloudEvent


@pytest.fixture
def store() -> Iterator[AnalyticsStore]:
    s = AnalyticsStore(None)
    yield s
    s.close()


@pytest.fixture
def gen() -> Generator:
    return Generator(seed=3)


@pytest.fixture
def feed() -> Feed:
    return Feed()


A, B, STRANGER = "tenant-aa", "tenant-bb", "tenant-cc"
FUNNEL = [
    "transfer_requested",
    "branch_approved",
    "committee_approved",
    "letter_issued",
    "transfer_received",
    "member_checked_in",
    "receipt_returned",
    "transfer_completed",
]


@dataclass
class Scenario:
    g: Generator = field(default_factory=lambda: Generator(seed=11))
    events: list[CloudEvent] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)

    def id(self, name: str) -> str:
        return self.ids.setdefault(name, self.g.uid())

    def add(
        self, service: str, name: str, tenant: str, day: date, subject: str, /, hour: int = 2, **data: object
    ) -> None:
        self.events.append(self.g.event(service, name, tenant, at(day, hour), subject, **data))

    def transfer(
        self,
        tenant: str,
        to: str,
        member: str,
        steps: list[str],
        start: date,
        *,
        overdue: bool = False,
        new_member: str | None = None,
        to_org: str | None = None,
    ) -> None:
        case = self.id(f"case-{member}")
        common = {
            "case_id": case,
            "member_id": self.id(member),
            "sending_tenant": tenant,
            "receiving_tenant": to,
            "sending_org_id": self.id("b1"),
            "receiving_org_id": self.id(to_org or "b-remote"),
        }
        for n, step in enumerate(steps):
            self.add("transfer", step, tenant, start + timedelta(days=n), case, state=step, **common)
        if overdue:
            self.add(
                "transfer", "receipt_overdue", tenant, start + timedelta(days=40), case, state="x", **common
            )
        if steps[-1] == "transfer_completed":
            self.add(
                "registry",
                "member_enrolled",
                tenant,
                start + timedelta(days=len(steps) - 1),
                case,
                hour=3,
                case_id=case,
                command_id=self.g.uid(),
                member_id=self.id(member),
                new_member_id=self.id(new_member or f"new-{member}"),
                receiving_tenant=to,
                receiving_org_id=self.id(to_org or "b-remote"),
                category="full",
            )
            # The registry then confirms the release from the sending roll (one member leaving, not two).
            self.add(
                "registry",
                "member_released",
                tenant,
                start + timedelta(days=len(steps) - 1),
                case,
                hour=4,
                case_id=case,
                command_id=self.g.uid(),
                member_id=self.id(member),
            )

    def meeting(self, org: str, kind: str, day: date, attendees: list[str]) -> None:
        meeting = self.g.uid()
        self.add(
            "learning",
            "meeting_scheduled",
            A,
            day - timedelta(days=3),
            meeting,
            meeting_id=meeting,
            organisation_id=self.id(org),
            meeting_type=kind,
            mode="in_person",
            starts_at=at(day, 7).isoformat(),
        )
        for member in attendees:
            self.add(
                "learning",
                "meeting_attended",
                A,
                day,
                meeting,
                hour=8,
                member_id=self.id(member),
                tenant=A,
                organisation_id=self.id(org),
                occurred_at=at(day, 8).isoformat(),
                meeting_id=meeting,
                meeting_type=kind,
            )


def quarter() -> Scenario:
    s = Scenario()
    founded = date(2026, 1, 5)
    s.add(
        "registry",
        "organisation_founded",
        A,
        founded,
        s.id("root"),
        organisation_id=s.id("root"),
        parent_id=None,
        kind="primary_committee",
    )
    for branch in ("b1", "b2"):
        s.add(
            "registry",
            "organisation_founded",
            A,
            founded,
            s.id(branch),
            organisation_id=s.id(branch),
            parent_id=s.id("root"),
            kind="branch",
        )
    s.add(
        "registry",
        "organisation_founded",
        A,
        founded,
        s.id("g1"),
        organisation_id=s.id("g1"),
        parent_id=s.id("b1"),
        kind="group",
    )
    roll = [
        ("m1", "b1", "full"),
        ("m2", "b1", "full"),
        ("m3", "b1", "full"),
        ("m4", "b1", "full"),
        ("p1", "b1", "probationary"),
        ("p2", "b1", "probationary"),
        ("m5", "b2", "full"),
        ("m6", "b2", "full"),
        ("m7", "b2", "full"),
    ]
    for member, branch, category in roll:
        day = date(2026, 1, 10) if branch == "b1" else date(2026, 2, 1)
        s.add(
            "registry",
            "member_registered",
            A,
            day,
            s.id(member),
            member_id=s.id(member),
            organisation_id=s.id(branch),
            category=category,
            registered_on=day.isoformat(),
        )
    s.add(
        "registry",
        "decision_recorded",
        A,
        date(2026, 3, 1),
        s.id("p1"),
        member_id=s.id("p1"),
        kind="regularisation",
        decided_on="2026-03-01",
    )
    s.add(
        "registry",
        "decision_recorded",
        A,
        date(2026, 3, 5),
        s.id("m7"),
        member_id=s.id("m7"),
        kind="suspension",
        decided_on="2026-03-05",
    )
    # Transfers out of A: four completed (7 days each, one receipt overdue), one refused, one expired.
    for n, member in enumerate(("m1", "m2", "m3", "m4")):
        s.transfer(A, B, member, FUNNEL, date(2026, 2, 2 + n), overdue=(member == "m1"))
    s.transfer(A, B, "m5", [*FUNNEL[:3], "transfer_refused"], date(2026, 2, 10))
    s.transfer(A, B, "m6", [*FUNNEL[:4], "letter_expired"], date(2026, 2, 12))
    # Transfers from B into A's second branch: two completed (another tenant's events).
    for member in ("x1", "x2"):
        s.transfer(B, A, member, FUNNEL, date(2026, 2, 20), to_org="b2")
    # Mobile members of A: two at B (one came back), one abroad off the platform.
    regions = {"m5": "110105", "m6": "310115", "p2": None}  # 北京市朝阳区, 上海市浦东新区; abroad has none
    for member, host, kind in (("m5", B, "outflow"), ("m6", B, "outflow"), ("p2", None, "abroad")):
        registration = s.id(f"reg-{member}")
        s.add(
            "registry",
            "outflow_registered",
            A,
            date(2026, 1, 20),
            registration,
            registration_id=registration,
            member_id=s.id(member),
            home_org_id=s.id("b2"),
            kind=kind,
            host_tenant=host,
            host_org_id=s.id("b-remote") if host else None,
            host_region=regions[member],
            left_on="2026-01-20",
            until=None,
            transfer_suggested=False,
        )
    s.add(
        "registry",
        "mobility_ended",
        A,
        date(2026, 3, 10),
        s.id("reg-m5"),
        registration_id=s.id("reg-m5"),
        member_id=s.id("m5"),
        outcome="returned",
        ended_on="2026-03-10",
    )
    # Contact: three at risk (abroad twice, other once); one of the abroad ones lost, another closed.
    for member, cause in (("m6", "abroad"), ("p2", "abroad"), ("m5", "other")):
        s.add(
            "registry",
            "contact_at_risk",
            A,
            date(2026, 2, 15),
            s.id(member),
            member_id=s.id(member),
            organisation_id=s.id("b2"),
            cause=cause,
            silent_days=95,
        )
    s.add(
        "registry",
        "lost_contact_case_opened",
        A,
        date(2026, 3, 20),
        s.id("p2"),
        member_id=s.id("p2"),
        organisation_id=s.id("b1"),
        silent_days=181,
    )
    s.add(
        "registry",
        "contact_case_closed",
        A,
        date(2026, 3, 21),
        s.id("m5"),
        member_id=s.id("m5"),
        organisation_id=s.id("b2"),
        reason="reached",
    )
    # 三会一课 in Q1: b1 meets the cadence (its group's meeting counts for it); b2 does not.
    s.meeting("b1", "branch_assembly", date(2026, 1, 15), ["p1", "p2"])
    for month in (1, 2, 3):
        s.meeting("b1", "branch_committee", date(2026, month, 25), ["p1", "p2"])
    s.meeting("b1", "party_lecture", date(2026, 3, 3), ["p1", "p2"])
    s.meeting("g1", "group_meeting", date(2026, 2, 8), ["p1", "p2"])
    s.meeting("b2", "branch_committee", date(2026, 2, 9), ["m5"])
    s.meeting("b2", "party_lecture", date(2026, 3, 9), [])
    # Study: five check-ins by three members.
    for member, day in (("p1", 1), ("p1", 2), ("p2", 3), ("m5", 4), ("m5", 5)):
        when = date(2026, 3, day)
        s.add(
            "learning",
            "study_checked_in",
            A,
            when,
            s.id(member),
            member_id=s.id(member),
            tenant=A,
            organisation_id=s.id("b1"),
            occurred_at=at(when, 9).isoformat(),
        )
    # Quizzes: p1 answered 2 of 3 right (passes: 60% of 3 rounded up is 2), p2 1 of 3 (fails).
    quiz = s.id("quiz")
    for member, score in (("p1", 2), ("p2", 1)):
        when = date(2026, 3, 6)
        s.add(
            "learning",
            "quiz_completed",
            A,
            when,
            quiz,
            member_id=s.id(member),
            tenant=A,
            organisation_id=s.id("b1"),
            quiz_id=quiz,
            score=score,
            question_count=3,
            passed=score >= 2,
            occurred_at=at(when, 9).isoformat(),
        )
    # The registry counted its categories at 31 March twice; the later count is the one served.
    for hour, female in ((3, 4), (5, 6)):
        count = s.g.uid()
        s.add(
            "registry",
            "member_categories_counted",
            A,
            date(2026, 3, 31),
            count,
            hour=hour,
            count_id=count,
            reference_date="2026-03-31",
            counts={"total": 6, "female": None if female < 5 else female, "age_30_and_under": 0},
        )
    # Notifications: two in the inbox, an email that failed and was delivered after a replay, a webhook failed.
    for name, outcome, channel, day in (
        ("n1", "delivered", "inbox", 1),
        ("n2", "delivered", "inbox", 1),
        ("n3", "failed", "email", 2),
        ("n3", "delivered", "email", 4),
        ("n4", "failed", "webhook", 2),
    ):
        s.add(
            "notify",
            f"notification_{outcome}",
            A,
            date(2026, 3, day),
            s.id(name),
            notification_id=s.id(name),
            channel=channel,
            kind="meeting_scheduled",
            recipient_id=f"member:{s.id('p1')}",
        )
    return s


@pytest.fixture
def landed_quarter(store: AnalyticsStore) -> Scenario:
    """The quarter, landed in the store."""
    scenario = quarter()
    store.land(Feed().messages(scenario.events))
    return scenario
