"""Webhook bodies and signatures: Lianxin's HMAC over timestamp and body, WeCom and DingTalk robot formats."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from notify.channels.senders import classify_webhook
from notify.channels.webhooks import build_request, payload, verify_lianxin_signature

COMMON = {
    "delivery_id": "d-1",
    "title": "介绍信已开具",
    "body": "正文",
    "link": "/v1/transfers/c1",
    "meta": {"event_id": "e-1"},
    "now_ms": 1_790_000_000_123,
}


def test_generic_body_is_signed_over_timestamp_and_body_and_carries_the_idempotency_key() -> None:
    request = build_request(url="http://x/hook", preset="generic", secret="topsecret", **COMMON)  # type: ignore[arg-type]
    assert request.headers["Idempotency-Key"] == "d-1"
    assert request.headers["X-Lianxin-Timestamp"] == "1790000000"
    expected = hmac.new(b"topsecret", b"1790000000." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Lianxin-Signature"] == f"v1={expected}"
    assert verify_lianxin_signature(
        "topsecret", "1790000000", request.body, request.headers["X-Lianxin-Signature"]
    )
    assert not verify_lianxin_signature(
        "wrong", "1790000000", request.body, request.headers["X-Lianxin-Signature"]
    )
    assert json.loads(request.body) == {
        "event_id": "e-1",
        "title": "介绍信已开具",
        "body": "正文",
        "link": "/v1/transfers/c1",
    }


def test_wecom_robot_markdown() -> None:
    request = build_request(url="http://x/hook", preset="wecom", secret=None, **COMMON)  # type: ignore[arg-type]
    body = json.loads(request.body)
    assert body["msgtype"] == "markdown" and body["markdown"]["content"].startswith("### 介绍信已开具")
    assert "X-Lianxin-Signature" not in request.headers and request.params == {}


def test_dingtalk_robot_markdown_with_its_own_query_signature() -> None:
    request = build_request(url="http://x/hook", preset="dingtalk", secret="SECxyz", **COMMON)  # type: ignore[arg-type]
    body = json.loads(request.body)
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] == "介绍信已开具"
    assert request.params["timestamp"] == "1790000000123"
    digest = hmac.new(b"SECxyz", b"1790000000123\nSECxyz", hashlib.sha256).digest()
    assert request.params["sign"] == base64.b64encode(digest).decode()


def test_answers_are_classified_as_sent_retry_or_never() -> None:
    assert classify_webhook("generic", 204, b"").ok
    assert classify_webhook("generic", 503, b"busy").retryable
    assert classify_webhook("generic", 429, b"").retryable
    refused = classify_webhook("generic", 403, b"forbidden")
    assert not refused.ok and not refused.retryable and refused.detail == "HTTP 403"  # never the reply's body
    robot = classify_webhook("dingtalk", 200, b'{"errcode":310000,"errmsg":"sign not match"}')
    assert not robot.ok and not robot.retryable and robot.detail == "robot errcode 310000"
    assert classify_webhook("wecom", 200, b'{"errcode":45009,"errmsg":"freq"}').retryable
    assert classify_webhook("wecom", 200, b'{"errcode":0,"errmsg":"ok"}').ok


def test_names_in_robot_markdown_stay_text() -> None:
    hostile = "张三](http://evil.example)[ **x** <font color=red>y</font>\n# z"
    for preset, key in (("wecom", "content"), ("dingtalk", "text")):
        text = payload(preset, title="介绍信", body=f"{hostile}同志的介绍信已开具", link=None, meta={})[
            "markdown"
        ][key]
        assert "](http://evil.example)" not in text and "<font" not in text and "\n# z" not in text
        assert "\\]\\(http://evil.example\\)" in text and "&lt;font" in text
    generic = payload("generic", title="t", body=hostile, link=None, meta={})
    assert generic["body"] == hostile  # JSON receivers get the text as it is


def test_attempts_recorded_with_a_reply_excerpt_show_only_the_status() -> None:
    from notify.api.deliveries import without_reply

    assert (
        without_reply("gave up after 3 attempts: HTTP 500: internal answer\nline 2")
        == "gave up after 3 attempts: HTTP 500"
    )
    assert without_reply("robot errcode 310000: sign not match") == "robot errcode 310000"
    assert without_reply("timed out after 5s") == "timed out after 5s" and without_reply(None) is None
