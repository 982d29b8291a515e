"""Organisational life use cases: announce, collect opinions, sign in, excuse, minutes, appraisal."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from uuid import UUID

from learning.application.base import LearningBase
from learning.domain import Grade, Meeting, MeetingMode, MeetingType, Participant, SignInMethod
from learning.domain.errors import MeetingNotFound, MemberNotKnown, NotEligible, WrongAttendanceCode


def new_attendance_code() -> str:
    """Six random digits from the system's CSPRNG; never derived from ids or times."""
    return f"{secrets.randbelow(1_000_000):06d}"


class MeetingUseCases(LearningBase):
    def announce_meeting(
        self,
        *,
        meeting_id: UUID,
        tenant_id: str,
        organisation_id: UUID,
        meeting_type: MeetingType,
        title: str,
        mode: MeetingMode,
        starts_at: datetime,
        ends_at: datetime,
        place: str | None,
        agenda: list[str],
        short_notice_reason: str | None,
        meta: dict[str, Any],
    ) -> Meeting:
        meeting = Meeting.announce(
            id=meeting_id,
            tenant_id=tenant_id,
            organisation_id=organisation_id,
            meeting_type=meeting_type,
            title=title,
            mode=mode,
            starts_at=starts_at,
            ends_at=ends_at,
            place=place,
            agenda=agenda,
            notice_days=self.options(tenant_id).notice_days,
            short_notice_reason=short_notice_reason,
            now=self.now(),
            meta=meta,
        )
        if mode is not MeetingMode.Online:
            meeting.issue_attendance_code(new_attendance_code(), self.now(), meta)
        self.save(meeting)
        return meeting

    def issue_attendance_code(self, tenant_id: str, meeting_id: UUID, meta: dict[str, Any]) -> Meeting:
        """A new code for the room (the previous one stops working); for a meeting announced without one."""

        def command() -> Meeting:
            meeting = self.get_meeting(tenant_id, meeting_id)
            meeting.issue_attendance_code(new_attendance_code(), self.now(), meta)
            self.save(meeting)
            return meeting

        return self.retrying(command)

    def rotate_attendance_code(self, tenant_id: str, meeting_id: UUID, meta: dict[str, Any]) -> Meeting:
        """While the projector shows the code: a new one every CODE_ROTATES_AFTER, the previous still accepted
        (a member who just read it is not refused); nothing changes before that or for an online meeting."""

        def command() -> Meeting:
            meeting = self.get_meeting(tenant_id, meeting_id)
            if meeting.code_due(self.now()):
                keep = meeting.attendance_code is not None
                meeting.issue_attendance_code(new_attendance_code(), self.now(), meta, keep_previous=keep)
                self.save(meeting)
            return meeting

        return self.retrying(command)

    def get_meeting(self, tenant_id: str, meeting_id: UUID) -> Meeting:
        return self.load(Meeting, tenant_id, meeting_id, MeetingNotFound)

    def _attendee(self, meeting: Meeting, member_id: UUID) -> tuple[str, UUID]:
        """Members of the meeting's branch, and mobile members hosted by it; returns their home tenant and branch."""
        member, _ = self.participant(meeting.tenant_id, member_id)
        if not member.attends(meeting.tenant_id, meeting.organisation_id):
            raise NotEligible("the member belongs to (or is hosted by) another branch")
        return member.tenant_id, member.organisation_id

    def member_branches(self, tenant_id: str, member_id: UUID) -> list[tuple[str, UUID, bool]]:
        """(tenant, branch, hosted) of the meetings a member sees with a token of `tenant_id`."""
        member = self.find(Participant, member_id)
        branches = member.branches_seen_from(tenant_id) if member is not None else []
        if not branches:
            raise MemberNotKnown(f"member {member_id} is not known in this tenant")
        return branches

    def meeting_for_member(self, tenant_id: str, meeting_id: UUID, member_id: UUID) -> Meeting:
        """A meeting of the token's tenant, or, from home, a meeting of the branch hosting the member in another
        tenant (the host tenant enrolled them there); any other tenant's meeting looks missing."""
        found = self.find(Meeting, meeting_id)
        if found is not None and found.tenant_id == tenant_id:
            return found
        member = self.find(Participant, member_id)
        if (
            found is None
            or member is None
            or member.tenant_id != tenant_id
            or member.hosts.get(found.tenant_id) != found.organisation_id
        ):
            raise MeetingNotFound(f"meeting {meeting_id} not found")
        return found

    def collect_opinion(self, tenant_id: str, meeting_id: UUID, member_id: UUID, text: str) -> Meeting:
        def command() -> Meeting:
            meeting = self.meeting_for_member(tenant_id, meeting_id, member_id)
            self._attendee(meeting, member_id)
            meeting.collect_opinion(member_id, text, self.now())
            self.save(meeting)
            return meeting

        return self.retrying(command)

    def sign_in(
        self,
        tenant_id: str,
        meeting_id: UUID,
        member_id: UUID,
        method: SignInMethod,
        location: str | None,
        code: str | None = None,
    ) -> Meeting:
        def command() -> Meeting:
            meeting = self.meeting_for_member(tenant_id, meeting_id, member_id)
            home_tenant, home_org = self._attendee(meeting, member_id)
            try:
                meeting.sign_in(
                    member_id=member_id,
                    method=method,
                    location=location,
                    at=self.now(),
                    home_tenant=home_tenant,
                    home_org_id=home_org,
                    code=code,
                )
            except WrongAttendanceCode:
                self.save(meeting)  # the wrong code counts toward the member's limit
                raise
            self.save(meeting)
            return meeting

        return self.retrying(command)

    def excuse_absence(
        self, tenant_id: str, meeting_id: UUID, member_id: UUID, reason: str, meta: dict[str, Any]
    ) -> Meeting:
        def command() -> Meeting:
            meeting = self.get_meeting(tenant_id, meeting_id)
            home_tenant, home_org = self._attendee(meeting, member_id)
            meeting.excuse_absence(
                member_id=member_id, reason=reason, home_tenant=home_tenant, home_org_id=home_org, meta=meta
            )
            self.save(meeting)
            return meeting

        return self.retrying(command)

    def record_minutes(self, tenant_id: str, meeting_id: UUID, minutes: str, meta: dict[str, Any]) -> Meeting:
        meeting = self.get_meeting(tenant_id, meeting_id)
        meeting.record_minutes(minutes, self.now(), meta)
        self.save(meeting)
        return meeting

    def set_speaking_order(
        self, tenant_id: str, meeting_id: UUID, member_ids: list[UUID], meta: dict[str, Any]
    ) -> Meeting:
        meeting = self.get_meeting(tenant_id, meeting_id)
        for member_id in member_ids:
            self._attendee(meeting, member_id)
        meeting.set_speaking_order(member_ids, meta)
        self.save(meeting)
        return meeting

    def submit_self_assessment(self, tenant_id: str, meeting_id: UUID, member_id: UUID, text: str) -> Meeting:
        def command() -> Meeting:
            meeting = self.meeting_for_member(tenant_id, meeting_id, member_id)
            self._attendee(meeting, member_id)
            meeting.submit_self_assessment(member_id, text, self.now())
            self.save(meeting)
            return meeting

        return self.retrying(command)

    def record_grades(
        self, tenant_id: str, meeting_id: UUID, grades: dict[UUID, Grade], meta: dict[str, Any]
    ) -> Meeting:
        meeting = self.get_meeting(tenant_id, meeting_id)
        for member_id in grades:
            self._attendee(meeting, member_id)
        meeting.record_grades({str(k): v for k, v in grades.items()}, meta)
        self.save(meeting)
        return meeting
