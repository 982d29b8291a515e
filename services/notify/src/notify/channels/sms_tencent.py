"""Tencent Cloud SMS: sms 2021-01-11 `SendSms` (API 3.0, TC3-HMAC-SHA256), its status reports and its
replies."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from notify.channels.signing import tc3_authorization
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
        return await post(self, self.endpoint, headers=headers, content=payload)

    @staticmethod
    def classify(status: int, content: bytes) -> SmsAnswer:
        answer = read_json(content)
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
        statuses = as_list(body.get("SendStatusSet"))
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
            for i in as_list(read_json(body))
            if i.get("sid")
        ]

    def replies(self, body: bytes) -> list[Reply]:
        """Replies (上行), one object or an array: `nationcode`, `mobile`, `text`."""
        return [
            Reply(f"+{i.get('nationcode') or '86'}{i['mobile']}", str(i.get("text") or ""))
            for i in as_list(read_json(body))
            if i.get("mobile")
        ]

    def acknowledgement(self) -> dict[str, Any]:
        return {"result": 0, "errmsg": "OK"}
