"""Notify's phone channels end to end: real PostgreSQL, NATS, the registry and notify, and the local stand-in for
the SMS and WeChat providers (notify.channels.fakeproviders). A letter expiring tomorrow escalates to an SMS; the SMS
sender reads the number from the registry with its own token; the provider's receipt and a TD reply come back
through the verified callbacks; the month's count is served. No live provider was called.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from notify.channels.fakeproviders import ALIYUN_SECRET, ProviderState, provider_server
from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import build_tree, eventually, new_tenant, service_now
from tests.integration.jetstream import publish

pytestmark = pytest.mark.integration
SEQUENCE = itertools.count(1)
PHONE = "13912345678"


@dataclass
class Stack:
    running: Running
    providers: ProviderState

    @property
    def notify(self) -> str:
        return self.running.url("notify")

    def headers(self, tenant: str, *roles: str, subject: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.running.token(tenant, *roles, subject=subject)}"}


@pytest.fixture(scope="module")
def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with provider_server() as (base, state):
        running = start_platform(
            infra,
            tmp_path_factory.mktemp("notify-mobile"),
            services=("registry", "notify"),
            extra_env={
                "TEST_CLOCK": "true",
                "DELIVERY_BACKOFF_BASE_SECONDS": "1",
                "DELIVERY_MAX_ATTEMPTS": "3",
                "ALIYUN_SMS_ENDPOINT": f"{base}/aliyun/",
                "TENCENT_SMS_ENDPOINT": f"{base}/tencent/",
                "WECHAT_API_BASE": base,
                "WECOM_API_BASE": base,
            },
        )
        try:
            process = running.platform.services["notify"]
            process.env["REGISTRY_URL"] = running.url("registry")
            process.stop()
            process.start()
            process.wait_ready()
            yield Stack(running, state)
        finally:
            running.stop()


def publish_transfer(stack: Stack, step: str, data: dict[str, Any], *, tenant: str) -> str:
    sequence = next(SEQUENCE)
    event_id = f"{data['case_id']}:{sequence}"
    now = service_now(stack.notify).isoformat()
    event = {
        "specversion": "1.0",
        "id": event_id,
        "source": "/lianxin/transfer",
        "type": f"cn.lianxin.transfer.{step}.v1",
        "subject": data["case_id"],
        "time": now,
        "tenantid": tenant,
        "sequence": str(sequence),
        "correlationid": data["case_id"],
        "data": data,
    }
    publish(
        stack.running.platform.nats_url,
        f"lianxin.transfer.{tenant}.{step}",
        json.dumps(event).encode(),
        {"Nats-Msg-Id": event_id},
    )
    return event_id


def sms_settings() -> dict[str, Any]:
    return {
        "provider": "aliyun",
        "credentials": {"access_key_id": "LTAItest", "access_key_secret": ALIYUN_SECRET},
        "templates": {
            "reminder.letter-expiry": {
                "sign_name": "连心党建",
                "template_id": "SMS_100001",
                "variables": {"name": "member", "date": "expires_on"},
            }
        },
        "unit_price_fen": 4,
    }


def test_sms_settings_are_the_tenants_own_and_bad_input_names_the_field(stack: Stack) -> None:
    tenant, other = new_tenant(), new_tenant()
    admin = stack.headers(tenant, "committee")
    created = httpx.put(f"{stack.notify}/v1/mobile/sms", headers=admin, json=sms_settings())
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["callback_token"] and body["sms"]["has_credentials"]
    assert ALIYUN_SECRET not in created.text.replace(body["callback_token"], "")
    again = httpx.put(f"{stack.notify}/v1/mobile/sms", headers=admin, json=sms_settings())
    assert again.json()["callback_token"] is None, "the token is shown once; it is not made again"

    theirs = httpx.get(f"{stack.notify}/v1/mobile", headers=stack.headers(other, "committee"))
    assert theirs.status_code == 200 and theirs.json()["sms"] is None
    member_token = stack.headers(tenant, "member", subject=f"member:{uuid4()}")
    assert (
        httpx.put(f"{stack.notify}/v1/mobile/sms", headers=member_token, json=sms_settings()).status_code
        == 403
    )

    bad = httpx.put(
        f"{stack.notify}/v1/mobile/sms",
        headers=admin,
        json={**sms_settings(), "credentials": {"access_key_id": "x"}},
    )
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert "access_key_secret" in bad.text and "credentials" in bad.text
    no_rule = httpx.put(
        f"{stack.notify}/v1/mobile/escalations/transfer.letter_issued",
        headers=admin,
        json={"sms_before_hours": 1},
    )
    assert no_rule.status_code == 422 and "rule" in no_rule.text

    forged = httpx.post(
        f"{stack.notify}/v1/mobile/callbacks/{tenant}/aliyun/receipts", params={"token": "guess"}, json=[]
    )
    assert forged.status_code == 401
    other_token = httpx.post(
        f"{stack.notify}/v1/mobile/callbacks/{other}/aliyun/receipts",
        params={"token": body["callback_token"]},
        json=[],
    )
    assert other_token.status_code == 401, "a tenant's token opens nothing of another tenant"


def test_a_letter_expiring_tomorrow_reaches_the_member_by_sms_with_receipt_opt_out_and_monthly_count(
    stack: Stack,
) -> None:
    tenant = new_tenant()
    admin = stack.headers(tenant, "committee")
    registry = stack.running.url("registry")
    _, branch = build_tree(registry, admin)
    created = httpx.post(
        f"{registry}/v1/members",
        headers=admin,
        json={"name": "李明", "organisation_id": branch, "category": "full", "phone": PHONE},
    )
    assert created.status_code == 201, created.text
    member = created.json()["id"]

    token = httpx.put(f"{stack.notify}/v1/mobile/sms", headers=admin, json=sms_settings()).json()[
        "callback_token"
    ]
    ladder = httpx.put(
        f"{stack.notify}/v1/mobile/escalations/reminder.letter-expiry",
        headers=admin,
        json={"wechat_before_hours": 72, "sms_before_hours": 36, "urgent": True},
    )
    assert ladder.status_code == 200, ladder.text

    now = service_now(stack.notify)
    tomorrow = (now + timedelta(days=1)).date()
    data = {
        "case_id": f"case-{uuid4().hex[:8]}",
        "member_id": member,
        "sending_tenant": tenant,
        "receiving_tenant": new_tenant(),
        "sending_org_id": branch,
        "receiving_org_id": str(uuid4()),
        "letter_no": "2026-0042",
        "expires_on": tomorrow.isoformat(),
    }
    publish_transfer(stack, "letter_issued", data, tenant=tenant)

    operator = stack.headers(tenant, "operator")

    def sms_sent() -> dict[str, Any] | None:
        rows = httpx.get(f"{stack.notify}/v1/deliveries", headers=operator, params={"status": "sent"}).json()[
            "items"
        ]
        return next((d for d in rows if d["channel"] == "sms"), None)

    delivery = eventually(sms_sent, timeout=60, what="the SMS step sent")
    assert delivery["recipient"] == f"member:{member}" and delivery["rule"] == "reminder.letter-expiry"
    (posted,) = [
        p for name, p in stack.providers.requests if name == "aliyun" and p["OutId"] == delivery["id"]
    ]
    assert posted["PhoneNumbers"] == PHONE, "the number came from the registry at send time"
    assert json.loads(posted["TemplateParam"]) == {"name": "李明", "date": tomorrow.isoformat()}

    escalations = eventually(
        lambda: httpx.get(f"{stack.notify}/v1/mobile/escalations", headers=operator).json(),
        what="escalations",
    )
    (escalation,) = escalations
    assert set(escalation["taken"]) == {"wechat", "sms"}
    assert "no WeChat template" in escalation["taken"]["wechat"]["note"]

    messages = eventually(
        lambda: httpx.get(f"{stack.notify}/v1/mobile/sms/messages", headers=operator).json(),
        what="the SMS record",
    )
    biz_id = messages[0]["message_id"]
    callbacks = f"{stack.notify}/v1/mobile/callbacks/{tenant}/aliyun"
    receipt = httpx.post(
        f"{callbacks}/receipts",
        params={"token": token},
        json=[
            {
                "phone_number": PHONE,
                "send_time": "2026-12-01 10:00:00",
                "report_time": "2026-12-01 10:00:05",
                "success": True,
                "err_code": "DELIVERED",
                "err_msg": "用户接收成功",
                "sms_size": "2",
                "biz_id": biz_id,
                "out_id": delivery["id"],
            }
        ],
    )
    assert receipt.status_code == 200 and receipt.json() == {"code": 0, "msg": "成功"}
    eventually(
        lambda: (
            httpx.get(f"{stack.notify}/v1/mobile/sms/messages", headers=operator).json()[0]["status"]
            == "delivered"
        ),
        what="the receipt recorded",
    )
    month = messages[0]["month"]  # Beijing's month when the provider accepted it
    usage = httpx.get(f"{stack.notify}/v1/mobile/sms/usage", headers=operator, params={"month": month}).json()
    # Counted as 1 unit when accepted; the report says the message was long (2 units), and that is what is billed.
    assert usage["messages"] == 1 and usage["units"] == 2 and usage["cost_fen"] == 8
    assert usage["lines"][0]["delivered"] == 1
    theirs = httpx.get(
        f"{stack.notify}/v1/mobile/sms/usage",
        headers=stack.headers(new_tenant(), "operator"),
        params={"month": month},
    ).json()
    assert theirs["messages"] == 0
    assert (
        httpx.get(
            f"{stack.notify}/v1/mobile/sms/usage", headers=operator, params={"month": "2026-13"}
        ).status_code
        == 422
    )

    reply = httpx.post(
        f"{callbacks}/replies",
        params={"token": token},
        json=[
            {
                "phone_number": PHONE,
                "send_time": "2026-12-01 10:01:00",
                "content": "TD",
                "sign_name": "连心党建",
            }
        ],
    )
    assert reply.status_code == 200
    me = stack.headers(tenant, "member", subject=f"member:{member}")
    reach = eventually(
        lambda: (r := httpx.get(f"{stack.notify}/v1/mobile/me", headers=me).json()) and not r["sms"] and r,
        what="the TD reply recorded",
    )
    assert reach["sms_choice_source"] == "reply:aliyun"
    back_in = httpx.put(f"{stack.notify}/v1/mobile/me", headers=me, json={"sms": True})
    assert back_in.status_code == 200 and back_in.json()["sms"] is True

    # The read models hold the member id, never the number.
    stored = stack.running.sql(
        "notify",
        "SELECT count(*) FROM sms_messages s JOIN deliveries d ON d.id = s.delivery_id "
        "WHERE s.recipient LIKE %s OR d.recipient LIKE %s OR coalesce(d.last_error, '') LIKE %s",
        *[f"%{PHONE}%"] * 3,
    )
    assert stored == [(0,)]


def test_a_member_links_wechat_with_snsapi_base_and_the_openid_is_kept_sealed(stack: Stack) -> None:
    tenant = new_tenant()
    admin = stack.headers(tenant, "committee")
    member = f"member:{uuid4()}"
    me = stack.headers(tenant, "member", subject=member)
    assert httpx.post(f"{stack.notify}/v1/mobile/me/wechat/start", headers=me).status_code == 422, (
        "no account yet"
    )
    configured = httpx.put(
        f"{stack.notify}/v1/mobile/wechat",
        headers=admin,
        json={
            "app_id": "wx0123456789abcd",
            "app_secret": "wechat-app-secret",
            "redirect_uri": "https://lianxin.example/m/wechat",
            "templates": {"reminder.letter-expiry": {"template_id": "TPL-1", "fields": {"thing1": "member"}}},
        },
    )
    assert configured.status_code == 200 and "wechat-app-secret" not in configured.text

    started = httpx.post(f"{stack.notify}/v1/mobile/me/wechat/start", headers=me)
    assert started.status_code == 200, started.text
    link = started.json()
    assert "scope=snsapi_base" in link["authorize_url"] and f"state={link['state']}" in link["authorize_url"]

    stack.providers.codes["CODE-OK"] = "oMEMBER-OPENID"
    forged = httpx.post(
        f"{stack.notify}/v1/mobile/me/wechat", headers=me, json={"code": "CODE-OK", "state": "forged-state"}
    )
    assert forged.status_code == 422 and "state" in forged.text
    someone_else = stack.headers(tenant, "member", subject=f"member:{uuid4()}")
    stolen = httpx.post(
        f"{stack.notify}/v1/mobile/me/wechat",
        headers=someone_else,
        json={"code": "CODE-OK", "state": link["state"]},
    )
    assert stolen.status_code == 422, "a state is good only for the member who started the link"
    refused = httpx.post(
        f"{stack.notify}/v1/mobile/me/wechat", headers=me, json={"code": "CODE-BAD", "state": link["state"]}
    )
    assert refused.status_code == 422 and "40029" in refused.text and "code" in refused.text
    linked = httpx.post(
        f"{stack.notify}/v1/mobile/me/wechat", headers=me, json={"code": "CODE-OK", "state": link["state"]}
    )
    assert linked.status_code == 200 and linked.json()["wechat_linked"] is True
    assert "oMEMBER-OPENID" not in linked.text
    again = httpx.post(
        f"{stack.notify}/v1/mobile/me/wechat", headers=me, json={"code": "CODE-OK", "state": link["state"]}
    )
    assert again.status_code == 422, "the state was used up by the exchange"
    unlinked = httpx.delete(f"{stack.notify}/v1/mobile/me/wechat", headers=me)
    assert unlinked.status_code == 200 and unlinked.json()["wechat_linked"] is False
