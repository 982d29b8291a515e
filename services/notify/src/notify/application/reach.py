"""Use cases of a member's reach by phone: the WeChat link (a state kept as its digest, good for one exchange),
unlinking, and the SMS opt-out, chosen by the member or by a TD reply."""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING

from notify.application.mobile_settings import digest, wechat_app
from notify.domain import InvalidPreferences
from notify.domain.errors import InvalidMobileSettings, LinkRefused
from notify.domain.reach import MemberReach, PhoneIndex, phone_index_id

if TYPE_CHECKING:
    from notify.application import NotifyApplication


def start_wechat_link(app: NotifyApplication, tenant_id: str, subject: str) -> str:
    """A random `state` for the authorization redirect; only its digest is kept, good for one exchange."""
    if wechat_app(app, tenant_id) is None:
        raise InvalidMobileSettings("the organisation has no WeChat Official Account set up", field="wechat")
    state = secrets.token_urlsafe(16)
    reach = reach_or_open(app, tenant_id, subject)
    reach.start_link(state_digest=digest(state), at=app.clock.now())
    app.save(reach)
    return state


def check_link_state(app: NotifyApplication, tenant_id: str, subject: str, state: str) -> None:
    reach = app.reach_of(tenant_id, subject)
    if (
        reach is None
        or reach.state_digest is None
        or not hmac.compare_digest(reach.state_digest, digest(state))
    ):
        raise LinkRefused("the state does not match a link this member started", field="state")


def finish_wechat_link(
    app: NotifyApplication, tenant_id: str, subject: str, state: str, openid: str
) -> MemberReach:
    check_link_state(app, tenant_id, subject, state)
    reach = reach_or_open(app, tenant_id, subject)
    reach.link(openid=app.box.seal(openid, context=f"{tenant_id}|openid|{subject}"), at=app.clock.now())
    app.save(reach)
    return reach


def unlink_wechat(app: NotifyApplication, tenant_id: str, subject: str) -> MemberReach:
    reach = reach_or_open(app, tenant_id, subject)
    reach.unlink(at=app.clock.now())
    app.save(reach)
    return reach


def set_sms_choice(
    app: NotifyApplication, tenant_id: str, subject: str, *, opted_out: bool, source: str
) -> MemberReach:
    if not subject.startswith("member:"):
        raise InvalidPreferences("only a member chooses SMS", field="sms")
    reach = reach_or_open(app, tenant_id, subject)
    if reach.choose_sms(opted_out=opted_out, source=source, at=app.clock.now()) or reach.version == 0:
        app.save(reach)
    return reach


def record_sms_reply(
    app: NotifyApplication, tenant_id: str, provider: str, digest: str, *, opts_out: bool
) -> str | None:
    """A reply from a number notify sent to: TD (and the like) opts that member out. Returns the subject."""
    index = app.find(PhoneIndex, phone_index_id(tenant_id, digest))
    if index is None or not opts_out:
        return None
    set_sms_choice(app, tenant_id, index.subject, opted_out=True, source=f"reply:{provider}")
    return index.subject


def reach_or_open(app: NotifyApplication, tenant_id: str, subject: str) -> MemberReach:
    return app.reach_of(tenant_id, subject) or MemberReach.open(tenant_id, subject)
