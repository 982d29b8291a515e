"""The printable introduction letter (2006 form, 一式三联): HTML and PDF, each with the QR code of its human page.

One A4 sheet, three parts sharing the letter number: the 存根 the sender keeps, the 介绍信 the member carries,
and the 回执 the receiving 基层党委 returns. The validity is written in capital numerals as on the form.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import segno

from shared import printing

ROWS = (
    ("编号", "letter_no"),
    ("姓名", "name"),
    ("性别", "gender"),
    ("年龄", "age"),
    ("民族", "ethnicity"),
    ("党员类别", "category"),
    ("身份证号码", "national_id_number"),
    ("转出单位", "from_org"),
    ("转入单位", "to_org"),
    ("党费交至", "dues_paid_through"),
    ("有效期（天）", "valid_days"),
    ("开具日期", "issued_on"),
    ("有效期至", "expires_on"),
    ("开具党组织", "issuer_name"),
    ("地址", "issuer_address"),
    ("联系电话", "issuer_phone"),
)


def verify_url(base_url: str, letter: dict[str, Any]) -> str:
    """The public page the QR code opens: HTML for a browser, JSON for a program (content negotiation)."""
    return f"{base_url.rstrip('/')}/v1/letters/verify/{letter['code']}"


def _text(letter: dict[str, Any], key: str) -> str:
    value = letter.get(key)
    return "" if value is None else str(value)


def chinese_date(value: Any) -> str:
    if not value:
        return "　　年　　月　　日"
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"{day.year}年{day.month}月{day.day}日"


def year_month(value: Any) -> str:
    if not value:
        return "　　年　　月"
    year, month = str(value).split("-")[:2]
    return f"{int(year)}年{int(month)}月"


def parts(letter: dict[str, Any]) -> dict[str, list[str]]:
    """The three parts' sentences, shared by the HTML and the PDF so both print the same words."""
    t = lambda key: _text(letter, key)  # noqa: E731
    days = letter.get("valid_days")
    valid = printing.capital_number(int(days)) if days is not None else "　　"
    person = "，".join(
        x
        for x in (
            t("gender"),
            f"{t('age')}岁" if t("age") else "",
            f"{t('ethnicity')}" if t("ethnicity") else "",
        )
        if x
    )
    return {
        "stub": [
            f"{t('name')}同志系中共{t('category')}，组织关系由{t('from_org')}转到{t('to_org')}。",
            f"开具日期：{chinese_date(letter.get('issued_on'))}　有效期：{valid}天",
            "（回执粘贴处）",
        ],
        "letter": [
            f"{t('to_org')}：",
            f"　　兹介绍{t('name')}同志（{person}），系中共{t('category')}，身份证号码{t('national_id_number')}，"
            f"组织关系由{t('from_org')}转到{t('to_org')}，请接洽。",
            f"　　该同志党费已交到{year_month(letter.get('dues_paid_through'))}。",
            f"　　（有效期{valid}天）",
            f"{t('issuer_name')}（盖章）",
            chinese_date(letter.get("issued_on")),
            f"党员所在基层党委通讯地址：{t('issuer_address')}",
            f"联系电话：{t('issuer_phone')}　传真：　　　　邮编：",
        ],
        "receipt": [
            f"{t('issuer_name')}：",
            f"　　{t('name')}同志的党员组织关系已转达我处，特此回执。",
            "接收党组织（盖章）",
            "　　年　　月　　日",
            "经办人：　　　　　　联系电话：",
        ],
    }


def letter_html(letter: dict[str, Any], base_url: str, case: Any) -> str:
    url = verify_url(base_url, letter)
    qr = segno.make(url, error="m").svg_inline(scale=3)
    words = parts(letter)
    no = html.escape(letter["letter_no"])
    esc = html.escape

    def block(title: str, lines: list[str], extra: str = "") -> str:
        body = "".join(f"<p>{esc(line)}</p>" for line in lines)
        return f'<section><h2>{title}<span class="no">编号：{no}</span></h2>{body}{extra}</section>'

    verify = (
        f'<div class="verify">{qr}<p>扫码或访问 <code>{esc(url)}</code> 核验本介绍信。<br>'
        f"核验码：<strong>{esc(letter['code'])}</strong>　签名密钥：{esc(letter['kid'])}</p></div>"
        f'<p><small>签名（Ed25519）：<code style="word-break:break-all">{esc(letter["signature"])}</code>'
        f"</small></p>"
    )
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>党员组织关系介绍信 {no}</title>
<style>body{{font-family:"Noto Serif SC","Noto Sans SC","SimSun",serif;max-width:46em;margin:2em auto}}
section{{padding:.5em 0}}section+section{{border-top:1px dashed #333}}h2{{text-align:center;font-size:1.2em}}
.no{{float:right;font-size:.8em;font-weight:normal}}.verify{{display:flex;gap:1em;align-items:center}}
@media print{{body{{margin:0}}}}</style>
</head><body>
<h1 style="text-align:center">中国共产党党员组织关系介绍信</h1>
{block("存根", words["stub"])}
{block("介绍信", words["letter"], verify)}
{block("回执", words["receipt"])}
</body></html>"""


def letter_pdf(letter: dict[str, Any], base_url: str) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    width = printing.content_width()
    words = parts(letter)
    no = letter["letter_no"]
    p = printing.paragraph

    def heading(title: str) -> Any:
        return printing.table(
            [[p(title, "subtitle")], [p(f"编号：{no}", "right")]],
            [width],
            [("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)],
        )

    stub = [heading("中国共产党党员组织关系介绍信（存根）"), *[p(line) for line in words["stub"]]]
    body_lines = words["letter"]
    url = verify_url(base_url, letter)
    right = [p(body_lines[4], "right"), p(body_lines[5], "right")]
    check = printing.table(
        [
            [
                printing.qr_code(url, 26 * mm),
                [
                    p(f"扫码或访问以下网址核验本介绍信：{url}", "small"),
                    p(f"核验码：{letter['code']}　签名密钥：{letter['kid']}", "small"),
                    p(f"签名：{letter['signature']}", "small"),
                ],
            ]
        ],
        [30 * mm, width - 30 * mm],
        [("VALIGN", (0, 0), (-1, -1), "MIDDLE")],
    )
    body = [
        heading("中国共产党党员组织关系介绍信"),
        *[p(line) for line in body_lines[:4]],
        *right,
        *[p(line, "small") for line in body_lines[6:]],
        check,
    ]
    receipt = [
        heading("中国共产党党员组织关系介绍信（回执）"),
        p(words["receipt"][0]),
        p(words["receipt"][1]),
        p(words["receipt"][2], "right"),
        p(words["receipt"][3], "right"),
        p(words["receipt"][4]),
    ]
    story = [
        *stub,
        Spacer(1, 3 * mm),
        printing.cut_line(f"骑缝　{no}", width),
        Spacer(1, 2 * mm),
        *body,
        Spacer(1, 3 * mm),
        printing.cut_line(f"骑缝　{no}", width),
        Spacer(1, 2 * mm),
        *receipt,
    ]
    return printing.render(f"党员组织关系介绍信 {no}", story, footer=f"介绍信 {no}")


STATUS_WORDS = {
    "valid": ("有效", "本介绍信真实有效，请按介绍信内容办理接转手续。"),
    "voided": ("已作废", "本介绍信已作废，请勿据此办理；请与开具党组织联系。"),
    "expired": ("已过期", "本介绍信已超过有效期，请与开具党组织联系补办。"),
    "completed": ("已办结", "本介绍信所涉组织关系接转已经办结。"),
    "unknown": ("查无此信", "未找到该核验码对应的介绍信，请核对核验码；如有疑问请与开具党组织联系。"),
}


def verification_html(status: str, details: dict[str, Any], code: str) -> str:
    """The page the QR code opens in a phone's browser: the letter's status in words, personal data masked."""
    word, advice = STATUS_WORDS.get(status, (status, ""))
    esc = html.escape
    rows = (
        ("编号", "letter_no"),
        ("姓名", "name"),
        ("转出党组织", "from_org"),
        ("转入党组织", "to_org"),
        ("开具日期", "issued_on"),
        ("有效期至", "expires_on"),
        ("开具单位（租户）", "tenant"),
        ("签名密钥", "kid"),
    )
    table = "".join(
        f"<tr><th>{label}</th><td>{esc(str(details.get(key) or ''))}</td></tr>"
        for label, key in rows
        if details.get(key)
    )
    colour = {"valid": "#1a7f37", "completed": "#1a5fb4"}.get(status, "#b42318")
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>介绍信核验 {esc(code)}：{word}</title>
<style>body{{font-family:"Noto Sans SC","PingFang SC","Microsoft YaHei",sans-serif;max-width:36em;margin:1em auto;
padding:0 1em}}.status{{font-size:1.6em;font-weight:bold;color:{colour}}}table{{border-collapse:collapse;width:100%}}
th,td{{border:1px solid #ccc;padding:.4em;text-align:left}}th{{width:8em;background:#f6f6f6}}</style>
</head><body>
<h1>党员组织关系介绍信核验</h1>
<p>核验码：<code>{esc(code)}</code></p>
<p class="status">{word}</p>
<p>{advice}</p>
<table>{table}</table>
<p><small>姓名已部分隐去。离线核验：按开具单位公布的公钥核对介绍信上的签名（Ed25519）。</small></p>
</body></html>"""
