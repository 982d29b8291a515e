"""学习: the tenant's courses and micro-lessons (publish one), quizzes (set one with its questions), thought reports
waiting for the branch (read one and acknowledge it), and the probation summary of each 预备党员 in sight (one
member's summary for the branch assembly, with the branch's written assessment)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.api.common import Ctx, form_action, render
from console.api.desk.base import act_on, beijing, desk_ctx, failed, names_of, org_list
from console.api.desk.meetings import BRANCH_KINDS
from console.clients.api import ApiError

router = APIRouter(prefix="/desk", include_in_schema=False)
PROBATION_SHOWN = 50  # summaries read for the list; a committee with more sees the first ones and a note


def form_fields(exc: ApiError, aliases: dict[str, str]) -> ApiError:
    """The service names fields by its model (`questions.2.options`, `organisation_ids`); the page by its form."""
    fields: dict[str, str] = {}
    for name, message in exc.fields.items():
        head = name.split(".", 1)[0]
        fields.setdefault(aliases.get(head, head), message)
    exc.fields = fields
    return exc


def parse_questions(text: str, problem: str) -> list[dict[str, Any]]:
    """Questions typed as blocks separated by a blank line: the question, then one option a line, the right one
    marked with `*`. Anything else is refused by the field."""
    questions = []
    for number, block in enumerate(b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        options = [line.removeprefix("*").strip() for line in lines[1:]]
        marked = [i for i, line in enumerate(lines[1:]) if line.startswith("*")]
        if len(options) < 2 or len(marked) != 1 or not all(options):
            raise ApiError(422, "Invalid", problem, {"questions": problem})
        questions.append({"id": f"q{number + 1}", "text": lines[0], "options": options, "answer": marked[0]})
    if not questions:
        raise ApiError(422, "Invalid", problem, {"questions": problem})
    return questions


def branches_in_scope(ctx: Ctx, orgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    scope = set(ctx.session.orgs) if "branch_secretary" in ctx.session.roles else None
    return [o for o in orgs if o.get("kind") in BRANCH_KINDS and (scope is None or o["id"] in scope)]


async def probation_rows(ctx: Ctx) -> tuple[list[dict[str, Any]], int]:
    """Every probationary member the secretary's token sees (learning's list of reports due), each with the
    summary learning keeps for the branch assembly."""
    due = await ctx.api.get_or({"members": []}, "learning", "/v1/thought-reports/due")
    members = due["members"]
    summaries = await asyncio.gather(
        *(
            ctx.api.get_or(None, "learning", f"/v1/probation/{m['member_id']}/summary")
            for m in members[:PROBATION_SHOWN]
        )
    )
    rows = sorted((s for s in summaries if s), key=lambda s: s["ends_on"])
    return rows, len(members)


@router.get("/study")
async def study(request: Request) -> Response:
    return await study_page(request)


async def study_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    # Learning lists a branch secretary their branches' courses and quizzes and the tenant-wide ones.
    courses, quizzes, reports, orgs, (probation, probationers) = await asyncio.gather(
        ctx.api.get_or([], "learning", "/v1/courses", limit=200),
        ctx.api.get_or([], "learning", "/v1/quizzes", limit=200),
        ctx.api.get_or([], "learning", "/v1/thought-reports", limit=200),
        org_list(ctx),
        probation_rows(ctx),
    )
    names = await names_of(ctx, [r["member_id"] for r in reports] + [s["member_id"] for s in probation])
    tenant_wide = bool({"committee", "tenant_admin"} & set(ctx.session.roles))
    return render(
        ctx,
        "desk/study.html",
        status=status,
        courses=courses,
        quizzes=quizzes,
        waiting=[r for r in reports if not r["acknowledged"]],
        read=[r for r in reports if r["acknowledged"]],
        probation=probation,
        probationers=probationers,
        names=names,
        org_names={o["id"]: o["name"] for o in orgs},
        branches=branches_in_scope(ctx, orgs),
        tenant_wide=tenant_wide,
        menu="study",
        **values,
    )


async def _publish(ctx: Ctx, form: dict[str, str], key: str) -> str:
    body = {
        "kind": form.get("kind", ""),
        "title": form.get("title", ""),
        "body": form.get("body", ""),
        "links": [line.strip() for line in form.get("links", "").splitlines() if line.strip()],
        "organisation_ids": [form["organisation_id"]] if form.get("organisation_id") else [],
    }
    try:
        await ctx.api.post("learning", "/v1/courses", body, key=key)
    except ApiError as exc:
        raise form_fields(exc, {"organisation_ids": "organisation_id"}) from None
    return "/desk/study?ok=course_published"


@router.post("/study/courses")
async def publish(request: Request) -> Response:
    return await form_action(request, study_page, "course", _publish, member=False)


async def _set_quiz(ctx: Ctx, form: dict[str, str], key: str) -> str:
    questions = parse_questions(form.get("questions", ""), ctx.t("quiz_questions_hint"))
    title = form.get("quiz_title", "")
    aliases = {"title": "quiz_title", "organisation_ids": "organisation_id", "kind": "quiz_kind"}
    try:
        bank = await ctx.api.post(
            "learning", "/v1/question-banks", {"title": title, "questions": questions}, key=f"{key}:bank"
        )
        body = {
            "kind": form.get("quiz_kind", ""),
            "title": title,
            "bank_id": bank["id"],
            "organisation_ids": [form["organisation_id"]] if form.get("organisation_id") else [],
            "opens_at": beijing(form.get("opens_at")),
            "closes_at": beijing(form.get("closes_at")),
        }
        await ctx.api.post("learning", "/v1/quizzes", body, key=key)
    except ApiError as exc:
        raise form_fields(exc, aliases) from None
    return "/desk/study?ok=quiz_scheduled"


@router.post("/study/quizzes")
async def set_quiz(request: Request) -> Response:
    return await form_action(request, study_page, "quiz", _set_quiz, member=False)


@router.get("/study/quizzes/{quiz_id}")
async def quiz(request: Request, quiz_id: str) -> Response:
    """A quiz's questions (learning never gives the answers out) and each member's score, as learning scopes them."""
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        item, results = await asyncio.gather(
            ctx.api.get("learning", f"/v1/quizzes/{quiz_id}"),
            ctx.api.get("learning", f"/v1/quizzes/{quiz_id}/results"),
        )
    except ApiError as exc:
        return failed(ctx, exc)
    names = await names_of(ctx, [m["member_id"] for m in results["members"]])
    return render(ctx, "desk/quiz.html", quiz=item, results=results, names=names, menu="study")


@router.get("/study/reports/{report_id}")
async def report(request: Request, report_id: str) -> Response:
    return await report_view(request, report_id)


async def report_view(request: Request, report_id: str, status: int = 200, **values: Any) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        item = await ctx.api.get("learning", f"/v1/thought-reports/{report_id}")
    except ApiError as exc:
        return failed(ctx, exc)
    names = await names_of(ctx, [item["member_id"]])
    return render(
        ctx,
        "desk/report.html",
        status=status,
        report=item,
        author=names.get(item["member_id"], ""),
        menu="study",
        **values,
    )


@router.post("/study/reports/{report_id}/acknowledgement")
async def acknowledge(request: Request, report_id: str) -> Response:
    async def run(ctx: Ctx, form: dict[str, str], key: str) -> None:
        body = {"comment": form.get("comment", "")}
        await ctx.api.post("learning", f"/v1/thought-reports/{report_id}/acknowledgement", body, key=key)

    return await act_on(request, report_view, report_id, "ack", run, f"/desk/study/reports/{report_id}")


@router.get("/study/probation/{member_id}")
async def probation(request: Request, member_id: str) -> Response:
    return await probation_view(request, member_id)


async def probation_view(request: Request, member_id: str, status: int = 200, **values: Any) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        summary = await ctx.api.get("learning", f"/v1/probation/{member_id}/summary")
    except ApiError as exc:
        return failed(ctx, exc)
    names, orgs = await asyncio.gather(names_of(ctx, [member_id]), org_list(ctx))
    return render(
        ctx,
        "desk/probation.html",
        status=status,
        summary=summary,
        person=names.get(member_id, ""),
        branch=next((o["name"] for o in orgs if o["id"] == summary["organisation_id"]), ""),
        menu="study",
        **values,
    )


@router.post("/study/probation/{member_id}/assessment")
async def assessment(request: Request, member_id: str) -> Response:
    async def run(ctx: Ctx, form: dict[str, str], key: str) -> None:
        body = {"text": form.get("text", "")}
        await ctx.api.put("learning", f"/v1/probation/{member_id}/assessment", body, key=key)

    return await act_on(
        request, probation_view, member_id, "assess", run, f"/desk/study/probation/{member_id}"
    )
