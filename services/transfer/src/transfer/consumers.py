"""The registry's replies → the saga; every other registry event only advances the tracking position.

Tracking, contract checks and the thread hand-off are shared.consumer's.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from shared.consumer import Handler, tracked_handler
from shared.envelope import CloudEvent
from shared.runtime import Runtime
from transfer.application import TransferApplication
from transfer.contracts import REPLY_OUTCOMES, RegistryReply


def registry_replies(runtime: Runtime[TransferApplication]) -> Handler:
    app = runtime.app

    def answered(event: CloudEvent, reply: RegistryReply) -> list[Aggregate]:
        details = {"reason": reply.reason, "new_member_id": str(reply.new_member_id) if reply.new_member_id else None}
        return app.answered(case_id=reply.case_id, command_id=reply.command_id, outcome=REPLY_OUTCOMES[event.type],
                            reason_code=reply.reason_code, details=details)

    return tracked_handler(app, dict.fromkeys(REPLY_OUTCOMES, RegistryReply), answered)
