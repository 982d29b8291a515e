"""The saga table walked through success and a failure at every step (in memory, no broker)."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from shared.clock import SettableClock
from shared.meta import event_meta
from transfer.application import TransferApplication
from transfer.domain import (
    BEFORE_PIVOT,
    ENDED,
    CaseState,
    DestinationKind,
    StepNotAllowed,
    TransferCase,
    verify_signature,
)
from transfer.domain.letters import LETTER_FIELDS
from transfer.domain.saga import SIDE_STEPS, STEPS, TRANSITIONS, next_step
from transfer.outbound import outbound

from .saga_world import FIELDS, answer, issued, new_case, reply, step


def test_the_table_names_every_step_once_with_its_compensation_before_the_pivot() -> None:
    actions = [s.action for s in STEPS]
    assert len(actions) == len(set(actions))
    pivot = actions.index("receive")
    assert all(s.compensation for s in STEPS[: pivot + 1]) and not any(
        s.compensation for s in STEPS[pivot + 1 :]
    )


def test_each_step_moves_the_case_to_the_state_its_row_names(app: TransferApplication) -> None:
    case = new_case(app)
    for action, args in (
        ("approve_branch", {}),
        ("approve_committee", {"letter_fields": FIELDS, "valid_days": None}),
    ):
        assert step(app, case, action, **args).state is TRANSITIONS[action].to


def test_a_step_from_a_state_its_row_does_not_name_is_refused(app: TransferApplication) -> None:
    case = new_case(app)
    assert CaseState.Draft not in TRANSITIONS["receive"].from_states
    with pytest.raises(
        StepNotAllowed, match="receipt by the receiving organisation is not possible while the case is draft"
    ):
        step(app, case, "receive", "district")


def test_every_compensation_is_a_side_step_that_ends_the_case() -> None:
    compensations = [row for row in SIDE_STEPS if row.compensates]
    assert {row.action for row in compensations} == {"refuse", "send_back", "cancel", "expire", "void_letter"}
    assert all(row.to in ENDED and row.from_states <= BEFORE_PIVOT for row in compensations)


def test_success_from_draft_to_completed(app: TransferApplication) -> None:
    case = issued(app)
    assert case.state is CaseState.LetterIssued and case.letter is not None
    assert case.letter["valid_days"] == 90, "graduates default to 90 days"
    step(app, case, "receive", "district")
    case = step(app, case, "check_in", "district", late_reason=None)
    assert "enrol" in case.pending.values()
    case = reply(app, case, "enrol", "member_enrolled", new_member_id=str(uuid4()))
    assert case.enrolled_member_id is not None and case.released and not case.pending
    case = step(app, case, "return_receipt", "district", details={"handler": "王", "phone": "1"})
    assert case.state is CaseState.Completed and next_step(case) == "nothing: the case has ended"


def checked_in(app: TransferApplication) -> TransferCase:
    case = issued(app)
    step(app, case, "receive", "district")
    return step(app, case, "check_in", "district", late_reason=None)


def test_enrolment_is_the_release_so_no_release_request_follows_it(app: TransferApplication) -> None:
    case = reply(app, checked_in(app), "enrol", "member_enrolled", new_member_id=str(uuid4()))
    requests = [e.request for e in app.history(case.id) if isinstance(e, TransferCase.ParticipantRequested)]
    assert requests == ["hold", "enrol"] and not case.pending
    assert next_step(case) == "return_receipt by the receiving committee"


def test_a_receipt_returned_before_the_enrolment_completes_on_the_enrolment(app: TransferApplication) -> None:
    case = step(app, checked_in(app), "return_receipt", "district", details={"handler": "王", "phone": "1"})
    assert case.state is CaseState.ReceiptReturned, "not completed before the registry has enrolled"
    case = reply(app, case, "enrol", "member_enrolled", new_member_id=str(uuid4()))
    assert case.state is CaseState.Completed


def test_a_release_request_left_from_the_old_protocol_is_answered_harmlessly(
    app: TransferApplication,
) -> None:
    """A case whose enrolment was answered by the old protocol waits on its release request's answer."""
    case = checked_in(app)
    command = next(iter(case.pending))
    case.answered(
        command_id=command,
        outcome="member_enrolled",
        reason_code=None,
        details={"new_member_id": str(uuid4())},
        issue=None,
        meta={},
    )
    case._participant(request="release", command_id=case.command_id("release"), meta={})
    app.save(case)
    case = step(app, case, "return_receipt", "district", details={"handler": "王", "phone": "1"})
    assert case.state is CaseState.Completed, "released by the enrolment: the receipt completes it"
    case = reply(app, case, "release", "member_released")
    assert case.state is CaseState.Completed and not case.pending


def test_the_letter_is_signed_over_every_printed_field(app: TransferApplication) -> None:
    letter = issued(app).letter
    assert letter is not None
    keys = app.keys("uni")
    assert keys is not None and keys.current == letter["kid"]
    fields = {f: letter[f] for f in LETTER_FIELDS}
    assert verify_signature(keys.keys[letter["kid"]]["public_pem"], fields, letter["signature"])
    assert not verify_signature(
        keys.keys[letter["kid"]]["public_pem"], {**fields, "to_org": "别处"}, letter["signature"]
    )


def test_a_refused_hold_ends_the_case_with_the_registrys_reason(app: TransferApplication) -> None:
    case = new_case(app)
    step(app, case, "approve_branch")
    step(app, case, "approve_committee", letter_fields=FIELDS, valid_days=None)
    case = reply(app, case, "hold", "hold_refused", reason_code="transfer_pending", reason="another transfer")
    assert case.state is CaseState.Refused and case.letter is None
    assert case.refusal is not None and case.refusal["reason_code"] == "transfer_pending"


@pytest.mark.parametrize("action", ["refuse", "send_back"])
def test_refusal_or_return_by_the_receiver_voids_the_letter_and_lifts_the_hold(
    app: TransferApplication, action: str
) -> None:
    case = issued(app)
    case = step(app, case, action, "district", reason="材料不全")
    assert case.state in (CaseState.Refused, CaseState.Returned)
    assert "lift" in case.pending.values() and case.letter is not None
    assert case.letter["letter_no"] in case.letters_voided


@pytest.mark.parametrize("at", ["draft", "branch_approved", "committee_approved", "letter_issued"])
def test_cancellation_before_the_pivot_compensates_at_every_step(app: TransferApplication, at: str) -> None:
    case = new_case(app)
    if at != "draft":
        step(app, case, "approve_branch")
    if at in ("committee_approved", "letter_issued"):
        step(app, case, "approve_committee", letter_fields=FIELDS, valid_days=None)
    if at == "letter_issued":
        reply(app, case, "hold", "hold_placed")
    case = step(app, case, "cancel", reason="不再转出")
    assert case.state is CaseState.Cancelled
    assert ("lift" in case.pending.values()) == (at in ("committee_approved", "letter_issued"))


def test_a_hold_placed_after_cancellation_issues_no_letter(app: TransferApplication) -> None:
    case = new_case(app)
    step(app, case, "approve_branch")
    step(app, case, "approve_committee", letter_fields=FIELDS, valid_days=None)
    step(app, case, "cancel", reason="撤回")
    case = reply(app, case, "hold", "hold_placed")
    assert case.state is CaseState.Cancelled and case.letter is None and "lift" in case.pending.values()


def test_after_the_pivot_there_is_no_cancellation(app: TransferApplication) -> None:
    case = issued(app)
    step(app, case, "receive", "district")
    with pytest.raises(StepNotAllowed, match="not cancelled"):
        step(app, case, "cancel", reason="x")


def test_expiry_compensates_only_when_due_and_not_received(
    app: TransferApplication, clock: SettableClock
) -> None:
    case = issued(app)
    app.expire(case.id)
    assert app.get_case("uni", case.id).state is CaseState.LetterIssued
    clock.advance(timedelta(days=91))
    app.expire(case.id)
    app.expire(case.id)
    case = app.get_case("uni", case.id)
    assert case.state is CaseState.Expired and list(case.pending.values()).count("lift") == 1


def test_a_late_report_after_acceptance_needs_a_reason(
    app: TransferApplication, clock: SettableClock
) -> None:
    case = issued(app)
    step(app, case, "receive", "district")
    clock.advance(timedelta(days=100))
    app.expire(case.id)
    with pytest.raises(StepNotAllowed, match="late report"):
        step(app, case, "check_in", "district", late_reason=None)
    assert step(app, case, "check_in", "district", late_reason="住院").state is CaseState.CheckedIn


def test_reissue_gives_a_new_number_and_voids_the_old_one(app: TransferApplication) -> None:
    case = issued(app)
    old = case.letter
    assert old is not None
    case = step(app, case, "reissue", reason="介绍信遗失")
    assert case.letter is not None and case.letter["letter_no"] != old["letter_no"]
    assert case.letter["code"] != old["code"] and old["letter_no"] in case.letters_voided
    assert case.state is CaseState.LetterIssued and "lift" not in case.pending.values()


def test_off_platform_confirmation_releases_and_completes(app: TransferApplication) -> None:
    case = issued(app, DestinationKind.OffPlatform)
    assert case.letter is not None
    case = app.confirm_by_code(case.letter["code"], {"handler_name": "张"}, case.id, event_meta("public"))
    assert case.state is CaseState.ReceiptReturned and "release" in case.pending.values()
    case = reply(app, case, "release", "member_released")
    assert case.state is CaseState.Completed


def test_an_answer_applied_twice_changes_nothing_the_second_time(app: TransferApplication) -> None:
    case = new_case(app)
    step(app, case, "approve_branch")
    step(app, case, "approve_committee", letter_fields=FIELDS, valid_days=None)
    command = next(iter(app.get_case("uni", case.id).pending))
    answer(
        app,
        10_000_001,
        case_id=str(case.id),
        command_id=command,
        outcome="hold_placed",
        reason_code=None,
        details={},
    )
    answer(
        app,
        10_000_002,
        case_id=str(case.id),
        command_id=command,
        outcome="hold_placed",
        reason_code=None,
        details={},
    )
    assert len([e for e in app.events.get(case.id) if isinstance(e, TransferCase.LetterIssued)]) == 1


def test_another_tenant_is_not_a_party(app: TransferApplication) -> None:
    from transfer.domain import CaseNotFound

    case = new_case(app)
    with pytest.raises(CaseNotFound):
        app.get_case("elsewhere", case.id)


def test_integration_events_carry_no_personal_data(app: TransferApplication) -> None:
    case = issued(app)
    published = [outbound(e) for e in app.events.get(case.id)]
    payloads = " ".join(m[1].model_dump_json() for m in published if m)
    assert "李明" not in payloads and "11010519491231002X" not in payloads
    types = [m[1].TYPE for m in published if m]
    assert types[:4] == [
        "cn.lianxin.transfer.transfer_requested.v1",
        "cn.lianxin.transfer.branch_approved.v1",
        "cn.lianxin.transfer.committee_approved.v1",
        "cn.lianxin.transfer.hold_requested.v1",
    ]
    assert "cn.lianxin.transfer.letter_issued.v1" in types


def test_expiry_reminders_are_said_once_per_letter_and_not_after_receipt(
    app: TransferApplication, clock: SettableClock
) -> None:
    case = issued(app)
    clock.advance(timedelta(days=83))  # T-7 of a 90-day graduate letter
    app.remind_expiry(case.id, 7)
    app.remind_expiry(case.id, 7)  # the deadline fired again after a crash: nothing more is said
    reminders = [
        e
        for e in app.events.get(case.id)
        if isinstance(e, TransferCase.Stepped) and e.step == "letter_expiry_reminder"
    ]
    assert [(e.details["days_before"], e.state) for e in reminders] == [(7, CaseState.LetterIssued)]
    published = outbound(reminders[0])
    assert published is not None and published[1].TYPE == "cn.lianxin.transfer.letter_expiry_reminder.v1"
    assert published[1].model_dump()["days_before"] == 7 and "李明" not in published[1].model_dump_json()

    step(app, case, "receive", "district")
    clock.advance(timedelta(days=6))
    app.remind_expiry(case.id, 1)
    assert app.get_case("uni", case.id).reminders_sent == [f"{reminders[0].details['letter_no']}:7"]


def test_a_reissued_letter_is_reminded_again_under_its_own_number(
    app: TransferApplication, clock: SettableClock
) -> None:
    case = issued(app)
    clock.advance(timedelta(days=83))
    app.remind_expiry(case.id, 7)
    case = step(app, case, "reissue", reason="介绍信遗失")
    app.remind_expiry(case.id, 7)  # fired at T-7 of the new letter: its own number, so said again
    assert len(app.get_case("uni", case.id).reminders_sent) == 2


def test_an_overdue_receipt_escalates_once_and_not_after_the_receipt(app: TransferApplication) -> None:
    case = issued(app)
    step(app, case, "receive", "district")
    step(app, case, "check_in", "district", late_reason=None)
    app.receipt_overdue(case.id)
    app.receipt_overdue(case.id)  # the deadline fired again after a crash
    steps = [e.step for e in app.events.get(case.id) if isinstance(e, TransferCase.Stepped)]
    assert steps.count("receipt_overdue") == 1
    assert app.get_case("uni", case.id).state is CaseState.CheckedIn


def stored_bytes(app: TransferApplication, case: TransferCase) -> bytes:
    return b"".join(bytes(e.state) for e in app.recorder.select_events(case.id))


def test_the_letter_keeps_name_and_id_number_sealed_per_case(app: TransferApplication) -> None:
    case = issued(app)
    raw = stored_bytes(app, case)
    for secret in (FIELDS["name"], FIELDS["national_id_number"]):
        assert secret.encode() not in raw and secret.encode("unicode_escape") not in raw
    assert b"$sealed" in raw
    letter = app.get_case("uni", case.id).letter
    assert letter is not None and (letter["name"], letter["national_id_number"]) == (
        FIELDS["name"],
        FIELDS["national_id_number"],
    )
    fresh = new_case(app)
    step(app, fresh, "approve_branch")
    approved = step(app, fresh, "approve_committee", letter_fields=FIELDS, valid_days=None)
    assert approved.letter_fields["name"] == FIELDS["name"], (
        "sealing a nested field leaves the aggregate's dicts"
    )


def test_an_erased_member_leaves_a_letter_that_is_a_record_without_name_or_id(
    app: TransferApplication,
) -> None:
    case = issued(app)
    step(app, case, "receive", "district")
    step(app, case, "check_in", "district", late_reason=None)
    reply(app, case, "enrol", "member_enrolled", new_member_id=str(uuid4()))
    done = step(app, case, "return_receipt", "district", details={"handler": "王", "phone": "1"})
    printed = dict(done.letter or {})
    assert app.erase_letters(done.member_id, [done.id]) == 1
    assert app.erase_letters(done.member_id, [done.id]) == 0, "a second erasure destroys nothing more"

    after = app.get_case("uni", case.id)
    assert after.state is CaseState.Completed and after.letter is not None
    assert after.letter["name"] is None and after.letter["national_id_number"] is None
    assert after.letter_fields["name"] is None and after.letter_fields["national_id_number"] is None
    kept = (
        "letter_no",
        "issued_on",
        "expires_on",
        "code",
        "kid",
        "signature",
        "from_org",
        "to_org",
        "gender",
    )
    assert {k: after.letter[k] for k in kept} == {k: printed[k] for k in kept}
    keys = app.keys("uni")
    assert keys is not None
    public = keys.keys[printed["kid"]]["public_pem"]
    # The paper copy (name and ID number printed on it) still verifies against the tenant's public key; the
    # stored copy no longer can, since what the signature covered is partly gone.
    assert verify_signature(public, {f: printed[f] for f in LETTER_FIELDS}, printed["signature"])
    assert not verify_signature(
        public, {f: after.letter[f] for f in LETTER_FIELDS}, after.letter["signature"]
    )
