"""The registry application on in-memory persistence: use cases, tenancy, history and the outbound mapping."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from registry.application import RegistryApplication
from registry.contracts import MemberRegistered
from registry.domain import (
    AlreadyOnARoll,
    MemberCategory,
    MemberNotFound,
    Organisation,
    OrganisationNotFound,
    OrgKind,
)
from registry.outbound import outbound
from shared.errors import Conflict
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
