"""The shared printing helper: capital numerals, the embedded CJK font, and a clear failure without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared import printing


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "零"),
        (7, "柒"),
        (10, "壹拾"),
        (15, "壹拾伍"),
        (30, "叁拾"),
        (90, "玖拾"),
        (105, "壹佰零伍"),
        (180, "壹佰捌拾"),
        (1001, "壹仟零壹"),
        (2010, "贰仟零壹拾"),
    ],
)
def test_capital_numerals_as_written_on_forms(n: int, words: str) -> None:
    assert printing.capital_number(n) == words


def test_capital_numerals_refuse_what_no_form_prints() -> None:
    with pytest.raises(ValueError):
        printing.capital_number(-1)
    with pytest.raises(ValueError):
        printing.capital_number(10000)


def test_a_document_embeds_its_only_font_and_prints_without_any_system_font() -> None:
    width = printing.content_width()
    pdf = printing.render(
        "测试",
        [
            printing.paragraph("党员名册　张三丰"),
            printing.field_table([("姓名", "李四"), ("民族", "汉族")], width),
            printing.grid_table(["序号", "姓名"], [[1, "王五"]], [width / 2, width / 2]),
            printing.qr_code("https://example.org/x", 60),
            printing.cut_line("骑缝", width),
        ],
    )
    check = printing.inspect_pdf(pdf)
    assert check.fonts and all(embedded for _, embedded in check.fonts), check.fonts
    assert {name.split("+")[-1] for name, _ in check.fonts} == {"NotoSansSC-Regular"}
    for words in ("党员名册", "张三丰", "李四", "汉族", "王五", "骑缝"):
        assert words in check.text
    assert check.ink > 0.002, "rendered with no system fonts, the page must still show the text"


def test_a_missing_font_stops_with_a_message_that_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(printing.FONT_ENV, str(tmp_path / "absent.ttf"))
    with pytest.raises(printing.FontMissing, match="LIANXIN_CJK_FONT"):
        printing.cjk_font_path()
    monkeypatch.delenv(printing.FONT_ENV)
    monkeypatch.setattr(printing, "REGULAR", tmp_path / "NotoSansSC-Regular.ttf")
    with pytest.raises(printing.FontMissing, match="make install"):
        printing.cjk_font_path()
