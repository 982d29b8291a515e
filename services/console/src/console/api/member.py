"""The member's pages (phone first): home with what is due, my record and timeline, leaving and whereabouts,
my transfer, meetings, study and thought reports, messages and preferences."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.api.common import Ctx, context, form_action, render, today
from console.clients.api import ApiError
from console.i18n import TEXT

router = APIRouter(prefix="/m", include_in_schema=False)
ENDED = {"completed", "returned", "refused", "expired", "voided", "cancelled"}


def _ctx(request: Request) -> Ctx | Response:
    return context(request, member=True)


async def _record(ctx: Ctx) -> dict[str, Any]:
    record: dict[str, Any] = await ctx.api.get("registry", "/v1/me")
    return record


async def _transfers(ctx: Ctx) -> list[dict[str, Any]]:
    body = await ctx.api.get_or({"items": []}, "transfer", "/v1/me/transfers")
    return list(body["items"])


async def _unread(ctx: Ctx) -> int:
    inbox = await ctx.api.get_or({"unread": 0}, "notify", "/v1/inbox", limit=1)
    return int(inbox.get("unread", 0))


def _failed(ctx: Ctx, exc: ApiError) -> Response:
    status = exc.status if exc.status < 500 else 502
    return render(ctx, "error.html", status=status, message_key="error_try", status_code=status)


def _number(text: str | None) -> int | str | None:
    return int(text) if text and text.isdigit() else (text or None)


@router.get("")
async def home(request: Request) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        record, transfers, unread, meetings, check_ins = await asyncio.gather(
            _record(ctx),
            _transfers(ctx),
            _unread(ctx),
            ctx.api.get_or([], "learning", "/v1/meetings", limit=20),
            ctx.api.get_or([], "learning", "/v1/check-ins", member_id=ctx.session.member_id, limit=1),
        )
    except ApiError as exc:
        return _failed(ctx, exc)
    due: list[dict[str, Any]] = []
    case = next((t for t in transfers if t["case"]["state"] not in ENDED), None)
    if case is not None:
        due.append(
            {
                "href": "/m/transfer",
                "text": ctx.t("due_transfer", step=ctx.t(f"state_{case['case']['state']}")),
                "deadline": case.get("expires_on"),
            }
        )
    for declaration in record["declarations"][:1]:
        if declaration["state"] == "declared":
            due.append({"href": "/m/mobility", "text": ctx.t("due_declared"), "deadline": None})
        elif declaration["state"] == "questioned":
            due.append(
                {
                    "href": "/m/mobility",
                    "text": ctx.t("due_questioned", q=declaration["question"]),
                    "deadline": None,
                }
            )
    registration = record.get("registration")
    if registration and registration.get("certificate_review_due"):
        due.append(
            {
                "href": "/m/me",
                "text": ctx.t("due_certificate"),
                "deadline": registration["certificate_review_due"],
            }
        )
    for meeting in [m for m in meetings if not m.get("held")][:3]:
        due.append(
            {
                "href": "/m/meetings",
                "text": ctx.t("due_meeting", title=meeting["title"]),
                "deadline": meeting["starts_at"],
            }
        )
    if not check_ins or check_ins[0]["local_date"] != today(ctx.request).isoformat():
        due.append({"href": "/m/study", "text": ctx.t("due_checkin"), "deadline": None})
    return render(ctx, "member/home.html", record=record, due_items=due, unread=unread, tab="home")


@router.get("/me")
async def my_record(request: Request) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        record, history, transfers, reports, unread = await asyncio.gather(
            _record(ctx),
            ctx.api.get_or([], "registry", "/v1/me/history"),
            _transfers(ctx),
            ctx.api.get_or([], "learning", "/v1/thought-reports"),
            _unread(ctx),
        )
    except ApiError as exc:
        return _failed(ctx, exc)
    timeline = [
        {"at": e["at"], "text": ctx.t(f"ev_{e['type']}") if f"ev_{e['type']}" in TEXT else e["type"]}
        for e in history
    ]
    for case in transfers:
        timeline += [
            {"at": s["done_at"], "text": f"{ctx.t('transfer')}：{ctx.t('step_' + s['action'])}"}
            for s in case["steps"]
            if s["done_at"]
        ]
    timeline += [{"at": r["submitted_at"], "text": f"{ctx.t('ev_report')}：{r['title']}"} for r in reports]
    timeline.sort(key=lambda e: e["at"], reverse=True)
    return render(ctx, "member/me.html", record=record, timeline=timeline, unread=unread, tab="me")


@router.get("/mobility")
async def mobility(request: Request) -> Response:
    return await mobility_page(request)


async def mobility_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        record, unread = await asyncio.gather(_record(ctx), _unread(ctx))
    except ApiError as exc:
        return _failed(ctx, exc)
    return render(
        ctx, "member/mobility.html", status=status, record=record, unread=unread, tab="me", **values
    )


async def _declare(ctx: Ctx, form: dict[str, str], key: str) -> str:
    await ctx.api.post(
        "registry",
        "/v1/me/mobility",
        {
            "reason": form.get("reason", ""),
            "destination": form.get("destination", ""),
            "expected_months": _number(form.get("expected_months")),
            "fixed_place": form.get("fixed_place") == "on",
            "contact": form.get("contact", ""),
        },
        key=key,
    )
    return "/m/mobility?ok=declared_ok"


async def _whereabouts(ctx: Ctx, form: dict[str, str], key: str) -> str:
    await ctx.api.post(
        "registry",
        "/v1/me/whereabouts",
        {"place": form.get("place") or None, "phone": form.get("phone") or None},
        key=key,
    )
    return "/m/mobility?ok=whereabouts_ok"


async def _return(ctx: Ctx, form: dict[str, str], key: str) -> str:
    await ctx.api.post("registry", "/v1/me/return", key=key)
    return "/m/mobility?ok=returned_ok"


@router.post("/mobility/declare")
async def declare(request: Request) -> Response:
    return await form_action(request, mobility_page, "declare", _declare, member=True)


@router.post("/mobility/whereabouts")
async def whereabouts(request: Request) -> Response:
    return await form_action(request, mobility_page, "whereabouts", _whereabouts, member=True)


@router.post("/mobility/return")
async def back_home(request: Request) -> Response:
    return await form_action(request, mobility_page, "return", _return, member=True)


@router.get("/transfer")
async def transfer(request: Request) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    transfers, unread = await asyncio.gather(_transfers(ctx), _unread(ctx))
    return render(ctx, "member/transfer.html", transfers=transfers, unread=unread, tab="me")


@router.get("/transfer/{case_id}/letter")
async def letter(request: Request, case_id: str) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        html = await ctx.api.text("transfer", f"/v1/transfers/{case_id}/letter.html")
    except ApiError as exc:
        return _failed(ctx, exc)
    from fastapi.responses import HTMLResponse

    # The transfer service renders the letter (its own inline styles): shown as it prints.
    response = HTMLResponse(html)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    return response


@router.get("/transfer/{case_id}/letter.pdf")
async def letter_pdf(request: Request, case_id: str) -> Response:
    """The letter as the transfer service prints it (PDF, the CJK font embedded), for saving or printing."""
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    response = await request.app.state.services.clients["transfer"].get(
        f"/v1/transfers/{case_id}/letter.pdf", headers=ctx.api.headers
    )
    if response.status_code != 200:
        return _failed(ctx, ApiError.from_response(response))
    return Response(
        response.content,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="letter.pdf"'},
    )


@router.get("/meetings")
async def meetings(request: Request) -> Response:
    return await meetings_page(request)


async def meetings_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    items, unread = await asyncio.gather(
        ctx.api.get_or([], "learning", "/v1/meetings", limit=50), _unread(ctx)
    )
    now = datetime.now(UTC) + timedelta(seconds=ctx.request.app.state.settings.test_clock_shift_seconds)
    for meeting in items:  # opinions are collected before the meeting starts
        meeting["before"] = datetime.fromisoformat(meeting["starts_at"]) > now
    code = request.query_params.get("code", "")  # from the projector's QR code: fills the in-person field
    return render(
        ctx,
        "member/meetings.html",
        status=status,
        meetings=items,
        unread=unread,
        tab="life",
        code=code if code.isdigit() and len(code) == 6 else "",
        **values,
    )


async def _sign_in(ctx: Ctx, form: dict[str, str], key: str) -> str:
    meeting = form.get("meeting_id", "")
    method = form.get("method", "online")
    body: dict[str, Any] = {"method": method if method in ("online", "in_person") else "online"}
    if form.get("location") and form.get("share_location") == "yes":  # only if the member chooses to share it
        body["location"] = form["location"]
    if body["method"] == "in_person":  # the code shown in the room; learning names the field if it is wrong
        body["code"] = form.get("code", "").strip() or None
    await ctx.api.post("learning", f"/v1/meetings/{meeting}/sign-in", body, key=key)
    return "/m/meetings?ok=attended_ok"


async def _opinion(ctx: Ctx, form: dict[str, str], key: str) -> str:
    meeting = form.get("meeting_id", "")
    await ctx.api.post(
        "learning", f"/v1/meetings/{meeting}/opinions", {"text": form.get("text", "")}, key=key
    )
    return "/m/meetings?ok=opinion_ok"


@router.post("/meetings/sign-in")
async def sign_in(request: Request) -> Response:
    return await form_action(request, meetings_page, "sign_in", _sign_in, member=True)


@router.post("/meetings/opinion")
async def opinion(request: Request) -> Response:
    """An opinion before a 组织生活会 (or 民主评议), collected for the branch before the meeting starts."""
    return await form_action(request, meetings_page, "opinion", _opinion, member=True)


@router.get("/study")
async def study(request: Request) -> Response:
    return await study_page(request)


async def study_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    member_id = ctx.session.member_id
    courses, check_ins, points, quizzes, reports, unread, ranking = await asyncio.gather(
        ctx.api.get_or([], "learning", "/v1/courses"),
        ctx.api.get_or([], "learning", "/v1/check-ins", member_id=member_id, limit=7),
        ctx.api.get_or({}, "learning", f"/v1/points/members/{member_id}"),
        ctx.api.get_or([], "learning", "/v1/quizzes"),
        ctx.api.get_or([], "learning", "/v1/thought-reports"),
        _unread(ctx),
        # Only where the tenant turned rankings on; otherwise the service refuses and no ranking is shown.
        ctx.api.get_or(None, "learning", "/v1/points/rankings", limit=10),
    )
    checked_today = bool(check_ins) and check_ins[0]["local_date"] == today(ctx.request).isoformat()
    return render(
        ctx,
        "member/study.html",
        status=status,
        courses=_items(courses),
        check_ins=check_ins,
        checked_today=checked_today,
        points=points,
        quizzes=_items(quizzes),
        reports=reports,
        unread=unread,
        ranking=ranking,
        tab="study",
        **values,
    )


def _items(body: Any) -> list[Any]:
    return list(body.get("items", [])) if isinstance(body, dict) else list(body or [])


async def _check_in(ctx: Ctx, form: dict[str, str], key: str) -> str:
    await ctx.api.post("learning", "/v1/check-ins", {"material": form.get("material", "")}, key=key)
    return "/m/study?ok=checked_in_ok"


async def _report(ctx: Ctx, form: dict[str, str], key: str) -> str:
    await ctx.api.post(
        "learning",
        "/v1/thought-reports",
        {"title": form.get("title", ""), "body": form.get("body", "")},
        key=key,
    )
    return "/m/study?ok=report_ok#reports"


@router.post("/study/check-in")
async def check_in(request: Request) -> Response:
    return await form_action(request, study_page, "check_in", _check_in, member=True)


@router.post("/study/report")
async def report(request: Request) -> Response:
    return await form_action(request, study_page, "report", _report, member=True)


@router.get("/inbox")
async def inbox(request: Request) -> Response:
    return await inbox_page(request)


async def inbox_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    page, preferences = await asyncio.gather(
        ctx.api.get_or({"items": [], "unread": 0}, "notify", "/v1/inbox", limit=50),
        ctx.api.get_or({}, "notify", "/v1/preferences/me"),
    )
    return render(
        ctx,
        "member/inbox.html",
        status=status,
        items=page["items"],
        unread=page["unread"],
        preferences=preferences,
        tab="inbox",
        **values,
    )


async def _read(ctx: Ctx, form: dict[str, str], key: str) -> str:
    await ctx.api.post("notify", f"/v1/inbox/{form.get('item_id', '')}/read", key=key)
    return "/m/inbox"


async def _preferences(ctx: Ctx, form: dict[str, str], key: str) -> str:
    channels = ["inbox"] + (["email"] if form.get("email_channel") == "on" else [])
    body: dict[str, Any] = {"language": form.get("language", "zh-CN"), "channels": channels}
    if form.get("email"):
        body["email"] = form["email"]
    if form.get("quiet_start") or form.get("quiet_end"):  # both or the service names the one missing
        body["quiet_hours"] = {
            "start": form.get("quiet_start", ""),
            "end": form.get("quiet_end", ""),
            "timezone": "Asia/Shanghai",
        }
    await ctx.api.put("notify", "/v1/preferences/me", body, key=key)
    return "/m/inbox?ok=saved"


@router.post("/inbox/read")
async def mark_read(request: Request) -> Response:
    return await form_action(request, inbox_page, "read", _read, member=True)


@router.post("/preferences")
async def preferences(request: Request) -> Response:
    return await form_action(request, inbox_page, "preferences", _preferences, member=True)


@router.get("/study/quizzes/{quiz_id}")
async def quiz(request: Request, quiz_id: str) -> Response:
    return await quiz_page(request, quiz_id)


async def quiz_page(request: Request, quiz_id: str, status: int = 200, **values: Any) -> Response:
    """One quiz: its questions with their options (never the answers), then my score once I have answered."""
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        found, results, unread = await asyncio.gather(
            ctx.api.get("learning", f"/v1/quizzes/{quiz_id}"),
            ctx.api.get_or({"members": []}, "learning", f"/v1/quizzes/{quiz_id}/results"),
            _unread(ctx),
        )
    except ApiError as exc:
        return _failed(ctx, exc)
    mine = next((r for r in results.get("members", []) if r["member_id"] == ctx.session.member_id), None)
    return render(
        ctx,
        "member/quiz.html",
        status=status,
        quiz=found,
        mine=mine,
        total=len(found.get("questions", [])),
        unread=unread,
        tab="study",
        **values,
    )


async def _answer(ctx: Ctx, form: dict[str, str], key: str) -> str:
    quiz_id = form.get("quiz_id", "")
    found = await ctx.api.get("learning", f"/v1/quizzes/{quiz_id}")
    answers = [(q["id"], form.get(f"q-{q['id']}", "")) for q in found.get("questions", [])]
    if not any(choice.isdigit() for _, choice in answers):
        raise ApiError(422, "未作答", "请至少选择一道题的答案。", {"answers": "请至少选择一道题的答案。"})
    for question_id, choice in answers:
        if choice.isdigit():  # each answer once: the form's key with the question makes a retry harmless
            await ctx.api.post(
                "learning",
                f"/v1/quizzes/{quiz_id}/answers",
                {"question_id": question_id, "choice": int(choice)},
                key=f"{key}-{question_id}",
            )
    return f"/m/study/quizzes/{quiz_id}?ok=quiz_ok"


@router.post("/study/quizzes/{quiz_id}")
async def answer_quiz(request: Request, quiz_id: str) -> Response:
    return await form_action(request, quiz_page, "quiz", _answer, member=True, quiz_id=quiz_id)
