"""Dependencies of the transfer API and the check of who may take which step."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal
from shared.runtime import Runtime, RuntimeDep
from transfer.application import TransferApplication
from transfer.application.registry_client import RegistryClient
from transfer.domain import NotYourStep, TransferCase
from transfer.settings import TransferSettings

COMMITTEE = ("committee", "tenant_admin")


def transfer_runtime(runtime: RuntimeDep) -> Runtime[TransferApplication, TransferSettings]:
    """The runtime of this process, typed: main.py declares transfer's parts with these two classes."""
    return runtime


async def transfer_app(runtime: RuntimeDep) -> TransferApplication:
    return transfer_runtime(runtime).app


async def transfer_settings(runtime: RuntimeDep) -> TransferSettings:
    return transfer_runtime(runtime).settings


async def registry_client(runtime: RuntimeDep) -> RegistryClient:
    client: RegistryClient = runtime.extras["registry"]
    return client


Transfers = Annotated[TransferApplication, Depends(transfer_app)]
Registry = Annotated[RegistryClient, Depends(registry_client)]
Settings = Annotated[TransferSettings, Depends(transfer_settings)]


def require_side(user: Principal, case: TransferCase, side: str, *, committee_only: bool = False) -> None:
    """Sender or receiver, committee or the branch secretary of the case's branch on that side."""
    tenant, org = (
        (case.sending_tenant, case.sending_org_id)
        if side == "sender"
        else (case.receiving_tenant, case.receiving_org_id)
    )
    if user.tenant != tenant:
        raise NotYourStep(f"this step belongs to the {side}")
    if user.has_any(*COMMITTEE):
        return
    if not committee_only and user.has_any("branch_secretary") and str(org) in user.orgs:
        return
    raise NotYourStep(
        f"this step needs the {side}'s {'committee' if committee_only else 'committee or branch'}"
    )


def require_reader(user: Principal, case: TransferCase) -> None:
    """The letter carries personal data: the parties' committees and auditors, the branch secretary of the case's
    branch on the user's side, and the member themself read it; other users of a party tenant do not."""
    if user.has_any(*COMMITTEE, "auditor"):
        return
    # A transfer between two branches of one tenant is read by the branch secretaries of both.
    branches = {
        str(org)
        for tenant, org in (
            (case.sending_tenant, case.sending_org_id),
            (case.receiving_tenant, case.receiving_org_id),
        )
        if tenant == user.tenant and org is not None
    }
    if user.has_any("branch_secretary") and branches & set(user.orgs):
        return
    if user.tenant == case.sending_tenant and user.subject == f"member:{case.member_id}":
        return
    raise NotYourStep("this transfer is read by its parties' committees, its branches and the member")
