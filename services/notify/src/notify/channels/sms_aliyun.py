"""Alibaba Cloud SMS: dysmsapi 2017-05-25 `SendSms` (RPC style, signature version 1.0), its status reports and
its replies (上行)."""

from __future__ import annotations

import json
import secrets
from datetime import UTC
from typing import Any

from notify.channels.signing import aliyun_signature
from notify.channels.sms import (
    Now,
    Receipt,
    Reply,
    SmsAnswer,
    SmsMessage,
    as_list,
    normalise_phone,
    post,
    read_json,
)

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
        return await post(self, self.endpoint, data=self.request_params(message))

    @staticmethod
    def classify(status: int, content: bytes) -> SmsAnswer:
        answer = read_json(content)
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
        for item in as_list(read_json(body)):
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
            for i in as_list(read_json(body))
            if i.get("phone_number")
        ]

    def acknowledgement(self) -> dict[str, Any]:
        return {"code": 0, "msg": "成功"}
