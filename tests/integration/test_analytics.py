"""A day of the demo through the real services, landed by analytics: each statistic against what the test did,
the rebuild identical to the live tables, every message redelivered counted once, another tenant seeing nothing.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from analytics.contracts import CATEGORY_CELLS, STREAMS
from analytics.rebuild import replay
from analytics.store import connect, table_digest
from lianxin.cli import main
from lianxin.platform import ServiceProcess
from registry.domain.categories import CELLS
from shared.devstack import free_port
from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import build_tree, eventually, national_id, new_tenant
from tests.integration.jetstream import consumer_idle, messages, publish

pytestmark = pytest.mark.integration
SERVICES = ("registry", "transfer", "learning", "notify", "analytics")
HOST_REGION = "440305"  # 深圳市南山区
APPROVAL = {
    "dues_paid_through": "2026-11",
    "issuer_address": "北京市海淀区学院路1号",
    "issuer_phone": "010-62000000",
}
DAY = 86_400


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@dataclass
class Day:
    """What the test did, and so what each statistic must say."""

    running: Running
    home: str
    receiver: str
    stranger: str
    home_branch: str
    start: date
    registered: int
    probationary: int
    completed: int
    refused: int
    expired: int
    mobile: int
    attendances: int
    meetings: int
    quizzes: int
    quizzes_passed: int
    counted: dict[str, Any]  # the registry's 党员基本情况 count at the period's end
    bad_region: httpx.Response

    @property
    def end(self) -> date:
        return self.start + timedelta(days=200)

    def get(self, name: str, tenant: str, **params: str) -> httpx.Response:
        params = {"from": str(self.start), "to": str(self.end), **params}
        return httpx.get(
            f"{self.running.url('analytics')}/v1/statistics/{name}",
            params=params,
            headers=self.running.auth(tenant, "committee"),
        )

    def stat(self, name: str, tenant: str | None = None, **params: str) -> dict[str, Any]:
        return ok(self.get(name, tenant or self.home, **params))  # type: ignore[no-any-return]

    def operator(self) -> dict[str, str]:
        return self.running.auth("platform-ops", "operator")

    def landing(self) -> dict[str, Any]:
        return ok(httpx.get(f"{self.running.url('analytics')}/v1/operator/landing", headers=self.operator()))  # type: ignore[no-any-return]


def clock_now(running: Running, service: str) -> datetime:
    return datetime.fromisoformat(ok(httpx.get(f"{running.url(service)}/_test/clock"))["now"])


def advance(running: Running, service: str, days: int) -> None:
    ok(httpx.post(f"{running.url(service)}/_test/clock/advance", json={"seconds": days * DAY}))


def landed_everything(running: Running) -> bool:
    return all(
        consumer_idle(running.platform.nats_url, stream, f"analytics-from-{stream.split('_')[1].lower()}")
        for stream in STREAMS
    )


@pytest.fixture(scope="module")
def day(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    running = start_platform(
        infra, tmp_path_factory.mktemp("analytics"), services=SERVICES, extra_env={"TEST_CLOCK": "true"}
    )
    try:
        yield run_the_day(running)
    finally:
        running.stop()


def run_the_day(running: Running) -> Day:
    registry, transfer, learning = running.url("registry"), running.url("transfer"), running.url("learning")
    home, receiver, stranger = new_tenant(), new_tenant(), new_tenant()
    hc, rc = running.auth(home, "committee"), running.auth(receiver, "committee")
    _, home_branch = build_tree(registry, hc)
    _, receiver_branch = build_tree(registry, rc)
    start = clock_now(running, "registry").date() - timedelta(days=1)

    members: list[dict[str, Any]] = []
    categories = ["full"] * 5 + ["probationary"] * 2
    for n, category in enumerate(categories):
        members.append(
            ok(
                httpx.post(
                    f"{registry}/v1/members",
                    headers=hc,
                    json={
                        "name": f"测试党员{n}",
                        "organisation_id": home_branch,
                        "category": category,
                        "gender": "male",
                        "ethnicity": "汉族",
                        "birth_date": "2001-05-12",
                        "national_id_number": national_id("20010512", sequence=n),
                    },
                ),
                201,
            )
        )

    # A mobile registration: the last probationary member works at the receiver's town for a while.
    outflow = {
        "member_id": members[6]["id"],
        "reason": "外出务工",
        "destination": "示范区",
        "host_tenant": receiver,
        "expected_months": 4,
        "fixed_place": False,
        "contact": "微信",
    }
    bad_region = httpx.post(
        f"{registry}/v1/mobile-registrations", headers=hc, json={**outflow, "host_region": "990101"}
    )
    ok(
        httpx.post(
            f"{registry}/v1/mobile-registrations", headers=hc, json={**outflow, "host_region": HOST_REGION}
        ),
        201,
    )

    def issue(member: dict[str, Any]) -> dict[str, Any]:
        case = ok(
            httpx.post(
                f"{transfer}/v1/transfers",
                headers=hc,
                json={
                    "member_id": member["id"],
                    "destination": "other_tenant",
                    "receiving_tenant": receiver,
                    "receiving_org_id": receiver_branch,
                    "reason": "工作调动",
                    "graduate": True,
                },
            ),
            201,
        )
        ok(httpx.post(f"{transfer}/v1/transfers/{case['id']}/branch-approval", headers=hc))
        ok(httpx.post(f"{transfer}/v1/transfers/{case['id']}/committee-approval", headers=hc, json=APPROVAL))
        return eventually(
            lambda: (
                (c := ok(httpx.get(f"{transfer}/v1/transfers/{case['id']}", headers=hc)))["state"]
                == "letter_issued"
                and c
            ),
            timeout=30,
            what="the letter",
        )

    def act(case: dict[str, Any], action: str, body: Any = None) -> dict[str, Any]:
        return ok(httpx.post(f"{transfer}/v1/transfers/{case['id']}/{action}", headers=rc, json=body))  # type: ignore[no-any-return]

    # Two transfers completed, one refused, one left to expire (members 0-3, all full).
    for member in members[:2]:
        case = issue(member)
        act(case, "acceptance")
        act(case, "check-in", {})
        # Enrolled, and the registry's replies all applied (as test_transfer waits before the receipt).
        eventually(
            lambda c=case: (
                (s := ok(httpx.get(f"{transfer}/v1/transfers/{c['id']}", headers=hc)))["state"]
                == "checked_in"
                and s["enrolled_member_id"]
                and not s["next_step"].startswith("the registry")
            ),
            timeout=30,
            what="the enrolment",
        )
        assert act(case, "receipt-return", {"handler": "王书记", "phone": "010-1"})["state"] == "completed"
    assert act(issue(members[2]), "refusal", {"reason": "非本单位人员"})["state"] == "refused"
    expiring = issue(members[3])

    # A branch committee meeting in the home branch, two members sign in.
    eventually(
        lambda: httpx.get(f"{learning}/v1/members/{members[4]['id']}/history", headers=hc).status_code == 200,
        what="learning to know the members",
    )
    starts = clock_now(running, "learning") + timedelta(minutes=10)
    meeting = ok(
        httpx.post(
            f"{learning}/v1/meetings",
            headers=hc,
            json={
                "organisation_id": home_branch,
                "meeting_type": "branch_committee",
                "title": "支委会",
                "mode": "online",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "short_notice_reason": "临时议题",
            },
        ),
        201,
    )
    for member in members[4:6]:
        subject = f"member:{member['id']}"
        token = {"Authorization": f"Bearer {running.token(home, 'member', subject=subject)}"}
        ok(
            httpx.post(
                f"{learning}/v1/meetings/{meeting['id']}/sign-in", headers=token, json={"method": "online"}
            ),
            201,
        )

    # A three-question quiz: member 4 gets two right (passes: 60% of 3, rounded up), member 5 one (fails).
    bank = ok(
        httpx.post(
            f"{learning}/v1/question-banks",
            headers=hc,
            json={
                "title": "党章题库",
                "questions": [
                    {"id": f"q{i}", "text": f"第{i}题", "options": ["正确", "错误"], "answer": 0}
                    for i in range(3)
                ],
            },
        ),
        201,
    )
    opens = clock_now(running, "learning")
    quiz = ok(
        httpx.post(
            f"{learning}/v1/quizzes",
            headers=hc,
            json={
                "kind": "test",
                "title": "党章测试",
                "bank_id": bank["id"],
                "organisation_ids": [home_branch],
                "opens_at": opens.isoformat(),
                "closes_at": (opens + timedelta(hours=1)).isoformat(),
            },
        ),
        201,
    )
    for member, right in ((members[4], 2), (members[5], 1)):
        subject = f"member:{member['id']}"
        token = {"Authorization": f"Bearer {running.token(home, 'member', subject=subject)}"}
        for i in range(3):
            ok(
                httpx.post(
                    f"{learning}/v1/quizzes/{quiz['id']}/answers",
                    headers=token,
                    json={"question_id": f"q{i}", "choice": 0 if i < right else 1},
                ),
                201,
            )

    # The letter runs out (90 days), and 91 silent days make the home members at risk of lost contact.
    advance(running, "transfer", 93)
    eventually(
        lambda: ok(httpx.get(f"{transfer}/v1/transfers/{expiring['id']}", headers=hc))["state"] == "expired",
        timeout=30,
        what="the letter to expire",
    )
    advance(running, "registry", 91)
    eventually(
        lambda: httpx.get(f"{registry}/v1/contact-cases", headers=hc).json(), timeout=30, what="at-risk cases"
    )
    # The committee counts its roll's categories at the period's end (ADR 0004): the five still on it.
    counted = ok(
        httpx.post(
            f"{registry}/v1/statistics/member-categories",
            headers=hc,
            json={"reference_date": str(start + timedelta(days=200))},
        ),
        201,
    )
    return Day(
        running,
        home,
        receiver,
        stranger,
        home_branch,
        start,
        registered=len(categories),
        probationary=2,
        completed=2,
        refused=1,
        expired=1,
        mobile=1,
        attendances=2,
        meetings=1,
        quizzes=2,
        quizzes_passed=1,
        counted=counted,
        bad_region=bad_region,
    )


def settled(day: Day) -> dict[str, Any]:
    """Waits until every analytics consumer has landed all it was given; returns the landing report."""
    eventually(lambda: landed_everything(day.running), timeout=60, what="analytics to land every stream")
    return day.landing()


def test_each_statistic_matches_what_the_day_did(day: Day) -> None:
    settled(day)
    members = eventually(
        lambda: (r := day.stat("members")["rows"][0])["transferred_out"] == day.completed and r,
        timeout=30,
        what="the members statistic",
    )
    assert members["registered_in_period"] == day.registered
    assert members["total"] == day.registered - day.completed
    assert members["probationary"] == day.probationary
    assert members["full_members"] == day.registered - day.completed - day.probationary
    assert day.stat("members", day.receiver)["rows"][0]["transferred_in"] == day.completed

    [transfers] = day.stat("transfers")["rows"]
    assert transfers["requested"] == day.completed + day.refused + day.expired
    assert (transfers["completed"], transfers["refused"], transfers["expired"]) == (
        day.completed,
        day.refused,
        day.expired,
    )
    assert transfers["letter_issued"] == transfers["requested"]
    assert transfers["p50_days_to_complete"] is not None and transfers["suppressed"] is False

    flows = {(r["kind"], r["from_tenant"], r["to_tenant"]): r for r in day.stat("flows")["rows"]}
    assert flows[("transfer", day.home, day.receiver)]["members"] == day.completed
    assert flows[("mobile", day.home, day.receiver)]["members"] == day.mobile

    mobile = {r["kind"]: r for r in day.stat("mobile-members")["rows"]}
    assert mobile["outflow"]["registrations"] == day.mobile
    regions = day.stat("mobile-members", group_by="host_region,host_province")["rows"]
    assert [(r["host_region"], r["host_province"], r["registrations"]) for r in regions] == [
        (HOST_REGION, "440000", day.mobile)
    ]
    assert day.bad_region.status_code == 422
    assert day.bad_region.json()["errors"][0]["field"] == "host_region"

    at_risk = [
        c
        for c in ok(
            httpx.get(
                f"{day.running.url('registry')}/v1/contact-cases",
                headers=day.running.auth(day.home, "committee"),
            )
        )
        if c["state"] == "at_risk"
    ]
    published = [
        m
        for m in messages(
            day.running.platform.nats_url, "LIANXIN_REGISTRY", f"lianxin.registry.{day.home}.contact_at_risk"
        )
    ]
    contact = day.stat("contact", group_by="")["rows"][0]
    assert contact["at_risk"] == len(published) >= len(at_risk) > 0

    cadence = day.stat("cadence")["rows"]
    assert {r["organisation_id"] for r in cadence} == {day.home_branch}
    assert sum(r["meetings_held"] for r in cadence) == day.meetings
    assert sum(r["branch_committee"] for r in cadence) == day.meetings

    learning = day.stat("learning")["rows"][0]
    assert (learning["meeting_attendances"], learning["members_attending"]) == (
        day.attendances,
        day.attendances,
    )
    assert (learning["quizzes_completed"], learning["quizzes_passed"]) == (day.quizzes, day.quizzes_passed)
    assert learning["quiz_score_percent"] == 50.0  # 3 right of 6 asked

    # Notify told people about the day (the meeting, the transfers): each delivery it published, counted once.
    delivered = [
        m
        for m in messages(day.running.platform.nats_url, "LIANXIN_NOTIFY", f"lianxin.notify.{day.home}.>")
        if m.subject.endswith(".notification_delivered")
    ]
    notifications = day.stat("notifications", group_by="")["rows"][0]
    assert (
        notifications["delivered"]
        == len({json.loads(m.data)["data"]["notification_id"] for m in delivered})
        > 0
    )
    assert "张" not in b"".join(m.data for m in delivered).decode() and "@" not in str(
        [json.loads(m.data)["data"]["recipient_id"] for m in delivered if "member:" in m.data.decode()]
    )


def test_members_serve_the_registrys_category_count(day: Day) -> None:
    settled(day)
    exact = {c["category"]: c for c in day.counted["cells"]}
    on_roll = day.registered - day.completed
    assert exact["total"]["count"] == on_roll and exact["age_30_and_under"]["count"] == on_roll
    assert (exact["probationary"]["count"], exact["probationary"]["published"]) == (day.probationary, None)
    served = eventually(
        lambda: day.stat("members")["details"]["categories"], timeout=30, what="the category count"
    )
    cells = {c["category"]: c for c in served}
    assert [c["category"] for c in served] == [c["category"] for c in day.counted["cells"]]
    assert [c["label"] for c in served] == [c["label"] for c in day.counted["cells"]]
    assert (cells["total"]["members"], cells["female"]["members"]) == (on_roll, 0)
    assert cells["probationary"]["members"] is None and cells["probationary"]["suppressed"] is True
    assert cells["occupation_unknown"]["members"] == on_roll
    assert CATEGORY_CELLS == CELLS  # analytics' copy of the registry's cells
    assert day.stat("members", day.stranger)["details"]["categories"] == []


def test_small_cells_of_the_other_tenant_and_a_stranger(day: Day) -> None:
    settled(day)
    # The receiver is party to the home tenant's transfers, but four cases of another tenant are a small cell.
    [seen] = day.stat("transfers", day.receiver)["rows"]
    assert seen["suppressed"] is True and seen["requested"] is None
    for name in (
        "members",
        "transfers",
        "flows",
        "mobile-members",
        "contact",
        "cadence",
        "learning",
        "notifications",
    ):
        rows = day.stat(name, day.stranger)["rows"]
        numbers = [v for r in rows for k, v in r.items() if isinstance(v, int) and not isinstance(v, bool)]
        assert all(v == 0 for v in numbers), (name, rows)


def test_csv_and_problems(day: Day) -> None:
    settled(day)
    response = httpx.get(
        f"{day.running.url('analytics')}/v1/statistics/transfers",
        params={"from": str(day.start), "to": str(day.start + timedelta(days=200))},
        headers={**day.running.auth(day.home, "committee"), "Accept": "text/csv"},
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert int(row["completed"]) == day.completed
    unknown = day.get("shoe-sizes", day.home)
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    bad = day.get("transfers", day.home, group_by="colour")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "group_by"
    bad_date = day.get("transfers", day.home, **{"from": "yesterday"})
    assert bad_date.status_code == 422 and bad_date.json()["errors"][0]["field"] == "from"
    member = httpx.get(
        f"{day.running.url('analytics')}/v1/statistics/members", headers=day.running.auth(day.home, "member")
    )
    assert member.status_code == 403
    assert (
        httpx.get(f"{day.running.url('analytics')}/charts").text.count("<svg") == 0
    )  # drawn by the page's script


def test_rebuild_gives_identical_tables(day: Day, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rebuilt_file = tmp_path / "rebuilt.duckdb"

    def attempt() -> dict[str, Any] | None:
        before = settled(day)["tables"]
        assert (
            main(
                [
                    "analytics",
                    "rebuild",
                    "--nats-url",
                    day.running.platform.nats_url,
                    "--into",
                    str(rebuilt_file),
                ]
            )
            == 0
        )
        con = connect(rebuilt_file, read_only=True)
        try:
            rebuilt = table_digest(con)
        finally:
            con.close()
        after = settled(day)["tables"]
        return rebuilt if before == after else None  # something landed meanwhile: try again

    rebuilt = eventually(attempt, timeout=90, interval=1, what="a rebuild against a still store")
    assert rebuilt == day.landing()["tables"]
    assert rebuilt["events"]["rows"] > 30
    printed = capsys.readouterr()
    assert "LIANXIN_REGISTRY" in printed.err and "[######" in printed.err  # the progress bar
    assert '"messages"' in printed.out

    # The rebuilt file exported: one folder per tenant and month.
    assert main(["analytics", "export", str(tmp_path / "parquet"), "--database", str(rebuilt_file)]) == 0
    assert list((tmp_path / "parquet" / "transfer_steps" / f"tenant={day.home}").glob("month=*/*.parquet"))
    # And the same statistics through the direct replay API the CLI wraps.
    direct = asyncio.run(replay(day.running.platform.nats_url, tmp_path / "direct.duckdb"))
    assert direct["tables"] == rebuilt


def test_every_message_redelivered_or_republished_counts_once(day: Day) -> None:
    before = settled(day)["tables"]
    analytics = day.running.platform.services["analytics"]
    analytics.stop()
    asyncio.run(
        _delete_consumer(day.running.platform.nats_url, "LIANXIN_REGISTRY", "analytics-from-registry")
    )
    analytics.start()  # recreates the durable consumer from the first message: every position again
    analytics.wait_ready()
    # And one event published again at a new position, as a relay that lost its PubAck would.
    [first] = messages(
        day.running.platform.nats_url, "LIANXIN_REGISTRY", f"lianxin.registry.{day.home}.member_registered"
    )[:1]
    publish(day.running.platform.nats_url, first.subject, first.data, {"Nats-Msg-Id": "republished-once"})
    after = eventually(
        lambda: (
            (r := settled(day))["positions"]["LIANXIN_REGISTRY"] > 0
            and r["tables"]["tracking"]["rows"] == before["tracking"]["rows"] + 1
            and r
        ),
        timeout=60,
        what="the redelivered registry stream to land",
    )["tables"]
    for table, digest in before.items():
        if table != "tracking":
            assert after[table] == digest, table
    # The restarted process was given every registry message again, and the copy: each one a duplicate.
    metrics = httpx.get(f"{day.running.url('analytics')}/metrics").text

    def total(prefix: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith(prefix))

    assert (
        total('lianxin_analytics_duplicates_total{stream="LIANXIN_REGISTRY"}')
        == day.landing()["positions"]["LIANXIN_REGISTRY"]
    )
    assert total("lianxin_analytics_landed_total{") == 0, "the restarted process landed nothing new"


async def _delete_consumer(url: str, stream: str, durable: str) -> None:
    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_consumer(stream, durable)
    finally:
        await nc.close()


def test_a_second_instance_stands_by_and_takes_over_when_the_first_dies(day: Day, tmp_path: Path) -> None:
    before = settled(day)["tables"]
    first = day.running.platform.services["analytics"]
    port = str(free_port())
    old_port = first.base_url.rsplit(":", 1)[1]
    env = {k: (port if v == old_port else v) for k, v in first.env.items()}
    standby = ServiceProcess(
        "analytics",
        {**env, "ANALYTICS_STANDBY_POLL_SECONDS": "0.2"},
        tmp_path / "standby.log",
        first.base_url.rsplit(":", 1)[0] + f":{port}",
    )
    standby.start()
    try:
        # Up and answering, but not ready: the first instance holds the DuckDB file. (Before its first try of
        # the lock it says it is opening the file; then it must say it stands by, and stay not ready.)
        ready = eventually(
            lambda: (r := _get(f"{standby.base_url}/readyz")) is not None and "standby" in r.text and r,
            timeout=60,
            what="the standby to say it stands by",
        )
        assert ready.status_code == 503
        refused = httpx.get(
            f"{standby.base_url}/v1/statistics/transfers", headers=day.running.auth(day.home, "committee")
        )
        assert refused.status_code == 503 and "standby" in refused.json()["detail"]
        first.kill()  # the active instance dies: the OS releases its lock, the standby opens the file
        standby.wait_ready(timeout=60)
        taken_over = ok(httpx.get(f"{standby.base_url}/v1/operator/landing", headers=day.operator()))
        assert taken_over["tables"] == before  # the same file, nothing landed twice
        [transfers] = ok(
            httpx.get(
                f"{standby.base_url}/v1/statistics/transfers",
                params={"from": str(day.start), "to": str(day.end)},
                headers=day.running.auth(day.home, "committee"),
            )
        )["rows"]
        assert transfers["completed"] == day.completed
    finally:
        standby.stop()
        first.start()
        first.wait_ready()


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return None
