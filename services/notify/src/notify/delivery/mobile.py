"""Sending SMS, WeChat and WeCom attempts, and the escalation steps' deadline handler.

The SMS sender alone reads a phone number, from the registry, at send time; the number goes to the provider and
is dropped (the outcome carries only its keyed digest, for recognising a TD reply).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from notify.application import NotifyApplication
from notify.channels.phonebook import NoPhonebook, Phonebook, PhonebookUnavailable, RegistryPhonebook
from notify.channels.senders import Outgoing, SendOutcome
from notify.channels.sms import SmsMessage, SmsProvider, digest_key, normalise_phone, phone_digest
from notify.channels.sms_aliyun import AliyunSms
from notify.channels.sms_tencent import TencentSms
from notify.channels.targets import SmsTarget, WeChatTarget, WeComTarget
from notify.channels.wechat import OfficialAccount, TokenCache, WeChatAnswer, WeCom
from notify.settings import NotifySettings
from shared.oauth import service_tokens
from shared.runtime import Runtime
from shared.scheduler import Deadline, DeadlineHandler
from shared.threads import run_sync

ESCALATION = "escalation-step"


@dataclass(frozen=True)
class Endpoints:
    aliyun_sms: str
    tencent_sms: str
    wechat: str
    wecom: str
    timeout_seconds: float = 5.0

    @classmethod
    def of(cls, settings: NotifySettings) -> Endpoints:
        return cls(
            settings.aliyun_sms_endpoint,
            settings.tencent_sms_endpoint,
            settings.wechat_api_base,
            settings.wecom_api_base,
            settings.mobile_timeout_seconds,
        )


class MobileSender:
    def __init__(
        self,
        *,
        phonebook: Phonebook,
        digest_key: bytes,
        endpoints: Endpoints,
        now: Callable[[], datetime],
        tokens: TokenCache | None = None,
    ) -> None:
        self.phonebook = phonebook
        self.digest_key = digest_key
        self.endpoints = endpoints
        self.now = now
        self.tokens = tokens or TokenCache()

    def provider(self, target: SmsTarget) -> SmsProvider:
        c = target.credentials
        if target.provider == "aliyun":
            return AliyunSms(
                access_key_id=c["access_key_id"],
                access_key_secret=c["access_key_secret"],
                endpoint=self.endpoints.aliyun_sms,
                now=self.now,
                region=target.region or "cn-hangzhou",
                timeout_seconds=self.endpoints.timeout_seconds,
            )
        return TencentSms(
            secret_id=c["secret_id"],
            secret_key=c["secret_key"],
            sdk_app_id=c["sdk_app_id"],
            endpoint=self.endpoints.tencent_sms,
            now=self.now,
            region=target.region or "ap-guangzhou",
            timeout_seconds=self.endpoints.timeout_seconds,
        )

    async def send(self, outgoing: Outgoing) -> SendOutcome:
        target = outgoing.target
        if isinstance(target, SmsTarget):
            return await self._sms(outgoing, target)
        if isinstance(target, WeChatTarget):
            account = OfficialAccount(
                app_id=target.app_id,
                app_secret=target.app_secret,
                base_url=self.endpoints.wechat,
                tokens=self.tokens,
                timeout_seconds=self.endpoints.timeout_seconds,
            )
            link = outgoing.link if target.url is None else target.url
            if target.kind == "subscribe":
                return _outcome(
                    await account.send_subscribe(
                        openid=target.openid, template_id=target.template_id, data=target.data, page=link
                    )
                )
            return _outcome(
                await account.send_template(
                    openid=target.openid, template_id=target.template_id, data=target.data, url=link
                )
            )
        if isinstance(target, WeComTarget):
            wecom = WeCom(
                corp_id=target.corp_id,
                agent_id=target.agent_id,
                secret=target.secret,
                base_url=self.endpoints.wecom,
                tokens=self.tokens,
                timeout_seconds=self.endpoints.timeout_seconds,
            )
            return _outcome(
                await wecom.send_markdown(
                    touser=target.touser, toparty=target.toparty, content=target.content
                )
            )
        return SendOutcome(False, False, "not a phone channel")

    async def _sms(self, outgoing: Outgoing, target: SmsTarget) -> SendOutcome:
        try:
            phone = await run_sync(self.phonebook.phone, outgoing.tenant_id, UUID(target.member_id))
        except PhonebookUnavailable as exc:
            return SendOutcome(False, True, f"phone number unavailable: {exc}")
        if not phone:
            return SendOutcome(False, False, "the registry has no phone number for the member")
        answer = await self.provider(target).send(
            SmsMessage(
                phone=phone,
                sign_name=target.sign_name,
                template_id=target.template_id,
                params=target.params,
                reference=str(outgoing.delivery_id),
            )
        )
        return SendOutcome(
            answer.ok,
            answer.retryable,
            scrub(answer.detail, phone),
            reference=answer.message_id,
            units=answer.units,
            phone_digest=phone_digest(self.digest_key, phone),
        )


def scrub(detail: str, phone: str) -> str:
    """A provider's message may echo the number: it must not reach the delivery's recorded reason."""
    normalised = normalise_phone(phone)
    forms = {phone, normalised, normalised.removeprefix("+"), normalised.removeprefix("+86")}
    for form in sorted(forms, key=len, reverse=True):  # the longest first: "+8613…" before "13…"
        detail = detail.replace(form, "***")
    return detail


def _outcome(answer: WeChatAnswer) -> SendOutcome:
    return SendOutcome(answer.ok, answer.retryable, answer.detail, reference=answer.message_id)


def mobile_sender(settings: NotifySettings, app: NotifyApplication) -> MobileSender:
    tokens = service_tokens(settings, settings.service_key())
    phonebook: Phonebook = (
        RegistryPhonebook(settings.registry_url, tokens) if tokens is not None else NoPhonebook()
    )
    return MobileSender(
        phonebook=phonebook,
        digest_key=digest_key(settings.cipher_key),
        endpoints=Endpoints.of(settings),
        now=app.clock.now,
    )


def escalation_steps(runtime: Runtime[NotifyApplication]) -> DeadlineHandler:
    app = runtime.app

    async def step(deadline: Deadline) -> None:
        await run_sync(
            app.take_escalation_step, UUID(deadline.payload["escalation_id"]), str(deadline.payload["step"])
        )

    return step
