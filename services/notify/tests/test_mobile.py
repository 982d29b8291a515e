"""SMS, WeChat and WeCom end to end against a local stand-in for the providers (provider_server.py): escalation
steps, retries on throttling, dead letters on an invalid template, receipts, TD opt-out, the daily limit, quiet
hours, token caching and the openid exchange. No live provider was called.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from notify.application import NotifyApplication
from notify.channels.fakeproviders import ALIYUN_SECRET, TENCENT_KEY, ProviderState, provider_server
from notify.channels.phonebook import RegistryPhonebook
from notify.channels.senders import Sender, SendOutcome, SmtpSettings
from notify.channels.sms import digest_key, phone_digest
from notify.channels.sms_aliyun import AliyunSms
from notify.channels.sms_tencent import TencentSms
from notify.channels.wechat import OfficialAccount, TokenCache
from notify.consumers import handle
from notify.delivery.mobile import Endpoints, MobileSender
from notify.domain import Delivery, DeliveryStatus
from notify.domain.escalation import Escalation, escalation_id
from notify.domain.sms_record import SmsRecord, sms_record_id
from shared.auth import ensure_dev_keypair
from shared.clock import SettableClock
from shared.oauth import DevServiceTokens

TENANT = "demo-university"
PHONE = "13800138000"
CIPHER_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


@pytest.fixture
def server() -> Iterator[tuple[str, ProviderState]]:
    with provider_server() as running:
        yield running


@pytest.fixture
def sender(server: tuple[str, ProviderState], tmp_path: Path, clock: SettableClock) -> Sender:
    base, _ = server
    private, _ = ensure_dev_keypair(tmp_path / "keys")
    mobile = MobileSender(
        phonebook=RegistryPhonebook(
            base, DevServiceTokens(private, "lianxin-notify", issuer="lianxin-dev", audience="lianxin")
        ),
        digest_key=digest_key(CIPHER_KEY),
        endpoints=Endpoints(f"{base}/aliyun/", f"{base}/tencent/", base, base, timeout_seconds=2),
        now=clock.now,
    )
    return Sender(SmtpSettings("127.0.0.1", 9, "x"), mobile=mobile)


def configure_sms(app: NotifyApplication, provider: str = "aliyun", **extra: Any) -> str | None:
    credentials = (
        {"access_key_id": "LTAItest", "access_key_secret": ALIYUN_SECRET}
        if provider == "aliyun"
        else {"secret_id": "AKIDtest", "secret_key": TENCENT_KEY, "sdk_app_id": "1400000001"}
    )
    _, token = app.configure_sms(
        TENANT,
        provider=provider,
        credentials=credentials,
        region=None,
        templates={
            "reminder.letter-expiry": {
                "sign_name": "连心党建",
                "template_id": "SMS_100001",
                "variables": {"name": "member", "date": "expires_on"},
            },
            "reminder.contact-case": {"sign_name": "连心党建", "template_id": "SMS_100002", "variables": {}},
        },
        daily_limit=extra.get("daily_limit", 5),
        quiet_hours=None,
        unit_price_fen=4,
        rotate_callback_token=False,
        by="admin",
    )
    return token


def letter(
    app: NotifyApplication, cloudevent: Any, *, expires_on: str = "2026-11-25"
) -> tuple[str, dict[str, Any]]:
    member = str(uuid4())
    data = {
        "case_id": f"case-{uuid4().hex[:6]}",
        "member_id": member,
        "sending_tenant": TENANT,
        "receiving_tenant": "demo-district",
        "sending_org_id": str(uuid4()),
        "receiving_org_id": str(uuid4()),
        "letter_no": "17",
        "expires_on": expires_on,
    }
    handle(app, cloudevent("transfer", "letter_issued", data, tenant=TENANT))
    return member, data


async def attempt(app: NotifyApplication, sender: Sender, delivery_id: UUID) -> Delivery:
    delivery = app.get_delivery(TENANT, delivery_id)
    outgoing = app.prepare_attempt(delivery_id, delivery.next_attempt)
    assert outgoing is not None
    outcome = await sender.send(outgoing)
    recorded = app.record_attempt(delivery_id, delivery.next_attempt, outcome)
    assert recorded is not None
    return recorded


def sms_step(app: NotifyApplication, data: dict[str, Any]) -> Delivery:
    escalation = app.take_escalation_step(escalation_id(TENANT, "letter-expiry", data["case_id"]), "sms")
    assert escalation is not None
    (delivery_id,) = escalation.taken["sms"]["deliveries"]
    return app.get_delivery(TENANT, UUID(delivery_id))


def pending_sms(
    app: NotifyApplication,
    cloudevent: Any,
    clock: SettableClock,
    state: ProviderState,
    provider: str = "aliyun",
) -> tuple[str, dict[str, Any], Delivery]:
    """SMS set up, a letter expiring in two days for a member with a phone, a day later: the SMS step taken."""
    configure_sms(app, provider)
    member, data = letter(app, cloudevent)
    state.phones[member] = PHONE
    clock.advance(timedelta(days=1))
    return member, data, sms_step(app, data)


def all_stored_events(app: NotifyApplication) -> bytes:
    return b"".join(n.state for n in app.recorder.select_notifications(1, 100_000))


async def test_a_letter_about_to_expire_escalates_to_sms_retried_on_throttling_then_receipted(
    app: NotifyApplication,
    cloudevent: Any,
    clock: SettableClock,
    sender: Sender,
    server: tuple[str, ProviderState],
) -> None:
    _, state = server
    configure_sms(app)
    member, data = letter(app, cloudevent)
    state.phones[member] = PHONE
    escalation = app.repository.get(escalation_id(TENANT, "letter-expiry", data["case_id"]))
    assert isinstance(escalation, Escalation)
    assert [s["step"] for s in escalation.steps] == ["wechat", "sms"]
    # Deadline 2026-11-25 09:00 in Shanghai: WeChat is already due (72 h before), SMS a day before.
    assert escalation.steps[1]["at"] == "2026-11-24T09:00:00+08:00"

    wechat = app.take_escalation_step(escalation.id, "wechat")
    assert wechat is not None and wechat.taken["wechat"]["deliveries"] == []
    assert "no WeChat template" in wechat.taken["wechat"]["note"], "a step with nothing to send says why"
    assert app.take_escalation_step(escalation.id, "wechat") is None, "each step once"

    clock.advance(timedelta(days=1))
    delivery = sms_step(app, data)
    assert delivery.channel == "sms" and delivery.recipient == f"member:{member}"
    assert json.loads(delivery.body) == {"values": {"name": "党员", "date": "2026-11-25"}}

    state.script["aliyun"] = ["isv.BUSINESS_LIMIT_CONTROL"]
    failed = await attempt(app, sender, delivery.id)
    assert failed.status is DeliveryStatus.Pending and "BUSINESS_LIMIT_CONTROL" in str(failed.last_error)
    sent = await attempt(app, sender, delivery.id)
    assert sent.status is DeliveryStatus.Sent and sent.attempts == 2

    posted = [p for name, p in state.requests if name == "aliyun"]
    assert posted[-1]["PhoneNumbers"] == PHONE and posted[-1]["OutId"] == str(delivery.id)
    assert json.loads(posted[-1]["TemplateParam"]) == {"name": "党员", "date": "2026-11-25"}
    biz_id = "9006197469364984^1"
    record = app.repository.get(sms_record_id(TENANT, "aliyun", biz_id))
    assert isinstance(record, SmsRecord) and record.units == 1 and record.month == "2026-11"

    parser = AliyunSms(access_key_id="", access_key_secret="", endpoint="", now=clock.now)
    report = json.dumps(
        [
            {
                "phone_number": PHONE,
                "success": True,
                "err_code": "DELIVERED",
                "biz_id": biz_id,
                "out_id": str(delivery.id),
                "sms_size": "1",
            }
        ]
    ).encode()
    (receipt,) = parser.receipts(report)
    receipted = app.record_sms_receipt(TENANT, "aliyun", receipt)
    assert receipted is not None and receipted.status == "delivered" and receipted.units == 1
    assert app.record_sms_receipt("demo-district", "aliyun", receipt) is None, (
        "another tenant's receipt finds nothing"
    )

    assert PHONE.encode() not in all_stored_events(app), "the number is never in an event"


async def test_an_invalid_template_dead_letters_at_once_and_a_replay_sends_the_same_delivery(
    app: NotifyApplication,
    cloudevent: Any,
    clock: SettableClock,
    sender: Sender,
    server: tuple[str, ProviderState],
) -> None:
    _, state = server
    _, _, delivery = pending_sms(app, cloudevent, clock, state)
    state.script["aliyun"] = ["isv.SMS_TEMPLATE_ILLEGAL"]
    dead = await attempt(app, sender, delivery.id)
    assert dead.status is DeliveryStatus.Dead and "SMS_TEMPLATE_ILLEGAL" in str(dead.last_error)
    app.replay_delivery(TENANT, delivery.id, by="operator")
    assert (await attempt(app, sender, delivery.id)).status is DeliveryStatus.Sent


async def test_retries_end_in_a_dead_letter_when_the_provider_stays_down(
    app: NotifyApplication,
    cloudevent: Any,
    clock: SettableClock,
    sender: Sender,
    server: tuple[str, ProviderState],
) -> None:
    _, state = server
    _, _, delivery = pending_sms(app, cloudevent, clock, state)
    state.script["aliyun"] = ["ServiceUnavailable"] * 3
    for _ in range(3):
        last = await attempt(app, sender, delivery.id)
    assert last.status is DeliveryStatus.Dead and "gave up after 3 attempts" in str(last.last_error)


async def test_a_td_reply_opts_the_member_out_and_later_sms_are_not_sent(
    app: NotifyApplication,
    cloudevent: Any,
    clock: SettableClock,
    sender: Sender,
    server: tuple[str, ProviderState],
) -> None:
    _, state = server
    token = configure_sms(app, "tencent")
    assert token and app.sms_callback_accepts(TENANT, "tencent", token)
    assert not app.sms_callback_accepts(TENANT, "tencent", "guess"), "a wrong token is refused"
    assert not app.sms_callback_accepts("demo-district", "tencent", token), "the token is the tenant's own"
    member, data = letter(app, cloudevent)
    state.phones[member] = PHONE
    clock.advance(timedelta(days=1))
    delivery = sms_step(app, data)
    sent = await attempt(app, sender, delivery.id)
    assert sent.status is DeliveryStatus.Sent
    (posted,) = [p for name, p in state.requests if name == "tencent"]
    assert posted["PhoneNumberSet"] == ["+86" + PHONE] and posted["TemplateParamSet"] == [
        "党员",
        "2026-11-25",
    ]
    serial = "5000:104571066915705365784949961"
    assert app.repository.get(sms_record_id(TENANT, "tencent", serial)).units == 2, "Tencent's Fee is counted"

    parser = TencentSms(secret_id="", secret_key="", sdk_app_id="", endpoint="", now=clock.now)
    (reply,) = parser.replies(
        json.dumps({"nationcode": "86", "mobile": PHONE, "text": "TD", "sign": "连心党建"}).encode()
    )
    assert reply.opts_out
    subject = app.record_sms_reply(
        TENANT, "tencent", phone_digest(digest_key(CIPHER_KEY), reply.phone), opts_out=True
    )
    assert subject == f"member:{member}"
    reach = app.reach_of(TENANT, subject)
    assert reach is not None and reach.sms_opted_out and reach.sms_choice_source == "reply:tencent"

    # The same member again, through another letter: the opt-out holds.
    second_case = {**data, "case_id": "case-again"}
    handle(app, cloudevent("transfer", "letter_issued", second_case, tenant=TENANT))
    again = sms_step(app, second_case)
    outgoing = app.prepare_attempt(again.id, 1)
    assert outgoing is not None and outgoing.target is None and "opted out" in str(outgoing.problem)
    (receipt,) = parser.receipts(
        json.dumps([{"sid": serial, "report_status": "FAIL", "errmsg": "MK:0001", "mobile": PHONE}]).encode()
    )
    assert app.record_sms_receipt(TENANT, "tencent", receipt).status == "failed"  # type: ignore[union-attr]
    assert PHONE.encode() not in all_stored_events(app)


async def test_the_tenants_daily_limit_stops_the_sms_beyond_it_until_the_next_day(
    app: NotifyApplication,
    cloudevent: Any,
    clock: SettableClock,
    sender: Sender,
    server: tuple[str, ProviderState],
) -> None:
    _, state = server
    configure_sms(app, daily_limit=2)
    member, data = letter(app, cloudevent)
    state.phones[member] = PHONE
    clock.advance(timedelta(days=1))
    outcomes = []
    for n in range(3):
        case = {**data, "case_id": f"case-{n}"}
        handle(app, cloudevent("transfer", "letter_issued", case, tenant=TENANT))
        delivery = sms_step(app, case)
        outgoing = app.prepare_attempt(delivery.id, 1)
        assert outgoing is not None
        outcomes.append(outgoing.problem)
        if outgoing.problem is None:
            app.record_attempt(delivery.id, 1, await sender.send(outgoing))
    assert outcomes[:2] == [None, None] and "2 SMS today" in str(outcomes[2])
    clock.advance(timedelta(days=1))
    reach = app.reach_of(TENANT, f"member:{member}")
    assert reach is not None and reach.sms_on("2026-11-25") == 0, "a new day starts from zero"


def test_sms_waits_for_the_end_of_quiet_hours_unless_the_rule_is_urgent(
    app: NotifyApplication, cloudevent: Any, clock: SettableClock
) -> None:
    from notify.domain.escalation import Ladder

    configure_sms(app)
    clock.advance(datetime(2026, 11, 23, 15, 0, tzinfo=UTC) - clock.now())  # 23:00 in Shanghai
    _, data = letter(app, cloudevent, expires_on="2026-11-24")
    delivery = sms_step(app, data)
    assert delivery.next_attempt_at == datetime(2026, 11, 24, 0, 0, tzinfo=UTC), "08:00 in Shanghai"

    app.set_escalation(
        TENANT,
        "reminder.letter-expiry",
        Ladder(wechat_before_hours=None, sms_before_hours=24, urgent=True),
        by="admin",
    )
    _, urgent = letter(app, cloudevent, expires_on="2026-11-24")
    assert sms_step(app, urgent).next_attempt_at == clock.now()


def test_closing_the_item_closes_the_escalation_and_withdraws_what_is_pending(
    app: NotifyApplication, cloudevent: Any, clock: SettableClock
) -> None:
    configure_sms(app)
    _, data = letter(app, cloudevent)
    clock.advance(timedelta(days=1))
    delivery = sms_step(app, data)
    handle(
        app,
        cloudevent("transfer", "member_checked_in", {**data, "receipt_due_on": "2026-12-20"}, tenant=TENANT),
    )
    escalation = app.repository.get(escalation_id(TENANT, "letter-expiry", data["case_id"]))
    assert escalation.closed
    assert app.get_delivery(TENANT, delivery.id).status is DeliveryStatus.Withdrawn
    assert app.take_escalation_step(escalation.id, "sms") is None


def test_no_escalation_for_a_deadline_already_past_or_a_case_already_lost(
    app: NotifyApplication, cloudevent: Any, clock: SettableClock
) -> None:
    _, data = letter(app, cloudevent, expires_on="2026-11-20")
    assert app.find(Escalation, escalation_id(TENANT, "letter-expiry", data["case_id"])) is None
    member, org = str(uuid4()), str(uuid4())
    handle(
        app,
        cloudevent(
            "registry",
            "lost_contact_case_opened",
            {"member_id": member, "organisation_id": org},
            tenant=TENANT,
        ),
    )
    assert app.find(Escalation, escalation_id(TENANT, "contact-case", member)) is None
    flagged = cloudevent(
        "registry",
        "contact_at_risk",
        {"member_id": member, "organisation_id": org, "cause": "外出务工经商", "silent_days": 170},
        tenant=TENANT,
    )
    handle(app, flagged)
    at_risk = app.find(Escalation, escalation_id(TENANT, "contact-case", member))
    assert at_risk is not None, "an at-risk case 10 days from 失联 escalates"
    assert at_risk.deadline - flagged.time == timedelta(days=10)


async def test_wechat_link_then_template_message_with_a_cached_token_refreshed_when_stale(
    app: NotifyApplication,
    cloudevent: Any,
    clock: SettableClock,
    sender: Sender,
    server: tuple[str, ProviderState],
) -> None:
    base, state = server
    app.configure_wechat(
        TENANT,
        app_id="wx0123456789",
        app_secret="wechat-secret-1",
        redirect_uri="https://lianxin.example/m/link",
        templates={
            "reminder.letter-expiry": {
                "template_id": "TPL-1",
                "fields": {"thing1": "member", "time2": "expires_on"},
            }
        },
        by="admin",
    )
    member = str(uuid4())
    subject = f"member:{member}"
    state_token = app.start_wechat_link(TENANT, subject)
    account = OfficialAccount(
        app_id="wx0123456789", app_secret="wechat-secret-1", base_url=base, tokens=TokenCache()
    )
    assert "scope=snsapi_base" in account.authorize_url(redirect_uri="https://x/", state=state_token)
    state.codes["CODE-1"] = "oOPENID-1"
    with pytest.raises(ValueError, match="40029"):
        await account.exchange_code("CODE-0")
    openid = await account.exchange_code("CODE-1")
    with pytest.raises(Exception, match="state"):
        app.finish_wechat_link(TENANT, subject, "forged-state-123", openid)
    reach = app.finish_wechat_link(TENANT, subject, state_token, openid)
    assert reach.openid is not None and "oOPENID-1" not in reach.openid, "the openid is stored sealed"
    assert b"oOPENID-1" not in all_stored_events(app)

    data = {
        "case_id": "case-wx",
        "member_id": member,
        "sending_tenant": TENANT,
        "receiving_tenant": "demo-district",
        "sending_org_id": str(uuid4()),
        "receiving_org_id": str(uuid4()),
        "letter_no": "18",
        "expires_on": "2026-11-25",
    }
    handle(app, cloudevent("transfer", "letter_issued", data, tenant=TENANT))
    step = app.take_escalation_step(escalation_id(TENANT, "letter-expiry", "case-wx"), "wechat")
    assert step is not None
    (delivery_id,) = step.taken["wechat"]["deliveries"]
    first = await attempt(app, sender, UUID(delivery_id))
    assert first.status is DeliveryStatus.Sent
    sent = [b for path, b in state.requests if path == "/cgi-bin/message/template/send"]
    assert sent[-1]["touser"] == "oOPENID-1" and sent[-1]["data"]["time2"] == {"value": "2026-11-25"}

    # The cached token is reused; once WeChat calls it stale (40001) a new one is fetched and the send retried.
    mobile = sender.mobile
    tokens_before = state.tokens_issued
    state.valid_token = "rotated-elsewhere"
    outgoing = app.prepare_attempt(UUID(delivery_id), 1)
    assert outgoing is None, "a sent delivery is not sent again"
    from notify.channels.targets import WeChatTarget

    again = await mobile.send(  # type: ignore[union-attr]
        _outgoing(
            first, WeChatTarget("wx0123456789", "wechat-secret-1", "oOPENID-1", "TPL-1", {"thing1": "x"})
        )
    )
    assert again.ok and state.tokens_issued == tokens_before + 1
    state.script["/cgi-bin/message/template/send"] = [{"errcode": 45009, "errmsg": "api freq out of limit"}]
    limited = await mobile.send(_outgoing(first, WeChatTarget("wx0123456789", "s", "oOPENID-1", "TPL-1", {})))  # type: ignore[union-attr]
    assert not limited.ok and limited.retryable
    state.script["/cgi-bin/message/template/send"] = [{"errcode": 40037, "errmsg": "invalid template_id"}]
    invalid = await mobile.send(_outgoing(first, WeChatTarget("wx0123456789", "s", "oOPENID-1", "TPL-X", {})))  # type: ignore[union-attr]
    assert not invalid.ok and not invalid.retryable and "40037" in invalid.detail

    subscribe = WeChatTarget(
        "wx0123456789", "s", "oOPENID-1", "SUB-1", {"thing1": "报到"}, None, kind="subscribe"
    )
    assert (await mobile.send(_outgoing(first, subscribe))).ok  # type: ignore[union-attr]
    (path, posted), *_ = [(p, b) for p, b in reversed(state.requests) if p.startswith("/cgi-bin/message/")]
    assert path == "/cgi-bin/message/subscribe/bizsend" and posted["template_id"] == "SUB-1"
    state.script["/cgi-bin/message/subscribe/bizsend"] = [
        {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
    ]
    refused = await mobile.send(_outgoing(first, subscribe))  # type: ignore[union-attr]
    assert not refused.ok and not refused.retryable, (
        "a member who did not subscribe will not be reached by retrying"
    )


def test_a_provider_message_echoing_the_number_is_scrubbed() -> None:
    from notify.delivery.mobile import scrub

    assert scrub("isv.MOBILE_NUMBER_ILLEGAL: 13800138000 is not valid", "138-0013-8000") == (
        "isv.MOBILE_NUMBER_ILLEGAL: *** is not valid"
    )
    assert scrub("bad +8613800138000", "13800138000") == "bad ***"


def _outgoing(delivery: Delivery, target: Any) -> Any:
    from notify.channels.senders import Outgoing

    return Outgoing(
        delivery.id,
        9,
        TENANT,
        delivery.rule,
        "t",
        "e",
        delivery.channel,
        "zh-CN",
        "t",
        "b",
        None,
        target,
        None,
    )


async def test_wecom_application_message_to_the_secretaries_of_a_contact_case(
    app: NotifyApplication,
    cloudevent: Any,
    clock: SettableClock,
    sender: Sender,
    server: tuple[str, ProviderState],
) -> None:
    _, state = server
    org = str(uuid4())
    app.configure_wecom(
        TENANT,
        corp_id="ww0123456789",
        agent_id=1000002,
        secret="wecom-secret-1",
        routes=[{"role": "branch_secretary", "org_id": org, "touser": "zhangsan|lisi", "toparty": ""}],
        by="admin",
    )
    member = str(uuid4())
    handle(
        app,
        cloudevent(
            "registry",
            "contact_at_risk",
            {"member_id": member, "organisation_id": org, "cause": "外出务工经商", "silent_days": 170},
            tenant=TENANT,
        ),
    )
    step = app.take_escalation_step(escalation_id(TENANT, "contact-case", member), "wechat")
    assert step is not None
    deliveries = [app.get_delivery(TENANT, UUID(d)) for d in step.taken["wechat"]["deliveries"]]
    assert [d.channel for d in deliveries] == ["wecom"], (
        "the committee has no route: only the branch secretaries"
    )
    assert "committee@*: no WeCom route" in step.taken["wechat"]["note"]
    sent = await attempt(app, sender, deliveries[0].id)
    assert sent.status is DeliveryStatus.Sent
    body = [b for path, b in state.requests if path == "/cgi-bin/message/send"][-1]
    assert body["touser"] == "zhangsan|lisi" and body["agentid"] == 1000002 and body["msgtype"] == "markdown"
    assert state.tokens_issued == 1


async def test_a_member_without_a_phone_is_dead_lettered_and_an_unreachable_registry_is_retried(
    app: NotifyApplication,
    cloudevent: Any,
    clock: SettableClock,
    sender: Sender,
    server: tuple[str, ProviderState],
) -> None:
    _, state = server
    configure_sms(app)
    member, data = letter(app, cloudevent)
    clock.advance(timedelta(days=1))
    delivery = sms_step(app, data)
    state.script["registry"] = [503]
    retried = await attempt(app, sender, delivery.id)
    assert retried.status is DeliveryStatus.Pending and "registry answered HTTP 503" in str(
        retried.last_error
    )
    dead = await attempt(app, sender, delivery.id)
    assert dead.status is DeliveryStatus.Dead and "no phone number" in str(dead.last_error)
    assert not [n for n, _ in state.requests if n == "aliyun"]
    assert member not in str(SendOutcome(False, False, "x"))


def test_an_sms_naming_the_member_is_stored_sealed_and_never_sent_after_the_erasure(
    app: NotifyApplication, cloudevent: Any, clock: SettableClock, directory: Any
) -> None:
    configure_sms(app)
    member, data = letter(app, cloudevent)
    directory.names[UUID(member)] = "欧阳短信"
    clock.advance(timedelta(days=1))
    delivery = sms_step(app, data)
    assert delivery.named_member == member and "欧阳短信" in delivery.body
    stored = all_stored_events(app)
    assert "欧阳短信".encode() not in stored and "欧阳短信".encode("unicode_escape") not in stored
    handle(
        app,
        cloudevent(
            "registry",
            "personal_data_erased",
            {"member_id": member, "erased_on": "2026-11-24"},
            tenant=TENANT,
        ),
    )
    outgoing = app.prepare_attempt(delivery.id, delivery.next_attempt)
    assert outgoing is not None and outgoing.target is None and (outgoing.problem or "").startswith("erased")
