"""The printable introduction letter in Chinese: HTML and PDF, each with the QR code of its verification page."""

from __future__ import annotations

import html
import io
from typing import Any

import segno

ROWS = (("编号", "letter_no"), ("姓名", "name"), ("性别", "gender"), ("年龄", "age"), ("民族", "ethnicity"),
        ("党员类别", "category"), ("身份证号码", "national_id_number"), ("转出单位", "from_org"),
        ("转入单位", "to_org"), ("党费交至", "dues_paid_through"), ("有效期（天）", "valid_days"),
        ("开具日期", "issued_on"), ("有效期至", "expires_on"), ("开具党组织", "issuer_name"),
        ("地址", "issuer_address"), ("联系电话", "issuer_phone"))


def verify_url(base_url: str, letter: dict[str, Any]) -> str:
    return f"{base_url.rstrip('/')}/v1/letters/verify/{letter['code']}"


def letter_html(letter: dict[str, Any], base_url: str, case: Any) -> str:
    url = verify_url(base_url, letter)
    qr = segno.make(url, error="m").svg_inline(scale=3)
    rows = "".join(f"<tr><th>{label}</th><td>{html.escape(str(letter.get(key) or ''))}</td></tr>"
                   for label, key in ROWS)
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>党员组织关系介绍信 {html.escape(letter['letter_no'])}</title>
<style>body{{font-family:"Noto Serif SC","SimSun",serif;max-width:42em;margin:2em auto}}
table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #333;padding:.4em;text-align:left}}
th{{width:9em;background:#f4f4f4}}.verify{{display:flex;gap:1em;align-items:center;margin-top:1.5em}}</style>
</head><body>
<h1>中国共产党党员组织关系介绍信</h1>
<p>{html.escape(str(letter.get('to_org') or ''))}：</p>
<p>{html.escape(str(letter.get('name') or ''))}同志（{html.escape(str(letter.get('category') or ''))}）的党员组织关系由
{html.escape(str(letter.get('from_org') or ''))}转到{html.escape(str(letter.get('to_org') or ''))}，请接洽。</p>
<table>{rows}</table>
<div class="verify">{qr}<p>扫码或访问 <code>{html.escape(url)}</code> 核验本介绍信。<br>
核验码：<strong>{html.escape(letter['code'])}</strong>　签名密钥：{html.escape(letter['kid'])}</p></div>
<p><small>签名（Ed25519）：<code style="word-break:break-all">{html.escape(letter['signature'])}</code></small></p>
</body></html>"""


def letter_pdf(letter: dict[str, Any], base_url: str) -> bytes:
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    page.setTitle(f"党员组织关系介绍信 {letter['letter_no']}")
    page.setFont("STSong-Light", 18)
    page.drawCentredString(width / 2, height - 72, "中国共产党党员组织关系介绍信")
    page.setFont("STSong-Light", 11)
    y = height - 110
    for label, key in ROWS:
        page.drawString(72, y, f"{label}：{letter.get(key) or ''}")
        y -= 20
    url = verify_url(base_url, letter)
    widget = QrCodeWidget(url)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(110, 110, transform=[110 / (x1 - x0), 0, 0, 110 / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, page, 72, y - 130)
    page.setFont("STSong-Light", 9)
    page.drawString(195, y - 60, f"核验码：{letter['code']}    签名密钥：{letter['kid']}")
    page.drawString(195, y - 76, url)
    page.drawString(72, y - 150, f"签名：{letter['signature'][:60]}")
    page.drawString(72, y - 164, f"      {letter['signature'][60:]}")
    page.showPage()
    page.save()
    return buffer.getvalue()
