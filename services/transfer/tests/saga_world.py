"""A transfer application in memory and the moves of a case, for the unit tests."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from shared.eventstore import Tracking
from shared.meta import event_meta
from transfer.application import TransferApplication
from transfer.domain import DestinationKind, TransferCase

FIELDS = {
    "name": "李明",
    "gender": "男",
    "age": 23,
    "ethnicity": "汉族",
    "category": "正式党员",
    "national_id_number": "11010519491231002X",
    "from_org": "计算机学院本科生第一党支部",
    "dues_paid_through": "2026-11",
    "issuer_address": "北京市海淀区",
    "issuer_phone": "010-1234",
}
position = iter(range(1, 100_000))


def new_case(
    app: TransferApplication, destination: DestinationKind = DestinationKind.OtherTenant
) -> TransferCase:
    on = destination is not DestinationKind.OffPlatform
    return app.request(
        case_id=uuid4(),
        meta=event_meta("sec"),
        sending_tenant="uni",
        member_id=uuid4(),
        sending_org_id=uuid4(),
        destination=destination,
        receiving_tenant=("uni" if destination is DestinationKind.SameTenant else "district") if on else None,
        receiving_org_id=uuid4() if on else None,
        receiving_org_name="东城社区党支部",
        reason="就业",
        graduate=True,
        cross_province=False,
    )


def step(
    app: TransferApplication, case: TransferCase, action: str, tenant: str = "uni", **args: Any
) -> TransferCase:
    """Take a step by the name of its TransferApplication method (reissue: reissue_letter)."""
    method = {"reissue": "reissue_letter", "void": "void_letter"}.get(action, action)
    return getattr(app, method)(tenant, case.id, event_meta("someone"), **args)


def answer(app: TransferApplication, position: int, **reply: Any) -> None:
    """What the consumer does with a registry reply at that position: the changes stored with the position."""
    app.save_tracked(Tracking("registry", position), *app.answered(**reply))


def reply(
    app: TransferApplication, case: TransferCase, request: str, outcome: str, **details: Any
) -> TransferCase:
    current = app.get_case("uni", case.id)
    command = next(c for c, r in current.pending.items() if r == request)
    answer(
        app,
        next(position),
        case_id=str(case.id),
        command_id=command,
        outcome=outcome,
        reason_code=details.pop("reason_code", None),
        details=details,
    )
    return app.get_case("uni", case.id)


def issued(
    app: TransferApplication, destination: DestinationKind = DestinationKind.OtherTenant
) -> TransferCase:
    case = new_case(app, destination)
    step(app, case, "approve_branch")
    step(app, case, "approve_committee", letter_fields=FIELDS, valid_days=None)
    return reply(app, case, "hold", "hold_placed")
