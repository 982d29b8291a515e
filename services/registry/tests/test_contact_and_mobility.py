"""Contact status and mobile registrations: given events, when a command or a timer, then events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from registry.domain import (
    ActivityCertificate,
    CauseCode,
    CertificateBook,
    CertificateState,
    ContactState,
    ContactStatus,
    MobileRegistration,
    MobilityKind,
    RegistrationState,
    RegistrationStateError,
    TenantSettings,
)
from registry.outbound import outbound
from shared.errors import Invalid

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def status() -> ContactStatus:
    s = ContactStatus(tenant_id="t", member_id=uuid4(), organisation_id=uuid4(), since=T0)
    s.collect_events()
    return s


def test_the_at_risk_timer_flags_only_after_the_threshold() -> None:
    s = status()
    assert s.flag_if_due(T0 + timedelta(days=89), at_risk_days=90, cause=CauseCode.Other) is False
    assert s.flag_if_due(T0 + timedelta(days=90), at_risk_days=90, cause=CauseCode.Abroad) is True
    assert s.state is ContactState.AtRisk and s.proposed_cause is CauseCode.Abroad
    assert s.cause is None, "the software proposes the cause; a person chooses it"
    assert s.flag_if_due(T0 + timedelta(days=91), at_risk_days=90, cause=CauseCode.Other) is False


def test_a_contact_recorded_before_the_timer_fires_wins() -> None:
    s = status()
    s.record_contact("study_checked_in", T0 + timedelta(days=80), "learning")
    assert s.flag_if_due(T0 + timedelta(days=100), at_risk_days=90, cause=CauseCode.Other) is False


def test_lost_contact_needs_both_180_days_and_a_failed_search() -> None:
    s = status()
    s.flag_if_due(T0 + timedelta(days=90), at_risk_days=90, cause=CauseCode.Other)
    assert s.propose_lost_contact_if_due(T0 + timedelta(days=200), lost_contact_days=180) is False, (
        "no search yet"
    )
    s.record_search(
        method="phone", succeeded=False, note="", by="u", at=T0 + timedelta(days=100), lost_contact_days=180
    )
    assert s.propose_lost_contact_if_due(T0 + timedelta(days=179), lost_contact_days=180) is False
    with pytest.raises(Invalid, match="180 days"):
        s.classify_lost_contact(
            T0 + timedelta(days=179), by="secretary-1", basis="支委会", lost_contact_days=180
        )
    assert s.propose_lost_contact_if_due(T0 + timedelta(days=180), lost_contact_days=180) is True
    assert s.state is ContactState.AtRisk and s.lost_contact_proposed, (
        "the timer proposes; the branch decides"
    )
    s.classify_lost_contact(
        T0 + timedelta(days=180), by="secretary-1", basis="支委会 2026-06-30", lost_contact_days=180
    )
    assert s.state is ContactState.LostContact
    decided = s.collect_events()[-1]
    assert isinstance(decided, ContactStatus.LostContactCaseOpened) and decided.by == "secretary-1"


def test_a_successful_search_brings_the_member_back_to_normal() -> None:
    s = status()
    s.flag_if_due(T0 + timedelta(days=90), at_risk_days=90, cause=CauseCode.Other)
    s.record_search(
        method="family", succeeded=True, note="", by="u", at=T0 + timedelta(days=95), lost_contact_days=180
    )
    assert s.state is ContactState.Normal
    assert [type(e).__name__ for e in s.collect_events()][-1] == "BackToNormal"


def test_six_months_without_org_life_opens_a_self_lapse_review_even_with_other_contact() -> None:
    s = status()
    s.record_contact("study_checked_in", T0 + timedelta(days=170), "learning")
    s.record_contact("dues_paid", T0 + timedelta(days=175), "user:secretary-1")
    assert s.open_self_lapse_review_if_due(T0 + timedelta(days=181), self_lapse_days=182) is False
    assert s.open_self_lapse_review_if_due(T0 + timedelta(days=183), self_lapse_days=182) is True
    assert s.state is ContactState.SelfLapseReview


def test_tenant_settings_refuse_unknown_keys_and_inverted_thresholds() -> None:
    settings = TenantSettings(tenant_id="t")
    with pytest.raises(Invalid, match="unknown"):
        settings.change({"speed": 1}, {})
    with pytest.raises(Invalid, match="below lost_contact_days"):
        settings.change({"at_risk_days": 200}, {})
    settings.change({"at_risk_days": 60}, {})
    assert settings.values["at_risk_days"] == 60


def outflow(
    kind: MobilityKind = MobilityKind.Outflow, months: int = 4, fixed: bool = False
) -> MobileRegistration:
    return MobileRegistration.register_outflow(
        registration_id=uuid4(),
        tenant_id="home",
        member_id=uuid4(),
        home_org_id=uuid4(),
        kind=kind,
        reason="务工",
        destination="深圳",
        host_tenant="host",
        host_org_id=None,
        expected_months=months,
        fixed_place=fixed,
        contact="微信",
        left_on=date(2026, 3, 1),
        meta={},
    )


def test_six_months_at_a_fixed_place_suggests_a_transfer() -> None:
    assert outflow(months=6, fixed=True).collect_events()[0].transfer_suggested is True  # type: ignore[attr-defined]
    assert outflow(months=6, fixed=False).collect_events()[0].transfer_suggested is False  # type: ignore[attr-defined]


def test_an_outflow_keeps_its_host_region_for_the_integration_event() -> None:
    registration = MobileRegistration.register_outflow(
        registration_id=uuid4(),
        tenant_id="home",
        member_id=uuid4(),
        home_org_id=uuid4(),
        kind=MobilityKind.Outflow,
        reason="务工",
        destination="深圳市南山区",
        host_tenant=None,
        host_org_id=None,
        expected_months=3,
        fixed_place=False,
        contact="微信",
        left_on=date(2026, 3, 1),
        meta={},
        host_region="440305",
    )
    (registered,) = registration.collect_events()
    _, contract = outbound(registered) or ("", None)
    assert registration.host_region == "440305"
    assert contract is not None and contract.model_dump()["host_region"] == "440305"


def test_inflow_then_return_closes_the_registration_and_it_cannot_be_returned_twice() -> None:
    r = outflow()
    r.register_inflow(
        host_tenant="host", host_org_id=uuid4(), host_contact="王", registered_on=date(2026, 3, 5), meta={}
    )
    r.return_home(date(2026, 6, 1), {})
    assert r.state is RegistrationState.Returned
    with pytest.raises(RegistrationStateError):
        r.return_home(date(2026, 6, 2), {})


def test_a_deferral_is_not_registered_at_a_host_and_lasts_at_most_two_years() -> None:
    with pytest.raises(Invalid, match="2 years"):
        outflow(MobilityKind.GraduateDeferral, months=25)
    deferral = outflow(MobilityKind.GraduateDeferral, months=24)
    assert deferral.until == date(2028, 3, 1)
    with pytest.raises(RegistrationStateError):
        deferral.register_inflow(
            host_tenant="host", host_org_id=uuid4(), host_contact="x", registered_on=date(2026, 3, 5), meta={}
        )


def test_certificates_are_numbered_per_committee_and_closed_once() -> None:
    book = CertificateBook(tenant_id="t", committee_id=uuid4(), prefix="UNIV")
    assert [book.take_number(2026), book.take_number(2026)] == ["UNIV-2026-00001", "UNIV-2026-00002"]
    cert = ActivityCertificate(
        id=uuid4(),
        tenant_id="t",
        number="UNIV-2026-00001",
        member_id=uuid4(),
        registration_id=uuid4(),
        issued_on=date(2026, 3, 1),
        home={},
        meta={},
    )
    assert cert.review_due_on == date(2027, 3, 1)
    cert.review(date(2027, 2, 20), "u", "良好", {})
    assert cert.review_due_on == date(2028, 2, 20)
    cert.close(CertificateState.Superseded, date(2027, 5, 1), "转接", {})
    cert.close(CertificateState.Voided, date(2027, 5, 2), "丢失", {})
    assert cert.state is CertificateState.Superseded
    with pytest.raises(RegistrationStateError):
        cert.review(date(2027, 6, 1), "u", "", {})


def test_each_years_review_goes_out_as_its_own_item_opened_then_closed() -> None:
    from registry.contracts import CertificateReviewDue, CertificateReviewed, CertificateSurrendered
    from registry.outbound import outbound

    home = {"tenant_id": "t", "member_id": str(uuid4()), "org_id": str(uuid4())}
    cert = ActivityCertificate(
        id=uuid4(),
        tenant_id="t",
        number="U-2026-00001",
        member_id=uuid4(),
        registration_id=uuid4(),
        issued_on=date(2026, 3, 1),
        home=home,
        meta={},
    )
    cert.present(uuid4(), date(2026, 3, 10), {})
    cert.review(date(2027, 2, 20), "u", "良好", {})
    cert.close(CertificateState.Surrendered, date(2027, 6, 1), "返回", {})
    published = [outbound(e) for e in cert.collect_events()]
    assert published[1] is None  # presenting the certificate at the host goes nowhere
    contracts = [p[1] for p in published if p]
    assert [type(c) for c in contracts] == [
        CertificateReviewDue,
        CertificateReviewed,
        CertificateReviewDue,
        CertificateSurrendered,
    ]
    first, reviewed, second, surrendered = contracts
    assert first.item_id == reviewed.item_id == f"{cert.id}:2027-03-01"  # type: ignore[attr-defined]
    assert second.item_id == surrendered.item_id == f"{cert.id}:2028-02-20"  # type: ignore[attr-defined]
    assert {p[0] for p in published if p} == {"t"}
