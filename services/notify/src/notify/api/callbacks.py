"""The SMS providers' callbacks: delivery receipts, and replies (TD opts the member out). No bearer token
(providers cannot send one): the tenant's callback token in the query, compared with its stored digest."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request

from notify.api.common import Notify, Settings
from notify.channels.sms import SmsProvider, digest_key, phone_digest
from notify.channels.sms_aliyun import AliyunSms
from notify.channels.sms_tencent import TencentSms
from shared.errors import Unauthorized
from shared.threads import run_sync

callbacks = APIRouter(
    prefix="/v1/mobile/callbacks",
    tags=["mobile callbacks"],
    responses={401: {"description": "The callback token does not match the tenant's provider"}},
)


def _provider(name: str) -> SmsProvider:
    # Parsing callbacks needs no credentials.
    if name == "aliyun":
        return AliyunSms(access_key_id="", access_key_secret="", endpoint="", now=datetime.now)
    return TencentSms(secret_id="", secret_key="", sdk_app_id="", endpoint="", now=datetime.now)


TenantPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


async def _verified_body(request: Request, notify: Notify, tenant: str, provider: str, token: str) -> bytes:
    accepted = await run_sync(notify.sms_callback_accepts, tenant, provider, token)
    if not accepted:
        raise Unauthorized("the callback token does not match this tenant's SMS provider", field="token")
    return await request.body()


@callbacks.post(
    "/{tenant}/{provider}/receipts",
    response_model=dict[str, Any],
    summary="Delivery receipts (status reports) from the provider",
)
async def receipts(
    tenant: TenantPath,
    provider: Literal["aliyun", "tencent"],
    request: Request,
    notify: Notify,
    token: Annotated[str, Query(max_length=128)] = "",
) -> dict[str, Any]:
    body = await _verified_body(request, notify, tenant, provider, token)
    parser = _provider(provider)
    for receipt in parser.receipts(body):
        await run_sync(notify.record_sms_receipt, tenant, provider, receipt)
    return parser.acknowledgement()


@callbacks.post(
    "/{tenant}/{provider}/replies",
    response_model=dict[str, Any],
    summary="Replies (上行) from members: TD opts out of SMS",
)
async def replies(
    tenant: TenantPath,
    provider: Literal["aliyun", "tencent"],
    request: Request,
    notify: Notify,
    settings: Settings,
    token: Annotated[str, Query(max_length=128)] = "",
) -> dict[str, Any]:
    body = await _verified_body(request, notify, tenant, provider, token)
    parser = _provider(provider)
    key = digest_key(settings.cipher_key)
    for reply in parser.replies(body):
        digest = phone_digest(key, reply.phone)
        await run_sync(notify.record_sms_reply, tenant, provider, digest, opts_out=reply.opts_out)
    return parser.acknowledgement()
