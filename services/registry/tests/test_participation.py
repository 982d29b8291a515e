"""The registry as a transfer participant: each command answered once, one roll before, during and after."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from registry import contracts as c
from registry.application import RegistryApplication
from registry.domain import Member, MemberCategory, OrgKind, Outcome, ParticipantCommand, Person, RollStatus
from registry.outbound import outbound
from shared.eventstore import Tracking
from shared.meta import event_meta

ID_NUMBER = "11010519491231002X"
position = iter(range(1, 10_000))


@pytest.fixture
def app() -> RegistryApplication:
    return RegistryApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, platform_secret="s")


def branch(app: RegistryApplication, tenant: str) -> UUID:
    root = app.found_organisation(
        tenant_id=tenant,
        code="R",
        name="党委",
        kind=OrgKind.PrimaryCommittee,
        parent_id=None,
        meta=event_meta("a"),
    )
    return app.found_organisation(
        tenant_id=tenant, code="B", name="支部", kind=OrgKind.Branch, parent_id=root.id, meta=event_meta("a")
    ).id


@pytest.fixture
def sender(app: RegistryApplication) -> Member:
    return app.register_member(
        member_id=uuid4(),
        tenant_id="uni",
        organisation_id=branch(app, "uni"),
        category=MemberCategory.Full,
        profile={"name": "李明", "national_id_number": ID_NUMBER},
        meta=event_meta("s"),
    )


def answer(
    app: RegistryApplication,
    kind: str,
    member_id: UUID,
    case: str = "case-1",
    tenant: str = "uni",
    **request: Any,
) -> ParticipantCommand | None:
    changed = app.answer(
        command_id=f"{case}:{kind}",
        case_id=case,
        member_id=member_id,
        tenant_id=tenant,
        kind=kind,
        meta=event_meta("service:transfer"),
        **request,
    )
    app.save_tracked(Tracking("transfer", next(position)), *changed)
    reply = changed[-1] if changed else None  # the answer comes last
    assert reply is None or isinstance(reply, ParticipantCommand)
    return reply


def rolls(app: RegistryApplication, *member_ids: UUID) -> list[RollStatus]:
    return [app.repository.get(m).roll for m in member_ids]


def test_a_hold_is_placed_and_answered(app: RegistryApplication, sender: Member) -> None:
    reply = answer(app, "hold", sender.id)
    assert reply is not None and reply.outcome is Outcome.HoldPlaced
    assert app.get_member("uni", sender.id).hold_case_id == "case-1"


def test_a_second_transfer_is_refused_with_a_reason(app: RegistryApplication, sender: Member) -> None:
    answer(app, "hold", sender.id)
    reply = answer(app, "hold", sender.id, case="case-2")
    assert reply is not None and reply.outcome is Outcome.HoldRefused
    (answered,) = [e for e in app.events.get(reply.id)]
    _, contract = outbound(answered)  # type: ignore[misc]
    assert isinstance(contract, c.HoldRefused) and contract.reason_code == "transfer_pending"


def test_the_same_command_is_answered_once(app: RegistryApplication, sender: Member) -> None:
    assert answer(app, "hold", sender.id) is not None
    assert answer(app, "hold", sender.id) is None
    assert len([e for e in app.events.get(sender.id) if isinstance(e, Member.HoldPlaced)]) == 1


def test_lifting_leaves_the_member_active_at_the_sender(app: RegistryApplication, sender: Member) -> None:
    answer(app, "hold", sender.id)
    reply = answer(app, "lift", sender.id)
    assert reply is not None and reply.outcome is Outcome.HoldLifted
    member = app.get_member("uni", sender.id)
    assert member.hold_case_id is None and member.on_roll


def test_enrolment_moves_the_one_relation_in_one_transaction(
    app: RegistryApplication, sender: Member
) -> None:
    receiving = branch(app, "district")
    answer(app, "hold", sender.id)
    assert rolls(app, sender.id) == [RollStatus.OnRoll]
    reply = answer(
        app, "enrol", sender.id, sending_tenant="uni", receiving_tenant="district", receiving_org_id=receiving
    )
    assert reply is not None and reply.outcome is Outcome.MemberEnrolled
    (answered,) = list(app.events.get(reply.id))
    _, contract = outbound(answered)  # type: ignore[misc]
    assert isinstance(contract, c.MemberEnrolled)
    arrived = app.get_member("district", contract.new_member_id)
    assert rolls(app, sender.id, arrived.id) == [RollStatus.TransferredOut, RollStatus.OnRoll]
    assert arrived.name == "李明" and arrived.from_member_id == sender.id
    person = app.repository.get(Person.create_id(sender.person_key))  # type: ignore[arg-type]
    assert (person.member_id, person.tenant_id) == (arrived.id, "district")
    release = answer(app, "release", sender.id)
    assert release is not None and release.outcome is Outcome.MemberReleased


def test_enrolment_into_a_missing_branch_is_refused_and_the_member_stays(
    app: RegistryApplication, sender: Member
) -> None:
    answer(app, "hold", sender.id)
    reply = answer(
        app, "enrol", sender.id, sending_tenant="uni", receiving_tenant="district", receiving_org_id=uuid4()
    )
    assert reply is not None and reply.outcome is Outcome.EnrolmentRefused
    assert rolls(app, sender.id) == [RollStatus.OnRoll]


def test_release_off_the_platform_ends_the_relation_here(app: RegistryApplication, sender: Member) -> None:
    answer(app, "hold", sender.id)
    answer(app, "release", sender.id)
    assert rolls(app, sender.id) == [RollStatus.TransferredOut]
    person = app.repository.get(Person.create_id(sender.person_key))  # type: ignore[arg-type]
    assert person.member_id is None


def test_a_member_of_another_tenant_is_refused_as_not_found(app: RegistryApplication, sender: Member) -> None:
    reply = answer(app, "hold", sender.id, tenant="someone-else")
    assert reply is not None and reply.outcome is Outcome.HoldRefused
    assert app.get_member("uni", sender.id).hold_case_id is None


def test_a_transfer_supersedes_an_open_mobile_registration_and_its_certificate(
    app: RegistryApplication, sender: Member
) -> None:
    from registry.domain import (
        ActivityCertificate,
        CertificateState,
        MobileRegistration,
        MobilityKind,
        RegistrationState,
    )

    registration, certificate = app.register_outflow(
        registration_id=uuid4(),
        tenant_id="uni",
        member_id=sender.id,
        kind=MobilityKind.Outflow,
        reason="务工",
        destination="外地",
        host_tenant=None,
        host_org_id=None,
        expected_months=8,
        fixed_place=True,
        contact="x",
        meta=event_meta("s"),
    )
    assert certificate is not None
    answer(app, "hold", sender.id)
    answer(app, "release", sender.id)
    assert app.repository.get(registration.id).state is RegistrationState.ConvertedToTransfer
    assert app.repository.get(certificate.id).state is CertificateState.Superseded
    assert isinstance(app.repository.get(registration.id), MobileRegistration)
    assert isinstance(app.repository.get(certificate.id), ActivityCertificate)


def test_no_mobile_registration_while_a_transfer_is_pending(app: RegistryApplication, sender: Member) -> None:
    from registry.domain import MobilityKind, TransferPending

    answer(app, "hold", sender.id)
    with pytest.raises(TransferPending):
        app.register_outflow(
            registration_id=uuid4(),
            tenant_id="uni",
            member_id=sender.id,
            kind=MobilityKind.Outflow,
            reason="x",
            destination="x",
            host_tenant=None,
            host_org_id=None,
            expected_months=2,
            fixed_place=False,
            contact="x",
            meta=event_meta("s"),
        )
