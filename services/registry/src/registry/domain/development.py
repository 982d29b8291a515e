"""发展党员 (member development, 《中国共产党发展党员工作细则》): 入党申请人 -> 入党积极分子 -> 发展对象 -> 预备党员.

A DevelopmentRecord follows one person from the application to admission as a probationary member, when the
record hands over to a Member (whose probation and 转正 the member model already keeps). Every step is a decision
recorded with who decided, when and on what basis. The record checks the minimum periods and the required records
and lists what is missing; it refuses a step while anything is missing, and it never takes a step by itself.

Rules (defaults from the 细则; DOMAIN.md section 4):
- 入党积极分子: chosen from the applicants (推荐 by members or 群团组织) by the 支部委员会; a 培养联系人 is assigned.
- 发展对象: at least one year as an activist (细则 art. 13), a thought report each quarter (practice), the
  培养联系人 assigned; decided by the 支部委员会 and reported to the upper committee.
- 预备党员: a political review concluded (政治审查), concentrated training of at least three days or 24 hours
  (细则 art. 17), two 入党介绍人 (full members), the 支部大会's resolution and the upper committee's approval.
- Moving (细则 art. 12): the record goes with the person, the activist time and training hours counted on.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from registry.domain.dates import months_later
from shared.errors import Conflict, Invalid, NotFound

ACTIVIST_MONTHS = 12
TRAINING_DAYS = 3
TRAINING_HOURS = 24
SPONSORS = 2


class Stage(enum.Enum):
    Applicant = "applicant"  # 入党申请人
    Activist = "activist"  # 入党积极分子
    Candidate = "candidate"  # 发展对象
    Probationary = "probationary"  # 预备党员 (handed over to a Member)
    MovedOut = "moved_out"  # went to another tenant with the record
    Closed = "closed"  # withdrew, or the branch ended the development, a recorded decision


STAGE_WORDS = {
    Stage.Applicant: "入党申请人",
    Stage.Activist: "入党积极分子",
    Stage.Candidate: "发展对象",
    Stage.Probationary: "预备党员",
    Stage.MovedOut: "已转出",
    Stage.Closed: "已终止",
}
NEXT = {Stage.Applicant: Stage.Activist, Stage.Activist: Stage.Candidate, Stage.Candidate: Stage.Probationary}


class DevelopmentNotReady(Conflict):
    type = "development-not-ready"
    title = "A required period or record is missing"


class DevelopmentStateError(Conflict):
    type = "development-state"


class InvalidDevelopmentStep(Invalid):
    type = "invalid-development-step"


class DevelopmentNotFound(NotFound):
    type = "development-record-not-found"


def full_quarters(since: date, until: date) -> int:
    """How many whole quarters (3 months) lie between two dates: the thought reports expected by then."""
    count = 0
    while months_later(since, 3 * (count + 1)) <= until:
        count += 1
    return count


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class DevelopmentRecord(Aggregate):
    TOPIC = "lianxin.registry.DevelopmentRecord"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.DevelopmentRecord.Created"

    class Opened(Created):
        """入党申请 received (or a record carried over from another tenant: `carried` holds what it counted)."""

        TOPIC = "lianxin.registry.DevelopmentRecord.Opened"
        tenant_id: str
        organisation_id: UUID
        profile: dict[str, Any]
        applied_on: date
        carried: dict[str, Any] | None
        meta: dict[str, Any]

    class StepDecided(Event):
        TOPIC = "lianxin.registry.DevelopmentRecord.StepDecided"
        tenant_id: str
        organisation_id: UUID
        stage: Stage
        decided_on: date
        decided_by: str
        basis: str
        details: dict[str, Any]
        meta: dict[str, Any]

    class ContactPersonsAssigned(Event):
        TOPIC = "lianxin.registry.DevelopmentRecord.ContactPersonsAssigned"
        persons: list[str]
        assigned_on: date
        meta: dict[str, Any]

    class ThoughtReportRecorded(Event):
        TOPIC = "lianxin.registry.DevelopmentRecord.ThoughtReportRecorded"
        submitted_on: date
        source: str
        meta: dict[str, Any]

    class PoliticalReviewConcluded(Event):
        TOPIC = "lianxin.registry.DevelopmentRecord.PoliticalReviewConcluded"
        concluded_on: date
        passed: bool
        reviewed_by: str
        summary: str
        meta: dict[str, Any]

    class TrainingRecorded(Event):
        TOPIC = "lianxin.registry.DevelopmentRecord.TrainingRecorded"
        course: str
        days: float
        hours: float
        finished_on: date
        meta: dict[str, Any]

    class SponsorsAssigned(Event):
        TOPIC = "lianxin.registry.DevelopmentRecord.SponsorsAssigned"
        sponsors: list[str]
        meta: dict[str, Any]

    class Moved(Event):
        TOPIC = "lianxin.registry.DevelopmentRecord.Moved"
        tenant_id: str
        from_organisation_id: UUID
        organisation_id: UUID
        stage: Stage
        moved_on: date
        meta: dict[str, Any]

    class MovedOut(Event):
        TOPIC = "lianxin.registry.DevelopmentRecord.MovedOut"
        tenant_id: str
        organisation_id: UUID
        to_tenant: str
        code_digest: str
        moved_on: date
        meta: dict[str, Any]

    class Arrived(Event):
        """The receiving tenant took the record over: this one stays as the trace of where it went."""

        TOPIC = "lianxin.registry.DevelopmentRecord.Arrived"
        new_record_id: UUID
        meta: dict[str, Any]

    class HandedOver(Event):
        TOPIC = "lianxin.registry.DevelopmentRecord.HandedOver"
        tenant_id: str
        organisation_id: UUID
        member_id: UUID
        on: date
        meta: dict[str, Any]

    @event(Opened)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        organisation_id: UUID,
        profile: dict[str, Any],
        applied_on: date,
        carried: dict[str, Any] | None,
        meta: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.organisation_id = organisation_id
        self.profile = dict(profile)
        self.applied_on = applied_on
        carried = carried or {}
        self.stage = Stage(carried.get("stage", Stage.Applicant.value))
        self.since: dict[str, date] = {k: date.fromisoformat(v) for k, v in carried.get("since", {}).items()}
        self.since.setdefault(Stage.Applicant.value, applied_on)
        self.decisions: list[dict[str, Any]] = list(carried.get("decisions", []))
        self.contact_persons: list[str] = list(carried.get("contact_persons", []))
        self.reports: list[date] = [date.fromisoformat(d) for d in carried.get("reports", [])]
        self.review: dict[str, Any] | None = carried.get("review")
        self.training: list[dict[str, Any]] = list(carried.get("training", []))
        self.sponsors: list[str] = list(carried.get("sponsors", []))
        self.moves: list[dict[str, Any]] = list(carried.get("moves", []))
        self.carried_from: str | None = carried.get("from_tenant")
        self.moved_out_to: str | None = None
        self.move_code_digest: str | None = None
        self.arrived_as: UUID | None = None
        self.member_id: UUID | None = None

    @property
    def name(self) -> str:
        return str(self.profile.get("name") or "")

    # What is missing.

    def training_totals(self) -> tuple[float, float]:
        return sum(t["days"] for t in self.training), sum(t["hours"] for t in self.training)

    def missing(self, stage: Stage, on: date, details: dict[str, Any] | None = None) -> list[dict[str, str]]:
        """What the step to `stage` still needs on that day: [] when nothing is missing. Never decides."""
        details = details or {}
        out: list[dict[str, str]] = []

        def need(item: str, message: str) -> None:
            out.append({"item": item, "message": message})

        if NEXT.get(self.stage) is not stage:
            need("stage", f"现为{STAGE_WORDS[self.stage]}，下一步不是{STAGE_WORDS.get(stage, stage.value)}")
            return out
        if stage is Stage.Activist:
            if on < self.applied_on:
                need("date", "确定日期早于入党申请日期")
        elif stage is Stage.Candidate:
            activist_since = self.since[Stage.Activist.value]
            due = months_later(activist_since, ACTIVIST_MONTHS)
            if on < due:
                need(
                    "observation_period",
                    f"入党积极分子培养考察满一年：{due.isoformat()} 起（自 {activist_since.isoformat()}）",
                )
            if not self.contact_persons:
                need("contact_persons", "未指定培养联系人")
            expected = full_quarters(activist_since, on)
            made = sum(1 for d in self.reports if activist_since <= d <= on)
            if made < expected:
                need("thought_reports", f"思想汇报：应至少{expected}份（每季度一份），已有{made}份")
        elif stage is Stage.Probationary:
            days, hours = self.training_totals()
            if days < TRAINING_DAYS and hours < TRAINING_HOURS:
                need(
                    "training",
                    f"集中培训不少于{TRAINING_DAYS}天或{TRAINING_HOURS}学时：已记{days:g}天、{hours:g}学时",
                )
            if self.review is None:
                need("political_review", "政治审查未完成")
            elif not self.review["passed"]:
                need("political_review", "政治审查结论为不合格")
            if len(self.sponsors) < SPONSORS:
                need("sponsors", f"入党介绍人应为{SPONSORS}名正式党员，已有{len(self.sponsors)}名")
            if not details.get("branch_assembly_on"):
                need("branch_assembly", "未记录支部大会讨论通过的日期")
            if not details.get("approved_on") or not details.get("approved_by"):
                need("approval", "未记录上级党委审批（日期与审批机关）")
            elif details.get("branch_assembly_on") and str(details["approved_on"]) < str(
                details["branch_assembly_on"]
            ):
                need("approval", "上级党委审批日期早于支部大会日期")
        last = max(self.since.values())
        if on < last:
            need("date", f"决定日期早于上一步（{last.isoformat()}）")
        return out

    # Commands.

    def _open(self) -> None:
        if self.stage in (Stage.Probationary, Stage.MovedOut, Stage.Closed):
            raise DevelopmentStateError(f"the record is {self.stage.value}: nothing more is recorded on it")

    def decide(
        self,
        *,
        stage: Stage,
        decided_on: date,
        decided_by: str,
        basis: str,
        details: dict[str, Any],
        meta: dict[str, Any],
    ) -> None:
        self._open()
        if stage is Stage.Closed:
            self._decided(
                tenant_id=self.tenant_id,
                organisation_id=self.organisation_id,
                stage=stage,
                decided_on=decided_on,
                decided_by=decided_by,
                basis=basis,
                details=details,
                meta=meta,
            )
            return
        missing = self.missing(stage, decided_on, details)
        if missing:
            raise DevelopmentNotReady(
                f"{STAGE_WORDS.get(stage, stage.value)}: " + "；".join(m["message"] for m in missing),
                missing=missing,
            )
        self._decided(
            tenant_id=self.tenant_id,
            organisation_id=self.organisation_id,
            stage=stage,
            decided_on=decided_on,
            decided_by=decided_by,
            basis=basis,
            details=details,
            meta=meta,
        )

    @event(StepDecided)
    def _decided(
        self,
        tenant_id: str,
        organisation_id: UUID,
        stage: Stage,
        decided_on: date,
        decided_by: str,
        basis: str,
        details: dict[str, Any],
        meta: dict[str, Any],
    ) -> None:
        self.stage = stage
        self.since[stage.value] = decided_on
        self.decisions.append(
            {
                "stage": stage.value,
                "decided_on": decided_on.isoformat(),
                "decided_by": decided_by,
                "basis": basis,
                "details": details,
                "by": meta.get("actor"),
            }
        )

    def assign_contact_persons(self, persons: list[str], on: date, meta: dict[str, Any]) -> None:
        self._open()
        if self.stage not in (Stage.Activist, Stage.Candidate):
            raise DevelopmentStateError("培养联系人 are assigned to an 入党积极分子 or a 发展对象")
        self._contacts(persons=persons, assigned_on=on, meta=meta)

    @event(ContactPersonsAssigned)
    def _contacts(self, persons: list[str], assigned_on: date, meta: dict[str, Any]) -> None:
        self.contact_persons = list(persons)

    def record_thought_report(self, submitted_on: date, source: str, meta: dict[str, Any]) -> None:
        self._open()
        if self.stage not in (Stage.Activist, Stage.Candidate):
            raise DevelopmentStateError("thought reports are counted from the activist stage on")
        self._report(submitted_on=submitted_on, source=source, meta=meta)

    @event(ThoughtReportRecorded)
    def _report(self, submitted_on: date, source: str, meta: dict[str, Any]) -> None:
        self.reports.append(submitted_on)

    def conclude_review(
        self, *, concluded_on: date, passed: bool, reviewed_by: str, summary: str, meta: dict[str, Any]
    ) -> None:
        self._open()
        if self.stage is not Stage.Candidate:
            raise DevelopmentStateError("the political review is of a 发展对象")
        self._reviewed(
            concluded_on=concluded_on, passed=passed, reviewed_by=reviewed_by, summary=summary, meta=meta
        )

    @event(PoliticalReviewConcluded)
    def _reviewed(
        self, concluded_on: date, passed: bool, reviewed_by: str, summary: str, meta: dict[str, Any]
    ) -> None:
        self.review = {
            "concluded_on": concluded_on.isoformat(),
            "passed": passed,
            "reviewed_by": reviewed_by,
            "summary": summary,
        }

    def record_training(
        self, *, course: str, days: float, hours: float, finished_on: date, meta: dict[str, Any]
    ) -> None:
        self._open()
        if self.stage not in (Stage.Activist, Stage.Candidate):
            raise DevelopmentStateError("training is recorded for an 入党积极分子 or a 发展对象")
        self._trained(course=course, days=days, hours=hours, finished_on=finished_on, meta=meta)

    @event(TrainingRecorded)
    def _trained(
        self, course: str, days: float, hours: float, finished_on: date, meta: dict[str, Any]
    ) -> None:
        self.training.append(
            {"course": course, "days": days, "hours": hours, "finished_on": finished_on.isoformat()}
        )

    def assign_sponsors(self, sponsors: list[str], meta: dict[str, Any]) -> None:
        self._open()
        if self.stage is not Stage.Candidate:
            raise DevelopmentStateError("入党介绍人 are assigned to a 发展对象")
        self._sponsors(sponsors=sponsors, meta=meta)

    @event(SponsorsAssigned)
    def _sponsors(self, sponsors: list[str], meta: dict[str, Any]) -> None:
        self.sponsors = list(sponsors)

    def move(self, organisation_id: UUID, on: date, meta: dict[str, Any]) -> None:
        self._open()
        if organisation_id == self.organisation_id:
            raise InvalidDevelopmentStep(
                "the record is at that organisation already", field="organisation_id"
            )
        self._moved(
            tenant_id=self.tenant_id,
            from_organisation_id=self.organisation_id,
            organisation_id=organisation_id,
            stage=self.stage,
            moved_on=on,
            meta=meta,
        )

    @event(Moved)
    def _moved(
        self,
        tenant_id: str,
        from_organisation_id: UUID,
        organisation_id: UUID,
        stage: Stage,
        moved_on: date,
        meta: dict[str, Any],
    ) -> None:
        self.moves.append(
            {"from": str(from_organisation_id), "to": str(organisation_id), "on": moved_on.isoformat()}
        )
        self.organisation_id = organisation_id

    def move_out(self, to_tenant: str, code: str, on: date, meta: dict[str, Any]) -> None:
        self._open()
        if to_tenant == self.tenant_id:
            raise InvalidDevelopmentStep(
                "within the tenant, move the record to another organisation", field="to_tenant"
            )
        self._moved_out(
            tenant_id=self.tenant_id,
            organisation_id=self.organisation_id,
            to_tenant=to_tenant,
            code_digest=code_digest(code),
            moved_on=on,
            meta=meta,
        )

    @event(MovedOut)
    def _moved_out(
        self,
        tenant_id: str,
        organisation_id: UUID,
        to_tenant: str,
        code_digest: str,
        moved_on: date,
        meta: dict[str, Any],
    ) -> None:
        self.moves.append({"from_tenant": tenant_id, "to_tenant": to_tenant, "on": moved_on.isoformat()})
        self.stage_before_move = self.stage
        self.stage = Stage.MovedOut
        self.moved_out_to = to_tenant
        self.move_code_digest = code_digest

    def carried(self) -> dict[str, Any]:
        """What goes with the person (细则 art. 12): stage, dates, decisions, reports, training, sponsors."""
        stage = getattr(self, "stage_before_move", self.stage)
        return {
            "stage": stage.value,
            "since": {k: v.isoformat() for k, v in self.since.items()},
            "decisions": self.decisions,
            "contact_persons": self.contact_persons,
            "reports": [d.isoformat() for d in self.reports],
            "review": self.review,
            "training": self.training,
            "sponsors": self.sponsors,
            "moves": self.moves,
            "from_tenant": self.tenant_id,
        }

    def accept_arrival(self, to_tenant: str, code: str, new_record_id: UUID, meta: dict[str, Any]) -> None:
        if self.stage is not Stage.MovedOut or self.moved_out_to != to_tenant:
            raise DevelopmentNotFound(f"development record {self.id} not found")
        if self.arrived_as is not None:
            raise DevelopmentStateError("the record was taken over already")
        if self.move_code_digest != code_digest(code):
            raise InvalidDevelopmentStep("the handover code does not match", field="code")
        self._arrived(new_record_id=new_record_id, meta=meta)

    @event(Arrived)
    def _arrived(self, new_record_id: UUID, meta: dict[str, Any]) -> None:
        self.move_code_digest = None
        self.arrived_as = new_record_id

    def hand_over(self, member_id: UUID, meta: dict[str, Any]) -> None:
        if self.stage is not Stage.Probationary or self.member_id is not None:
            raise DevelopmentStateError("only an admitted 预备党员 is handed over, once")
        self._handed_over(
            tenant_id=self.tenant_id,
            organisation_id=self.organisation_id,
            member_id=member_id,
            on=self.since[Stage.Probationary.value],
            meta=meta,
        )

    @event(HandedOver)
    def _handed_over(
        self, tenant_id: str, organisation_id: UUID, member_id: UUID, on: date, meta: dict[str, Any]
    ) -> None:
        self.member_id = member_id
