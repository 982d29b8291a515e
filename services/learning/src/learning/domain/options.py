"""Per-tenant options: time zone, allowed hours, point rules, the first-correct-answer rule, rankings, cadences.

Every default that varies between places is an option here, never a constant elsewhere (DOMAIN.md section 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.domain import Aggregate, event

from learning.domain.errors import InvalidOption

OPTIONS_NAMESPACE = UUID("5d7e1b2a-9c43-4e0f-8a61-2b7c3d4e5f60")

# 学习强国-style per-action points with daily caps (DOMAIN.md section 4); a tenant changes any of them.
DEFAULT_POINT_RULES: dict[str, dict[str, Any]] = {
    "study_check_in": {"points": 1, "daily_cap": 1},
    "lesson_completed": {"points": 1, "daily_cap": 6},
    "quiz_correct_answer": {"points": 1, "daily_cap": 10},
    "quiz_first_correct": {"points": 1, "daily_cap": 5},
}
# Meetings a branch is expected to hold per quarter (支部工作条例); yearly items count once a year.
DEFAULT_CADENCE: dict[str, dict[str, int | str]] = {
    "branch_assembly": {"count": 1, "per": "quarter"},
    "branch_committee": {"count": 3, "per": "quarter"},
    "group_meeting": {"count": 3, "per": "quarter"},
    "party_lecture": {"count": 1, "per": "quarter"},
    "themed_party_day": {"count": 3, "per": "quarter"},
    "org_life_meeting": {"count": 1, "per": "year"},
    "democratic_appraisal": {"count": 1, "per": "year"},
    "heart_to_heart_talk": {"count": 1, "per": "year"},
}
# What the branch expects of a probationary member over the probation (a tenant sets its own); the summary shows
# met or not met for the assembly, which decides.
DEFAULT_PROBATION_QUOTA: dict[str, int] = {
    "thought_reports": 4,
    "meetings_attended": 8,
    "study_check_ins": 50,
}
OPTION_NAMES = (
    "timezone",
    "allowed_from",
    "allowed_until",
    "notice_days",
    "first_correct_rule",
    "rankings",
    "point_rules",
    "cadence",
    "probation_quota",
)


@dataclass(frozen=True)
class Options:
    """The options in force for one tenant: its saved choices over the platform defaults."""

    timezone: str = "Asia/Shanghai"
    allowed_from: str = "06:00"
    allowed_until: str = "23:00"
    notice_days: int = 3
    first_correct_rule: bool = False
    rankings: bool = False
    point_rules: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(DEFAULT_POINT_RULES))
    cadence: dict[str, dict[str, int | str]] = field(default_factory=lambda: dict(DEFAULT_CADENCE))
    probation_quota: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PROBATION_QUOTA))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def within_allowed_hours(self, at: datetime, rule: str | None = None) -> bool:
        """From `allowed_from` up to `allowed_until`, across midnight when it is earlier; equal means all day.

        A point rule may narrow the hours with its own `allowed_from`/`allowed_until`.
        """
        spec: dict[str, Any] = self.point_rules.get(rule, {}) if rule else {}
        window = (spec.get("allowed_from", self.allowed_from), spec.get("allowed_until", self.allowed_until))
        local = at.astimezone(self.zone).time()
        start, end = time.fromisoformat(window[0]), time.fromisoformat(window[1])
        if start == end:
            return True
        return start <= local < end if start < end else (local >= start or local < end)

    def rule(self, name: str) -> dict[str, Any]:
        return self.point_rules.get(name, {"points": 0, "daily_cap": 0})

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in OPTION_NAMES}


def validate_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Refuses unknown names and values the rest of the service could not use, naming the field."""
    for name, value in changes.items():
        if name not in OPTION_NAMES:
            raise InvalidOption(f"unknown option {name!r}", field=name)
        if name == "timezone":
            try:
                ZoneInfo(str(value))
            except (ZoneInfoNotFoundError, ValueError):
                raise InvalidOption(f"unknown time zone {value!r}", field=name) from None
        if name in ("allowed_from", "allowed_until"):
            try:
                time.fromisoformat(str(value))
            except ValueError:
                raise InvalidOption("a time of day like 06:00", field=name) from None
        if name == "notice_days" and not (isinstance(value, int) and 0 <= value <= 30):
            raise InvalidOption("notice is 0 to 30 days", field=name)
        if name in ("first_correct_rule", "rankings") and not isinstance(value, bool):
            raise InvalidOption("true or false", field=name)
        if name == "point_rules":
            for rule, spec in dict(value).items():
                _check_rule(f"{name}.{rule}", spec)
        if name == "cadence":
            for kind, spec in dict(value).items():
                if (
                    kind not in DEFAULT_CADENCE
                    or not isinstance(spec, dict)
                    or spec.get("per") not in ("quarter", "year")
                    or not isinstance(spec.get("count"), int)
                ):
                    raise InvalidOption(
                        "a meeting type with count and per (quarter or year)", field=f"{name}.{kind}"
                    )
        if name == "probation_quota":
            for item, target in dict(value).items():
                if (
                    item not in DEFAULT_PROBATION_QUOTA
                    or not isinstance(target, int)
                    or not 0 <= target <= 1000
                ):
                    raise InvalidOption(
                        "a quota item (thought_reports, meetings_attended, study_check_ins) with "
                        "a target of 0 to 1000",
                        field=f"{name}.{item}",
                    )
    return changes


def _check_rule(field: str, spec: Any) -> None:
    if not (
        isinstance(spec, dict)
        and {"points", "daily_cap"} <= spec.keys() <= {"points", "daily_cap", "allowed_from", "allowed_until"}
        and all(isinstance(spec[k], int) and 0 <= spec[k] <= 1000 for k in ("points", "daily_cap"))
    ):
        raise InvalidOption(
            "a rule has points and daily_cap (0 to 1000), optionally allowed_from/until", field=field
        )
    if ("allowed_from" in spec) != ("allowed_until" in spec):
        raise InvalidOption("a rule's hours need both allowed_from and allowed_until", field=field)
    for key in ("allowed_from", "allowed_until"):
        if key in spec:
            try:
                time.fromisoformat(str(spec[key]))
            except ValueError:
                raise InvalidOption("a time of day like 06:00", field=f"{field}.{key}") from None


class TenantOptions(Aggregate):
    TOPIC = "lianxin.learning.TenantOptions"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.TenantOptions.Created"
        tenant_id: str

    class Changed(Event):
        TOPIC = "lianxin.learning.TenantOptions.Changed"
        changes: dict[str, Any]
        meta: dict[str, Any]

    @staticmethod
    def create_id(tenant_id: str) -> UUID:
        return uuid5(OPTIONS_NAMESPACE, tenant_id)

    @event(Created)
    def __init__(self, *, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.values: dict[str, Any] = {}

    def change(self, changes: dict[str, Any], meta: dict[str, Any]) -> None:
        changed = {k: v for k, v in validate_changes(changes).items() if self.values.get(k) != v}
        if changed:
            self._changed(changes=changed, meta=meta)

    @event(Changed)
    def _changed(self, changes: dict[str, Any], meta: dict[str, Any]) -> None:
        self.values.update(changes)

    def options(self) -> Options:
        values = dict(self.values)
        if "point_rules" in values:
            values["point_rules"] = {**DEFAULT_POINT_RULES, **values["point_rules"]}
        if "cadence" in values:
            values["cadence"] = {**DEFAULT_CADENCE, **values["cadence"]}
        if "probation_quota" in values:
            values["probation_quota"] = {**DEFAULT_PROBATION_QUOTA, **values["probation_quota"]}
        return Options(**values)
