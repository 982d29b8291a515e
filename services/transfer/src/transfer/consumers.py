"""The registry's replies → the saga; every other registry event only advances the tracking position."""

from __future__ import annotations

import anyio.to_thread
from pydantic import ValidationError

from shared.consumer import Handler, PermanentFailure
from shared.envelope import CloudEvent
from shared.eventstore import Tracking
from shared.runtime import Runtime
from transfer.application import TransferApplication
from transfer.contracts import REPLY_OUTCOMES, RegistryReply


def registry_replies(runtime: Runtime) -> Handler:
    app = runtime.app
    assert isinstance(app, TransferApplication)

    def apply(event: CloudEvent) -> None:
        tracking = Tracking(event.service, event.notification_id)
        outcome = REPLY_OUTCOMES.get(event.type)
        if outcome is None:
            if not app.already_processed(tracking.application_name, tracking.notification_id):
                app.save_tracked(tracking)
            return
        try:
            reply = RegistryReply.model_validate(event.data)
        except ValidationError as exc:
            raise PermanentFailure(f"{event.type} does not match its contract: {exc}") from exc
        details = {"reason": reply.reason, "new_member_id": str(reply.new_member_id) if reply.new_member_id else None}
        app.answered(tracking, case_id=reply.case_id, command_id=reply.command_id, outcome=outcome,
                     reason_code=reply.reason_code, details=details)

    async def handle(event: CloudEvent) -> None:
        await anyio.to_thread.run_sync(apply, event)

    return handle
