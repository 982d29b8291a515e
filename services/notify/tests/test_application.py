"""Notify on in-memory persistence: one inbox item per (rule, event, recipient), tracked with the upstream position."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from notify.application import NotifyApplication
from notify.consumers import apply_run, handle
from notify.domain import InboxItem, InboxItemNotFound
from shared.auth import Principal
from shared.consumer import Applied, PermanentFailure
from shared.envelope import CloudEvent

# When the registry published these events: a minute before the notify fixture's clock (2026-11-23 02:00 UTC).
PUBLISHED_AT = datetime(2026, 11, 23, 1, 59, tzinfo=UTC)


def registered(
    sequence: int,
    *,
    tenant: str = "demo-university",
    data: dict[str, object] | None = None,
    event_id: str | None = None,
) -> CloudEvent:
    member, org = uuid4(), uuid4()
    return CloudEvent(
        id=event_id or f"{member}:1",
        source="/lianxin/registry",
        type="cn.lianxin.registry.member_registered.v1",
        subject=str(member),
        time=PUBLISHED_AT,
        tenantid=tenant,
        sequence=str(sequence),
        correlationid="c",
        data=data
        if data is not None
        else {
            "member_id": str(member),
            "organisation_id": str(org),
            "category": "full",
            "registered_on": "2026-11-22",
        },
    )


def inbox_items(created: list[object]) -> list[InboxItem]:
    return [i for i in created if isinstance(i, InboxItem)]


def test_member_registered_reaches_the_branch_secretary_and_the_committee(app: NotifyApplication) -> None:
    event = registered(5)
    items = inbox_items(handle(app, event))
    assert sorted((i.recipient_role, i.recipient_org) for i in items) == [
        ("branch_secretary", event.data["organisation_id"]),
        ("committee", None),
    ]
    assert all(i.tenant_id == "demo-university" and "登记" in i.title for i in items)


def test_a_redelivered_event_creates_nothing_twice(app: NotifyApplication) -> None:
    event = registered(7)
    assert len(handle(app, event)) == 2
    assert handle(app, event) == []
    assert app.process_recorder.max_tracking_id("registry") == 7


def test_the_same_event_under_a_later_position_creates_nothing_twice(app: NotifyApplication) -> None:
    event = registered(7)
    assert len(handle(app, event)) == 2
    assert handle(app, event.model_copy(update={"sequence": "8"})) == []
    assert app.process_recorder.max_tracking_id("registry") == 8


def test_an_earlier_position_arriving_late_is_treated_as_applied(app: NotifyApplication) -> None:
    handle(app, registered(9))
    assert handle(app, registered(8)) == []


def test_an_event_type_without_rules_still_advances_the_position(app: NotifyApplication) -> None:
    other = registered(3).model_copy(update={"type": "cn.lianxin.registry.something_else.v1"})
    assert handle(app, other) == []
    assert app.process_recorder.max_tracking_id("registry") == 3


def test_a_payload_that_breaks_the_contract_is_permanent(app: NotifyApplication) -> None:
    with pytest.raises(PermanentFailure, match="contract"):
        handle(app, registered(4, data={"member_id": "not-a-uuid"}))
    assert app.process_recorder.max_tracking_id("registry") is None


def _user(tenant: str, item: InboxItem, **changes: object) -> Principal:
    orgs = frozenset({item.recipient_org}) if item.recipient_org else frozenset()
    base = Principal(item.recipient_subject or "sec", tenant, frozenset({item.recipient_role}), orgs)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_marking_read_is_tenant_scoped_and_idempotent(app: NotifyApplication) -> None:
    item = inbox_items(handle(app, registered(1)))[0]
    with pytest.raises(InboxItemNotFound):
        app.mark_read(_user("demo-district", item), item.id)
    first = app.mark_read(_user("demo-university", item), item.id).read_at
    assert first is not None
    assert app.mark_read(_user("demo-university", item), item.id).read_at == first


def test_only_a_recipient_marks_an_item_read(app: NotifyApplication) -> None:
    item = inbox_items(handle(app, registered(2)))[0]
    member = _user("demo-university", item, subject="member:someone-else", roles=frozenset({"member"}))
    with pytest.raises(InboxItemNotFound):
        app.mark_read(member, item.id)
    if item.recipient_org is not None:
        other_branch = _user("demo-university", item, orgs=frozenset({"another-branch"}))
        with pytest.raises(InboxItemNotFound):
            app.mark_read(other_branch, item.id)
    assert app.find(InboxItem, item.id).read_at is None  # type: ignore[union-attr]


def test_the_application_keeps_its_stored_name() -> None:
    assert NotifyApplication.name == "notify"


def test_a_rendered_name_is_sealed_per_member_and_gone_after_the_registrys_erasure(
    app: NotifyApplication, directory: Any
) -> None:
    event = registered(7)
    member = UUID(str(event.data["member_id"]))
    directory.names[member] = "欧阳通知"
    items = inbox_items(handle(app, event))
    assert items and all("欧阳通知" in i.title + i.body for i in items)
    assert all(i.named_member == str(member) for i in items)
    raw = b"".join(bytes(e.state) for i in items for e in app.recorder.select_events(i.id))
    assert (
        "欧阳通知".encode() not in raw
        and "欧阳通知".encode("unicode_escape") not in raw
        and b"$sealed" in raw
    )

    erasure = CloudEvent(
        id=f"{member}:9",
        source="/lianxin/registry",
        subject=str(member),
        time=PUBLISHED_AT,
        type="cn.lianxin.registry.personal_data_erased.v1",
        tenantid="demo-university",
        sequence="8",
        correlationid="c",
        data={"member_id": str(member), "erased_on": "2026-11-23"},
    )
    assert handle(app, erasure) == []
    for item in items:
        again = app.repository.get(item.id)
        assert isinstance(again, InboxItem) and again.title is None and again.body is None
        assert (
            again.tenant_id == "demo-university" and again.event_type == item.event_type
        )  # the record stays


def test_a_name_that_was_never_rendered_leaves_the_item_unsealed(app: NotifyApplication) -> None:
    items = inbox_items(handle(app, registered(9)))  # the directory knows no name: "a member" is shown
    assert items and all(i.named_member is None for i in items)
    raw = b"".join(bytes(e.state) for i in items for e in app.recorder.select_events(i.id))
    assert b"$sealed" not in raw


def delivered_items(app: NotifyApplication) -> list[InboxItem]:
    found = {
        n.originator_id
        for n in app.recorder.select_notifications(start=1, limit=10_000)
        if n.topic.endswith("InboxItem.Delivered")
    }
    return [app.repository.get(i) for i in found]


def named(directory: Any, events: list[CloudEvent]) -> dict[str, str]:
    """Gives each event's member a name in the directory; returns member id -> name."""
    names = {str(e.data["member_id"]): f"欧阳{n}号" for n, e in enumerate(events)}
    for member, name in names.items():
        directory.names[UUID(member)] = name
    return names


def test_a_run_of_registrations_asks_the_directory_for_their_names_once(
    app: NotifyApplication, directory: Any
) -> None:
    events = [registered(n) for n in range(1, 21)]
    names = named(directory, events)
    assert apply_run(app, events) == Applied(20)
    assert directory.runs == [("demo-university", [UUID(m) for m in names])]
    assert directory.asked == []  # no member asked for alone
    items = delivered_items(app)
    assert len(items) == 2 * len(events)
    assert all(names[str(i.named_member)] in i.title + i.body for i in items)


def test_a_member_the_runs_read_leaves_out_is_asked_for_alone(app: NotifyApplication, directory: Any) -> None:
    events = [registered(n) for n in range(1, 4)]
    names = named(directory, events)
    late = UUID(str(events[1].data["member_id"]))
    directory.unlisted.add(late)  # the registry's roll is behind the event that brought it
    assert apply_run(app, events) == Applied(3)
    assert len(directory.runs) == 1 and directory.asked == [("demo-university", late)]
    assert all(names[str(i.named_member)] in i.title + i.body for i in delivered_items(app))


def test_a_failed_read_of_the_runs_names_holds_nothing_up(app: NotifyApplication, directory: Any) -> None:
    events = [registered(n) for n in range(1, 4)]
    names = named(directory, events)
    directory.failing = True
    assert apply_run(app, events) == Applied(3)
    assert sorted(m for _, m in directory.asked) == sorted(
        UUID(m) for m in names
    )  # each asked alone, as before
    assert all(names[str(i.named_member)] in i.title + i.body for i in delivered_items(app))


def test_each_tenant_is_asked_for_its_own_members_names(app: NotifyApplication, directory: Any) -> None:
    events = [registered(1, tenant="t-a"), registered(2, tenant="t-b"), registered(3, tenant="t-a")]
    names = named(directory, events)
    for event in events:
        directory.tenants[UUID(str(event.data["member_id"]))] = event.tenantid
    assert apply_run(app, events) == Applied(3)
    assert sorted(directory.runs) == sorted(
        [
            ("t-a", [UUID(str(events[0].data["member_id"])), UUID(str(events[2].data["member_id"]))]),
            ("t-b", [UUID(str(events[1].data["member_id"]))]),
        ]
    )
    assert directory.asked == []
    items = delivered_items(app)
    assert all(
        i.tenant_id == e.tenantid for i in items for e in events if str(e.data["member_id"]) == i.named_member
    )
    assert all(names[str(i.named_member)] in i.title + i.body for i in items)


def test_a_redelivered_run_applies_nothing_twice_and_reads_no_names_again(
    app: NotifyApplication, directory: Any
) -> None:
    events = [registered(n) for n in range(1, 6)]
    named(directory, events)
    assert apply_run(app, events) == Applied(5)
    assert apply_run(app, events) == Applied(5)  # acknowledged again: every one a duplicate
    assert len(directory.runs) == 1
    assert len(delivered_items(app)) == 2 * len(events)
    assert app.process_recorder.max_tracking_id("registry") == 5


def test_the_same_event_twice_in_one_run_creates_its_notices_once(
    app: NotifyApplication, directory: Any
) -> None:
    first = registered(3)
    again = first.model_copy(update={"sequence": "4"})  # re-published under a later position
    named(directory, [first])
    assert apply_run(app, [registered(1), registered(2), first, again]) == Applied(4)
    items = delivered_items(app)
    assert len(items) == 2 * 3
    assert sum(i.event_id == first.id for i in items) == 2
    assert app.process_recorder.max_tracking_id("registry") == 4


def test_a_runs_policies_are_each_tenants_own(app: NotifyApplication, directory: Any) -> None:
    app.override_rule(
        "t-quiet",
        "member-registered-to-secretaries",
        enabled=False,
        channels=None,
        required_channels=[],
        by="admin",
    )
    events = [registered(1, tenant="t-loud"), registered(2, tenant="t-quiet"), registered(3, tenant="t-loud")]
    named(directory, events)
    for event in events:
        directory.tenants[UUID(str(event.data["member_id"]))] = event.tenantid
    assert apply_run(app, events) == Applied(3)
    items = delivered_items(app)
    assert sorted(i.tenant_id for i in items) == ["t-loud"] * 4
    assert {i.event_id for i in items} == {events[0].id, events[2].id}


def test_a_run_plans_its_notices_in_one_pass_and_each_event_stores_its_own(
    app: NotifyApplication, directory: Any
) -> None:
    events = [registered(n) for n in range(1, 6)]
    named(directory, events)
    looked_up: list[object] = []
    find = app.find

    def counting_find(cls: Any, aggregate_id: Any) -> Any:
        looked_up.append(aggregate_id)
        return find(cls, aggregate_id)

    app.find = counting_find  # type: ignore[method-assign]
    assert apply_run(app, events) == Applied(5)
    # One policy read for the run's one tenant (its notices' existence is asked of the repository in memory).
    assert len(looked_up) == 1
    assert {i.event_id for i in delivered_items(app)} == {e.id for e in events}
