"""Rules: who hears about a transfer step, through which channels, as the tenant and the member decided."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from notify.application import NotifyApplication
from notify.application.templates import TEMPLATES
from notify.consumers import handle
from notify.contracts import TRANSFER_STEPS
from notify.domain import Delivery, InboxItem
from notify.domain.rules import RULES, RULES_BY_NAME, TRANSFER_AUDIENCES, rules_for

SENDER, RECEIVER = "demo-university", "demo-district"


def transfer_data(**extra: Any) -> dict[str, Any]:
    return {
        "case_id": f"case-{uuid4().hex[:6]}",
        "member_id": str(uuid4()),
        "sending_tenant": SENDER,
        "receiving_tenant": RECEIVER,
        "sending_org_id": str(uuid4()),
        "receiving_org_id": str(uuid4()),
        "letter_no": "2026-017",
        "expires_on": "2026-12-30",
        **extra,
    }


def by_tenant(created: list[object]) -> dict[str, set[tuple[str, str | None, str | None]]]:
    found: dict[str, set[tuple[str, str | None, str | None]]] = {}
    for item in created:
        if isinstance(item, InboxItem):
            found.setdefault(item.tenant_id, set()).add(
                (item.recipient_role, item.recipient_org, item.recipient_subject)
            )
    return found


def test_every_transfer_step_and_reminder_has_a_rule_and_both_languages() -> None:
    assert set(TRANSFER_AUDIENCES) == set(TRANSFER_STEPS)
    for rule in RULES:
        assert set(TEMPLATES[rule.template]) == {"zh-CN", "en"}, rule.name
    assert all(rules_for(f"cn.lianxin.transfer.{step}.v1") for step in TRANSFER_STEPS)


def test_a_letter_reaches_the_member_the_senders_secretary_and_the_receivers_secretary_and_committee(
    app: NotifyApplication, cloudevent: Any
) -> None:
    data = transfer_data()
    created = handle(
        app, cloudevent("transfer", "letter_issued", data, tenant=SENDER, subject=data["case_id"])
    )
    assert by_tenant(created) == {
        SENDER: {
            ("person", None, f"member:{data['member_id']}"),
            ("branch_secretary", data["sending_org_id"], None),
        },
        RECEIVER: {("branch_secretary", data["receiving_org_id"], None), ("committee", None, None)},
    }
    assert not [d for d in created if isinstance(d, Delivery)], "no channel configured: inbox only"


def test_a_configured_webhook_and_mailbox_get_a_delivery_each_for_their_role(
    app: NotifyApplication, cloudevent: Any
) -> None:
    data = transfer_data()
    app.configure_channel(
        RECEIVER,
        name="district-robot",
        kind="webhook",
        role="committee",
        org_id=None,
        url="http://127.0.0.1:9/hook",
        preset="dingtalk",
        secret="s3cret-s3cret",
        address=None,
        language="zh-CN",
        quiet_hours=None,
        by="admin",
    )
    app.configure_channel(
        SENDER,
        name="branch-mail",
        kind="email",
        role="branch_secretary",
        org_id=data["sending_org_id"],
        url=None,
        preset=None,
        secret=None,
        address="sec@example.org",
        language="en",
        quiet_hours=None,
        by="admin",
    )
    created = handle(app, cloudevent("transfer", "letter_issued", data, tenant=SENDER))
    deliveries = sorted(
        (d.tenant_id, d.channel, d.destination, d.language) for d in created if isinstance(d, Delivery)
    )
    assert deliveries == [
        (RECEIVER, "webhook", "district-robot", "zh-CN"),
        (SENDER, "email", "branch-mail", "en"),
    ]


def test_a_tenant_can_switch_a_rule_off_for_itself_only(app: NotifyApplication, cloudevent: Any) -> None:
    app.override_rule(
        RECEIVER, "transfer.letter_issued", enabled=False, channels=None, required_channels=[], by="admin"
    )
    data = transfer_data()
    created = handle(app, cloudevent("transfer", "letter_issued", data, tenant=SENDER))
    assert set(by_tenant(created)) == {SENDER}


def test_a_member_who_chose_email_gets_it_in_their_language(
    app: NotifyApplication, cloudevent: Any, directory: Any
) -> None:
    data = transfer_data()
    directory.names[UUID(data["member_id"])] = "Li Ming"
    app.set_preferences(
        SENDER,
        f"member:{data['member_id']}",
        language="en",
        channels=["inbox", "email"],
        quiet_hours=None,
        email="li@example.org",
    )
    created = handle(app, cloudevent("transfer", "letter_issued", data, tenant=SENDER))
    (email,) = [d for d in created if isinstance(d, Delivery)]
    assert (email.channel, email.destination, email.language) == ("email", "member", "en")
    assert email.title == "Letter issued" and "Li Ming" in email.body
    person = next(i for i in created if isinstance(i, InboxItem) and i.recipient_subject)
    assert person.title == "Letter issued"

    # The registry erases the member before the e-mail went out: it is not sent, and reads back without the name.
    assert email.named_member == data["member_id"]
    handle(
        app,
        cloudevent(
            "registry",
            "personal_data_erased",
            {"member_id": data["member_id"], "erased_on": "2026-11-23"},
            tenant=SENDER,
        ),
    )
    outgoing = app.prepare_attempt(email.id, 1)
    assert outgoing is not None and outgoing.target is None and (outgoing.problem or "").startswith("erased")
    assert outgoing.body is None


def test_a_required_channel_overrides_the_members_choice(app: NotifyApplication, cloudevent: Any) -> None:
    data = transfer_data()
    subject = f"member:{data['member_id']}"
    app.set_preferences(
        SENDER, subject, language="zh-CN", channels=[], quiet_hours=None, email="li@example.org"
    )
    assert not [
        d
        for d in handle(app, cloudevent("transfer", "letter_issued", data, tenant=SENDER))
        if isinstance(d, Delivery)
    ]
    app.override_rule(
        SENDER,
        "transfer.letter_voided",
        enabled=True,
        channels=None,
        required_channels=["email"],
        by="secretary",
    )
    created = handle(app, cloudevent("transfer", "letter_voided", data, tenant=SENDER))
    assert [(d.channel, d.recipient) for d in created if isinstance(d, Delivery)] == [("email", subject)]
    assert not [i for i in created if isinstance(i, InboxItem) and i.recipient_subject], (
        "inbox was not chosen"
    )


def test_meetings_reach_every_member_of_the_branch_through_the_role(
    app: NotifyApplication, cloudevent: Any
) -> None:
    org = str(uuid4())
    created = handle(
        app,
        cloudevent(
            "learning",
            "meeting_scheduled",
            {
                "organisation_id": org,
                "meeting_id": "m-1",
                "starts_at": "2026-12-01T19:00:00+08:00",
                "meeting_type": "party_lecture",
            },
        ),
    )
    roles = {(i.recipient_role, i.recipient_org) for i in created if isinstance(i, InboxItem)}
    assert roles == {("member", org), ("branch_secretary", org)}
    assert "党课" in next(i.body for i in created if isinstance(i, InboxItem))


def test_rule_names_are_unique() -> None:
    assert len(RULES_BY_NAME) == len(RULES)


def test_an_inflow_reaches_the_member_at_home_and_both_branch_secretaries(
    app: NotifyApplication, cloudevent: Any
) -> None:
    member, home_org, host_org = str(uuid4()), str(uuid4()), str(uuid4())
    created = handle(
        app,
        cloudevent(
            "registry",
            "inflow_registered",
            {
                "registration_id": str(uuid4()),
                "member_id": member,
                "home_tenant": SENDER,
                "home_org_id": home_org,
                "host_tenant": RECEIVER,
                "host_org_id": host_org,
                "registered_on": "2026-11-22",
            },
            tenant=RECEIVER,
        ),
    )
    assert by_tenant(created) == {
        SENDER: {("person", None, f"member:{member}"), ("branch_secretary", home_org, None)},
        RECEIVER: {("branch_secretary", host_org, None)},
    }


def test_learnings_meeting_notice_as_it_publishes_it(app: NotifyApplication, cloudevent: Any) -> None:
    org = str(uuid4())
    created = handle(
        app,
        cloudevent(
            "learning",
            "meeting_scheduled",
            {
                "meeting_id": str(uuid4()),
                "organisation_id": org,
                "meeting_type": "themed_party_day",
                "mode": "online",
                "starts_at": "2026-12-01T19:00:00+08:00",
            },
        ),
    )
    assert {i.body for i in created if isinstance(i, InboxItem)} == {
        "本支部将于2026-12-01T19:00:00+08:00召开主题党日活动，请准时参加。"
    }
