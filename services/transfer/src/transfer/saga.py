"""The transfer saga as one table: each step, who takes it, what it asks of the registry, and its compensation.

The TransferCase aggregate enforces the table; `next_step` reads it to say what the case waits for.
"""

from __future__ import annotations

from dataclasses import dataclass

from transfer.domain import CaseState, TransferCase


@dataclass(frozen=True)
class Step:
    state: CaseState  # the state in which the step may be taken
    action: str
    by: str
    participant: str | None  # what the registry is asked (ADR 0001)
    compensation: str | None  # how it is undone before the pivot; None after it (retried until done)


STEPS: tuple[Step, ...] = (
    #    in state                      action               by                         registry              compensation
    Step(CaseState.Draft,              "approve_branch",    "sending branch",          None,                 "cancel"),
    Step(CaseState.BranchApproved,     "approve_committee", "sending committee",       "hold the member",    "lift the hold"),
    Step(CaseState.CommitteeApproved,  "issue_letter",      "the saga, on hold_placed", None,                "void the letter, lift the hold"),
    Step(CaseState.LetterIssued,       "receive",           "receiving committee",     None,                 "refuse / return / expire: void, lift"),
    Step(CaseState.Received,           "check_in",          "receiving branch",        "enrol (and release)", None),
    Step(CaseState.CheckedIn,          "return_receipt",    "receiving committee",     None,                 None),
    Step(CaseState.ReceiptReturned,    "complete",          "the saga, once released", "release",            None),
)  # fmt: skip

PIVOT = "receive"


def step_for(state: CaseState) -> Step | None:
    return next((s for s in STEPS if s.state is state), None)


def next_step(case: TransferCase) -> str:
    """What the case is waiting for, in words a secretary reads on the work list."""
    if case.ended:
        return "nothing: the case has ended"
    waiting = sorted(set(case.pending.values()))
    if waiting:
        return f"the registry: {', '.join(waiting)}"
    step = step_for(case.state)
    if step is None:
        return "nothing"
    if case.state is CaseState.CheckedIn and not case.on_platform:
        return "the receipt"
    return f"{step.action} by the {step.by}"
