"""The registry's consumers: transfer requests → the saga answer, learning's signals → contact status.

Tracking, contract checks and the thread hand-off are shared.consumer's; these functions say only what each
upstream event changes.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from registry.application import RegistryApplication
from registry.contracts import (
    CONTACT_SIGNALS,
    TRANSFER_REQUESTS,
    ContactSignal,
    EnrolmentRequested,
    HoldReleaseRequested,
    HoldRequested,
    ReleaseRequested,
    TransferRequest,
)
from registry.domain import TransferPending
from shared.consumer import Handler, PermanentFailure, tracked_handler
from shared.envelope import CloudEvent
from shared.meta import event_meta
from shared.runtime import Runtime

KINDS: dict[type, str] = {
    HoldRequested: "hold",
    HoldReleaseRequested: "lift",
    EnrolmentRequested: "enrol",
    ReleaseRequested: "release",
}


def transfer_requests(runtime: Runtime[RegistryApplication]) -> Handler:
    app = runtime.app

    def answer(event: CloudEvent, request: TransferRequest) -> list[Aggregate | None]:
        fields = request.model_dump(exclude={"case_id", "command_id", "member_id"})
        meta = event_meta(
            f"service:{event.service}", correlation_id=event.correlationid, causation_id=event.id
        )
        try:
            return app.answer(
                command_id=request.command_id,
                case_id=request.case_id,
                member_id=request.member_id,
                tenant_id=event.tenantid,
                kind=KINDS[type(request)],
                meta=meta,
                **fields,
            )
        except TransferPending as exc:
            raise PermanentFailure(f"{event.type} {exc.detail}") from exc

    return tracked_handler(app, TRANSFER_REQUESTS, answer)


def learning_signals(runtime: Runtime[RegistryApplication]) -> Handler:
    """Attendance, check-ins and reports are contact: the member's last contact moves, timers follow."""
    app = runtime.app

    def contact(event: CloudEvent, signal: ContactSignal) -> list[Aggregate | None]:
        if CONTACT_SIGNALS[event.type] == "thought_report_submitted":
            record = app.development_report_recorded(signal.member_id, signal.occurred_at, source=event.id)
            if (
                record is not None
            ):  # an activist's report counts toward 发展对象 (the record id is the subject)
                return [record]
        return [
            app.contact_recorded(
                signal.member_id, kind=CONTACT_SIGNALS[event.type], at=signal.occurred_at, source=event.id
            )
        ]

    return tracked_handler(app, dict.fromkeys(CONTACT_SIGNALS, ContactSignal), contact)
