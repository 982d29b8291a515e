"""Printed documents (PDF, A4, zh-CN) for every service: one embedded CJK font, paragraph styles, tables, QR codes.

Every PDF embeds a subset of Noto Sans SC (SIL Open Font License, which allows embedding), shipped as a variable
TrueType font inside the `justmytype-intl-cjk` package that `make install` installs with the workspace. Its default
instance is the Thin weight, so `make install` runs `python -m shared.printing`, which cuts the Regular weight
(fontTools' instancer, about a minute) into the environment once; services read that file and fail at start,
saying so, when it is missing. No document names a font the reader's machine must have, so a printer without
Chinese fonts prints the same page. `LIANXIN_CJK_FONT` may point at another TrueType (glyf outlines) CJK font;
reportlab cannot embed CFF-based OTF/TTC fonts.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

FONT = "LianxinSC"
FONT_ENV = "LIANXIN_CJK_FONT"
_PACKAGED = ("justmytype_intl_cjk", "fonts/ofl/notosanssc/NotoSansSC[wght].ttf")
REGULAR = Path(sys.prefix) / "share" / "lianxin" / "fonts" / "NotoSansSC-Regular.ttf"


class FontMissing(RuntimeError):
    """The CJK font for printed documents is not installed: documents would print empty boxes."""


def cjk_font_path() -> Path:
    """The TrueType CJK font every PDF embeds, or FontMissing saying how to install it."""
    override = os.environ.get(FONT_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise FontMissing(
                f"{FONT_ENV}={override} is not a file: point it at a TrueType CJK font or unset it"
            )
        return path
    if not REGULAR.is_file():
        raise FontMissing(
            f"the CJK font for printed documents ({REGULAR}) is missing: run `make install` (or "
            "`python -m shared.printing`), or set LIANXIN_CJK_FONT to a TrueType CJK font"
        )
    return REGULAR


def packaged_variable_font() -> Path:
    from importlib.resources import files

    try:
        path = Path(str(files(_PACKAGED[0]) / _PACKAGED[1]))
    except ModuleNotFoundError as missing:
        raise FontMissing("the justmytype-intl-cjk package is not installed: run `make install`") from missing
    if not path.is_file():
        raise FontMissing(f"{path} is missing from the justmytype-intl-cjk package: reinstall it")
    return path


def build_font(target: Path = REGULAR, weight: int = 400) -> Path:
    """Cut one static weight out of the packaged variable font (install time, not run time)."""
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    source = packaged_variable_font()
    if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    static = instancer.instantiateVariableFont(TTFont(str(source)), {"wght": weight})
    name = "Regular" if weight == 400 else str(weight)
    for record in static["name"].names:
        if record.nameID in (4, 6):
            record.string = f"NotoSansSC-{name}" if record.nameID == 6 else f"Noto Sans SC {name}"
        elif record.nameID == 2:
            record.string = name
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    static.save(str(partial))
    partial.replace(target)
    return target


@lru_cache(maxsize=1)
def register_font() -> str:
    """Register the CJK font with reportlab once per process; returns its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT, str(cjk_font_path())))
    # Drawings (QR codes, cut lines) start from reportlab's default state, which names Helvetica: a font the PDF
    # would list without embedding it. Every drawing in this process starts from the embedded font instead.
    from reportlab.graphics.shapes import STATE_DEFAULTS

    STATE_DEFAULTS["fontName"] = FONT
    return FONT


def require_font() -> None:
    """Called when a service starts: no point serving documents that would print as boxes."""
    register_font()


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ((1000, "仟"), (100, "佰"), (10, "拾"))


def capital_number(n: int) -> str:
    """大写数字 for amounts and periods on forms: 30 -> 叁拾, 15 -> 壹拾伍, 105 -> 壹佰零伍 (0 <= n < 10000)."""
    if not 0 <= n < 10000:
        raise ValueError("capital numerals are printed for 0..9999")
    if n == 0:
        return _DIGITS[0]
    out, zero = "", False
    for value, unit in _UNITS:
        digit, n = divmod(n, value)
        if digit:
            out += ("零" if zero and out else "") + _DIGITS[digit] + unit
            zero = False
        elif out:
            zero = True
    if n:
        out += ("零" if zero and out else "") + _DIGITS[n]
    return out


def styles() -> dict[str, Any]:
    """Paragraph styles, all in the embedded font (reportlab's defaults name Helvetica, which is never embedded)."""
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    font = register_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=11),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9, leading=12),
        "title": ParagraphStyle(
            "title", parent=body, fontSize=17, leading=24, alignment=TA_CENTER, spaceAfter=6
        ),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=12, leading=18, alignment=TA_CENTER),
        "right": ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
    }


def paragraph(text: str, style: str = "body") -> Any:
    from xml.sax.saxutils import escape

    from reportlab.platypus import Paragraph

    return Paragraph(escape(text).replace("\n", "<br/>"), styles()[style])


def _cell(value: Any) -> Any:
    return paragraph("" if value is None else str(value), "cell")


def table(
    data: list[list[Any]],
    widths: list[float],
    commands: list[tuple[Any, ...]] | None = None,
    repeat_rows: int = 0,
) -> Any:
    """A reportlab Table whose cells default to the embedded font (reportlab's cell default is Helvetica)."""
    from reportlab.platypus import Table, TableStyle

    result = Table(data, colWidths=widths, repeatRows=repeat_rows)
    result.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), register_font()), *(commands or [])]))
    return result


def field_table(rows: list[tuple[str, Any]], width: float, columns: int = 2) -> Any:
    """A form's labelled boxes: label | value, `columns` pairs to a line (a 采集表, a 登记表)."""
    from reportlab.lib import colors

    cells = [item for label, value in rows for item in (_cell(label), _cell(value))]
    per_line = columns * 2
    cells += [_cell("")] * (-len(cells) % per_line)
    data = [cells[i : i + per_line] for i in range(0, len(cells), per_line)]
    label_w = width * 0.16 if columns > 1 else width * 0.25
    value_w = (width - label_w * columns) / columns
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    commands += [("BACKGROUND", (c, 0), (c, -1), colors.HexColor("#f2f2f2")) for c in range(0, per_line, 2)]
    return table(data, [label_w, value_w] * columns, commands)


def grid_table(header: list[str], rows: list[list[Any]], widths: list[float]) -> Any:
    """A register (名册, 收缴记录): header row repeated on every page."""
    from reportlab.lib import colors

    data = [[_cell(h) for h in header]] + [[_cell(v) for v in row] for row in rows]
    return table(
        data,
        widths,
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ],
        repeat_rows=1,
    )


def qr_code(url: str, size: float) -> Any:
    """A QR code as vector drawing (no image, no font)."""
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(url)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def cut_line(label: str, width: float) -> Any:
    """A dashed cut line between the parts of a form (存根 | 介绍信 | 回执), the 骑缝 label on it."""
    from reportlab.graphics.shapes import Drawing, Line, String

    drawing = Drawing(width, 18)
    drawing.add(Line(0, 9, width, 9, strokeDashArray=[4, 3], strokeWidth=0.6))
    drawing.add(String(width / 2, 12, label, fontName=register_font(), fontSize=8, textAnchor="middle"))
    return drawing


def render(title: str, story: list[Any], *, landscape_page: bool = False, footer: str = "") -> bytes:
    """Lay out the story on A4 with the document title in the PDF's metadata and page numbers in the footer."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    font = register_font()
    pagesize = landscape(A4) if landscape_page else A4

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawRightString(pagesize[0] - 15 * mm, 10 * mm, f"{footer}  第 {doc.page} 页".strip())
        canvas.restoreState()

    buffer = io.BytesIO()
    # The canvas would otherwise set Helvetica on every page, a font the PDF names but never embeds.
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        title=title,
        author="连心 Lianxin",
        lang="zh-CN",
        initialFontName=font,
        initialFontSize=10.5,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=15 * mm,
        bottomMargin=16 * mm,
    )
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def content_width(landscape_page: bool = False) -> float:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm

    return (A4[1] if landscape_page else A4[0]) - 36 * mm


@dataclass(frozen=True)
class PdfCheck:
    """What poppler sees in a PDF: each font (name, embedded?) and the extracted text."""

    fonts: list[tuple[str, bool]]
    text: str
    pages: int
    ink: float  # share of dark pixels on page 1 rendered with no system font available at all


def inspect_pdf(pdf: bytes) -> PdfCheck:
    """pdffonts and pdftotext over a PDF (poppler-utils; `make install` installs them where apt-get can)."""
    for tool in ("pdffonts", "pdftotext", "pdfinfo"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} (poppler-utils) is missing: run `make print-tools`")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        listing = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout
        info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
        ink = _ink_without_system_fonts(path, Path(tmp))
    fonts = []
    for line in listing.splitlines()[2:]:
        parts = line.split()
        # name type [encoding...] emb sub uni object ID: the flags are the 5th-3rd from the end.
        fonts.append((parts[0], parts[-5] == "yes"))
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return PdfCheck(fonts=fonts, text=text, pages=pages, ink=ink)


def _ink_without_system_fonts(path: Path, tmp: Path) -> float:
    """Render page 1 with a fontconfig that knows no font directory: only embedded fonts can draw anything."""
    conf = tmp / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<cachedir>{tmp}/fc-cache</cachedir></fontconfig>",
        encoding="utf-8",
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(conf), "FONTCONFIG_PATH": str(tmp)}
    subprocess.run(
        ["pdftoppm", "-r", "40", "-gray", "-f", "1", "-l", "1", str(path), str(tmp / "page")],
        check=True,
        capture_output=True,
        env=env,
    )
    image = next(tmp.glob("page*.pgm")).read_bytes()
    # Binary PGM: "P5\n<w> <h>\n<max>\n" then one byte per pixel.
    header_end, fields = 0, 0
    while fields < 4:
        while image[header_end : header_end + 1].isspace():
            header_end += 1
        while not image[header_end : header_end + 1].isspace():
            header_end += 1
        fields += 1
    pixels = image[header_end + 1 :]
    return sum(1 for value in pixels if value < 128) / max(len(pixels), 1)


if __name__ == "__main__":
    print(f"CJK font for printed documents: {build_font()}")
