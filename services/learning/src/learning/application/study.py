"""Study use cases: publish and assign courses, record progress, daily check-ins; points come with the action."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from learning.application.base import LearningBase
from learning.domain import Course, CourseKind, StudyCheckIn, StudyProgress
from learning.domain.errors import AlreadyCheckedIn, CourseNotFound, NotEligible, OutsideAllowedHours


class StudyUseCases(LearningBase):
    def publish_course(
        self,
        *,
        course_id: UUID,
        tenant_id: str,
        kind: CourseKind,
        title: str,
        body: str,
        links: list[str],
        attachments: list[str],
        organisation_ids: list[UUID],
        meta: dict[str, Any],
    ) -> Course:
        course = Course(
            id=course_id,
            tenant_id=tenant_id,
            kind=kind,
            title=title,
            body=body,
            links=links,
            attachments=attachments,
            organisation_ids=organisation_ids,
            meta=meta,
        )
        self.save(course)
        return course

    def get_course(self, tenant_id: str, course_id: UUID) -> Course:
        return self.load(Course, tenant_id, course_id, CourseNotFound)

    def assign_course(
        self, tenant_id: str, course_id: UUID, organisation_ids: list[UUID], meta: dict[str, Any]
    ) -> Course:
        def command() -> Course:
            course = self.get_course(tenant_id, course_id)
            course.assign(organisation_ids, meta)
            self.save(course)
            return course

        return self.retrying(command)

    def record_progress(
        self, tenant_id: str, course_id: UUID, member_id: UUID, percent: int
    ) -> StudyProgress:
        """A completed course earns the `lesson_completed` points once, in the same transaction."""

        def command() -> StudyProgress:
            course = self.get_course(tenant_id, course_id)
            _, branch = self.participant(tenant_id, member_id)
            if course.organisation_ids and branch not in course.organisation_ids:
                raise NotEligible("this course is not assigned to the member's branch")
            progress = self.find(
                StudyProgress, StudyProgress.create_id(course_id, member_id)
            ) or StudyProgress(
                tenant_id=tenant_id, course_id=course_id, member_id=member_id, organisation_id=branch
            )
            now = self.now()
            completed = progress.progress(percent, now)
            points = (
                self.points_for(
                    tenant_id=tenant_id,
                    member_id=member_id,
                    organisation_id=branch,
                    rule="lesson_completed",
                    action_id=f"course:{course_id}",
                    cause=f"completed {course.kind.value} {course.title}",
                    at=now,
                )
                if completed
                else []
            )
            self.save(progress, *points)
            return progress

        return self.retrying(command)

    def check_in(self, tenant_id: str, member_id: UUID, material: str, evidence: str | None) -> StudyCheckIn:
        """One check-in per member per local day, refused outside the tenant's allowed hours."""

        def command() -> StudyCheckIn:
            _, branch = self.participant(tenant_id, member_id)
            options, now = self.options(tenant_id), self.now()
            if not options.within_allowed_hours(now):
                raise OutsideAllowedHours(
                    f"check-ins are open {options.allowed_from}-{options.allowed_until} ({options.timezone})"
                )
            day = options.local_date(now)
            if self.find(StudyCheckIn, StudyCheckIn.create_id(member_id, day)) is not None:
                raise AlreadyCheckedIn(f"the member has checked in on {day.isoformat()} already")
            check_in = StudyCheckIn(
                tenant_id=tenant_id,
                member_id=member_id,
                organisation_id=branch,
                local_date=day,
                material=material,
                evidence=evidence,
                at=now,
            )
            points = self.points_for(
                tenant_id=tenant_id,
                member_id=member_id,
                organisation_id=branch,
                rule="study_check_in",
                action_id=f"check-in:{check_in.id}",
                cause=f"study check-in {day.isoformat()}",
                at=now,
            )
            self.save(check_in, *points)
            return check_in

        return self.retrying(command)
