"""The session: the signed-in person's token and a CSRF token, in an encrypted HttpOnly SameSite cookie.

Nothing about the person is in a URL or a log line; the browser holds only ciphertext it cannot read or alter.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Request
from starlette.responses import Response

COOKIE = "lx_session"
LANG_COOKIE = "lx_lang"


@dataclass
class Session:
    token: str
    tenant: str
    subject: str
    roles: list[str]
    orgs: list[str]
    display: str  # who the person is, for the top bar
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    expires: float = 0.0
    token_expires: float = 0.0  # the access token's expiry (OIDC); past it the person signs in again
    via: str = "dev"  # "dev" (the demo list) or "oidc"

    @property
    def member_id(self) -> str | None:
        prefix, _, raw = self.subject.partition(":")
        return raw if prefix == "member" and "member" in self.roles else None

    @property
    def is_member(self) -> bool:
        return self.member_id is not None

    @property
    def is_committee(self) -> bool:
        return bool({"committee", "tenant_admin"} & set(self.roles))


class SessionBox:
    """`clock` is the wall clock the cookie's and the access token's expiries are measured on (tokens carry real
    time from the identity provider); tests pass a fixed one."""

    def __init__(
        self, secret: str, *, hours: int, secure: bool, clock: Callable[[], float] = time.time
    ) -> None:
        key = base64.urlsafe_b64encode(
            hashlib.sha256(("lianxin-console-session:" + secret).encode()).digest()
        )
        self.fernet = Fernet(key)
        self.ttl = hours * 3600
        self.secure = secure
        self.clock = clock

    def read(self, request: Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            now = int(self.clock())
            data: dict[str, Any] = json.loads(self.fernet.decrypt_at_time(raw.encode(), self.ttl, now))
            session = Session(**data)
        except (InvalidToken, ValueError, TypeError):
            return None
        if session.expires <= now or (session.token_expires and session.token_expires <= now + 30):
            return None
        return session

    def write(self, response: Response, session: Session) -> None:
        now = int(self.clock())
        session.expires = now + self.ttl
        value = self.fernet.encrypt_at_time(json.dumps(asdict(session)).encode(), now).decode()
        response.set_cookie(
            COOKIE, value, max_age=self.ttl, httponly=True, samesite="lax", secure=self.secure, path="/"
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/")


def csrf_ok(session: Session, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(session.csrf, submitted or "")
