"""Templates: zh-CN and en, the member's name when the registry gave it, a neutral word when it did not."""

from __future__ import annotations

from notify.application.templates import render


def test_chinese_with_the_name_from_the_registry() -> None:
    rendered = render(
        "transfer.letter_issued",
        "zh-CN",
        {"letter_no": "2026-017", "expires_on": "2026-12-30", "case_id": "c1"},
        member_name="李明",
        link="/v1/transfers/{case_id}",
    )
    assert rendered.title == "介绍信已开具"
    assert "李明同志" in rendered.body and "2026-017" in rendered.body and "2026-12-30" in rendered.body
    assert rendered.link == "/v1/transfers/c1"


def test_english_without_a_name_says_a_member() -> None:
    rendered = render("transfer.transfer_completed", "en", {})
    assert rendered.body == "a member's transfer is complete."


def test_an_unknown_language_falls_back_to_chinese_and_missing_values_show_a_dash() -> None:
    rendered = render("reminder.receipt-overdue", "fr", {}, occurrence=2)
    assert rendered.title == "回执逾期未退回"
    assert "—" in rendered.body and "第2次提醒" in rendered.body


def test_labels_are_translated() -> None:
    assert (
        "预备党员"
        in render(
            "member_registered", "zh-CN", {"category": "probationary", "registered_on": "2026-11-22"}
        ).body
    )
    assert "probationary member" in render("member_registered", "en", {"category": "probationary"}).body
