"""Message templates in zh-CN and en, chosen by the recipient's language, filled from the event and names.

Placeholders are the event's data fields plus `member` (the member's name fetched from the registry, or a
neutral word when it could not be fetched), `reason` (a reason code in words) and `occurrence` (reminders).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
SOMEONE = {"zh-CN": "一名党员", "en": "a member"}
NAMED = {"zh-CN": "{name}同志", "en": "{name}"}

# template -> language -> (title, body)
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "member_registered": {
        "zh-CN": (
            "新党员登记",
            "{member}（{category_label}）已于{registered_on}登记到本组织，请核对其信息。",
        ),
        "en": (
            "Member registered",
            "{member} ({category_label}) was registered on {registered_on}; please check the record.",
        ),
    },
    "transfer.transfer_requested": {
        "zh-CN": ("组织关系转接申请", "{member}的组织关系转接申请已提交，等待支部审核。"),
        "en": (
            "Transfer requested",
            "A transfer of {member}'s party relation was requested and awaits the branch.",
        ),
    },
    "transfer.branch_approved": {
        "zh-CN": ("转接申请支部已审核", "{member}的组织关系转接申请已经支部同意，等待党委审批。"),
        "en": (
            "Transfer approved by the branch",
            "The branch approved {member}'s transfer; the committee decides next.",
        ),
    },
    "transfer.committee_approved": {
        "zh-CN": ("转接申请党委已审批", "{member}的组织关系转接申请已经党委批准，即将开具介绍信。"),
        "en": (
            "Transfer approved by the committee",
            "The committee approved {member}'s transfer; the letter follows.",
        ),
    },
    "transfer.letter_issued": {
        "zh-CN": (
            "介绍信已开具",
            "已为{member}开具党员组织关系介绍信（编号{letter_no}），有效期至{expires_on}，请在有效期内报到。",
        ),
        "en": (
            "Letter issued",
            "Introduction letter {letter_no} was issued for {member}, valid until {expires_on}; report before it expires.",
        ),
    },
    "transfer.transfer_received": {
        "zh-CN": ("接收方已接收", "接收方党组织已接收{member}的组织关系，等待本人报到。"),
        "en": (
            "Transfer received",
            "The receiving organisation accepted {member}'s relation and awaits the check-in.",
        ),
    },
    "transfer.member_checked_in": {
        "zh-CN": ("党员已报到", "{member}已到接收方党组织报到，请于{receipt_due_on}前寄回回执。"),
        "en": (
            "Member checked in",
            "{member} checked in at the receiving organisation; the receipt is due by {receipt_due_on}.",
        ),
    },
    "transfer.receipt_returned": {
        "zh-CN": ("回执已退回", "{member}的组织关系介绍信回执已退回，请粘贴于存根。"),
        "en": ("Receipt returned", "The receipt for {member}'s letter came back; attach it to the stub."),
    },
    "transfer.transfer_completed": {
        "zh-CN": ("组织关系转接完成", "{member}的组织关系转接已全部完成。"),
        "en": ("Transfer completed", "{member}'s transfer is complete."),
    },
    "transfer.transfer_returned": {
        "zh-CN": ("转接申请被退回", "{member}的组织关系转接申请被退回（{reason}），请补充后重新提交。"),
        "en": (
            "Transfer returned",
            "{member}'s transfer was returned ({reason}); complete it and submit again.",
        ),
    },
    "transfer.letter_expired": {
        "zh-CN": (
            "介绍信已过期",
            "{member}的介绍信（编号{letter_no}）已过期，组织关系仍在原党组织，请核实情况。",
        ),
        "en": (
            "Letter expired",
            "Letter {letter_no} for {member} expired; the relation stays with the sender. Please follow up.",
        ),
    },
    "transfer.transfer_refused": {
        "zh-CN": ("转接未被接收", "{member}的组织关系转接未被接收，组织关系仍在原党组织，请核实原因。"),
        "en": ("Transfer refused", "{member}'s transfer was refused; the relation stays with the sender."),
    },
    "transfer.letter_voided": {
        "zh-CN": ("介绍信已作废", "{member}的介绍信（编号{letter_no}）已作废。"),
        "en": ("Letter voided", "Letter {letter_no} for {member} was voided."),
    },
    "transfer.transfer_cancelled": {
        "zh-CN": ("转接已撤销", "{member}的组织关系转接已撤销，组织关系仍在原党组织。"),
        "en": (
            "Transfer cancelled",
            "{member}'s transfer was cancelled; the relation stays with the sender.",
        ),
    },
    "registry.decision_recorded": {
        "zh-CN": ("组织决定已记录", "关于{member}的决定（{decision_label}）已于{decided_on}记录在案。"),
        "en": (
            "Decision recorded",
            "A decision about {member} ({decision_label}) was recorded on {decided_on}.",
        ),
    },
    "registry.outflow_registered": {
        "zh-CN": ("流出登记", "{member}已办理流动党员流出登记（{left_on}起），请保持经常联系。"),
        "en": (
            "Outflow registered",
            "{member} was registered as a mobile member leaving on {left_on}; keep in regular contact.",
        ),
    },
    "registry.inflow_registered": {
        "zh-CN": (
            "流入登记",
            "{member}已在流入地党组织办理流入登记（{registered_on}），请安排参加组织生活。",
        ),
        "en": (
            "Inflow registered",
            "{member} was enrolled at the host branch on {registered_on}; arrange their org life.",
        ),
    },
    "registry.mobility_ended": {
        "zh-CN": ("流动登记结束", "{member}的流动党员登记已于{ended_on}结束。"),
        "en": ("Mobile registration ended", "{member}'s mobile registration ended on {ended_on}."),
    },
    "registry.contact_at_risk": {
        "zh-CN": (
            "失联风险提示",
            "{member}已{silent_days}天未参加组织生活、交纳党费或联系组织，请尽快联系。",
        ),
        "en": (
            "At-risk warning",
            "{member} has had no org life, dues or contact for {silent_days} days; please reach out.",
        ),
    },
    "registry.lost_contact_case_opened": {
        "zh-CN": (
            "失联党员",
            "{member}已{silent_days}天失去联系且查找未果，已立失联个案；是否停止党籍须由组织决定。",
        ),
        "en": (
            "Lost contact",
            "{member} has been unreachable for {silent_days} days after a search; a case is open. Suspension is for people to decide.",
        ),
    },
    "registry.self_lapse_review_opened": {
        "zh-CN": (
            "自行脱党审查",
            "{member}已连续6个月未参加组织生活、未交纳党费或未做党组织分配的工作，请支部审查（先听取本人意见）。",
        ),
        "en": (
            "Self-lapse review",
            "{member} has had six months without org life, dues or assigned work; the branch should review (hearing "
            "the member first).",
        ),
    },
    "registry.probation_ending": {
        "zh-CN": (
            "预备期即将届满",
            "{member}的预备期将于{ends_on}届满，请支部准备转正讨论（支部大会不早于届满日）。",
        ),
        "en": (
            "Probation ends soon",
            "{member}'s probation ends on {ends_on}; the branch prepares regularisation (the assembly meets on or "
            "after that day).",
        ),
    },
    "registry.lost_contact_proposed": {
        "zh-CN": (
            "失联认定待支部决定",
            "{member}已{silent_days}天失去联系且查找未果；是否认定为失联党员由支部决定。",
        ),
        "en": (
            "Lost contact: the branch decides",
            "{member} has been unreachable for {silent_days} days after a failed search; the branch decides whether "
            "to classify the member as lost contact.",
        ),
    },
    "registry.contact_case_closed": {
        "zh-CN": ("联系已恢复", "{member}的联系个案已关闭。"),
        "en": ("Contact case closed", "The contact case about {member} was closed."),
    },
    "registry.certificate_issued": {
        "zh-CN": ("流动党员活动证已发放", "已为{member}发放流动党员活动证，每年需年审。"),
        "en": (
            "Activity certificate issued",
            "An activity certificate was issued to {member}; it is reviewed yearly.",
        ),
    },
    "registry.screening_reminder": {
        "zh-CN": (
            "排查提醒",
            "本支部尚有{pending}名党员未完成排查确认，请于{due_on}前逐一确认（联系方式、去向）。",
        ),
        "en": (
            "Screening reminder",
            "{pending} members of the branch are still to be confirmed in the screening; "
            "please confirm each (contact, whereabouts) by {due_on}.",
        ),
    },
    "learning.meeting_scheduled": {
        "zh-CN": ("会议通知", "本支部将于{starts_at}召开{meeting_label}，请准时参加。"),
        "en": ("Meeting scheduled", "The branch holds a {meeting_label} at {starts_at}; please attend."),
    },
    "learning.quiz_published": {
        "zh-CN": ("新的学习测验", "本支部发布了新的学习测验，请于{due_on}前完成。"),
        "en": ("New quiz", "A new quiz was published for the branch; complete it by {due_on}."),
    },
    "reminder.letter-expiry": {
        "zh-CN": (
            "介绍信即将到期",
            "{member}的介绍信（编号{letter_no}）将于{expires_on}到期，请尽快到接收方党组织报到。",
        ),
        "en": (
            "Letter about to expire",
            "Letter {letter_no} for {member} expires on {expires_on}; report to the receiving organisation soon.",
        ),
    },
    "reminder.receipt-overdue": {
        "zh-CN": (
            "回执逾期未退回",
            "{member}的介绍信回执应于{receipt_due_on}前退回，至今未收到（第{occurrence}次提醒）。",
        ),
        "en": (
            "Receipt overdue",
            "The receipt for {member}'s letter was due by {receipt_due_on} and has not arrived (reminder {occurrence}).",
        ),
    },
    "reminder.certificate-review": {
        "zh-CN": ("活动证年审到期", "{member}的流动党员活动证应于{due_on}前年审（第{occurrence}次提醒）。"),
        "en": (
            "Certificate review due",
            "{member}'s activity certificate review is due by {due_on} (reminder {occurrence}).",
        ),
    },
    "reminder.contact-due": {
        "zh-CN": (
            "联系到期",
            "{member}应于{due_on}前与党组织取得联系（每6个月至少一次，第{occurrence}次提醒）。",
        ),
        "en": (
            "Contact due",
            "{member} should be in contact with the organisation by {due_on} (every 6 months; reminder {occurrence}).",
        ),
    },
    "reminder.contact-case": {
        "zh-CN": ("联系个案未关闭", "{member}的联系个案仍未关闭，请尽快联系并记录（第{occurrence}次提醒）。"),
        "en": (
            "Contact case still open",
            "The contact case about {member} is still open; reach out and record it (reminder {occurrence}).",
        ),
    },
    "reminder.thought-report": {
        "zh-CN": ("思想汇报待提交", "{member}的思想汇报应于{due_on}前提交（第{occurrence}次提醒）。"),
        "en": ("Thought report due", "{member}'s thought report is due by {due_on} (reminder {occurrence})."),
    },
}

LABELS: dict[str, dict[str, str]] = {
    "full": {"zh-CN": "正式党员", "en": "full member"},
    "probationary": {"zh-CN": "预备党员", "en": "probationary member"},
    "branch_assembly": {"zh-CN": "支部党员大会", "en": "branch assembly"},
    "branch_committee": {"zh-CN": "支部委员会会议", "en": "branch committee meeting"},
    "group_meeting": {"zh-CN": "党小组会", "en": "group meeting"},
    "party_lecture": {"zh-CN": "党课", "en": "party lecture"},
    "themed_party_day": {"zh-CN": "主题党日活动", "en": "themed party day"},
    "org_life_meeting": {"zh-CN": "组织生活会", "en": "org life meeting"},
    "democratic_appraisal": {"zh-CN": "民主评议党员", "en": "democratic appraisal"},
    "heart_to_heart_talk": {"zh-CN": "谈心谈话", "en": "heart-to-heart talk"},
    "regularisation": {"zh-CN": "转正", "en": "regularisation"},
    "probation_extension": {"zh-CN": "延长预备期", "en": "probation extended"},
    "probation_cancellation": {"zh-CN": "取消预备党员资格", "en": "probation cancelled"},
    "suspension": {"zh-CN": "停止党籍", "en": "standing suspended"},
    "reinstatement": {"zh-CN": "恢复党籍", "en": "standing restored"},
    "striking_off": {"zh-CN": "除名", "en": "struck off"},
}
MEETING_DEFAULT = {"zh-CN": "会议", "en": "meeting"}


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    link: str | None


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "—"


def language_of(preferred: str | None) -> str:
    return preferred if preferred in LANGUAGES else DEFAULT_LANGUAGE


def render(
    template: str,
    language: str,
    data: Mapping[str, Any],
    *,
    member_name: str | None = None,
    link: str | None = None,
    occurrence: int | None = None,
) -> Rendered:
    """Fill a template; a missing value shows as a dash, a missing template name is a programming error."""
    language = language_of(language)
    title, body = TEMPLATES[template][language]
    values = _Blank({k: v for k, v in data.items() if v is not None})
    values["member"] = NAMED[language].format(name=member_name) if member_name else SOMEONE[language]
    values["category_label"] = LABELS.get(str(data.get("category")), {}).get(language, "—")
    values["meeting_label"] = LABELS.get(str(data.get("meeting_type")), MEETING_DEFAULT).get(language)
    values["decision_label"] = LABELS.get(str(data.get("kind")), {}).get(language, data.get("kind") or "—")
    if data.get("reason_code"):
        values["reason"] = str(data["reason_code"])
    if occurrence is not None:
        values["occurrence"] = occurrence
    formatter = string.Formatter()
    return Rendered(
        formatter.vformat(title, (), values),
        formatter.vformat(body, (), values),
        formatter.vformat(link, (), values) if link else None,
    )
