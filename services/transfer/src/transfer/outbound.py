"""Which stored events leave the transfer service, and as which contract."""

from __future__ import annotations

from typing import Any

from shared.envelope import IntegrationEvent
from transfer import contracts as c
from transfer.domain import TransferCase

REQUESTS = {
    "hold": c.HoldRequested,
    "lift": c.HoldReleaseRequested,
    "enrol": c.EnrolmentRequested,
    "release": c.ReleaseRequested,
}


class Outbound:
    """Stateful per relay process: later events of a case do not repeat its parties, so the mapping keeps them.

    The relay reads the log in order from its recorded position; a case created before that position is looked
    up in the application when first met.
    """

    def __init__(self, load_case: Any) -> None:
        self.load_case = load_case

    def __call__(self, event: Any) -> tuple[str, IntegrationEvent] | None:
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
        if not isinstance(
            event, TransferCase.Stepped | TransferCase.ParticipantRequested | TransferCase.LetterIssued
        ):
            return None
        case: TransferCase = self.load_case(event.originator_id, event.originator_version)
        common: dict[str, Any] = {
            "case_id": case.case_id,
            "member_id": case.member_id,
            "sending_tenant": case.sending_tenant,
        }
        if isinstance(event, TransferCase.ParticipantRequested):
            extra: dict[str, Any] = {}
            if event.request == "enrol":
                extra = {
                    "receiving_tenant": case.receiving_tenant,
                    "receiving_org_id": case.receiving_org_id,
                    "letter_no": case.letter["letter_no"] if case.letter else None,
                }
            return case.sending_tenant, REQUESTS[event.request](
                command_id=event.command_id, **common, **extra
            )
        step = "letter_issued" if isinstance(event, TransferCase.LetterIssued) else event.step
        if step not in c.STEP_EVENTS:
            return None
        letter = event.letter if isinstance(event, TransferCase.LetterIssued) else case.letter
        reason = event.details.get("reason_code") if isinstance(event, TransferCase.Stepped) else None
        days_before = event.details.get("days_before") if isinstance(event, TransferCase.Stepped) else None
        return case.sending_tenant, c.STEP_EVENTS[step](
            **common,
            receiving_tenant=case.receiving_tenant,
            sending_org_id=case.sending_org_id,
            receiving_org_id=case.receiving_org_id,
            state=event.state.value if isinstance(event, TransferCase.Stepped) else "letter_issued",
            letter_no=letter["letter_no"] if letter else None,
            expires_on=letter["expires_on"] if letter else None,
            receipt_due_on=case.receipt_due_on(),
            reason_code=reason,
            days_before=days_before,
        )
