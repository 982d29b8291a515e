"""Which stored events leave the transfer service, and as which contract.

`outbound` is a pure function of the stored event: since version 2 of `Stepped`, `ParticipantRequested` and
`LetterIssued`, each carries the case's parties (`TransferCase.parties`, as the case stood before the event).
Events stored before that read back with `parties` None; `outbound_of(app)` fills those in from the case at
the event's version, the one place the relay still reads a case.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.envelope import IntegrationEvent
from shared.relay import Outbound
from transfer import contracts as c
from transfer.application import TransferApplication
from transfer.domain import TransferCase
from transfer.domain.deadlines import receipt_due_on

REQUESTS = {
    "hold": c.HoldRequested,
    "lift": c.HoldReleaseRequested,
    "enrol": c.EnrolmentRequested,
    "release": c.ReleaseRequested,
}
Mapped = tuple[str, IntegrationEvent] | None


def outbound(event: Any) -> Mapped:
    """The integration event of a stored event, or None for an internal one."""
    if isinstance(event, TransferCase.Requested):
        return event.sending_tenant, c.STEP_EVENTS["transfer_requested"](
            case_id=str(event.originator_id),
            member_id=event.member_id,
            sending_tenant=event.sending_tenant,
            receiving_tenant=event.receiving_tenant,
            sending_org_id=event.sending_org_id,
            receiving_org_id=event.receiving_org_id,
            state="draft",
        )
    if isinstance(
        event, TransferCase.Stepped | TransferCase.ParticipantRequested | TransferCase.LetterIssued
    ):
        assert event.parties is not None, "an event stored before v2 goes through outbound_of(app)"
        return _published(event, event.parties)
    return None


def outbound_of(app: TransferApplication) -> Outbound:
    """`outbound`, with the parties of an event stored before v2 taken from the case at that event's version."""

    def mapped(event: Any) -> Mapped:
        if getattr(event, "parties", False) is None:
            case: TransferCase = app.repository.get(event.originator_id, version=event.originator_version)
            return _published(event, case.parties())
        return outbound(event)

    return mapped


def _published(event: Any, parties: dict[str, Any]) -> Mapped:
    common: dict[str, Any] = {
        "case_id": str(event.originator_id),
        "member_id": parties["member_id"],
        "sending_tenant": parties["sending_tenant"],
    }
    if isinstance(event, TransferCase.ParticipantRequested):
        extra: dict[str, Any] = {}
        if event.request == "enrol":
            extra = {
                "receiving_tenant": parties["receiving_tenant"],
                "receiving_org_id": parties["receiving_org_id"],
                "letter_no": parties["letter_no"],
            }
        return parties["sending_tenant"], REQUESTS[event.request](
            command_id=event.command_id, **common, **extra
        )
    stepped = isinstance(event, TransferCase.Stepped)
    step = event.step if stepped else "letter_issued"
    if step not in c.STEP_EVENTS:
        return None
    letter_no, expires_on = (
        (parties["letter_no"], parties["expires_on"])
        if stepped
        else (event.letter["letter_no"], event.letter["expires_on"])
    )
    checked_in_on = (
        event.details["checked_in_on"] if step == "member_checked_in" else parties["checked_in_on"]
    )
    details = event.details if stepped else {}
    return parties["sending_tenant"], c.STEP_EVENTS[step](
        **common,
        receiving_tenant=parties["receiving_tenant"],
        sending_org_id=parties["sending_org_id"],
        receiving_org_id=parties["receiving_org_id"],
        state=event.state.value if stepped else "letter_issued",
        letter_no=letter_no,
        expires_on=expires_on,
        receipt_due_on=receipt_due_on(date.fromisoformat(checked_in_on)) if checked_in_on else None,
        reason_code=details.get("reason_code"),
        days_before=details.get("days_before"),
    )
