"""The registry application on in-memory persistence: use cases, tenancy, history and the outbound mapping."""

from __future__ import annotations

from uuid import uuid4

import pytest
from registry.application import RegistryApplication, outbound
from registry.contracts import MemberRegistered
from registry.domain import MemberCategory, MemberNotFound, OrganisationNotFound, OrgKind
from shared.errors import Conflict
from shared.meta import event_meta


@pytest.fixture
def app() -> RegistryApplication:
    return RegistryApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"})


def tree(app: RegistryApplication, tenant: str) -> tuple[object, object]:
    root = app.found_organisation(tenant_id=tenant, code="ROOT", name="党委", kind=OrgKind.PrimaryCommittee,
                                  parent_id=None, meta=event_meta("admin"))
    branch = app.found_organisation(tenant_id=tenant, code="B1", name="第一支部", kind=OrgKind.Branch,
                                    parent_id=root.id, meta=event_meta("admin"))
    return root, branch


def test_a_second_organisation_with_the_same_code_is_a_conflict(app: RegistryApplication) -> None:
    tree(app, "t-one")
    with pytest.raises(Conflict, match="already exists"):
        app.found_organisation(tenant_id="t-one", code="ROOT", name="again", kind=OrgKind.PrimaryCommittee,
                               parent_id=None, meta=event_meta("admin"))


def test_the_same_code_in_another_tenant_is_a_different_organisation(app: RegistryApplication) -> None:
    a, _ = tree(app, "t-one")
    b, _ = tree(app, "t-two")
    assert a.id != b.id  # type: ignore[attr-defined]


def test_another_tenants_parent_is_not_found(app: RegistryApplication) -> None:
    root, _ = tree(app, "t-one")
    with pytest.raises(OrganisationNotFound):
        app.found_organisation(tenant_id="t-two", code="X", name="x", kind=OrgKind.Branch,
                               parent_id=root.id, meta=event_meta("admin"))  # type: ignore[attr-defined]


def test_member_history_records_who_registered_the_member(app: RegistryApplication) -> None:
    _, branch = tree(app, "t-one")
    member = app.register_member(member_id=uuid4(), tenant_id="t-one", name="王芳", organisation_id=branch.id,  # type: ignore[attr-defined]
                                 category=MemberCategory.Full, meta=event_meta("secretary-7"))
    history = app.member_history("t-one", member.id)
    assert [type(e).__name__ for e in history] == ["Registered"]
    assert history[0].meta["actor"] == "secretary-7"


def test_another_tenant_cannot_read_a_member(app: RegistryApplication) -> None:
    _, branch = tree(app, "t-one")
    member = app.register_member(member_id=uuid4(), tenant_id="t-one", name="王芳", organisation_id=branch.id,  # type: ignore[attr-defined]
                                 category=MemberCategory.Full, meta=event_meta("s"))
    with pytest.raises(MemberNotFound):
        app.get_member("t-two", member.id)
    with pytest.raises(MemberNotFound):
        app.member_history("t-two", member.id)


def test_registration_goes_out_without_personal_data(app: RegistryApplication) -> None:
    _, branch = tree(app, "t-one")
    member = app.register_member(member_id=uuid4(), tenant_id="t-one", name="王芳", organisation_id=branch.id,  # type: ignore[attr-defined]
                                 category=MemberCategory.Probationary, meta=event_meta("s"))
    (registered,) = list(app.events.get(member.id))
    mapped = outbound(registered)
    assert mapped is not None
    tenant, contract = mapped
    assert tenant == "t-one" and isinstance(contract, MemberRegistered)
    assert "王芳" not in contract.model_dump_json()
    assert contract.category == "probationary"
