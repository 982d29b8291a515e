"""Study: courses and micro-lessons assigned to organisations, each member's progress, daily study check-ins."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from learning.domain.errors import InvalidSchedule

STUDY_NAMESPACE = UUID("9b1d3f5a-7c2e-4a6b-8d0f-1e3a5c7b9d20")


class CourseKind(enum.Enum):
    Course = "course"
    MicroLesson = "micro_lesson"


class Course(Aggregate):
    """Text, links to video or audio, and attachments by reference (a URL or a document id, never the file)."""

    TOPIC = "lianxin.learning.Course"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.Course.Created"

    class Published(Created):
        TOPIC = "lianxin.learning.Course.Published"
        tenant_id: str
        kind: CourseKind
        title: str
        body: str
        links: list[str]
        attachments: list[str]
        organisation_ids: list[UUID]
        meta: dict[str, Any]

    class Assigned(Event):
        TOPIC = "lianxin.learning.Course.Assigned"
        organisation_ids: list[UUID]
        meta: dict[str, Any]

    @event(Published)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        kind: CourseKind,
        title: str,
        body: str,
        links: list[str],
        attachments: list[str],
        organisation_ids: list[UUID],
        meta: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.kind = kind
        self.title = title
        self.body = body
        self.links = list(links)
        self.attachments = list(attachments)
        self.organisation_ids = list(organisation_ids)

    def assign(self, organisation_ids: list[UUID], meta: dict[str, Any]) -> None:
        new = [o for o in organisation_ids if o not in self.organisation_ids]
        if new:
            self._assigned(organisation_ids=new, meta=meta)

    @event(Assigned)
    def _assigned(self, organisation_ids: list[UUID], meta: dict[str, Any]) -> None:
        self.organisation_ids.extend(organisation_ids)


class StudyProgress(Aggregate):
    TOPIC = "lianxin.learning.StudyProgress"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.StudyProgress.Created"

    class Started(Created):
        TOPIC = "lianxin.learning.StudyProgress.Started"
        tenant_id: str
        course_id: UUID
        member_id: UUID
        organisation_id: UUID

    class Progressed(Event):
        TOPIC = "lianxin.learning.StudyProgress.Progressed"
        percent: int
        at: datetime

    @staticmethod
    def create_id(course_id: UUID, member_id: UUID) -> UUID:
        return uuid5(STUDY_NAMESPACE, f"progress|{course_id}|{member_id}")

    @event(Started)
    def __init__(self, *, tenant_id: str, course_id: UUID, member_id: UUID, organisation_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.course_id = course_id
        self.member_id = member_id
        self.percent = 0

    @property
    def completed(self) -> bool:
        return self.percent >= 100

    def progress(self, percent: int, at: datetime) -> bool:
        """Progress only moves forward; returns True when this call completed the course."""
        if not 0 <= percent <= 100:
            raise InvalidSchedule("progress is 0 to 100 percent", field="percent")
        if percent <= self.percent:
            return False
        was_completed = self.completed
        self._progressed(percent=percent, at=at)
        return self.completed and not was_completed

    @event(Progressed)
    def _progressed(self, percent: int, at: datetime) -> None:
        self.percent = percent


class StudyCheckIn(Aggregate):
    """学习打卡: at most one per member per local day, inside the tenant's allowed hours, evidence optional."""

    TOPIC = "lianxin.learning.StudyCheckIn"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.StudyCheckIn.Created"

    class CheckedIn(Created):
        TOPIC = "lianxin.learning.StudyCheckIn.CheckedIn"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        local_date: date
        material: str
        evidence: str | None
        at: datetime

    @staticmethod
    def create_id(member_id: UUID, local_date: date) -> UUID:
        return uuid5(STUDY_NAMESPACE, f"check-in|{member_id}|{local_date.isoformat()}")

    @event(CheckedIn)
    def __init__(
        self,
        *,
        tenant_id: str,
        member_id: UUID,
        organisation_id: UUID,
        local_date: date,
        material: str,
        evidence: str | None,
        at: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.member_id = member_id
        self.local_date = local_date
        self.at = at
