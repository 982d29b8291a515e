"""民主评议党员登记表: one A4 page per member of a 民主评议 (or 组织生活会), CJK font embedded.

Learning keeps no names (data minimisation): the form prints the member's number in Lianxin and leaves the name to
be written in, with the member's self-assessment (自评) and the grade the branch recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from shared import printing

GRADES = {
    "excellent": "优秀",
    "qualified": "合格",
    "basically_qualified": "基本合格",
    "unqualified": "不合格",
}
BEIJING = timezone(timedelta(hours=8))


def appraisal_form_pdf(meeting: dict[str, Any], members: list[dict[str, Any]]) -> bytes:
    """meeting: title, starts_at, place, organisation; members: member_id, self_assessment, grade (each optional)."""
    from reportlab.platypus import PageBreak

    width = printing.content_width()
    p = printing.paragraph
    starts: datetime = meeting["starts_at"]
    day = starts.astimezone(BEIJING).date()
    story: list[Any] = []
    for i, member in enumerate(members):
        if i:
            story.append(PageBreak())
        grade = GRADES.get(member.get("grade") or "", "")
        story += [
            p("民主评议党员登记表", "title"),
            p(f"{day.year}年度　{meeting.get('organisation') or ''}", "subtitle"),
            printing.field_table(
                [
                    ("姓名", ""),
                    ("党员编号", str(member["member_id"])),
                    ("评议会议", meeting.get("title")),
                    ("时间", f"{day.year}年{day.month}月{day.day}日"),
                    ("地点", meeting.get("place") or ""),
                    ("党员类别", member.get("category") or ""),
                ],
                width,
            ),
            printing.field_table(
                [
                    ("个人总结（自评）", member.get("self_assessment") or "（未提交）"),
                    ("党员互评意见", ""),
                    ("民主测评情况", ""),
                    ("支部评议等次", grade or "（未评定）"),
                    ("党支部意见", "\n\n支部书记（签字）：　　　　　党支部（盖章）　　　年　　月　　日"),
                    ("上级党组织意见", "\n\n（盖章）　　　年　　月　　日"),
                    ("本人意见", "\n\n本人签字：　　　　　　年　　月　　日"),
                ],
                width,
                columns=1,
            ),
            p("评议等次：优秀、合格、基本合格、不合格；优秀党员一般不超过参评党员的三分之一。", "small"),
        ]
    if not story:
        story = [p("民主评议党员登记表", "title"), p("本次会议尚无参评党员。")]
    return printing.render(
        f"民主评议党员登记表 {meeting.get('title') or ''}", story, footer="民主评议党员登记表"
    )
