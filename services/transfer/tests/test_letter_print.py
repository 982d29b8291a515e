"""The printed introduction letter: the 2006 three-part form on one A4 page, every font embedded, the QR page."""

from __future__ import annotations

from typing import Any

from shared.printing import inspect_pdf
from transfer.api.letter_print import letter_html, letter_pdf, verification_html, verify_url

LETTER: dict[str, Any] = {
    "letter_no": "2026第0007号",
    "name": "欧阳晓明",
    "gender": "女",
    "age": 23,
    "ethnicity": "回族",
    "category": "预备党员",
    "national_id_number": "110101200301011234",
    "from_org": "中共某大学委员会",
    "to_org": "中共某市某区委组织部",
    "dues_paid_through": "2026-11",
    "valid_days": 90,
    "issued_on": "2026-12-01",
    "expires_on": "2027-03-01",
    "issuer_name": "中共某大学委员会",
    "issuer_address": "某市某路1号",
    "issuer_phone": "010-12345678",
    "tenant": "demo-university",
    "kid": "k1",
    "code": "QWERTYUIOPASDFGH",
    "signature": "c2lnbmF0dXJl" * 7,
}
BASE = "https://lianxin.example.org"


def test_the_letter_pdf_is_the_three_part_form_with_its_font_embedded() -> None:
    check = inspect_pdf(letter_pdf(LETTER, BASE))
    assert check.pages == 1
    assert check.fonts and all(embedded for _, embedded in check.fonts), check.fonts
    text = check.text
    for words in (
        "欧阳晓明",
        "2026第0007号",
        "存根",
        "回执",
        "中共某市某区委组织部",
        "有效期玖拾天",
        "党费已交到2026年11月",
        "同志的党员组织关系已转达我处",
        "QWERTYUIOPASDFGH",
    ):
        assert words in text, words
    assert text.count("2026第0007号") >= 3, "the three parts share the letter number"
    assert text.index("介绍信（存根）") < text.index("兹介绍") < text.index("介绍信（回执）"), (
        "stub, letter, receipt"
    )
    assert check.ink > 0.005


def test_the_letter_html_prints_the_same_three_parts_and_its_qr_opens_the_human_page() -> None:
    page = letter_html(LETTER, BASE, case=None)
    assert verify_url(BASE, LETTER) == f"{BASE}/v1/letters/verify/QWERTYUIOPASDFGH"
    assert page.index("<h2>存根") < page.index("兹介绍") < page.index("<h2>回执") and "有效期玖拾天" in page
    assert "<svg" in page and verify_url(BASE, LETTER) in page


def test_the_verification_page_says_the_status_in_words() -> None:
    valid = verification_html("valid", {"letter_no": "2026第0007号", "name": "欧*明"}, "QWERTY")
    assert "有效" in valid and "2026第0007号" in valid and "欧*明" in valid
    assert "已作废" in verification_html("voided", {}, "QWERTY")
    assert "查无此信" in verification_html("unknown", {}, "<script>")
    assert "<script>" not in verification_html("unknown", {}, "<script>")
