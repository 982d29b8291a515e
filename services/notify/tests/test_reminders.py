"""Reminders: planned from the due date, repeated at the tenant's interval, stopped when the item closes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from notify.application import NotifyApplication
from notify.consumers import handle
from notify.domain import DeliveryStatus, InboxItem, Reminder, notification_id, reminder_id
from notify.domain.reminder import plan
from shared.clock import SettableClock

SENDER, RECEIVER = "demo-university", "demo-district"


def checked_in(receipt_due_on: str) -> dict[str, Any]:
    return {
        "case_id": f"case-{uuid4().hex[:6]}",
        "member_id": str(uuid4()),
        "sending_tenant": SENDER,
        "receiving_tenant": RECEIVER,
        "sending_org_id": str(uuid4()),
        "receiving_org_id": str(uuid4()),
        "receipt_due_on": receipt_due_on,
    }


def test_past_offsets_collapse_into_one_firing_now() -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    due = now + timedelta(days=3)
    assert plan(due, (timedelta(days=-7), timedelta(days=-1)), now) == [now, due - timedelta(days=1)]
    assert plan(due, (timedelta(days=-1),), now) == [due - timedelta(days=1)]
    assert plan(now - timedelta(days=9), (timedelta(days=-7), timedelta(days=-1)), now) == [now]


def test_a_letter_announces_expiry_reminders_at_t_minus_7_and_t_minus_1(
    app: NotifyApplication, cloudevent: Any
) -> None:
    data = {**checked_in("2026-12-30"), "letter_no": "17", "expires_on": "2026-12-30"}
    created = handle(app, cloudevent("transfer", "letter_issued", data, tenant=SENDER))
    (reminder,) = [r for r in created if isinstance(r, Reminder)]
    assert reminder.kind == "letter-expiry"
    assert [t.astimezone(UTC).isoformat() for t in reminder.planned] == [
        "2026-12-23T01:00:00+00:00",
        "2026-12-29T01:00:00+00:00",
    ]  # 09:00 in Shanghai


def test_an_overdue_receipt_reminds_repeatedly_until_it_is_returned(
    app: NotifyApplication, cloudevent: Any, clock: SettableClock
) -> None:
    app.set_reminder_interval(SENDER, 3, by="admin")
    app.configure_channel(
        RECEIVER,
        name="robot",
        kind="webhook",
        role="committee",
        org_id=None,
        url="http://127.0.0.1:9/h",
        preset="wecom",
        secret=None,
        address=None,
        language="zh-CN",
        quiet_hours=None,
        by="admin",
    )
    data = checked_in("2026-11-20")
    handle(app, cloudevent("transfer", "member_checked_in", data, tenant=SENDER))
    rid = reminder_id(SENDER, "receipt-overdue", data["case_id"])

    first = app.fire_reminder(rid, 1)
    assert first is not None and first.next_at == clock.now() + timedelta(days=3)
    assert app.fire_reminder(rid, 1) is None, "a repeated firing of the same occurrence does nothing"
    clock.advance(timedelta(days=3))
    second = app.fire_reminder(rid, 2)
    assert second is not None and len(second.pending_deliveries) == 2

    handle(app, cloudevent("transfer", "receipt_returned", data, tenant=RECEIVER))
    closed = app.repository.get(rid)
    assert closed.closed
    assert app.fire_reminder(rid, 3) is None
    statuses = {app.repository.get(UUID(d)).status for d in closed.pending_deliveries}
    assert statuses == {DeliveryStatus.Withdrawn}


def test_each_firing_is_its_own_notification_to_both_committees(
    app: NotifyApplication, cloudevent: Any, clock: SettableClock
) -> None:
    data = checked_in("2026-11-20")
    handle(app, cloudevent("transfer", "member_checked_in", data, tenant=SENDER))
    rid = reminder_id(SENDER, "receipt-overdue", data["case_id"])
    app.fire_reminder(rid, 1)
    clock.advance(timedelta(days=7))
    app.fire_reminder(rid, 2)
    for occurrence in (1, 2):
        for key in ("committee@*", f"{RECEIVER}/committee@*"):
            item = app.repository.get(
                notification_id("reminder.receipt-overdue", f"{rid}:{occurrence}", key, "inbox")
            )
            assert isinstance(item, InboxItem) and f"第{occurrence}次提醒" in item.body


def test_a_contact_case_is_chased_from_its_opening_until_the_registry_closes_it(
    app: NotifyApplication, cloudevent: Any, clock: SettableClock
) -> None:
    member, org = str(uuid4()), str(uuid4())
    opened = handle(
        app,
        cloudevent(
            "registry",
            "contact_at_risk",
            {"member_id": member, "organisation_id": org, "cause": "外出务工经商", "silent_days": 95},
            tenant=SENDER,
        ),
    )
    (reminder,) = [r for r in opened if isinstance(r, Reminder)]
    assert reminder.kind == "contact-case" and reminder.planned[0] <= clock.now()
    assert app.fire_reminder(reminder.id, 1) is not None
    handle(
        app,
        cloudevent(
            "registry",
            "contact_case_closed",
            {"member_id": member, "organisation_id": org, "reason": "reached"},
            tenant=SENDER,
        ),
    )
    assert app.fire_reminder(reminder.id, 2) is None


def test_a_thought_report_reminder_closes_when_learning_says_the_report_was_submitted(
    app: NotifyApplication, cloudevent: Any
) -> None:
    member, org = str(uuid4()), str(uuid4())
    handle(
        app,
        cloudevent(
            "learning",
            "thought_report_due",
            {"member_id": member, "organisation_id": org, "quarter": "2026Q4", "due_on": "2026-12-31"},
            tenant=SENDER,
        ),
    )
    rid = reminder_id(SENDER, "thought-report", f"{member}:2026Q4")
    handle(
        app,
        cloudevent(
            "learning",
            "thought_report_submitted",
            {
                "member_id": member,
                "tenant": SENDER,
                "organisation_id": org,
                "occurred_at": "2026-11-23T10:00:00+08:00",
                "report_id": str(uuid4()),
                "quarter": "2026Q4",
            },
            tenant=SENDER,
        ),
    )
    assert app.repository.get(rid).closed


def test_the_six_monthly_contact_is_chased_until_recorded_and_the_next_cycle_is_a_new_reminder(
    app: NotifyApplication, cloudevent: Any
) -> None:
    member = str(uuid4())
    first = {
        "member_id": member,
        "organisation_id": str(uuid4()),
        "item_id": f"{member}:2026-12-20",
        "due_on": "2026-12-20",
    }
    created = handle(app, cloudevent("registry", "contact_due", first, tenant=SENDER))
    (reminder,) = [r for r in created if isinstance(r, Reminder)]
    assert reminder.kind == "contact-due" and reminder.repeats
    handle(
        app,
        cloudevent(
            "registry",
            "contact_recorded",
            {**first, "outcome": "met", "recorded_at": "2026-12-01T02:00:00+00:00"},
            tenant=SENDER,
        ),
    )
    closed = app.repository.get(reminder_id(SENDER, "contact-due", first["item_id"]))
    assert closed.closed
    second = {**first, "item_id": f"{member}:2027-06-01", "due_on": "2027-06-01"}
    created = handle(app, cloudevent("registry", "contact_due", second, tenant=SENDER))
    (nxt,) = [r for r in created if isinstance(r, Reminder)]
    assert not nxt.closed and nxt.id != closed.id


def test_the_registrys_probation_reminder_reaches_the_member_and_the_branch_inbox(
    app: NotifyApplication, cloudevent: Any
) -> None:
    member, org = str(uuid4()), str(uuid4())
    created = handle(
        app,
        cloudevent(
            "registry",
            "probation_ending",
            {"member_id": member, "organisation_id": org, "ends_on": "2027-03-10"},
            tenant=SENDER,
        ),
    )
    inbox = [i for i in created if isinstance(i, InboxItem)]
    assert inbox and all("2027-03-10" in i.body for i in inbox)
    assert {i.title for i in inbox} == {"预备期即将届满"}
