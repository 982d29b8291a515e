"""Notify settings: SMTP is platform-level, webhooks are per tenant (in its policy), delivery limits here."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from shared.settings import BaseServiceSettings


class NotifySettings(BaseServiceSettings):
    service_name: str = "notify"
    calls_registry: ClassVar[bool] = True
    port: int = 8104

    smtp_host: str = Field(default="127.0.0.1", description="development default: a local mail catcher")
    smtp_port: int = 1025
    smtp_from: str = "Lianxin <notify@lianxin.example>"
    smtp_timeout_seconds: float = 10.0
    webhook_timeout_seconds: float = 5.0
    webhook_allowed_hosts: str = Field(
        default="",
        description="comma-separated host names webhooks may reach although they are not public "
        "addresses (an intranet robot gateway); every other target must be public",
    )

    delivery_max_attempts: int = Field(default=6, ge=1, le=50)
    delivery_backoff_base_seconds: float = Field(default=30.0, gt=0)
    delivery_backoff_cap_seconds: float = Field(default=3600.0, gt=0)

    # Provider endpoints: platform-level, so tests and staging point them at a local server.
    aliyun_sms_endpoint: str = "https://dysmsapi.aliyuncs.com/"
    tencent_sms_endpoint: str = "https://sms.tencentcloudapi.com/"
    wechat_api_base: str = "https://api.weixin.qq.com"
    wecom_api_base: str = "https://qyapi.weixin.qq.com"
    mobile_timeout_seconds: float = 5.0

    registry_url: str = "http://127.0.0.1:8101"
    service_key_file: Path | None = Field(
        default=None,
        description="signs notify's short-lived service tokens to the registry; development "
        "falls back to the dev signing key beside AUTH_PUBLIC_KEY_FILE",
    )

    def service_key(self) -> Path | None:
        if self.service_key_file is not None:
            return self.service_key_file
        if self.lianxin_env == "production" or self.auth_public_key_file is None:
            return None
        candidate = self.auth_public_key_file.with_name("dev-signing-key.pem")
        return candidate if candidate.exists() else None
