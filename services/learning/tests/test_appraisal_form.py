"""民主评议党员登记表: a page per member, the self-assessment and grade printed, the CJK font embedded."""

from __future__ import annotations

from datetime import UTC, datetime

from learning.printed import appraisal_form_pdf
from shared.printing import inspect_pdf


def test_one_page_per_member_with_self_assessment_and_grade() -> None:
    meeting = {
        "title": "2026年度民主评议党员大会",
        "starts_at": datetime(2026, 12, 31, 17, 0, tzinfo=UTC),
        "place": "第一会议室",
    }
    check = inspect_pdf(
        appraisal_form_pdf(
            meeting,
            [
                {
                    "member_id": "m-1",
                    "self_assessment": "本年度认真学习党的理论",
                    "grade": "excellent",
                    "category": "正式党员",
                },
                {"member_id": "m-2", "self_assessment": None, "grade": None, "category": "预备党员"},
            ],
        )
    )
    assert check.fonts and all(flag for _, flag in check.fonts), check.fonts
    assert check.pages == 2 and check.text.count("民主评议党员登记表") >= 2
    assert "本年度认真学习党的理论" in check.text and "（未评定）" in check.text
    legend = 2  # the legend under each page names 优秀 twice
    assert check.text.count("优秀") == 2 * legend + 1, "the one recorded grade is printed"
    assert "2027年1月1日" in check.text, "the meeting's day in Beijing, not in UTC"
