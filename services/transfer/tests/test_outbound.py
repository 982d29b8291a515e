"""The outbound mapping: a pure function of the stored event; events stored before v2 (without their parties)
still publish the same integration events, completed from the case at their version."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from shared.clock import SettableClock
from transfer.application import TransferApplication
from transfer.domain import TransferCase
from transfer.outbound import outbound, outbound_of

from .saga_world import FIELDS, issued, reply, step

CARRYING = (TransferCase.Stepped, TransferCase.ParticipantRequested, TransferCase.LetterIssued)


def completed_case(app: TransferApplication, clock: SettableClock) -> TransferCase:
    """Every kind of event: requests to the registry, a letter, a reminder, check-in, receipt and completion."""
    case = issued(app)
    clock.advance(timedelta(days=83))
    app.remind_expiry(case.id, 7)
    step(app, case, "receive", "district")
    case = step(app, case, "check_in", "district", late_reason=None)
    case = reply(app, case, "enrol", "member_enrolled", new_member_id=str(uuid4()))
    step(app, case, "return_receipt", "district", details={"handler": "王", "phone": "1"})
    return case


def published(mapped: Any) -> tuple[str, str, dict[str, Any]] | None:
    return None if mapped is None else (mapped[0], mapped[1].TYPE, mapped[1].model_dump(mode="json"))


def as_stored_before_v2(app: TransferApplication, event: Any) -> Any:
    """The event as a version-1 record reads back today: stored without `parties` or a class version."""
    stored = app.mapper.to_stored_event(event)
    state = app.mapper.transcoder.decode(
        app.mapper.cipher.decrypt(stored.state) if app.mapper.cipher else stored.state
    )
    state.pop("parties")
    state.pop("class_version", None)
    state.pop("_class_version_", None)
    return app.mapper.to_domain_event(dataclasses.replace(stored, state=app.mapper.transcoder.encode(state)))


def test_the_events_that_leave_carry_their_parties_and_map_without_the_application(
    app: TransferApplication, clock: SettableClock
) -> None:
    case = completed_case(app, clock)
    events = [e for e in app.events.get(case.id) if isinstance(e, CARRYING)]
    assert events and all(e.parties is not None for e in events)
    types = [m[1].TYPE for e in app.events.get(case.id) if (m := outbound(e))]
    assert "cn.lianxin.transfer.enrolment_requested.v1" in types
    assert "cn.lianxin.transfer.letter_expiry_reminder.v1" in types
    checked_in = next(
        outbound(e) for e in events if isinstance(e, TransferCase.Stepped) and e.step == "member_checked_in"
    )
    assert checked_in is not None
    data = checked_in[1].model_dump(mode="json")
    assert data["receipt_due_on"] is not None and data["letter_no"] == case.letter["letter_no"]  # type: ignore[index]


def test_an_event_stored_before_v2_publishes_what_it_publishes_today(
    app: TransferApplication, clock: SettableClock
) -> None:
    case = completed_case(app, clock)
    mapping = outbound_of(app)
    compared = 0
    for event in app.events.get(case.id):
        legacy = as_stored_before_v2(app, event) if isinstance(event, CARRYING) else event
        if isinstance(event, CARRYING):
            assert legacy.parties is None, "a version-1 record reads back without parties"
            with pytest.raises(AssertionError):
                outbound(legacy)
            compared += 1
        assert published(mapping(legacy)) == published(outbound(event))
    assert compared >= 10


def test_the_committee_fields_never_leave(app: TransferApplication) -> None:
    case = issued(app)
    step(app, case, "cancel", reason="本人申请")
    payloads = " ".join(m[1].model_dump_json() for e in app.events.get(case.id) if (m := outbound(e)))
    assert FIELDS["name"] not in payloads and FIELDS["national_id_number"] not in payloads
