"""Events stored while their outbound data rode in `meta` still publish exactly as the events that carry it.

Each case takes an event as stored now, rewrites its stored state into the shape it had before (no class
version, the field moved into `meta`), reads it back through the application's mapper (which upcasts it) and
compares what the relay would publish.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from registry.application import RegistryApplication
from registry.domain import (
    ActivityCertificate,
    CertificateState,
    MemberCategory,
    MobileRegistration,
    MobilityDeclaration,
    MobilityKind,
    OrgKind,
)
from registry.domain.screening import ScreeningCampaign, ScreeningScope
from registry.outbound import outbound
from shared.meta import event_meta

HOME = {"tenant_id": "home", "member_id": str(uuid4()), "org_id": str(uuid4())}


@pytest.fixture
def app() -> RegistryApplication:
    return RegistryApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, platform_secret="test-secret")


def stored_before(
    app: RegistryApplication, event: Any, moved: dict[str, str], as_stored: Callable[[Any], Any] = lambda v: v
) -> Any:
    """`event` as it was stored when meta carried each field of `moved` (field → meta key), read back."""
    stored = app.mapper.to_stored_event(event)
    state = app.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    state["meta"] = {k: v for k, v in state["meta"].items() if k not in moved.values()}
    for field, key in moved.items():
        state["meta"][key] = as_stored(state.pop(field))
    old = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=app.mapper.transcoder.encode(state),
    )
    return app.mapper.to_domain_event(old)


def assert_published_alike(
    app: RegistryApplication, events: list[Any], moved: dict[str, str], **kw: Any
) -> int:
    compared = 0
    for event in events:
        if getattr(type(event), "class_version", 1) != 2:
            continue
        published = outbound(event)
        assert published is not None
        assert outbound(stored_before(app, event, moved, **kw)) == published
        compared += 1
    return compared


def registration() -> MobileRegistration:
    return MobileRegistration.register_outflow(
        registration_id=uuid4(),
        tenant_id=HOME["tenant_id"],
        member_id=uuid4(),
        home_org_id=uuid4(),
        kind=MobilityKind.Outflow,
        reason="务工",
        destination="深圳",
        host_tenant="host",
        host_org_id=None,
        expected_months=4,
        fixed_place=False,
        contact="微信",
        left_on=date(2026, 3, 1),
        meta={},
    )


def test_a_registrations_inflow_return_and_conversion_stored_with_home_in_meta(
    app: RegistryApplication,
) -> None:
    inflow = registration()
    inflow.register_inflow(
        host_tenant="host", host_org_id=uuid4(), host_contact="x", registered_on=date(2026, 3, 5), meta={}
    )
    inflow.return_home(date(2026, 9, 1), {})
    converted = registration()
    converted.convert_to_transfer(date(2026, 5, 1), {})
    events = [*inflow.collect_events(), *converted.collect_events()]
    assert assert_published_alike(app, events, {"home": "home"}) == 3


def test_a_declarations_answers_stored_with_home_in_meta(app: RegistryApplication) -> None:
    events: list[Any] = []
    for answer in ("confirm", "ask"):
        declaration = MobilityDeclaration(
            id=uuid4(),
            tenant_id="home",
            member_id=uuid4(),
            home_org_id=uuid4(),
            reason="务工",
            destination="深圳",
            expected_months=4,
            fixed_place=False,
            contact="微信",
            meta={},
        )
        if answer == "confirm":
            declaration.confirm(uuid4(), {})
        else:
            declaration.ask("在哪个单位？", {})
        events += declaration.collect_events()
    assert assert_published_alike(app, events, {"home": "home"}) == 2


def test_a_certificates_events_stored_with_home_tenant_and_item_in_meta(app: RegistryApplication) -> None:
    cert = ActivityCertificate(
        id=uuid4(),
        tenant_id="home",
        number="U-2026-00001",
        member_id=uuid4(),
        registration_id=uuid4(),
        issued_on=date(2026, 3, 1),
        home=HOME,
        meta={},
    )
    cert.review(date(2027, 2, 20), "u", "良好", {})
    cert.close(CertificateState.Surrendered, date(2027, 6, 1), "返回", {})
    events = cert.collect_events()
    issued, reviewed, due, closed = events
    assert assert_published_alike(app, [issued], {"home": "home"}) == 1
    assert assert_published_alike(app, [due], {"home": "home", "tenant_id": "tenant_id"}) == 1
    moved = {"home": "home", "tenant_id": "tenant_id", "item_id": "closes"}
    assert assert_published_alike(app, [reviewed, closed], moved) == 2


def test_a_certificate_issued_before_its_events_said_whose_is_still_not_published(
    app: RegistryApplication,
) -> None:
    cert = ActivityCertificate(
        id=uuid4(),
        tenant_id="home",
        number="U-2026-00002",
        member_id=uuid4(),
        registration_id=uuid4(),
        issued_on=date(2026, 3, 1),
        home=HOME,
        meta={},
    )
    issued = cert.collect_events()[0]
    stored = app.mapper.to_stored_event(issued)
    state = app.mapper.transcoder.decode(stored.state)
    del state["class_version"], state["home"]
    old = app.mapper.to_domain_event(
        StoredEvent(
            originator_id=stored.originator_id,
            originator_version=stored.originator_version,
            topic=stored.topic,
            state=app.mapper.transcoder.encode(state),
        )
    )
    assert old.home == {}
    assert outbound(old) is None


def test_a_screening_reminder_stored_with_its_deadline_in_meta(app: RegistryApplication) -> None:
    org = str(uuid4())
    campaign = ScreeningCampaign.open(
        campaign_id=uuid4(),
        tenant_id="home",
        title="年度排查",
        scope=ScreeningScope.Branches,
        organisation_ids=[org],
        members={str(uuid4()): org},
        opened_on=date(2026, 3, 1),
        due_on=date(2026, 4, 1),
        meta={},
    )
    campaign.remind(date(2026, 3, 20), {})
    reminders = [e for e in campaign.collect_events() if isinstance(e, ScreeningCampaign.BranchReminded)]
    compared = assert_published_alike(app, reminders, {"due_on": "due_on"}, as_stored=lambda d: d.isoformat())
    assert compared == 1


def test_an_erasure_stored_with_its_tenant_in_meta(app: RegistryApplication) -> None:
    root = app.found_organisation(
        tenant_id="home",
        code="ROOT",
        name="党委",
        kind=OrgKind.PrimaryCommittee,
        parent_id=None,
        meta=event_meta("admin"),
    )
    branch = app.found_organisation(
        tenant_id="home",
        code="B1",
        name="第一支部",
        kind=OrgKind.Branch,
        parent_id=root.id,
        meta=event_meta("admin"),
    )
    member = app.register_member(
        member_id=uuid4(),
        tenant_id="home",
        organisation_id=branch.id,
        category=MemberCategory.Full,
        profile={"name": "王芳"},
        meta=event_meta("secretary-7"),
    )
    app.erase_personal_data("home", member.id, by="c", basis="本人申请", meta=event_meta("c"))
    erased = app.member_history("home", member.id)[-1]
    assert assert_published_alike(app, [erased], {"tenant_id": "tenant_id"}) == 1
