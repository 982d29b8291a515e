"""A local stand-in for the SMS and WeChat providers, on loopback, speaking their documented request and answer
shapes; for the tests and for trying notify without any provider (`python -m notify.channels.fakeproviders --port 8198`).
It sends nothing anywhere: requests are kept in memory and printed.

- Alibaba Cloud SMS `SendSms` (form POST): checks the HMAC-SHA1 signature with the secret, answers
  `{"Code":"OK","BizId":…}` or a scripted error code (isv.BUSINESS_LIMIT_CONTROL, isv.SMS_TEMPLATE_ILLEGAL …).
- Tencent Cloud SMS `SendSms` (JSON POST): checks the TC3-HMAC-SHA256 Authorization, answers `SendStatusSet`
  or a scripted `Error` / per-number code.
- WeChat: `/cgi-bin/token`, `/cgi-bin/message/template/send`, `/cgi-bin/message/subscribe/bizsend`,
  `/sns/oauth2/access_token`; WeCom:
  `/cgi-bin/gettoken`, `/cgi-bin/message/send`, each with scriptable errcodes.
- The registry's `GET /v1/members/{id}?unmasked=true&purpose=…` giving a phone number to a bearer token.

`script[name]` is a list of answers consumed one per request (then the default success answer).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from notify.channels.signing import aliyun_signature, tc3_authorization

ALIYUN_SECRET = "test-aliyun-secret"
TENCENT_KEY = "test-tencent-key"


@dataclass
class ProviderState:
    script: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    phones: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # oauth code -> openid
    tokens_issued: int = 0
    valid_token: str = "token-1"
    serial: int = 0

    def next(self, name: str) -> Any:
        return self.script[name].pop(0) if self.script[name] else None


class _Handler(BaseHTTPRequestHandler):
    state: ProviderState

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _answer(self, body: Any, status: int = 200) -> None:
        raw = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.state.requests.append((url.path, query))
        if url.path in ("/cgi-bin/token", "/cgi-bin/gettoken"):
            scripted = self.state.next("token")
            if scripted is not None:
                return self._answer(scripted)
            self.state.tokens_issued += 1
            self.state.valid_token = f"token-{self.state.tokens_issued}"
            return self._answer({"errcode": 0, "access_token": self.state.valid_token, "expires_in": 7200})
        if url.path == "/sns/oauth2/access_token":
            openid = self.state.codes.pop(query.get("code", ""), None)
            if openid is None:
                return self._answer({"errcode": 40029, "errmsg": "invalid code"})
            return self._answer(
                {"access_token": "x", "expires_in": 7200, "openid": openid, "scope": "snsapi_base"}
            )
        if url.path.startswith("/v1/members/"):
            member = url.path.rsplit("/", 1)[-1]
            if (
                query.get("unmasked") != "true"
                or not query.get("purpose")
                or "Bearer " not in self.headers.get("Authorization", "")
            ):
                return self._answer({"detail": "unmasked read needs a purpose and a token"}, 403)
            scripted = self.state.next("registry")
            if scripted is not None:
                return self._answer({"detail": "busy"}, scripted)
            if member not in self.state.phones:
                return self._answer({"detail": "not found"}, 404)
            return self._answer({"id": member, "name": "李明", "phone": self.state.phones[member]})
        return self._answer({"detail": "no such path"}, 404)

    def do_POST(self) -> None:
        url = urlparse(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/aliyun/":
            return self._aliyun(raw)
        if url.path == "/tencent/":
            return self._tencent(raw)
        body = json.loads(raw or b"{}")
        self.state.requests.append((url.path, body))
        if url.path in (
            "/cgi-bin/message/template/send",
            "/cgi-bin/message/subscribe/bizsend",
            "/cgi-bin/message/send",
        ):
            if query.get("access_token") != self.state.valid_token:
                return self._answer({"errcode": 40001, "errmsg": "invalid credential"})
            scripted = self.state.next(url.path)
            if scripted is not None:
                return self._answer(scripted)
            self.state.serial += 1
            return self._answer({"errcode": 0, "errmsg": "ok", "msgid": 2000 + self.state.serial})
        return self._answer({"detail": "no such path"}, 404)

    def _aliyun(self, raw: bytes) -> None:
        params = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        self.state.requests.append(("aliyun", params))
        if aliyun_signature("POST", params, ALIYUN_SECRET) != params.get("Signature"):
            return self._answer({"Code": "SignatureDoesNotMatch", "Message": "signature"}, 400)
        scripted = self.state.next("aliyun")
        if scripted is not None:
            status = 400 if scripted != "ServiceUnavailable" else 503
            return self._answer({"Code": scripted, "Message": scripted, "RequestId": "r"}, status)
        self.state.serial += 1
        return self._answer(
            {
                "Code": "OK",
                "Message": "OK",
                "BizId": f"9006197469364984^{self.state.serial}",
                "RequestId": "r",
            }
        )

    def _tencent(self, raw: bytes) -> None:
        body = json.loads(raw)
        self.state.requests.append(("tencent", body))
        expected = tc3_authorization(
            secret_id="AKIDtest",
            secret_key=TENCENT_KEY,
            service="sms",
            host=self.headers["Host"],
            content_type=self.headers["Content-Type"],
            payload=raw,
            timestamp=int(self.headers["X-TC-Timestamp"]),
        )
        if self.headers.get("Authorization") != expected or self.headers.get("X-TC-Action") != "SendSms":
            return self._answer(
                {
                    "Response": {
                        "Error": {"Code": "AuthFailure.SignatureFailure", "Message": "sig"},
                        "RequestId": "r",
                    }
                }
            )
        scripted = self.state.next("tencent")
        if isinstance(scripted, str) and scripted.startswith("Error:"):
            code = scripted.removeprefix("Error:")
            return self._answer({"Response": {"Error": {"Code": code, "Message": code}, "RequestId": "r"}})
        self.state.serial += 1
        code = scripted or "Ok"
        status = {
            "SerialNo": f"5000:10457106691570536578494996{self.state.serial}",
            "PhoneNumber": body["PhoneNumberSet"][0],
            "Fee": 2 if code == "Ok" else 0,
            "SessionContext": body.get("SessionContext", ""),
            "Code": code,
            "Message": "send success" if code == "Ok" else code,
            "IsoCode": "CN",
        }
        return self._answer({"Response": {"SendStatusSet": [status], "RequestId": "r"}})


@contextmanager
def provider_server(port: int = 0) -> Iterator[tuple[str, ProviderState]]:
    """Port 0: the kernel picks a free one."""
    state = ProviderState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    import argparse
    import time

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8198)
    args = parser.parse_args()
    with provider_server(args.port) as (base, state):
        print(
            f"fake providers on {base}: aliyun {base}/aliyun/, tencent {base}/tencent/, wechat/wecom {base}"
        )
        print(f"aliyun secret {ALIYUN_SECRET!r}, tencent secret key {TENCENT_KEY!r} (secret id AKIDtest)")
        seen = 0
        while True:
            time.sleep(0.5)
            for name, body in state.requests[seen:]:
                print(name, json.dumps(body, ensure_ascii=False)[:300])
            seen = len(state.requests)


if __name__ == "__main__":
    main()
