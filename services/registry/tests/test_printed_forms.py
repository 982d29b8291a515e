"""The registry's printed forms: every font embedded, the words where a reader looks for them."""

from __future__ import annotations

from datetime import date
from typing import Any

from registry.printed import certificate_pdf, dues_record_pdf, information_form_pdf, roll_pdf
from shared.printing import PdfCheck, inspect_pdf

MEMBER: dict[str, Any] = {
    "name": "司马相如",
    "gender": "male",
    "ethnicity": "汉族",
    "birth_date": "2001-05-04",
    "category": "probationary",
    "education": "本科",
    "joined_on": "2026-06-01",
    "national_id_number": "1101**********1234",
    "phone": "138****0000",
    "employer": "某科技公司",
}
REGISTRATION: dict[str, Any] = {
    "certificate_number": "LD2026-0042",
    "left_on": date(2026, 7, 1),
    "destination": "广东省深圳市南山区",
    "kind": "outflow",
    "reason": "外出务工",
    "contact": "微信 xiangru",
    "certificate_review_due": date(2027, 7, 1),
    "expected_months": 5,
    "transfer_suggested": False,
    "state_words": "已流出登记",
    "printed_on": date(2026, 12, 1),
}


def embedded(check: PdfCheck) -> bool:
    return bool(check.fonts) and all(flag for _, flag in check.fonts)


def test_the_activity_certificate() -> None:
    check = inspect_pdf(
        certificate_pdf(MEMBER, REGISTRATION, "中共某大学计算机学院学生第一支部", "中共南山区某街道工委")
    )
    assert embedded(check), check.fonts
    for words in (
        "流动党员活动证",
        "LD2026-0042",
        "司马相如",
        "预备党员",
        "广东省深圳市南山区",
        "外出务工",
        "中共某大学计算机学院学生第一支部",
        "年度查验",
        "党费交纳记录",
        "2027年7月1日",
    ):
        assert words in check.text, words


def test_the_information_form() -> None:
    check = inspect_pdf(information_form_pdf(MEMBER, REGISTRATION, "某支部", "流入某支部"))
    assert embedded(check), check.fonts
    for words in (
        "流动党员信息采集表",
        "司马相如",
        "某科技公司",
        "LD2026-0042",
        "已流出登记",
        "本人签字",
        "2026年12月1日",
    ):
        assert words in check.text, words


def test_the_branch_roll_counts_full_and_probationary_members_and_runs_over_pages() -> None:
    members = [
        {**MEMBER, "name": f"成员{i:03d}", "category": "full" if i % 3 else "probationary"}
        for i in range(1, 61)
    ]
    check = inspect_pdf(roll_pdf("中共某大学计算机学院学生第一支部", date(2026, 12, 1), members))
    assert embedded(check), check.fonts
    assert "中共某大学计算机学院学生第一支部党员名册" in check.text
    assert "共60名（正式党员40名，预备党员20名）" in check.text
    assert "成员001" in check.text and "成员060" in check.text and check.pages >= 2
    assert check.text.count("序号") == check.pages, "the header row repeats on every page"


def test_the_dues_record_marks_the_months_with_a_recorded_payment() -> None:
    check = inspect_pdf(
        dues_record_pdf(
            "某支部",
            2026,
            [
                {"name": "甲", "category": "full", "paid_months": {1, 2, 3}},
                {"name": "乙", "category": "probationary", "paid_months": set()},
            ],
        )
    )
    assert embedded(check), check.fonts
    assert "某支部2026年度党费收缴记录" in check.text and "12月" in check.text
    assert check.text.count("✓") == 3 + 1, "three marked months and the legend"
