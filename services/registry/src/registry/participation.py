"""The consumer of transfer requests: contract → application.answer, one command id answered once."""

from __future__ import annotations

import anyio.to_thread
from pydantic import ValidationError

from registry.application import RegistryApplication
from registry.contracts import (
    CONTACT_SIGNALS,
    TRANSFER_REQUESTS,
    ContactSignal,
    EnrolmentRequested,
    HoldReleaseRequested,
    HoldRequested,
    ReleaseRequested,
)
from registry.domain import TransferPending
from shared.consumer import Handler, PermanentFailure
from shared.envelope import CloudEvent
from shared.eventstore import Tracking
from shared.meta import event_meta
from shared.runtime import Runtime

KINDS: dict[type, str] = {HoldRequested: "hold", HoldReleaseRequested: "lift", EnrolmentRequested: "enrol", ReleaseRequested: "release"}


def transfer_requests(runtime: Runtime) -> Handler:
    app = runtime.app
    assert isinstance(app, RegistryApplication)

    def apply(event: CloudEvent) -> None:
        tracking = Tracking(event.service, event.notification_id)
        if app.already_processed(tracking.application_name, tracking.notification_id):
            return
        contract = TRANSFER_REQUESTS.get(event.type)
        if contract is None:  # a transfer event that is not a request for the registry
            app.save_tracked(tracking)
            return
        try:
            request = contract.model_validate(event.data)
        except ValidationError as exc:
            raise PermanentFailure(f"{event.type} does not match its contract: {exc}") from exc
        fields = request.model_dump(exclude={"case_id", "command_id", "member_id"})
        meta = event_meta(f"service:{event.service}", correlation_id=event.correlationid, causation_id=event.id)
        try:
            app.answer(tracking, command_id=request.command_id, case_id=request.case_id,
                       member_id=request.member_id, tenant_id=event.tenantid, kind=KINDS[contract], meta=meta,
                       **fields)
        except TransferPending as exc:
            raise PermanentFailure(f"{event.type} {exc.detail}") from exc

    async def handle(event: CloudEvent) -> None:
        await anyio.to_thread.run_sync(apply, event)

    return handle


def learning_signals(runtime: Runtime) -> Handler:
    """Attendance, check-ins and reports are contact: the member's last contact moves, timers follow."""
    app = runtime.app
    assert isinstance(app, RegistryApplication)

    def apply(event: CloudEvent) -> None:
        tracking = Tracking(event.service, event.notification_id)
        if app.already_processed(tracking.application_name, tracking.notification_id):
            return
        kind = CONTACT_SIGNALS.get(event.type)
        if kind is None:
            app.save_tracked(tracking)
            return
        try:
            signal = ContactSignal.model_validate(event.data)
        except ValidationError as exc:
            raise PermanentFailure(f"{event.type} does not match its contract: {exc}") from exc
        app.record_contact(signal.member_id, kind=kind, at=signal.occurred_at, source=event.id, tracking=tracking)

    async def handle(event: CloudEvent) -> None:
        await anyio.to_thread.run_sync(apply, event)

    return handle
