"""zh-CN by default, English as a full translation of the same pages; dates in Asia/Shanghai.

TEXT is the one translation table: every key has both languages (a test reads every template and checks).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from console.i18n_desk import DESK_TEXT

SHANGHAI = ZoneInfo("Asia/Shanghai")
LANGS = ("zh", "en")
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

TEXT: dict[str, tuple[str, str]] = {
    # Frame
    "app": ("连心", "Lianxin"),
    "skip": ("跳到正文", "Skip to content"),
    "lang_switch": ("English", "中文"),
    "sign_out": ("退出", "Sign out"),
    "sign_in": ("登录", "Sign in"),
    "back_home": ("返回首页", "Back to the start"),
    "loading": ("正在处理…", "Working…"),
    "error_page": ("出错了", "Something went wrong"),
    "error_try": (
        "请稍后再试；问题持续时请联系所在支部。",
        "Please try again shortly; if it persists, contact your branch.",
    ),
    "expired": ("登录已过期，请重新登录。", "Your session has expired; please sign in again."),
    "not_allowed": ("此页面不对您的角色开放。", "This page is not open to your role."),
    "csrf_failed": ("表单已过期，请重新提交。", "The form expired; please submit it again."),
    # Sign-in
    "signin_title": ("选择身份登录（开发环境）", "Sign in as a demo person (development)"),
    "signin_note": (
        "开发环境：以下演示人员用开发令牌登录。生产环境通过单位的统一身份认证登录。",
        "Development: the demo people below sign in with a development token. Production signs in "
        "through the organisation's identity provider.",
    ),
    "signin_none": (
        "未找到演示数据。请先运行 make run 完成演示数据初始化。",
        "No demo data found. Run make run first so the demo is seeded.",
    ),
    "signin_failed": (
        "登录未完成，请重新登录。",
        "Signing in did not complete; please sign in again.",
    ),
    "signin_oidc": ("通过统一身份认证登录", "Sign in with your organisation's account"),
    "signin_prod": ("请通过单位统一身份认证登录。", "Sign in through your organisation's identity provider."),
    "tenant": ("单位", "Tenant"),
    "role": ("角色", "Role"),
    "role_member": ("党员", "Member"),
    "role_branch_secretary": ("支部书记", "Branch secretary"),
    "role_committee": ("党委组织员", "Committee staff"),
    "sign_in_as": ("登录", "Sign in"),
    # Member tabs
    "tab_home": ("首页", "Home"),
    "tab_study": ("学习", "Study"),
    "tab_life": ("组织生活", "Meetings"),
    "tab_inbox": ("消息", "Messages"),
    "tab_me": ("我的", "Me"),
    # Member home
    "hello": ("您好，{name}", "Hello, {name}"),
    "due_title": ("待办事项", "What is due"),
    "due_none": (
        "暂无待办事项。外出时请及时报告去向。",
        "Nothing is due. When you leave, report where you go.",
    ),
    "due_transfer": ("组织关系转接：{step}", "Transfer: {step}"),
    "due_report_by": ("请于 {date} 前到 {org} 报到", "Report to {org} by {date}"),
    "due_declared": ("外出报告待支部确认", "Your leaving report awaits your branch"),
    "due_questioned": ("支部对外出报告有疑问：{q}", "Your branch asks about your report: {q}"),
    "due_meeting": ("组织生活：{title}", "Meeting: {title}"),
    "due_checkin": ("今日学习打卡", "Today's study check-in"),
    "due_certificate": ("活动证年审", "Activity certificate review"),
    "quick_actions": ("常用", "Shortcuts"),
    "unread": ("{n} 条未读", "{n} unread"),
    # My record
    "my_record": ("我的档案", "My record"),
    "name": ("姓名", "Name"),
    "branch": ("所在支部", "Branch"),
    "category": ("党员类别", "Category"),
    "category_full": ("正式党员", "Full member"),
    "category_probationary": ("预备党员", "Probationary member"),
    "standing": ("党籍状态", "Standing"),
    "standing_active": ("正常", "Active"),
    "standing_suspended": ("停止党籍", "Suspended"),
    "id_number": ("身份证号", "National ID number"),
    "phone": ("手机号", "Phone"),
    "contact_state": ("联系状态", "Contact"),
    "contact_normal": ("正常联系", "In contact"),
    "contact_at_risk": ("即将失联", "At risk"),
    "contact_searching": ("查找中", "Being searched for"),
    "contact_lost": ("失联", "Lost contact"),
    "contact_lost_contact": ("失联", "Lost contact"),
    "contact_self_lapse_review": ("自行脱党审查", "Self-lapse review"),
    "certificate": ("流动党员活动证", "Activity certificate"),
    "certificate_review": ("下次年审", "Next review"),
    "timeline": ("我的经历", "My timeline"),
    "member_timeline": ("经历记录", "Timeline"),
    "timeline_none": ("暂无记录。", "Nothing recorded yet."),
    "registered_on": ("登记日期", "Registered on"),
    # Mobility
    "mobility": ("外出报告", "Leaving and whereabouts"),
    "declare_title": ("报告外出", "Report that I am leaving"),
    "declare_note": (
        "外出前向支部报告去向、事由、时间和联系方式，支部确认后登记为流动党员。",
        "Before you leave, tell your branch where, why, for how long and how to reach you; once the "
        "branch confirms, you are registered as a mobile member.",
    ),
    "destination": ("外出地点", "Destination"),
    "reason": ("外出事由", "Reason"),
    "expected_months": ("预计外出月数", "Expected months away"),
    "fixed_place": ("有相对固定的地点和单位", "A fairly fixed place and employer"),
    "contact": ("外出期间联系方式", "How to reach me while away"),
    "declare_button": ("报告外出", "Send my leaving report"),
    "declared_ok": ("已报告，等待支部确认。", "Sent; your branch will confirm it."),
    "declaration_state_declared": ("待支部确认", "Awaiting the branch"),
    "declaration_state_confirmed": ("支部已确认", "Confirmed by the branch"),
    "declaration_state_questioned": ("支部有疑问", "The branch has a question"),
    "my_declarations": ("我的外出报告", "My leaving reports"),
    "whereabouts_title": ("报告去向变化", "Report where I am now"),
    "place": ("现在所在地", "Where I am now"),
    "new_phone": ("新手机号", "New phone"),
    "whereabouts_button": ("报告去向", "Send my whereabouts"),
    "whereabouts_ok": ("已报告，支部已收到您的联系。", "Sent; your branch has your contact."),
    "return_title": ("返回报告", "I am back"),
    "return_note": (
        "返回后请报告支部，并交回流动党员活动证。",
        "When you are back, tell your branch and hand in the certificate.",
    ),
    "return_button": ("报告已返回", "Report my return"),
    "returned_ok": ("已报告返回，流动登记已结束。", "Reported; your mobile registration has ended."),
    "mobile_now": ("流动中：{dest}", "Away: {dest}"),
    "left_on": ("外出日期", "Left on"),
    "transfer_suggested": (
        "外出6个月以上且地点固定，应转接组织关系。",
        "Six months or more at a fixed place: the relation should be transferred.",
    ),
    # Transfer (member)
    "transfer": ("组织关系转接", "Transfer of relation"),
    "transfer_none": ("您目前没有组织关系转接。", "You have no transfer of your relation."),
    "transfer_to": ("转入：{org}", "To: {org}"),
    "next_action": ("下一步", "Next"),
    "report_by": ("报到期限", "Report by"),
    "letter": ("介绍信", "Letter of introduction"),
    "letter_no": ("介绍信编号", "Letter number"),
    "open_letter": ("查看介绍信", "Open the letter"),
    "verify_code": ("核验码", "Verification code"),
    "verify_link": ("核验介绍信", "Verify the letter"),
    "step_approve_branch": ("支部审核", "Branch approval"),
    "step_approve_committee": ("党委审批", "Committee approval"),
    "step_issue_letter": ("开具介绍信", "Letter issued"),
    "step_receive": ("接收方接收", "Receiver accepts"),
    "step_check_in": ("报到", "Check-in"),
    "step_return_receipt": ("回执", "Receipt"),
    "step_complete": ("办结", "Completed"),
    "state_draft": ("待支部审核", "Awaiting the branch"),
    "state_branch_approved": ("待党委审批", "Awaiting the committee"),
    "state_committee_approved": ("正在开具介绍信", "Letter being issued"),
    "state_letter_issued": ("已开介绍信，待接收", "Letter issued, awaiting the receiver"),
    "state_received": ("已接收，待报到", "Accepted, awaiting check-in"),
    "state_checked_in": ("已报到，待回执", "Checked in, awaiting the receipt"),
    "state_receipt_returned": ("回执已返回", "Receipt returned"),
    "state_completed": ("已办结", "Completed"),
    "state_returned": ("已退回", "Returned"),
    "state_refused": ("接收方拒收", "Refused"),
    "state_expired": ("介绍信已过期", "Letter expired"),
    "state_voided": ("已作废", "Voided"),
    "state_cancelled": ("已撤销", "Cancelled"),
    "done": ("已完成", "Done"),
    "waiting": ("未开始", "Not yet"),
    # Meetings
    "meetings": ("组织生活", "Meetings"),
    "meetings_none": ("近期没有组织生活安排。", "No meetings are scheduled."),
    "meeting_at": ("时间", "When"),
    "meeting_place": ("地点", "Where"),
    "attend_online": ("线上签到", "Sign in online"),
    "attend_code": ("现场签到码", "Sign-in code in the room"),
    "attend_code_hint": (
        "现场签到时输入书记投屏的 6 位数字；线上签到无需填写",
        "On site: the 6 digits the secretary shows; not needed online",
    ),
    "attend_how": ("签到方式", "How I attend"),
    "attend_in_person": ("现场签到（输入签到码）", "In the room (with the code)"),
    "code_wrong": (
        "签到码不正确，请核对投屏上的数字后重试（每次会议最多 5 次）。",
        "The code is wrong; check the screen and try again (5 tries per meeting).",
    ),
    "code_locked": (
        "签到码错误次数过多，请联系支部书记为你登记签到。",
        "Too many wrong codes: ask the secretary to record your attendance.",
    ),
    "host_branch": ("流入地支部", "Host branch (while away)"),
    "attend_button": ("签到", "Sign in"),
    "attended_ok": ("签到成功。", "Signed in."),
    "letter_pdf": ("下载介绍信（PDF）", "Letter (PDF)"),
    "channel_email": ("同时发送到我的邮箱", "Also send to my email"),
    "email_address": ("邮箱（仅在修改时填写）", "Email (only to change it)"),
    "quiet_hours": ("免打扰时段（北京时间）", "Quiet hours (Beijing time)"),
    "quiet_from": ("开始", "From"),
    "quiet_until": ("结束", "Until"),
    "share_location": ("同时报告我所在的位置（可选）", "Also share where I am (optional)"),
    "location_optional": ("所在位置（仅在勾选时报告）", "Where I am (sent only if ticked)"),
    "opinion_label": ("会前意见建议（交支部汇总）", "My opinion before the meeting (for the branch)"),
    "opinion_button": ("提交意见", "Send my opinion"),
    "opinion_ok": ("意见已提交支部。", "Your opinion is with the branch."),
    "quiz_window": ("作答时间", "Open"),
    "quiz_score": ("我的成绩", "My score"),
    "quiz_score_value": ("答对 {score} / {total} 题", "{score} of {total} correct"),
    "quiz_answered": ("已答 {n} / {total} 题", "Answered {n} of {total}"),
    "quiz_submit": ("提交答案", "Submit my answers"),
    "quiz_ok": ("答案已提交。", "Your answers are in."),
    "ranking": ("积分排行", "Points ranking"),
    "ranking_row": ("第{rank}名 · {points}分", "No. {rank} · {points} points"),
    "ranking_me": ("我", "me"),
    "attended": ("已签到", "Signed in"),
    # Study
    "study": ("学习", "Study"),
    "courses": ("课程", "Courses"),
    "courses_none": ("暂无分配给您的课程。", "No courses are assigned to you."),
    "checkin_title": ("每日学习打卡", "Daily study check-in"),
    "material": ("学习内容", "What I studied"),
    "report_title": ("标题", "Title"),
    "checkin_button": ("打卡", "Check in"),
    "checked_in_ok": ("今日已打卡。", "Checked in for today."),
    "points": ("我的积分", "My points"),
    "points_total": ("积分合计：{n}", "Total: {n} points"),
    "quizzes": ("测验", "Quizzes"),
    "quizzes_none": ("暂无测验。", "No quizzes."),
    "reports": ("思想汇报", "Thought reports"),
    "report_text": ("汇报内容", "Report"),
    "report_button": ("提交思想汇报", "Submit my thought report"),
    "report_ok": ("思想汇报已提交。", "Your thought report is submitted."),
    "reports_none": ("您还没有提交思想汇报。", "You have not submitted a thought report yet."),
    "acknowledged": ("支部已阅", "Read by the branch"),
    "submitted": ("已提交", "Submitted"),
    # Inbox
    "inbox": ("消息", "Messages"),
    "inbox_none": ("暂无消息。", "No messages."),
    "mark_read": ("标为已读", "Mark read"),
    "preferences": ("消息设置", "Message settings"),
    "language": ("语言", "Language"),
    "save_preferences": ("保存设置", "Save settings"),
    "saved": ("已保存。", "Saved."),
    # Desk menu
    "menu_work": ("工作台", "Work"),
    "menu_members": ("党员", "Members"),
    "menu_mobile": ("流动党员", "Mobile members"),
    "menu_transfers": ("组织关系转接", "Transfers"),
    "menu_lost": ("失联", "Lost contact"),
    "menu_life": ("组织生活", "Meetings"),
    "menu_study": ("学习", "Study"),
    "menu_notify": ("通知", "Notifications"),
    "menu_orgs": ("组织", "Organisations"),
    "scope": ("管理范围", "Scope"),
    "scope_all": ("全部组织", "The whole tenant"),
    "breadcrumb": ("位置", "You are here"),
    # Work lists
    "wl_todo": ("待办", "To do"),
    "wl_open": ("未办结", "Open"),
    "wl_upcoming": ("即将办理", "Coming up"),
    "wl_overdue": ("超时", "Overdue"),
    "wl_empty": ("本范围暂无此类事项。", "Nothing of this kind in your scope."),
    "what": ("事项", "What"),
    "whom": ("对象", "For whom"),
    "since": ("时间", "Since"),
    "action": ("操作", "Action"),
    "open": ("办理", "Open"),
    "source": ("来源", "Source"),
    # Roll
    "roll": ("党员名册", "The roll"),
    "search_name": ("按姓名查找", "Search by name"),
    "filter": ("筛选", "Filter"),
    "all": ("全部", "All"),
    "total": ("共 {n} 人", "{n} people"),
    "roll_empty": ("没有符合条件的党员。", "No member matches."),
    "member_page": ("党员信息", "Member"),
    "unmask": ("查看完整信息", "See full details"),
    "purpose": ("查看目的", "Purpose"),
    "unmask_note": (
        "查看完整信息将被记录（查看人、时间、目的）。",
        "Reading full details is recorded (who, when, why).",
    ),
    "unmask_button": ("查看并记录", "Show and record"),
    "history_type": ("事件", "Event"),
    "history_by": ("经办人", "By"),
    # Mobile (desk)
    "declarations": ("待确认的外出报告", "Leaving reports to confirm"),
    "declarations_none": ("暂无待确认的外出报告。", "No leaving reports wait for you."),
    "confirm_declaration": ("确认外出登记", "Confirm and register"),
    "question_declaration": ("提出疑问", "Ask a question"),
    "question": ("疑问", "Question"),
    "outflows": ("流出登记", "Outflow registrations"),
    "outflows_none": ("暂无流出党员。", "No members are away."),
    "inflows": ("流入登记", "Inflow registrations"),
    "inflows_none": ("暂无流入党员。", "No mobile members are coming to you."),
    "certificate_no": ("活动证编号", "Certificate number"),
    "reg_state_outflow_registered": ("已流出登记", "Outflow registered"),
    "reg_state_inflow_registered": ("已流入登记", "Inflow registered"),
    "reg_state_returned": ("已返回", "Returned"),
    "reg_state_converted_to_transfer": ("已转为组织关系转接", "Converted to a transfer"),
    # Transfers (desk)
    "transfers": ("组织关系转接", "Transfers"),
    "transfers_none": ("暂无转接事项。", "No transfers."),
    "new_transfer": ("发起转接", "Open a transfer"),
    "member": ("党员", "Member"),
    "destination_kind": ("转往", "Destination"),
    "dest_same_tenant": ("本单位其他支部", "Another branch of this tenant"),
    "dest_other_tenant": ("平台上其他单位", "Another tenant on the platform"),
    "dest_off_platform": ("平台外单位", "Off the platform"),
    "receiving_tenant": ("接收单位", "Receiving tenant"),
    "receiving_org": ("接收支部编号", "Receiving branch id"),
    "receiving_org_name": ("接收组织全称", "Receiving organisation's full name"),
    "transfer_reason": ("转接原因", "Reason"),
    "graduate": ("毕业生", "Graduate"),
    "request_transfer": ("发起转接", "Request the transfer"),
    "side": ("方向", "Side"),
    "side_sender": ("转出", "Outgoing"),
    "side_receiver": ("转入", "Incoming"),
    "side_both": ("本单位内转接", "Within the organisation"),
    "approve_branch": ("支部同意", "Approve (branch)"),
    "approve_committee": ("党委审批并签发介绍信", "Approve and issue the letter"),
    "dues_paid_through": ("党费交至（年-月）", "Dues paid through (year-month)"),
    "issuer_address": ("开信单位地址", "Issuer's address"),
    "issuer_phone": ("开信单位电话", "Issuer's phone"),
    "accept": ("接收", "Accept"),
    "refuse": ("拒收", "Refuse"),
    "refusal_reason": ("拒收理由", "Reason for refusing"),
    "check_in": ("确认报到", "Confirm check-in"),
    "receipt": ("寄回回执", "Return the receipt"),
    "handler": ("经办人", "Handled by"),
    "cancel": ("撤销转接", "Cancel the transfer"),
    "cancel_reason": ("撤销理由", "Reason for cancelling"),
    "print_letter": ("打印介绍信", "Print the letter"),
    "case": ("转接详情", "Transfer"),
    "history": ("办理记录", "History"),
    # Public verification
    "verify_title": ("介绍信核验", "Verify a letter of introduction"),
    "verify_prompt": ("请输入介绍信上的核验码", "Type the code printed on the letter"),
    "verify_button": ("核验", "Verify"),
    "verify_unknown": (
        "未找到此核验码对应的介绍信。请核对后重新输入，或联系开信单位。",
        "No letter has this code. Check it and try again, or call the issuing organisation.",
    ),
    "verify_valid": ("介绍信真实有效", "The letter is genuine and valid"),
    "verify_status": ("状态", "Status"),
    "verify_issuer": ("开信单位", "Issued by"),
    "verify_to": ("接收单位", "Addressed to"),
    "verify_expires": ("有效期至", "Valid until"),
    "verify_holder": ("持信人", "Holder"),
    "vstatus_valid": ("有效", "Valid"),
    "vstatus_completed": ("已办结", "Completed"),
    "vstatus_voided": ("已作废", "Voided"),
    "vstatus_expired": ("已过期", "Expired"),
    # Lost contact, meetings, notify, orgs (desk)
    "cases": ("失联排查", "Contact cases"),
    "cases_none": ("暂无失联或即将失联的党员。", "No member is at risk or lost."),
    "last_contact": ("最后联系", "Last contact"),
    "record_contact": ("记录联系", "Record a contact"),
    "desk_meetings_none": ("本范围暂无组织生活记录。", "No meetings in your scope."),
    "notifications": ("通知", "Notifications"),
    "orgs": ("组织架构", "Organisation tree"),
    "org_kind": ("类型", "Kind"),
    "code": ("编号", "Code"),
    # Timeline events
    "ev_Registered": ("登记入册", "Registered on the roll"),
    "ev_Enrolled": ("转入本支部", "Enrolled by transfer"),
    "ev_ProfileCorrected": ("信息更正", "Details corrected"),
    "ev_DecisionRecorded": ("组织决定", "Decision recorded"),
    "ev_HoldPlaced": ("组织关系转接开始", "Transfer started"),
    "ev_HoldLifted": ("组织关系转接结束", "Transfer ended"),
    "ev_Released": ("组织关系转出", "Transferred out"),
    "ev_WentMobile": ("外出流动", "Went away as a mobile member"),
    "ev_MobilityEnded": ("流动结束", "Mobility ended"),
    "ev_PersonalDataDisclosed": ("完整信息被查看", "Full details were read"),
    "ev_report": ("提交思想汇报", "Thought report submitted"),
    # A transfer's history, step by step
    "h_Requested": ("发起转接", "Requested"),
    "h_branch_approved": ("支部同意", "Branch approved"),
    "h_committee_approved": ("党委审批", "Committee approved"),
    "h_hold": ("请求锁定党员档案", "Hold requested"),
    "h_hold_placed": ("党员档案已锁定", "Hold placed"),
    "h_LetterIssued": ("开具介绍信", "Letter issued"),
    "h_transfer_received": ("接收方接收", "Accepted by the receiver"),
    "h_member_checked_in": ("报到", "Checked in"),
    "h_enrol": ("请求接收方入册", "Enrolment requested"),
    "h_member_enrolled": ("接收方已入册", "Enrolled at the receiver"),
    "h_release": ("请求转出方销册", "Release requested"),
    "h_member_released": ("转出方已销册", "Released by the sender"),
    "h_receipt_returned": ("回执已返回", "Receipt returned"),
    "h_transfer_completed": ("办结", "Completed"),
    "h_transfer_refused": ("拒收", "Refused"),
    "h_transfer_returned": ("退回", "Returned"),
    "h_letter_expired": ("介绍信过期", "Letter expired"),
    "h_hold_refused": ("党员档案未能锁定", "Hold refused"),
    "h_enrolment_refused": ("接收方未能入册", "Enrolment refused"),
    "h_receipt_overdue": ("回执超时，已督办", "Receipt overdue, escalated"),
    "h_lift": ("请求解除锁定", "Lift requested"),
    "h_hold_lifted": ("锁定已解除", "Hold lifted"),
    "h_letter_expiry_reminder": ("介绍信到期提醒", "Letter expiry reminder"),
    # Words for deadlines
    "due_in": ("{n}天后到期", "due in {n} days"),
    "due_today": ("今天到期", "due today"),
    "overdue_by": ("已超时{n}天", "overdue by {n} days"),
    "required": ("必填", "required"),
    "submit_error": ("未能提交：", "Not submitted: "),
}

TEXT.update(DESK_TEXT)


def translate(lang: str, key: str, **values: object) -> str:
    pair = TEXT.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**values) if values else text


def local_date(value: date | datetime | str | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = (
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            if "T" in value
            else date.fromisoformat(value)
        )
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).date() if value.tzinfo else value.date()
    return value


def format_date(value: date | datetime | str | None, lang: str) -> str:
    day = local_date(value)
    if day is None:
        return ""
    if lang == "en":
        return f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def format_time(value: datetime | str | None, lang: str) -> str:
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    local = moment.astimezone(SHANGHAI) if moment.tzinfo else moment
    return f"{format_date(local, lang)} {local:%H:%M}"


def relative_deadline(value: date | datetime | str | None, today: date, lang: str) -> str:
    """`3天后到期`, `今天到期`, `已超时2天` (and the English)."""
    day = local_date(value)
    if day is None:
        return ""
    days = (day - today).days
    if days > 0:
        return translate(lang, "due_in", n=days)
    if days == 0:
        return translate(lang, "due_today")
    return translate(lang, "overdue_by", n=-days)
