"""发展党员 at its boundaries: a year as activist, quarterly reports, training, review, sponsors, approval; moving."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from registry.application import RegistryApplication
from registry.domain import OrgKind
from registry.domain.dates import months_later
from registry.domain.development import (
    DevelopmentNotReady,
    DevelopmentRecord,
    DevelopmentStateError,
    Stage,
    full_quarters,
)
from shared.meta import event_meta

META: dict[str, Any] = {"actor": "user:secretary"}
ACTIVIST_ON = date(2025, 3, 15)


def activist(reports: int = 4, contacts: bool = True) -> DevelopmentRecord:
    record = DevelopmentRecord(
        id=uuid.uuid4(),
        tenant_id="t",
        organisation_id=uuid.uuid4(),
        profile={"name": "林晓"},
        applied_on=date(2024, 10, 1),
        carried=None,
        meta=META,
    )
    record.decide(
        stage=Stage.Activist,
        decided_on=ACTIVIST_ON,
        decided_by="支部委员会",
        basis="党员推荐",
        details={},
        meta=META,
    )
    if contacts:
        record.assign_contact_persons(["王老师", "李同学"], ACTIVIST_ON, META)
    for q in range(reports):
        record.record_thought_report(months_later(ACTIVIST_ON, 3 * q + 2), "learning", META)
    return record


def to_candidate(record: DevelopmentRecord, on: date) -> None:
    record.decide(
        stage=Stage.Candidate,
        decided_on=on,
        decided_by="支部委员会",
        basis="培养考察一年",
        details={},
        meta=META,
    )


def test_an_activist_of_eleven_months_cannot_become_a_candidate() -> None:
    record = activist()
    with pytest.raises(DevelopmentNotReady) as refused:
        to_candidate(record, months_later(ACTIVIST_ON, 11))
    assert [m["item"] for m in refused.value.extensions["missing"]] == ["observation_period"]
    assert record.stage is Stage.Activist


def test_twelve_months_to_the_day_is_enough() -> None:
    record = activist()
    with pytest.raises(DevelopmentNotReady):
        to_candidate(record, date(2026, 3, 14))
    to_candidate(record, date(2026, 3, 15))
    assert record.stage is Stage.Candidate and record.decisions[-1]["decided_by"] == "支部委员会"


def test_missing_reports_and_contact_persons_are_named() -> None:
    record = activist(reports=3, contacts=False)
    missing = record.missing(Stage.Candidate, date(2026, 3, 15))
    assert {m["item"] for m in missing} == {"contact_persons", "thought_reports"}
    assert "应至少4份" in next(m["message"] for m in missing if m["item"] == "thought_reports")


def test_month_ends_and_quarters() -> None:
    assert months_later(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert months_later(date(2027, 2, 28), 12) == date(2028, 2, 28)
    assert months_later(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert full_quarters(date(2025, 3, 15), date(2025, 6, 14)) == 0
    assert full_quarters(date(2025, 3, 15), date(2025, 6, 15)) == 1


def candidate() -> DevelopmentRecord:
    record = activist()
    to_candidate(record, date(2026, 3, 20))
    return record


def admit(record: DevelopmentRecord, **details: Any) -> None:
    record.decide(
        stage=Stage.Probationary,
        decided_on=date(2026, 7, 1),
        decided_by="支部大会",
        basis="表决通过",
        details={
            "branch_assembly_on": "2026-06-20",
            "approved_on": "2026-07-01",
            "approved_by": "中共某大学委员会",
            **details,
        },
        meta=META,
    )


def test_a_candidate_needs_training_review_and_two_sponsors() -> None:
    record = candidate()
    with pytest.raises(DevelopmentNotReady) as refused:
        admit(record)
    assert {m["item"] for m in refused.value.extensions["missing"]} == {
        "training",
        "political_review",
        "sponsors",
    }
    record.record_training(
        course="发展对象培训班", days=2.5, hours=20, finished_on=date(2026, 5, 1), meta=META
    )
    record.conclude_review(
        concluded_on=date(2026, 5, 10), passed=True, reviewed_by="组织员", summary="合格", meta=META
    )
    record.assign_sponsors(["张正式", "赵正式"], META)
    assert [
        m["item"]
        for m in record.missing(
            Stage.Probationary,
            date(2026, 7, 1),
            {"branch_assembly_on": "2026-06-20", "approved_on": "2026-07-01", "approved_by": "党委"},
        )
    ] == ["training"]
    record.record_training(course="补课", days=0.5, hours=4, finished_on=date(2026, 5, 20), meta=META)
    with pytest.raises(DevelopmentNotReady) as no_approval:
        admit(record, approved_by="")
    assert [m["item"] for m in no_approval.value.extensions["missing"]] == ["approval"]
    admit(record)
    assert record.stage is Stage.Probationary
    record.hand_over(uuid.uuid4(), META)
    with pytest.raises(DevelopmentStateError):
        record.record_thought_report(date(2026, 8, 1), "learning", META)


def test_a_step_is_never_skipped() -> None:
    record = activist()
    with pytest.raises(DevelopmentNotReady) as refused:
        admit(record)
    assert refused.value.extensions["missing"][0]["item"] == "stage"


def test_the_record_and_its_time_go_with_the_person_to_another_tenant() -> None:
    record = activist()
    record.record_training(course="积极分子培训", days=1, hours=8, finished_on=date(2025, 9, 1), meta=META)
    record.move_out("other-tenant", "code-1", date(2025, 12, 1), META)
    assert record.stage is Stage.MovedOut
    arrived = DevelopmentRecord(
        id=uuid.uuid4(),
        tenant_id="other-tenant",
        organisation_id=uuid.uuid4(),
        profile=record.profile,
        applied_on=record.applied_on,
        carried=record.carried(),
        meta=META,
    )
    assert arrived.stage is Stage.Activist and arrived.since["activist"] == ACTIVIST_ON
    assert arrived.training_totals() == (1, 8) and len(arrived.reports) == 4
    to_candidate(arrived, date(2026, 3, 15))  # the year counted across both organisations
    assert arrived.stage is Stage.Candidate


def test_a_record_is_taken_over_once() -> None:
    record = activist()
    record.move_out("other-tenant", "code-1", date(2025, 12, 1), META)
    record.accept_arrival("other-tenant", "code-1", uuid.uuid4(), META)
    with pytest.raises(DevelopmentStateError, match="taken over already"):
        record.accept_arrival("other-tenant", "code-1", uuid.uuid4(), META)


def moved_out_record(app: RegistryApplication) -> tuple[uuid.UUID, str, uuid.UUID]:
    """A record of tenant "home" moved out to tenant "host": its id, the handover code, the host's committee."""
    home, host = (
        app.found_organisation(
            tenant_id=tenant,
            code="ROOT",
            name="党委",
            kind=OrgKind.PrimaryCommittee,
            parent_id=None,
            meta=event_meta("admin"),
        )
        for tenant in ("home", "host")
    )
    record = app.open_development(
        record_id=uuid.uuid4(),
        tenant_id="home",
        organisation_id=home.id,
        profile={"name": "林晓"},
        applied_on=date(2024, 10, 1),
        meta=event_meta("secretary"),
    )
    _, code = app.move_development_out("home", record.id, "host", event_meta("secretary"))
    return record.id, code, host.id


def test_two_takeovers_at_once_clash_and_the_second_finds_the_record_taken_over() -> None:
    """The rerun after the clash reloads the source: the first takeover stands, the second is a Conflict."""
    app = RegistryApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, platform_secret="test-secret")
    source_id, code, host_org = moved_out_record(app)
    first_id, second_id = uuid.uuid4(), uuid.uuid4()
    store = app.save
    attempts: list[uuid.UUID] = []

    def take_over(new_id: uuid.UUID) -> DevelopmentRecord:
        return app.receive_development(
            tenant_id="host",
            source_id=source_id,
            code=code,
            organisation_id=host_org,
            new_id=new_id,
            meta=event_meta("host-secretary"),
        )

    def save_after_the_other_takeover(*aggregates: Any, **kwargs: Any) -> Any:
        attempts.append(aggregates[-1].id)
        if len(attempts) == 1:  # the other request's takeover is stored while this one is in flight
            app.save = store  # type: ignore[method-assign]
            take_over(first_id)
            app.save = save_after_the_other_takeover  # type: ignore[method-assign]
        return store(*aggregates, **kwargs)

    app.save = save_after_the_other_takeover  # type: ignore[method-assign]
    with pytest.raises(DevelopmentStateError, match="taken over already"):
        take_over(second_id)
    assert attempts == [second_id]  # one clash, then the rerun refused before saving
    assert app.get_development("host", first_id).stage is Stage.Applicant
    assert app.find(DevelopmentRecord, second_id) is None
