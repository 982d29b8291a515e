"""A member's reach by phone over HTTP: their SMS choice, and linking (or unlinking) WeChat through the
tenant's Official Account (the authorization redirect, then the code exchanged for the openid)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from notify.api.common import Notify, Settings, Strict
from notify.channels.wechat import OfficialAccount, TokenCache
from notify.domain.errors import InvalidMobileSettings, LinkRefused
from notify.domain.reach import MemberReach
from shared.auth import Principal, require_roles
from shared.threads import run_sync

Members = Annotated[Principal, require_roles("member")]

member_reach = APIRouter(prefix="/v1/mobile", tags=["mobile"])


class ReachIn(Strict):
    sms: bool = Field(description="false: no SMS (the same as replying TD)")


class ReachOut(BaseModel):
    subject: str
    sms: bool
    sms_choice_source: str | None
    wechat_linked: bool
    wechat_linked_at: datetime | None


class LinkStartOut(BaseModel):
    authorize_url: str
    state: str


class LinkIn(Strict):
    code: str = Field(min_length=1, max_length=512)
    state: str = Field(min_length=8, max_length=128)


def _reach_out(subject: str, reach: MemberReach | None) -> ReachOut:
    return ReachOut(
        subject=subject,
        sms=not (reach.sms_opted_out if reach else False),
        sms_choice_source=reach.sms_choice_source if reach else None,
        wechat_linked=bool(reach and reach.openid),
        wechat_linked_at=reach.linked_at if reach else None,
    )


@member_reach.get("/me", response_model=ReachOut, summary="The member's SMS choice and WeChat link")
async def get_reach(user: Members, notify: Notify) -> ReachOut:
    return _reach_out(user.subject, await run_sync(notify.reach_of, user.tenant, user.subject))


@member_reach.put("/me", response_model=ReachOut, summary="Allow or refuse SMS")
async def put_reach(body: ReachIn, user: Members, notify: Notify) -> ReachOut:
    reach = await run_sync(
        notify.set_sms_choice, user.tenant, user.subject, opted_out=not body.sms, source="member"
    )
    return _reach_out(user.subject, reach)


@member_reach.post(
    "/me/wechat/start", response_model=LinkStartOut, summary="Where to send the member to link WeChat"
)
async def start_link(user: Members, notify: Notify) -> LinkStartOut:
    app = await run_sync(notify.wechat_app, user.tenant)
    if app is None:
        raise InvalidMobileSettings("the organisation has no WeChat Official Account set up", field="wechat")
    state = await run_sync(notify.start_wechat_link, user.tenant, user.subject)
    account = OfficialAccount(app_id=app[0], app_secret=app[1], base_url="", tokens=TokenCache())
    return LinkStartOut(authorize_url=account.authorize_url(redirect_uri=app[2], state=state), state=state)


@member_reach.post(
    "/me/wechat", response_model=ReachOut, summary="Exchange the authorization code for the openid"
)
async def finish_link(body: LinkIn, user: Members, notify: Notify, settings: Settings) -> ReachOut:
    await run_sync(notify.check_link_state, user.tenant, user.subject, body.state)
    app = await run_sync(notify.wechat_app, user.tenant)
    if app is None:
        raise InvalidMobileSettings("the organisation has no WeChat Official Account set up", field="wechat")
    account = OfficialAccount(
        app_id=app[0],
        app_secret=app[1],
        base_url=settings.wechat_api_base,
        tokens=TokenCache(),
        timeout_seconds=settings.mobile_timeout_seconds,
    )
    try:
        openid = await account.exchange_code(body.code)
    except ValueError as exc:
        raise LinkRefused(str(exc), field="code") from exc
    reach = await run_sync(notify.finish_wechat_link, user.tenant, user.subject, body.state, openid)
    return _reach_out(user.subject, reach)


@member_reach.delete("/me/wechat", response_model=ReachOut, summary="Forget the member's openid")
async def unlink(user: Members, notify: Notify) -> ReachOut:
    return _reach_out(user.subject, await run_sync(notify.unlink_wechat, user.tenant, user.subject))
