"""党员基本情况 categories: each member in one cell of every group, unknowns counted, small cells suppressed."""

from __future__ import annotations

import typing
from datetime import date
from uuid import uuid4

from registry.api.members import OCCUPATION
from registry.contracts import MemberCategoriesCounted
from registry.domain.categories import CELLS, OCCUPATIONS, CategoryCount, age_on, count, suppressed
from registry.outbound import outbound

END = date(2026, 12, 31)


def test_a_member_falls_in_one_cell_of_each_group_at_the_reference_date() -> None:
    counts = count(
        [
            (
                {
                    "gender": "female",
                    "ethnicity": "回族",
                    "education": "硕士研究生",
                    "birth_date": date(1996, 12, 31),  # 30 on the reference date itself
                    "joined_on": date(2012, 11, 8),  # the day the 18th congress opened
                    "occupation": "student",
                },
                "probationary",
            ),
            (
                {"gender": "male", "ethnicity": "汉族", "education": "高中", "birth_date": "1950-01-01"},
                "full",
            ),
            ({"joined_on": date(1978, 12, 17)}, "full"),
        ],
        END,
    )
    assert (counts["total"], counts["full_members"], counts["probationary"]) == (3, 2, 1)
    assert (counts["female"], counts["gender_unknown"], counts["ethnic_minority"]) == (1, 1, 1)
    assert (counts["college_or_above"], counts["education_unknown"]) == (1, 1)
    assert (counts["age_30_and_under"], counts["age_61_and_over"], counts["age_unknown"]) == (1, 1, 1)
    assert (
        counts["joined_since_2012_11"],
        counts["joined_1949_10_to_1978_12"],
        counts["joined_unknown"],
    ) == (
        1,
        1,
        1,
    )
    assert (counts["occupation_student"], counts["occupation_unknown"]) == (1, 2)
    groups = ("age_", "joined_", "occupation_")
    for prefix in groups:
        assert sum(n for cell, n in counts.items() if cell.startswith(prefix)) == counts["total"], prefix
    assert age_on(date(1996, 12, 31), END) == 30 and age_on(date(1997, 1, 1), END) == 29


def test_cells_of_one_to_four_are_suppressed_when_published() -> None:
    published = suppressed({"total": 12, "female": 4, "ethnic_minority": 0, "age_31_35": 5})
    assert published == {"total": 12, "female": None, "ethnic_minority": 0, "age_31_35": 5}


def test_the_count_is_published_as_counts_only() -> None:
    counts = suppressed(count([({"gender": "female"}, "full")] * 6, END))
    stored = CategoryCount(id=uuid4(), tenant_id="t-a", reference_date=END, counts=counts, meta={})
    (counted,) = stored.collect_events()
    tenant, contract = outbound(counted) or ("", None)
    assert tenant == "t-a" and isinstance(contract, MemberCategoriesCounted)
    assert contract.counts["female"] == 6 and contract.counts["probationary"] == 0
    assert set(contract.counts) == {code for code, _ in CELLS}


def test_the_api_accepts_exactly_the_reports_occupation_classes() -> None:
    assert set(typing.get_args(OCCUPATION)) == set(OCCUPATIONS)
