"""SMS behind one provider interface, implemented for Alibaba Cloud SMS (`sms_aliyun`: dysmsapi, RPC style) and
Tencent Cloud SMS (`sms_tencent`: API 3.0); here the interface, what passes through it, and the phone digest.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

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


def read_json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None


def as_list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


class Classifying(Protocol):
    """What `post` needs of a provider: its name and timeout, and how it reads an answer."""

    name: str
    timeout: float

    def classify(self, status: int, content: bytes) -> SmsAnswer: ...


Now = Callable[[], datetime]


async def post(provider: Classifying, url: str, **request: Any) -> SmsAnswer:
    """POST to the provider; a timeout or a connection error is "retry later", an answer is classified."""
    try:
        async with httpx.AsyncClient(timeout=provider.timeout) as client:
            response = await client.post(url, **request)
    except httpx.TimeoutException:
        return SmsAnswer(False, True, f"{provider.name}: timed out after {provider.timeout}s")
    except httpx.HTTPError as exc:
        return SmsAnswer(False, True, f"{provider.name}: unreachable ({type(exc).__name__})")
    return provider.classify(response.status_code, response.content)
