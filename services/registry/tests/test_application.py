"""The registry application on in-memory persistence: use cases, tenancy, history and the outbound mapping."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import OperationalError

from registry.application import RegistryApplication
from registry.application.members import Registration
from registry.contracts import MemberRegistered
from registry.domain import (
    AlreadyOnARoll,
    Member,
    MemberCategory,
    MemberNotFound,
    Organisation,
    OrganisationNotFound,
    OrgKind,
)
from registry.domain.identity import InvalidNationalId
from registry.outbound import outbound
from shared.errors import Conflict
from shared.eventstore import IntegrityError
from shared.meta import event_meta

ID_NUMBER = "11010519491231002X"


@pytest.fixture
def app() -> RegistryApplication:
    return RegistryApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, platform_secret="test-secret")


def tree(app: RegistryApplication, tenant: str) -> tuple[Organisation, Organisation]:
    root = app.found_organisation(
        tenant_id=tenant,
        code="ROOT",
        name="党委",
        kind=OrgKind.PrimaryCommittee,
        parent_id=None,
        meta=event_meta("admin"),
    )
    branch = app.found_organisation(
        tenant_id=tenant,
        code="B1",
        name="第一支部",
        kind=OrgKind.Branch,
        parent_id=root.id,
        meta=event_meta("admin"),
    )
    return root, branch


def register(app: RegistryApplication, tenant: str, branch: UUID, **profile: Any) -> Any:
    return app.register_member(
        member_id=uuid4(),
        tenant_id=tenant,
        organisation_id=branch,
        category=MemberCategory.Full,
        profile={"name": "王芳", **profile},
        meta=event_meta("secretary-7"),
    )


def test_a_second_organisation_with_the_same_code_is_a_conflict(app: RegistryApplication) -> None:
    tree(app, "t-one")
    with pytest.raises(Conflict, match="already exists"):
        app.found_organisation(
            tenant_id="t-one",
            code="ROOT",
            name="again",
            kind=OrgKind.PrimaryCommittee,
            parent_id=None,
            meta=event_meta("admin"),
        )


def test_the_same_code_in_another_tenant_is_a_different_organisation(app: RegistryApplication) -> None:
    assert tree(app, "t-one")[0].id != tree(app, "t-two")[0].id


def test_another_tenants_parent_is_not_found(app: RegistryApplication) -> None:
    root, _ = tree(app, "t-one")
    with pytest.raises(OrganisationNotFound):
        app.found_organisation(
            tenant_id="t-two",
            code="X",
            name="x",
            kind=OrgKind.Branch,
            parent_id=root.id,
            meta=event_meta("admin"),
        )


def test_member_history_records_who_registered_the_member(app: RegistryApplication) -> None:
    _, branch = tree(app, "t-one")
    member = register(app, "t-one", branch.id)
    history = app.member_history("t-one", member.id)
    assert [type(e).__name__ for e in history] == ["Registered"]
    assert history[0].meta["actor"] == "secretary-7"


def test_another_tenant_cannot_read_a_member(app: RegistryApplication) -> None:
    _, branch = tree(app, "t-one")
    member = register(app, "t-one", branch.id)
    with pytest.raises(MemberNotFound):
        app.get_member("t-two", member.id)
    with pytest.raises(MemberNotFound):
        app.member_history("t-two", member.id)


def test_registration_goes_out_without_personal_data(app: RegistryApplication) -> None:
    _, branch = tree(app, "t-one")
    member = register(app, "t-one", branch.id, national_id_number=ID_NUMBER, phone="13812345678")
    (registered,) = list(app.events.get(member.id))
    mapped = outbound(registered)
    assert mapped is not None
    tenant, contract = mapped
    assert tenant == "t-one" and isinstance(contract, MemberRegistered)
    assert not {"王芳", ID_NUMBER, "13812345678"} & set(contract.model_dump_json().split('"'))


def test_one_person_is_on_one_roll_across_tenants(app: RegistryApplication) -> None:
    _, b1 = tree(app, "t-one")
    _, b2 = tree(app, "t-two")
    register(app, "t-one", b1.id, national_id_number=ID_NUMBER)
    with pytest.raises(AlreadyOnARoll, match="another organisation's roll"):
        register(app, "t-two", b2.id, national_id_number=ID_NUMBER.lower())


def test_an_unmasked_read_is_recorded_in_the_members_history(app: RegistryApplication) -> None:
    _, branch = tree(app, "t-one")
    member = register(app, "t-one", branch.id, national_id_number=ID_NUMBER)
    app.disclose("t-one", member.id, by="committee-1", purpose="开具介绍信", meta=event_meta("committee-1"))
    last = app.member_history("t-one", member.id)[-1]
    assert type(last).__name__ == "PersonalDataDisclosed" and last.by == "committee-1"


def test_application_keeps_the_name_its_stored_tables_carry() -> None:
    # eventsourcing names a subclass after itself unless it says otherwise: registry_events, not
    # registryapplication_events, is where the events already stored live.
    assert RegistryApplication.name == "registry"


# Registrations that arrived together (`register_members`, the members route's group commit): one save of the
# batch; one refused by its own rules, or one whose id is stored already, never fails the others.


def registration(tenant: str, organisation_id: UUID, **profile: Any) -> Registration:
    return Registration(
        member_id=uuid4(),
        tenant_id=tenant,
        organisation_id=organisation_id,
        category=MemberCategory.Full,
        profile={"name": "王芳", **profile},
        meta=event_meta("secretary-7"),
    )


def counting_inserts(app: RegistryApplication, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of events in each insert the recorder is asked for, failed ones included."""
    inserts: list[int] = []
    insert_events = app.recorder.insert_events

    def counted(stored_events: Any, **kwargs: Any) -> Any:
        inserts.append(len(stored_events))
        return insert_events(stored_events, **kwargs)

    monkeypatch.setattr(app.recorder, "insert_events", counted)
    return inserts


def stored_members(app: RegistryApplication) -> list[UUID]:
    log = app.recorder.select_notifications(start=1, limit=1000)
    return [n.originator_id for n in log if n.topic.endswith("Member.Registered")]


def test_a_batch_of_registrations_is_stored_in_one_insert(
    app: RegistryApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch = tree(app, "t-one")[1]
    batch = [registration("t-one", branch.id) for _ in range(3)]
    inserts = counting_inserts(app, monkeypatch)
    answers = app.register_members(batch)
    assert [a.id for a in answers if isinstance(a, Member)] == [r.member_id for r in batch]
    assert len(inserts) == 1  # every member, its contact status: one insert
    assert stored_members(app) == [r.member_id for r in batch]
    assert app.get_member("t-one", batch[1].member_id).organisation_id == branch.id


def test_one_refused_by_its_own_rules_answers_alone_and_the_others_are_stored_together(
    app: RegistryApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch, elsewhere = tree(app, "t-one")[1], tree(app, "t-two")[1]
    first, foreign, bad_number, last = (
        registration("t-one", branch.id),
        registration("t-one", elsewhere.id),  # another tenant's branch: not found
        registration("t-one", branch.id, national_id_number="110105194912310021"),
        registration("t-one", branch.id),
    )
    inserts = counting_inserts(app, monkeypatch)
    answers = app.register_members([first, foreign, bad_number, last])
    assert isinstance(answers[1], OrganisationNotFound)
    assert isinstance(answers[2], InvalidNationalId)
    assert [a.id for a in answers if isinstance(a, Member)] == [first.member_id, last.member_id]
    assert len(inserts) == 1
    assert stored_members(app) == [first.member_id, last.member_id]


def test_an_id_stored_already_fails_the_one_save_and_each_is_then_stored_alone(
    app: RegistryApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retried idempotent request whose first attempt was stored: its id is taken (the route then answers with
    the stored member); the batch's save fails as a whole, nothing of it is stored, and the others are stored
    one by one, each once."""
    branch = tree(app, "t-one")[1]
    retried = registration("t-one", branch.id)
    app.register_members([retried])
    before, after = registration("t-one", branch.id), registration("t-one", branch.id)
    inserts = counting_inserts(app, monkeypatch)
    answers = app.register_members([before, retried, after])
    assert isinstance(answers[1], IntegrityError)
    assert [a.id for a in answers if isinstance(a, Member)] == [before.member_id, after.member_id]
    assert len(inserts) == 4  # the batch's (refused), then one for each alone
    assert stored_members(app) == [retried.member_id, before.member_id, after.member_id]


def test_the_same_person_twice_in_one_batch_is_registered_once(app: RegistryApplication) -> None:
    branch = tree(app, "t-one")[1]
    first = registration("t-one", branch.id, national_id_number=ID_NUMBER)
    again = registration("t-one", branch.id, national_id_number=ID_NUMBER)
    answers = app.register_members([first, again])
    assert isinstance(answers[0], Member) and isinstance(answers[1], AlreadyOnARoll)
    assert stored_members(app) == [first.member_id]


def test_a_database_out_of_reach_answers_the_whole_batch_with_it_without_trying_each_alone(
    app: RegistryApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch = tree(app, "t-one")[1]
    transactions: list[Any] = []

    def unreachable(command: Any) -> Any:
        transactions.append(command)
        raise OperationalError("the database stayed out of reach")

    monkeypatch.setattr(app, "in_one_transaction", unreachable)
    inserts = counting_inserts(app, monkeypatch)
    answers = app.register_members([registration("t-one", branch.id) for _ in range(3)])
    assert all(isinstance(a, OperationalError) for a in answers)
    assert len(transactions) == 1  # the batch's, no registration tried alone
    assert inserts == [] and stored_members(app) == []
