"""The registry's printed forms (A4 PDF, the CJK font embedded): 流动党员活动证, 流动党员信息采集表, 党员名册 and the
党费收缴 record. Each takes plain dicts, so the forms are tested without a database; the routes gather the data.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared import printing

GENDER = {"male": "男", "female": "女"}
CATEGORY = {"full": "正式党员", "probationary": "预备党员"}
KIND = {"outflow": "外出流动", "graduate_deferral": "毕业生暂缓转移", "abroad": "出国（境）"}


def _d(value: Any) -> str:
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{day.year}年{day.month}月{day.day}日"


def _person_rows(m: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("姓名", m.get("name")),
        ("性别", GENDER.get(m.get("gender") or "", "")),
        ("民族", m.get("ethnicity")),
        ("出生日期", _d(m.get("birth_date"))),
        ("党员类别", CATEGORY.get(m.get("category") or "", "")),
        ("学历", m.get("education")),
        ("入党日期", _d(m.get("joined_on"))),
        ("转正日期", _d(m.get("regularised_on"))),
        ("身份证号码", m.get("national_id_number")),
        ("联系电话", m.get("phone")),
    ]


def certificate_pdf(
    member: dict[str, Any], registration: dict[str, Any], home_org: str, host_org: str
) -> bytes:
    """《流动党员活动证》 (2006 form): the holder, the outflow and inflow organisations, yearly review and dues boxes."""
    width = printing.content_width()
    p = printing.paragraph
    number = registration.get("certificate_number") or ""
    story = [
        p("流动党员活动证", "title"),
        p(f"证号：{number}", "right"),
        printing.field_table(_person_rows(member), width),
        p("流出地党组织", "subtitle"),
        printing.field_table(
            [
                ("流出党组织", home_org),
                ("外出时间", _d(registration.get("left_on"))),
                ("外出地点", registration.get("destination")),
                ("外出类别", KIND.get(registration.get("kind") or "", "")),
                ("外出原因", registration.get("reason")),
                ("联系方式", registration.get("contact")),
                ("发证日期", _d(registration.get("left_on"))),
                ("发证党组织（盖章）", ""),
            ],
            width,
        ),
        p("流入地党组织", "subtitle"),
        printing.field_table(
            [("流入党组织", host_org), ("报到日期", ""), ("联系人", ""), ("流入地党组织（盖章）", "")], width
        ),
        p("年度查验（年审）", "subtitle"),
        printing.grid_table(
            ["年度", "查验意见", "查验党组织（盖章）", "日期"],
            [["", "", "", ""] for _ in range(3)],
            [width * 0.15, width * 0.45, width * 0.25, width * 0.15],
        ),
        p(f"下次查验：{_d(registration.get('certificate_review_due'))}", "small"),
        p("党费交纳记录", "subtitle"),
        printing.grid_table(
            ["月份", "金额（元）", "收缴党组织", "经手人"],
            [["", "", "", ""] for _ in range(6)],
            [width * 0.2, width * 0.2, width * 0.4, width * 0.2],
        ),
        p(
            "持证人须知：外出期间持本证参加流入地党组织的组织生活，按时交纳党费，每年至少向流出地党组织报告一次情况；"
            "外出地点、单位或联系方式变化应及时报告；返回后将本证交流出地党组织查验。",
            "small",
        ),
    ]
    return printing.render(f"流动党员活动证 {number}", story, footer=f"活动证 {number}")


def information_form_pdf(
    member: dict[str, Any], registration: dict[str, Any], home_org: str, host_org: str
) -> bytes:
    """《流动党员信息采集表》: what the national system records about a mobile member, with signature lines."""
    width = printing.content_width()
    p = printing.paragraph
    rows = [*_person_rows(member), ("工作单位", member.get("employer")), ("所在党支部", home_org)]
    story = [
        p("流动党员信息采集表", "title"),
        p(f"填表日期：{_d(registration.get('printed_on'))}", "right"),
        p("一、基本信息", "body"),
        printing.field_table(rows, width),
        p("二、流动信息", "body"),
        printing.field_table(
            [
                ("流动类别", KIND.get(registration.get("kind") or "", "")),
                ("外出时间", _d(registration.get("left_on"))),
                ("流入地", registration.get("destination")),
                ("流入党组织", host_org),
                ("外出原因", registration.get("reason")),
                ("预计外出（月）", registration.get("expected_months")),
                ("活动证编号", registration.get("certificate_number")),
                ("联系方式", registration.get("contact")),
                ("建议转接组织关系", "是" if registration.get("transfer_suggested") else "否"),
                ("状态", registration.get("state_words")),
            ],
            width,
        ),
        p("三、确认", "body"),
        printing.field_table(
            [("本人签字", ""), ("日期", ""), ("支部书记签字", ""), ("支部（盖章）", "")], width
        ),
        p("本表所列个人信息仅用于党员管理，按规定保密。", "small"),
    ]
    return printing.render("流动党员信息采集表", story, footer="流动党员信息采集表")


def roll_pdf(org_name: str, as_of: date, members: list[dict[str, Any]]) -> bytes:
    """党员名册 of one branch (landscape): one line per member on the roll, phones and ID numbers masked."""
    width = printing.content_width(landscape_page=True)
    header = [
        "序号",
        "姓名",
        "性别",
        "民族",
        "出生日期",
        "学历",
        "入党日期",
        "转正日期",
        "党员类别",
        "工作单位",
        "联系电话",
        "备注",
    ]
    share = [0.05, 0.09, 0.05, 0.06, 0.09, 0.07, 0.09, 0.09, 0.08, 0.15, 0.1, 0.08]
    rows = [
        [
            i,
            m.get("name"),
            GENDER.get(m.get("gender") or "", ""),
            m.get("ethnicity"),
            _d(m.get("birth_date")),
            m.get("education"),
            _d(m.get("joined_on")),
            _d(m.get("regularised_on")),
            CATEGORY.get(m.get("category") or "", ""),
            m.get("employer"),
            m.get("phone"),
            m.get("remark") or "",
        ]
        for i, m in enumerate(members, start=1)
    ]
    full = sum(1 for m in members if m.get("category") == "full")
    story = [
        printing.paragraph(f"{org_name}党员名册", "title"),
        printing.paragraph(
            f"截至{_d(as_of)}　共{len(members)}名（正式党员{full}名，预备党员{len(members) - full}名）",
            "right",
        ),
        printing.grid_table(header, rows, [width * s for s in share]),
    ]
    return printing.render(f"{org_name}党员名册", story, landscape_page=True, footer=f"{org_name}党员名册")


def dues_record_pdf(org_name: str, year: int, members: list[dict[str, Any]]) -> bytes:
    """党费收缴 record for a year from the dues ledger: a member per line, the monthly amount fixed for the year, a
    box per month marked where the ledger has it paid, and the year's total; blank where no amount is fixed yet."""
    width = printing.content_width(landscape_page=True)
    header = ["序号", "姓名", "党员类别", "月缴纳额", *[f"{m}月" for m in range(1, 13)], "合计"]

    def money(value: Any) -> str:
        return "" if value is None else f"{value:.2f}"

    rows = [
        [
            i,
            m.get("name"),
            CATEGORY.get(m.get("category") or "", ""),
            money(m.get("monthly_amount")),
            *["✓" if month in m.get("paid_months", set()) else "" for month in range(1, 13)],
            money(m.get("total")),
        ]
        for i, m in enumerate(members, start=1)
    ]
    widths = [0.05, 0.1, 0.08, 0.08] + [0.052] * 12 + [0.066]
    story = [
        printing.paragraph(f"{org_name}{year}年度党费收缴记录", "title"),
        printing.grid_table(header, rows, [width * w for w in widths]),
        printing.paragraph(
            "“✓”：党费台账中该月已交纳（含补交、预交、代缴）；月缴纳额为当年核定数，合计单位为元。"
            "收缴经手人：　　　　　　支部书记：　　　　　　日期：",
            "small",
        ),
    ]
    return printing.render(
        f"{org_name}{year}年度党费收缴记录",
        story,
        landscape_page=True,
        footer=f"{org_name}{year}年度党费收缴记录",
    )
