"""Erasure by crypto-shredding, on in-memory persistence: personal fields are sealed per member in the stored
events, an erasure is a recorded decision, and after it nothing of the person reads back; a legal hold refuses it."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from registry import contracts
from registry.application import RegistryApplication
from registry.domain import InvalidDecision, Member, MemberCategory, Organisation, OrgKind, TransferPending
from registry.outbound import outbound
from shared.meta import event_meta

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"
NAME = "李删除"


@pytest.fixture
def app() -> RegistryApplication:
    return RegistryApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, platform_secret="test-secret")


def member(app: RegistryApplication) -> Member:
    root = app.found_organisation(
        tenant_id="t-one",
        code="ROOT",
        name="党委",
        kind=OrgKind.PrimaryCommittee,
        parent_id=None,
        meta=event_meta("admin"),
    )
    branch: Organisation = app.found_organisation(
        tenant_id="t-one",
        code="B1",
        name="支部",
        kind=OrgKind.Branch,
        parent_id=root.id,
        meta=event_meta("admin"),
    )
    return app.register_member(
        member_id=uuid4(),
        tenant_id="t-one",
        organisation_id=branch.id,
        category=MemberCategory.Full,
        profile={"name": NAME, "national_id_number": ID_NUMBER, "phone": PHONE, "gender": "female"},
        meta=event_meta("secretary-7"),
    )


def stored_bytes(app: RegistryApplication, member_id: Any) -> bytes:
    return b"".join(bytes(e.state) for e in app.recorder.select_events(member_id))


def test_personal_fields_are_stored_sealed_and_read_back_in_clear(app: RegistryApplication) -> None:
    m = member(app)
    raw = stored_bytes(app, m.id)
    for secret in (NAME, ID_NUMBER, PHONE):
        assert secret.encode() not in raw and secret.encode("unicode_escape") not in raw
    assert b"$sealed" in raw
    reloaded = app.get_member("t-one", m.id)
    assert (reloaded.profile["name"], reloaded.profile["national_id_number"], reloaded.profile["phone"]) == (
        NAME,
        ID_NUMBER,
        PHONE,
    )
    assert reloaded.profile["gender"] == "female"  # not personal data in this sense: stays clear


def test_erasure_is_recorded_and_leaves_nothing_readable(app: RegistryApplication) -> None:
    m = member(app)
    app.correct_profile("t-one", m.id, {"phone": "13900000000"}, event_meta("secretary-7"))
    app.erase_personal_data(
        "t-one",
        m.id,
        by="committee-1",
        basis="本人申请（个人信息保护法第四十七条）",
        meta=event_meta("committee-1"),
    )
    history = app.member_history("t-one", m.id)
    assert [type(e).__name__ for e in history] == ["Registered", "ProfileCorrected", "PersonalDataErased"]
    erased = history[-1]
    assert (erased.by, erased.basis) == ("committee-1", "本人申请（个人信息保护法第四十七条）")
    # Replayed from the store with the key gone: every sealed field reads back as None, in every event.
    assert history[0].profile["name"] is None and history[0].profile["national_id_number"] is None
    assert history[1].changes["phone"] is None
    again = app.repository.get(m.id)
    assert isinstance(again, Member)
    assert {k: again.profile.get(k) for k in ("name", "national_id_number", "phone")} == {
        "name": None,
        "national_id_number": None,
        "phone": None,
    }
    assert again.profile["gender"] == "female"
    assert again.erased_on is not None


def test_a_second_erasure_records_nothing_more(app: RegistryApplication) -> None:
    m = member(app)
    for _ in range(2):
        app.erase_personal_data("t-one", m.id, by="c", basis="request", meta=event_meta("c"))
    assert len(app.member_history("t-one", m.id)) == 2


def test_a_pending_transfer_is_a_legal_hold(app: RegistryApplication) -> None:
    m = member(app)
    held = app.get_member("t-one", m.id)
    held.place_hold("case-1", "cmd-1", {})
    app.save(held)
    with pytest.raises(TransferPending):
        app.erase_personal_data("t-one", m.id, by="c", basis="request", meta=event_meta("c"))
    assert app.get_member("t-one", m.id).profile["name"] == NAME


def test_an_erasure_names_its_basis(app: RegistryApplication) -> None:
    m = member(app)
    with pytest.raises(InvalidDecision):
        app.erase_personal_data("t-one", m.id, by="c", basis="  ", meta=event_meta("c"))


def test_the_erasure_is_published_with_ids_and_date_only(app: RegistryApplication) -> None:
    m = member(app)
    app.erase_personal_data("t-one", m.id, by="committee-1", basis="本人申请", meta=event_meta("committee-1"))
    erased = app.member_history("t-one", m.id)[-1]
    published = outbound(erased)
    assert published is not None
    tenant, contract = published
    assert tenant == "t-one" and isinstance(contract, contracts.PersonalDataErased)
    assert contract.model_dump() == {"member_id": m.id, "erased_on": erased.erased_on}
    # An erasure stored before the event was published names no tenant (it reads back as None): nothing to send.
    assert (
        outbound(
            Member.PersonalDataErased(
                originator_id=m.id,
                originator_version=9,
                timestamp=erased.timestamp,
                by="c",
                basis="b",
                erased_on=erased.erased_on,
                tenant_id=None,
                meta={},
            )
        )
        is None
    )
