"""The event types analytics reads, by the service that publishes them (its own copy of their contracts).

Analytics lands every CloudEvent whatever its type (the raw `events` table); these names decide which rows the
modelled fact tables take. Fields are read from `data` with tolerant casts, so an upstream field added later is
ignored and one removed leaves a NULL, never a stopped consumer.
"""

from __future__ import annotations

STREAMS: tuple[str, ...] = ("LIANXIN_REGISTRY", "LIANXIN_TRANSFER", "LIANXIN_LEARNING", "LIANXIN_NOTIFY")


def event_type(service: str, event: str) -> str:
    return f"cn.lianxin.{service}.{event}.v1"


ORGANISATION_FOUNDED = event_type("registry", "organisation_founded")
MEMBER_REGISTERED = event_type("registry", "member_registered")
DECISION_RECORDED = event_type("registry", "decision_recorded")
MEMBER_ENROLLED = event_type("registry", "member_enrolled")
MEMBER_RELEASED = event_type("registry", "member_released")
# counts only (ADR 0004): the registry's 党员基本情况 categories at a reference date, cells 1-4 null
MEMBER_CATEGORIES_COUNTED = event_type("registry", "member_categories_counted")
# registry.domain.categories.CELLS: the cells in the report's order, with its wording
CATEGORY_CELLS: tuple[tuple[str, str], ...] = (
    ("total", "党员总数"),
    ("full_members", "正式党员"),
    ("probationary", "预备党员"),
    ("female", "女"),
    ("gender_unknown", "性别未登记"),
    ("ethnic_minority", "少数民族"),
    ("ethnicity_unknown", "民族未登记"),
    ("college_or_above", "大专及以上学历"),
    ("education_unknown", "学历未登记"),
    ("age_30_and_under", "30岁及以下"),
    ("age_31_35", "31至35岁"),
    ("age_36_40", "36至40岁"),
    ("age_41_45", "41至45岁"),
    ("age_46_50", "46至50岁"),
    ("age_51_55", "51至55岁"),
    ("age_56_60", "56至60岁"),
    ("age_61_and_over", "61岁及以上"),
    ("age_unknown", "出生日期未登记"),
    ("joined_before_1949_10", "新中国成立前"),
    ("joined_1949_10_to_1978_12", "新中国成立后至党的十一届三中全会前"),
    ("joined_1978_12_to_2012_11", "党的十一届三中全会后至党的十八大前"),
    ("joined_since_2012_11", "党的十八大以来"),
    ("joined_unknown", "入党日期未登记"),
    ("occupation_worker", "工人(工勤技能人员)"),
    ("occupation_farmer_herder_fisher", "农牧渔民"),
    ("occupation_professional", "企事业单位、社会组织专业技术人员"),
    ("occupation_manager", "企事业单位、社会组织管理人员"),
    ("occupation_civil_servant", "党政机关工作人员"),
    ("occupation_student", "学生"),
    ("occupation_other", "其他职业人员"),
    ("occupation_retired", "离退休人员"),
    ("occupation_unknown", "职业未登记"),
)

MOBILE_STEPS = {
    event_type("registry", s): s for s in ("outflow_registered", "inflow_registered", "mobility_ended")
}
CONTACT_STEPS = {
    event_type("registry", "contact_at_risk"): "at_risk",
    event_type("registry", "lost_contact_case_opened"): "lost_contact",
    event_type("registry", "self_lapse_review_opened"): "self_lapse_review",
    event_type("registry", "contact_case_closed"): "closed",
}
CERTIFICATE_STEPS = {
    event_type("registry", "certificate_review_due"): "review_due",
    event_type("registry", "certificate_reviewed"): "reviewed",
    event_type("registry", "certificate_surrendered"): "surrendered",
}

# transfer.contracts.STEPS: the saga's steps, in funnel order first, then outcomes and timers.
TRANSFER_FUNNEL = (
    "transfer_requested",
    "branch_approved",
    "committee_approved",
    "letter_issued",
    "transfer_received",
    "member_checked_in",
    "receipt_returned",
    "transfer_completed",
)
TRANSFER_OUTCOMES = (
    "transfer_completed",
    "transfer_refused",
    "letter_expired",
    "transfer_returned",
    "letter_voided",
    "transfer_cancelled",
)
TRANSFER_TIMERS = ("receipt_overdue", "letter_expiry_reminder")
TRANSFER_STEPS = {
    event_type("transfer", s): s for s in (*TRANSFER_FUNNEL, *TRANSFER_OUTCOMES, *TRANSFER_TIMERS)
}

MEETING_SCHEDULED = event_type("learning", "meeting_scheduled")
QUIZ_COMPLETED = event_type("learning", "quiz_completed")  # score, question_count, passed (60%, rounded up)
LEARNING_ACTIVITIES = {
    event_type("learning", s): s
    for s in (
        "meeting_attended",
        "study_checked_in",
        "thought_report_submitted",
        "thought_report_due",
        "quiz_completed",
    )
}

# 三会一课: each branch, each quarter (practice): 支部党员大会 once, 支委会 and 党小组会 monthly, 党课 once.
CADENCE_PER_QUARTER = {"branch_assembly": 1, "branch_committee": 3, "group_meeting": 3, "party_lecture": 1}

# notify.outbound: one notification's outcome (ids only: tenant, notification, channel, kind, recipient id)
NOTIFICATION_OUTCOMES = {
    event_type("notify", "notification_delivered"): "delivered",
    event_type("notify", "notification_failed"): "failed",
}
