"""SMS behind one provider interface: Alibaba Cloud SMS (dysmsapi, RPC style) and Tencent Cloud SMS (API 3.0).

A provider sends one templated message to one number and says: accepted (with its message id and billed
units), retry later (throttling, provider trouble) or never (invalid template or signature, bad number, no
balance). It also reads its own status reports (delivery receipts) and replies (回复TD退订) from the callbacks
it posts to notify. Phone numbers pass through here at send time and in callbacks; they are never stored,
logged or put in an event: only a keyed digest (`phone_digest`) is kept to recognise the member who replied TD.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlparse

import httpx

from notify.channels.signing import aliyun_signature, tc3_authorization

PROVIDERS = ("aliyun", "tencent")
OPT_OUT_WORDS = frozenset({"TD", "T", "N", "退订", "取消", "UNSUBSCRIBE"})


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    sign_name: str
    template_id: str
    params: dict[str, str]  # ordered: Tencent's template parameters are positional
    reference: str  # the delivery id: Alibaba's OutId, Tencent's SessionContext

    def __repr__(self) -> str:  # never print the number
        return f"SmsMessage(template_id={self.template_id!r}, reference={self.reference!r})"


@dataclass(frozen=True)
class SmsAnswer:
    ok: bool
    retryable: bool
    detail: str
    message_id: str | None = None
    units: int = 1


@dataclass(frozen=True)
class Receipt:
    message_id: str
    delivered: bool
    code: str
    reference: str | None = None
    units: int | None = None


@dataclass(frozen=True)
class Reply:
    phone: str = field(repr=False)
    text: str

    @property
    def opts_out(self) -> bool:
        return self.text.strip().upper() in OPT_OUT_WORDS


class SmsProvider(Protocol):
    name: str

    async def send(self, message: SmsMessage) -> SmsAnswer: ...

    def receipts(self, body: bytes) -> list[Receipt]: ...

    def replies(self, body: bytes) -> list[Reply]: ...

    def acknowledgement(self) -> dict[str, Any]: ...


def normalise_phone(phone: str) -> str:
    """`+86` and the digits: mainland numbers arrive as 11 digits, `+86…`, `86…` or with dashes."""
    digits = phone.replace("-", "").replace(" ", "")
    if digits.startswith("+"):
        return digits
    if digits.startswith("0086"):
        return "+" + digits[2:]
    if len(digits) == 13 and digits.startswith("86"):
        return "+" + digits
    return "+86" + digits


def digest_key(cipher_key: str) -> bytes:
    """The key of phone digests, derived from the service's CIPHER_KEY (a digest outlives no key rotation)."""
    return hmac.new(base64.b64decode(cipher_key), b"lianxin notify phone digest v1", hashlib.sha256).digest()


def phone_digest(key: bytes, phone: str) -> str:
    """A keyed digest of the normalised number: recognises a reply's sender without keeping the number."""
    return hmac.new(key, normalise_phone(phone).encode(), hashlib.sha256).hexdigest()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None


def _as_list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


Now = Callable[[], datetime]


async def _post(provider: AliyunSms | TencentSms, url: str, **request: Any) -> SmsAnswer:
    """POST to the provider; a timeout or a connection error is "retry later", an answer is classified."""
    try:
        async with httpx.AsyncClient(timeout=provider.timeout) as client:
            response = await client.post(url, **request)
    except httpx.TimeoutException:
        return SmsAnswer(False, True, f"{provider.name}: timed out after {provider.timeout}s")
    except httpx.HTTPError as exc:
        return SmsAnswer(False, True, f"{provider.name}: unreachable ({type(exc).__name__})")
    return provider.classify(response.status_code, response.content)


# Alibaba Cloud: codes that mean "later" (flow control per number, the account's QPS, provider trouble).
ALIYUN_RETRYABLE = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "Throttling.User",
        "Throttling.Api",
        "Throttling",
        "isp.SYSTEM_ERROR",
        "ServiceUnavailable",
        "InternalError",
    }
)


class AliyunSms:
    """dysmsapi 2017-05-25 `SendSms`, POSTed as a form, signed with signature version 1.0 (HMAC-SHA1)."""

    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        endpoint: str,
        now: Now,
        region: str = "cn-hangzhou",
        timeout_seconds: float = 5.0,
    ) -> None:
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self.endpoint = endpoint
        self.now = now
        self.region = region
        self.timeout = timeout_seconds

    def __repr__(self) -> str:
        return f"AliyunSms(endpoint={self.endpoint!r})"

    def request_params(self, message: SmsMessage, *, nonce: str | None = None) -> dict[str, str]:
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": message.reference,
            "PhoneNumbers": normalise_phone(message.phone).removeprefix("+86"),
            "RegionId": self.region,
            "SignName": message.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce or secrets.token_hex(16),
            "SignatureVersion": "1.0",
            "TemplateCode": message.template_id,
            "TemplateParam": json.dumps(message.params, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": self.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = aliyun_signature("POST", params, self._secret)
        return params

    async def send(self, message: SmsMessage) -> SmsAnswer:
        return await _post(self, self.endpoint, data=self.request_params(message))

    @staticmethod
    def classify(status: int, content: bytes) -> SmsAnswer:
        answer = _json(content)
        code = str(answer.get("Code", "")) if isinstance(answer, dict) else ""
        text = str(answer.get("Message", ""))[:200] if isinstance(answer, dict) else ""
        if status == 200 and code == "OK":
            return SmsAnswer(True, False, "aliyun: OK", message_id=str(answer.get("BizId") or "") or None)
        if not code:
            retry = status in (408, 429) or status >= 500
            return SmsAnswer(False, retry, f"aliyun: HTTP {status}")
        return SmsAnswer(False, code in ALIYUN_RETRYABLE or status >= 500, f"aliyun {code}: {text}")

    def receipts(self, body: bytes) -> list[Receipt]:
        """SmsReport, an array: `biz_id`, `out_id`, `success`, `err_code`, `sms_size`."""
        out = []
        for item in _as_list(_json(body)):
            if item.get("biz_id"):
                size = str(item.get("sms_size") or "")
                out.append(
                    Receipt(
                        message_id=str(item["biz_id"]),
                        delivered=item.get("success") in (True, "true"),
                        code=str(item.get("err_code") or ""),
                        reference=str(item["out_id"]) if item.get("out_id") else None,
                        units=int(size) if size.isdigit() else None,
                    )
                )
        return out

    def replies(self, body: bytes) -> list[Reply]:
        """SmsUp, an array: `phone_number`, `content`."""
        return [
            Reply(str(i["phone_number"]), str(i.get("content") or ""))
            for i in _as_list(_json(body))
            if i.get("phone_number")
        ]

    def acknowledgement(self) -> dict[str, Any]:
        return {"code": 0, "msg": "成功"}


TENCENT_RETRYABLE_PREFIXES = (
    "RequestLimitExceeded",
    "InternalError",
    "LimitExceeded.PhoneNumberThirtySecondLimit",
    "LimitExceeded.PhoneNumberOneHourLimit",
    "LimitExceeded.DeliveryFrequencyLimit",
    "FailedOperation.JsonParseFail",
)


class TencentSms:
    """sms 2021-01-11 `SendSms`, JSON POST signed with TC3-HMAC-SHA256."""

    name = "tencent"
    CONTENT_TYPE = "application/json; charset=utf-8"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        endpoint: str,
        now: Now,
        region: str = "ap-guangzhou",
        timeout_seconds: float = 5.0,
    ) -> None:
        self.secret_id = secret_id
        self._secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.endpoint = endpoint
        self.now = now
        self.region = region
        self.timeout = timeout_seconds

    def __repr__(self) -> str:
        return f"TencentSms(endpoint={self.endpoint!r}, sdk_app_id={self.sdk_app_id!r})"

    def request(self, message: SmsMessage) -> tuple[dict[str, str], bytes]:
        payload = json.dumps(
            {
                "PhoneNumberSet": [normalise_phone(message.phone)],
                "SmsSdkAppId": self.sdk_app_id,
                "SignName": message.sign_name,
                "TemplateId": message.template_id,
                "TemplateParamSet": list(message.params.values()),
                "SessionContext": message.reference,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = int(self.now().timestamp())
        host = urlparse(self.endpoint).netloc
        headers = {
            "Authorization": tc3_authorization(
                secret_id=self.secret_id,
                secret_key=self._secret_key,
                service="sms",
                host=host,
                content_type=self.CONTENT_TYPE,
                payload=payload,
                timestamp=timestamp,
            ),
            "Content-Type": self.CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Version": "2021-01-11",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
        }
        return headers, payload

    async def send(self, message: SmsMessage) -> SmsAnswer:
        headers, payload = self.request(message)
        return await _post(self, self.endpoint, headers=headers, content=payload)

    @staticmethod
    def classify(status: int, content: bytes) -> SmsAnswer:
        answer = _json(content)
        body = answer.get("Response") if isinstance(answer, dict) else None
        if not isinstance(body, dict):
            retry = status in (408, 429) or status >= 500
            return SmsAnswer(False, retry, f"tencent: HTTP {status}")
        error = body.get("Error")
        if isinstance(error, dict):
            code = str(error.get("Code", ""))
            return SmsAnswer(
                False,
                code.startswith(TENCENT_RETRYABLE_PREFIXES),
                f"tencent {code}: {str(error.get('Message', ''))[:200]}",
            )
        statuses = _as_list(body.get("SendStatusSet"))
        if not statuses:
            return SmsAnswer(False, True, "tencent: no send status in the answer")
        first = statuses[0]
        code = str(first.get("Code", ""))
        if code == "Ok":
            fee = first.get("Fee")
            return SmsAnswer(
                True,
                False,
                "tencent: Ok",
                message_id=str(first.get("SerialNo") or "") or None,
                units=int(fee) if isinstance(fee, int) and fee > 0 else 1,
            )
        return SmsAnswer(
            False,
            code.startswith(TENCENT_RETRYABLE_PREFIXES),
            f"tencent {code}: {str(first.get('Message', ''))[:200]}",
        )

    def receipts(self, body: bytes) -> list[Receipt]:
        """Status reports, an array: `sid`, `report_status` (SUCCESS/FAIL), `errmsg`."""
        return [
            Receipt(
                message_id=str(i["sid"]),
                delivered=str(i.get("report_status", "")).upper() == "SUCCESS",
                code=str(i.get("errmsg") or ""),
            )
            for i in _as_list(_json(body))
            if i.get("sid")
        ]

    def replies(self, body: bytes) -> list[Reply]:
        """Replies (上行), one object or an array: `nationcode`, `mobile`, `text`."""
        return [
            Reply(f"+{i.get('nationcode') or '86'}{i['mobile']}", str(i.get("text") or ""))
            for i in _as_list(_json(body))
            if i.get("mobile")
        ]

    def acknowledgement(self) -> dict[str, Any]:
        return {"result": 0, "errmsg": "OK"}
