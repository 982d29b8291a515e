"""Webhook requests: Lianxin's signature, the WeCom and DingTalk group-robot formats and a generic JSON body.

Every request carries `Idempotency-Key: <delivery id>` (a resend after a crash between sending and recording
has the same key, so receivers drop it), `X-Lianxin-Timestamp` and, when the channel has a secret,
`X-Lianxin-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. DingTalk robots check their own
signature in the query (`timestamp`, `sign`), computed from the same secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

PRESETS = ("generic", "wecom", "dingtalk")
# Robot error codes that mean "too many messages, try later" rather than "this will never work".
ROBOT_RATE_LIMITED = {45009, 130101}


@dataclass(frozen=True)
class WebhookRequest:
    url: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes


def lianxin_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify_lianxin_signature(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver runs (also used by the tests' loopback receiver)."""
    return hmac.compare_digest(lianxin_signature(secret, timestamp, body), header)


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()#!|~])")


def escape_markdown(text: str) -> str:
    """Names and other data inside a robot message stay text: no links, emphasis, headings, HTML or <font>."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("<", "&lt;").replace(">", "&gt;")


def markdown_message(title: str, body: str, link: str | None) -> str:
    """A WeCom or DingTalk markdown message: a heading and the text, both escaped, then the link."""
    text = f"### {escape_markdown(title)}\n\n{escape_markdown(body)}"
    return f"{text}\n\n{link}" if link else text


def payload(preset: str, *, title: str, body: str, link: str | None, meta: dict[str, Any]) -> dict[str, Any]:
    if preset == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": markdown_message(title, body, link)}}
    if preset == "dingtalk":
        return {
            "msgtype": "markdown",
            "markdown": {"title": escape_markdown(title), "text": markdown_message(title, body, link)},
        }
    return {**meta, "title": title, "body": body, "link": link}


def build_request(
    *,
    url: str,
    preset: str,
    secret: str | None,
    delivery_id: str,
    title: str,
    body: str,
    link: str | None,
    meta: dict[str, Any],
    now_ms: int,
) -> WebhookRequest:
    raw = json.dumps(
        payload(preset, title=title, body=body, link=link, meta=meta),
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    timestamp = str(now_ms // 1000)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": delivery_id,
        "X-Lianxin-Delivery": delivery_id,
        "X-Lianxin-Timestamp": timestamp,
    }
    params: dict[str, str] = {}
    if secret:
        headers["X-Lianxin-Signature"] = lianxin_signature(secret, timestamp, raw)
        if preset == "dingtalk":
            params = {"timestamp": str(now_ms), "sign": dingtalk_sign(secret, str(now_ms))}
    return WebhookRequest(url, params, headers, raw)


def robot_error(preset: str, response_body: bytes) -> tuple[int, str] | None:
    """WeCom and DingTalk answer 200 with an `errcode` when they refuse; None when the robot accepted."""
    if preset not in ("wecom", "dingtalk"):
        return None
    try:
        answer = json.loads(response_body)
    except ValueError:
        return None
    code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
    if not code:
        return None
    return int(code), str(answer.get("errmsg", ""))[:200]
