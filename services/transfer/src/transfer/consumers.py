"""The registry's replies → the saga; its erasures → the letters' keys; every other registry event only advances
the tracking position.

Tracking, contract checks and the thread hand-off are shared.consumer's.
"""

from __future__ import annotations

import contextlib
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from pydantic import BaseModel, ValidationError

from shared.consumer import Handler, apply_tracked, each_alone, tracked_handler
from shared.db import system_transaction
from shared.envelope import CloudEvent
from shared.runtime import Runtime
from shared.threads import run_sync
from transfer.application import TransferApplication
from transfer.contracts import REPLY_OUTCOMES, MemberErased, RegistryReply

CONTRACTS: dict[str, type[BaseModel]] = {
    **dict.fromkeys(REPLY_OUTCOMES, RegistryReply),
    MemberErased.TYPE: MemberErased,
}


async def _cases_of(runtime: Runtime[TransferApplication], member_id: UUID) -> list[UUID]:
    async with system_transaction(runtime.pool) as conn:
        return [
            r["id"] for r in await conn.fetch("SELECT id FROM transfer_cases WHERE member_id = $1", member_id)
        ]


async def _clear_letters(runtime: Runtime[TransferApplication], case_ids: list[UUID]) -> None:
    """The read model's copy: the masked name goes (a rebuild from the log finds None there too)."""
    async with system_transaction(runtime.pool) as conn:
        await conn.execute("UPDATE letters SET masked_name = NULL WHERE case_id = ANY($1::uuid[])", case_ids)


def registry_replies(runtime: Runtime[TransferApplication]) -> Handler:
    app = runtime.app

    def react(event: CloudEvent, data: Any, cases: list[UUID]) -> list[Aggregate]:
        if isinstance(data, MemberErased):
            app.erase_letters(data.member_id, cases)
            return []
        details = {
            "reason": data.reason,
            "new_member_id": str(data.new_member_id) if data.new_member_id else None,
        }
        return app.answered(
            case_id=data.case_id,
            command_id=data.command_id,
            outcome=REPLY_OUTCOMES[event.type],
            reason_code=data.reason_code,
            details=details,
        )

    async def erasure(event: CloudEvent) -> None:
        cases: list[UUID] = []
        with contextlib.suppress(ValidationError):  # apply_tracked dead-letters a contract mismatch
            cases = await _cases_of(runtime, MemberErased.model_validate(event.data).member_id)
        if cases:  # before and after the keys: a crash in between leaves nothing readable either way
            await _clear_letters(runtime, cases)
        await run_sync(apply_tracked, app, event, CONTRACTS, lambda e, d: react(e, d, cases))
        if cases:
            await _clear_letters(runtime, cases)

    # The replies in runs, each run in one transaction; an erasure alone (it clears the letters' read model too).
    replies = tracked_handler(app, CONTRACTS, lambda e, d: react(e, d, []))
    return each_alone(lambda event: event.type == MemberErased.TYPE, erasure, replies)
