"""党员基本情况: the personal categories of the 党内统计 annual report, counted by the registry over its own roll.

The categories are personal data and never travel on the stream one member at a time (ADR 0004): the registry
counts them on request and publishes the counts only, with every cell of 1 to 4 suppressed. The classes follow
DOMAIN.md §7.1: 女, 少数民族, 大专及以上学历, eight age bands, four 入党时间 periods and eight 职业 classes, each at a
reference date (31 December for the annual report). A member whose profile lacks a field is counted as unknown
in that group, so each group adds up to the total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

SUPPRESS_BELOW = 5

# 职业 (8 classes, 2024 公报): code -> the report's label.
OCCUPATIONS: dict[str, str] = {
    "worker": "工人(工勤技能人员)",
    "farmer_herder_fisher": "农牧渔民",
    "professional": "企事业单位、社会组织专业技术人员",
    "manager": "企事业单位、社会组织管理人员",
    "civil_servant": "党政机关工作人员",
    "student": "学生",
    "other": "其他职业人员",
    "retired": "离退休人员",
}
AGE_BANDS: tuple[tuple[str, str, int, int], ...] = (
    ("age_30_and_under", "30岁及以下", 0, 30),
    ("age_31_35", "31至35岁", 31, 35),
    ("age_36_40", "36至40岁", 36, 40),
    ("age_41_45", "41至45岁", 41, 45),
    ("age_46_50", "46至50岁", 46, 50),
    ("age_51_55", "51至55岁", 51, 55),
    ("age_56_60", "56至60岁", 56, 60),
    ("age_61_and_over", "61岁及以上", 61, 200),
)
# 入党时间: founding of the PRC (1949-10-01), the third plenum of the 11th CC (opened 1978-12-18), the 18th
# congress (opened 2012-11-08). A period starts on its day.
JOINED_PERIODS: tuple[tuple[str, str, date | None], ...] = (
    ("joined_before_1949_10", "新中国成立前", None),
    ("joined_1949_10_to_1978_12", "新中国成立后至党的十一届三中全会前", date(1949, 10, 1)),
    ("joined_1978_12_to_2012_11", "党的十一届三中全会后至党的十八大前", date(1978, 12, 18)),
    ("joined_since_2012_11", "党的十八大以来", date(2012, 11, 8)),
)
COLLEGE_OR_ABOVE = ("大专", "专科", "本科", "大学", "研究生", "硕士", "博士")

# The table's cells in the report's order: (code, label).
CELLS: tuple[tuple[str, str], ...] = (
    ("total", "党员总数"),
    ("full_members", "正式党员"),
    ("probationary", "预备党员"),
    ("female", "女"),
    ("gender_unknown", "性别未登记"),
    ("ethnic_minority", "少数民族"),
    ("ethnicity_unknown", "民族未登记"),
    ("college_or_above", "大专及以上学历"),
    ("education_unknown", "学历未登记"),
    *((code, label) for code, label, _, _ in AGE_BANDS),
    ("age_unknown", "出生日期未登记"),
    *((code, label) for code, label, _ in JOINED_PERIODS),
    ("joined_unknown", "入党日期未登记"),
    *((f"occupation_{code}", label) for code, label in OCCUPATIONS.items()),
    ("occupation_unknown", "职业未登记"),
)
LABELS = dict(CELLS)


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def age_on(born: date, reference: date) -> int:
    return reference.year - born.year - ((reference.month, reference.day) < (born.month, born.day))


def cells_of(profile: Mapping[str, Any], category: str, reference: date) -> list[str]:
    """The cells one member counts in (besides `total`)."""
    cells = ["full_members" if category == "full" else "probationary"]
    gender = profile.get("gender")
    if gender == "female":
        cells.append("female")
    elif gender is None:
        cells.append("gender_unknown")
    ethnicity = profile.get("ethnicity")
    if not ethnicity:
        cells.append("ethnicity_unknown")
    elif ethnicity not in ("汉", "汉族"):
        cells.append("ethnic_minority")
    education = profile.get("education")
    if not education:
        cells.append("education_unknown")
    elif any(word in education for word in COLLEGE_OR_ABOVE):
        cells.append("college_or_above")
    born = _date(profile.get("birth_date"))
    if born is None:
        cells.append("age_unknown")
    else:
        age = age_on(born, reference)
        cells += [code for code, _, low, high in AGE_BANDS if low <= age <= high]
    joined = _date(profile.get("joined_on"))
    if joined is None:
        cells.append("joined_unknown")
    else:
        cells.append([code for code, _, start in JOINED_PERIODS if start is None or joined >= start][-1])
    occupation = profile.get("occupation")
    cells.append(f"occupation_{occupation}" if occupation in OCCUPATIONS else "occupation_unknown")
    return cells


def count(members: Iterable[tuple[Mapping[str, Any], str]], reference: date) -> dict[str, int]:
    """Every cell of the table, from (profile, category) of each member counted."""
    counts = dict.fromkeys(LABELS, 0)
    for profile, category in members:
        counts["total"] += 1
        for cell in cells_of(profile, category, reference):
            counts[cell] += 1
    return counts


def suppressed(counts: Mapping[str, int]) -> dict[str, int | None]:
    """What may leave the registry: a cell of 1 to 4 members becomes None, so no one can be singled out."""
    return {cell: (None if 0 < n < SUPPRESS_BELOW else n) for cell, n in counts.items()}


class CategoryCount(Aggregate):
    """One count of the roll's categories at a reference date, as published (suppressed); a recount is another."""

    TOPIC = "lianxin.registry.CategoryCount"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.CategoryCount.Created"

    class Counted(Created):
        TOPIC = "lianxin.registry.CategoryCount.Counted"
        tenant_id: str
        reference_date: date
        counts: dict[str, int | None]
        meta: dict[str, Any]

    @event(Counted)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        reference_date: date,
        counts: dict[str, int | None],
        meta: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.reference_date = reference_date
        self.counts = dict(counts)
