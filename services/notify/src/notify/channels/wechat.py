"""WeChat: a tenant's Official Account (公众号) template messages to members who linked their account, the web
authorization code exchange (scope `snsapi_base`: the openid, nothing more), and WeCom (企业微信) application
messages to secretaries. Access tokens are fetched once and cached until shortly before they expire.

Base URLs are settings (WECHAT_API_BASE, WECOM_API_BASE), so tests point them at a local server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import anyio
import httpx

AUTHORIZE_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
# errcodes: the access token is stale (fetch a new one and try again at once), or "later" (rate limits).
TOKEN_STALE = frozenset({40001, 40014, 42001})
RATE_LIMITED = frozenset({45009, 45011, 45033, -1})
REFRESH_MARGIN_SECONDS = 300


@dataclass(frozen=True)
class WeChatAnswer:
    ok: bool
    retryable: bool
    detail: str
    message_id: str | None = None


def _errcode(answer: Any) -> tuple[int, str]:
    if not isinstance(answer, dict):
        return -2, "not JSON"
    return int(answer.get("errcode", 0) or 0), str(answer.get("errmsg", ""))[:200]


class TokenCache:
    """One access token per (api, app id), reused until `REFRESH_MARGIN_SECONDS` before it expires."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = anyio.Lock()
        self._monotonic = monotonic
        self.fetches = 0

    async def get(self, key: tuple[str, str], fetch: Callable[[], Any]) -> str:
        async with self._lock:
            cached = self._tokens.get(key)
            if cached is not None and cached[1] > self._monotonic():
                return cached[0]
            token, expires_in = await fetch()
            self.fetches += 1
            self._tokens[key] = (token, self._monotonic() + max(0, expires_in - REFRESH_MARGIN_SECONDS))
            return str(token)

    def forget(self, key: tuple[str, str]) -> None:
        self._tokens.pop(key, None)


class TokenUnavailable(Exception):
    def __init__(self, detail: str, retryable: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retryable = retryable


async def _get_json(client: httpx.AsyncClient, url: str, params: dict[str, str]) -> Any:
    response = await client.get(url, params=params)
    try:
        return response.json()
    except ValueError:
        return {"errcode": -2 if response.status_code < 500 else -1, "errmsg": f"HTTP {response.status_code}"}


class _Sender:
    api: str
    base_url: str
    tokens: TokenCache
    timeout: float

    def _key(self) -> tuple[str, str]:
        raise NotImplementedError

    async def _fetch_token(self, client: httpx.AsyncClient) -> tuple[str, int]:
        raise NotImplementedError

    async def _post(self, path: str, body: dict[str, Any]) -> WeChatAnswer:
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                for _ in range(2):  # a stale token is fetched again once
                    try:
                        token = await self.tokens.get(self._key(), lambda: self._fetch_token(client))
                    except TokenUnavailable as exc:
                        return WeChatAnswer(False, exc.retryable, f"{self.api} token: {exc.detail}")
                    response = await client.post(
                        f"{self.base_url}{path}", params={"access_token": token}, json=body
                    )
                    if response.status_code >= 500:
                        return WeChatAnswer(False, True, f"{self.api}: HTTP {response.status_code}")
                    try:
                        answer = response.json()
                    except ValueError:
                        return WeChatAnswer(
                            False, False, f"{self.api}: HTTP {response.status_code}, not JSON"
                        )
                    code, message = _errcode(answer)
                    if code in TOKEN_STALE:
                        self.tokens.forget(self._key())
                        continue
                    if code == 0:
                        msgid = answer.get("msgid")
                        return WeChatAnswer(True, False, f"{self.api}: ok", str(msgid) if msgid else None)
                    return WeChatAnswer(False, code in RATE_LIMITED, f"{self.api} errcode {code}: {message}")
        except httpx.TimeoutException:
            return WeChatAnswer(False, True, f"{self.api}: timed out after {self.timeout}s")
        except httpx.HTTPError as exc:
            return WeChatAnswer(False, True, f"{self.api}: unreachable ({type(exc).__name__})")
        return WeChatAnswer(False, True, f"{self.api}: the access token stayed invalid")


class OfficialAccount(_Sender):
    api = "wechat"

    def __init__(
        self, *, app_id: str, app_secret: str, base_url: str, tokens: TokenCache, timeout_seconds: float = 5.0
    ) -> None:
        self.app_id = app_id
        self._secret = app_secret
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.timeout = timeout_seconds

    def __repr__(self) -> str:
        return f"OfficialAccount(app_id={self.app_id!r})"

    def _key(self) -> tuple[str, str]:
        return ("wechat", self.app_id)

    async def _fetch_token(self, client: httpx.AsyncClient) -> tuple[str, int]:
        answer = await _get_json(
            client,
            f"{self.base_url}/cgi-bin/token",
            {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret},
        )
        code, message = _errcode(answer)
        if code or not answer.get("access_token"):
            raise TokenUnavailable(f"errcode {code}: {message}", code in RATE_LIMITED)
        return str(answer["access_token"]), int(answer.get("expires_in", 7200))

    async def send_template(
        self, *, openid: str, template_id: str, data: dict[str, str], url: str | None
    ) -> WeChatAnswer:
        return await self._message("/cgi-bin/message/template/send", openid, template_id, data, {"url": url})

    async def send_subscribe(
        self, *, openid: str, template_id: str, data: dict[str, str], page: str | None
    ) -> WeChatAnswer:
        """A subscribe message (订阅通知) of an Official Account: `bizsend`, for members who subscribed to it."""
        return await self._message(
            "/cgi-bin/message/subscribe/bizsend", openid, template_id, data, {"page": page}
        )

    async def _message(
        self, path: str, openid: str, template_id: str, data: dict[str, str], link: dict[str, str | None]
    ) -> WeChatAnswer:
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} for k, v in data.items()},
        }
        body.update({k: v for k, v in link.items() if v})
        return await self._post(path, body)

    def authorize_url(self, *, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "appid": self.app_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": "snsapi_base",
                "state": state,
            }
        )
        return f"{AUTHORIZE_URL}?{query}#wechat_redirect"

    async def exchange_code(self, code: str) -> str:
        """The web authorization code for the openid; raises ValueError with WeChat's errcode when refused."""
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            answer = await _get_json(
                client,
                f"{self.base_url}/sns/oauth2/access_token",
                {
                    "appid": self.app_id,
                    "secret": self._secret,
                    "code": code,
                    "grant_type": "authorization_code",
                },
            )
        errcode, message = _errcode(answer)
        if errcode or not answer.get("openid"):
            raise ValueError(f"WeChat refused the code (errcode {errcode}: {message})")
        return str(answer["openid"])


class WeCom(_Sender):
    api = "wecom"

    def __init__(
        self,
        *,
        corp_id: str,
        agent_id: int,
        secret: str,
        base_url: str,
        tokens: TokenCache,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.corp_id = corp_id
        self.agent_id = agent_id
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.timeout = timeout_seconds

    def __repr__(self) -> str:
        return f"WeCom(corp_id={self.corp_id!r}, agent_id={self.agent_id})"

    def _key(self) -> tuple[str, str]:
        return ("wecom", f"{self.corp_id}:{self.agent_id}")

    async def _fetch_token(self, client: httpx.AsyncClient) -> tuple[str, int]:
        answer = await _get_json(
            client, f"{self.base_url}/cgi-bin/gettoken", {"corpid": self.corp_id, "corpsecret": self._secret}
        )
        code, message = _errcode(answer)
        if code or not answer.get("access_token"):
            raise TokenUnavailable(f"errcode {code}: {message}", code in RATE_LIMITED)
        return str(answer["access_token"]), int(answer.get("expires_in", 7200))

    async def send_markdown(self, *, touser: str, toparty: str, content: str) -> WeChatAnswer:
        body: dict[str, Any] = {
            "msgtype": "markdown",
            "agentid": self.agent_id,
            "markdown": {"content": content},
        }
        if touser:
            body["touser"] = touser
        if toparty:
            body["toparty"] = toparty
        return await self._post("/cgi-bin/message/send", body)
