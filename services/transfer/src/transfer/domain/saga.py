"""The transfer saga as one table: its states, each step with who takes it, what it asks of the registry and
its compensation, and the steps off the main path. TransferCase takes a step only from a state its row allows
and moves to the state its row names; `next_step` reads the same table for the work list.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transfer.domain.case import TransferCase


class CaseState(enum.Enum):
    Draft = "draft"
    BranchApproved = "branch_approved"
    CommitteeApproved = "committee_approved"  # the hold is requested; the letter follows it
    LetterIssued = "letter_issued"
    Received = "received"  # the pivot
    CheckedIn = "checked_in"  # 报到; enrolment at the receiver is requested
    ReceiptReturned = "receipt_returned"  # 回执
    Completed = "completed"
    Returned = "returned"
    Refused = "refused"
    Expired = "expired"
    Voided = "voided"
    Cancelled = "cancelled"


S = CaseState
ENDED = {S.Completed, S.Returned, S.Refused, S.Expired, S.Voided, S.Cancelled}
BEFORE_PIVOT = {S.Draft, S.BranchApproved, S.CommitteeApproved, S.LetterIssued}


@dataclass(frozen=True)
class Step:
    state: S  # the state in which the step is taken
    action: str  # the TransferCase (and TransferApplication) method that takes it
    by: str
    participant: str | None  # what the registry is asked (ADR 0001)
    compensation: str | None  # how it is undone before the pivot; None after it (retried until done)
    to: S  # the state it leads to
    recorded: str | None  # the step name its Stepped event records (None: recorded by its own event)
    name: str  # how a refusal names it
    refusal: str | None = None  # what a refusal says where "<name> is not possible while ..." would mislead

    @property
    def from_states(self) -> frozenset[S]:
        return frozenset({self.state})


@dataclass(frozen=True)
class SideStep:
    """A step off the main path: a compensation (void the letter, lift the hold), a reissue or a shortcut."""

    action: str
    from_states: frozenset[S]
    to: S | None  # None: the state stays
    recorded: str | None
    name: str
    compensates: bool = False  # voids the letter and lifts the hold, recorded before they are sent
    refusal: str | None = None  # what a refusal says where "<name> is not possible while ..." would mislead


STEPS: tuple[Step, ...] = (
    #    in state             action               by                          registry               compensation                              to                   recorded               refused as
    Step(S.Draft,             "approve_branch",    "sending branch",           None,                  "cancel",                                 S.BranchApproved,    "branch_approved",     "branch approval"),
    Step(S.BranchApproved,    "approve_committee", "sending committee",        "hold the member",     "lift the hold",                          S.CommitteeApproved, "committee_approved",  "committee approval"),
    Step(S.CommitteeApproved, "issue_letter",      "the saga, on hold_placed", None,                  "void the letter, lift the hold",         S.LetterIssued,      None,                  "issuing the letter"),
    Step(S.LetterIssued,      "receive",           "receiving committee",      None,                  "refuse / return / expire: void, lift",   S.Received,          "transfer_received",   "receipt by the receiving organisation"),
    Step(S.Received,          "check_in",          "receiving branch",         "enrol (releases too)", None,                                    S.CheckedIn,         "member_checked_in",   "check-in"),
    Step(S.CheckedIn,         "return_receipt",    "receiving committee",      None,                  None,                                     S.ReceiptReturned,   "receipt_returned",    "the receipt"),
    Step(S.ReceiptReturned,   "complete",          "the saga, once released",  "release off-platform", None,                                    S.Completed,         "transfer_completed",  "completion"),
)  # fmt: skip

SIDE_STEPS: tuple[SideStep, ...] = (
    #        action                  from                                        to                  recorded               refused as
    SideStep("refuse",               frozenset({S.LetterIssued}),                S.Refused,          "transfer_refused",    "refusal", compensates=True),
    SideStep("send_back",            frozenset({S.LetterIssued}),                S.Returned,         "transfer_returned",   "returning the case", compensates=True),
    SideStep("cancel",               frozenset(BEFORE_PIVOT),                    S.Cancelled,        "transfer_cancelled",  "cancelling", compensates=True,
             refusal="after receipt by the receiving organisation a transfer is completed, not cancelled"),
    SideStep("expire",               frozenset({S.LetterIssued}),                S.Expired,          "letter_expired",      "expiry", compensates=True),
    SideStep("void_letter",          frozenset({S.LetterIssued}),                S.Voided,           "letter_voided",       "voiding the letter", compensates=True),
    SideStep("reissue_letter",       frozenset({S.LetterIssued, S.Received}),    None,               None,                  "voiding the letter"),
    SideStep("hold_refused",         frozenset({S.CommitteeApproved}),           S.Refused,          "transfer_refused",    "refusal by the registry"),
    SideStep("confirm_off_platform", frozenset({S.LetterIssued}),                S.ReceiptReturned,  None,                  "confirmation by the receiver"),
)  # fmt: skip

PIVOT = "receive"
ROWS: tuple[Step | SideStep, ...] = (*STEPS, *SIDE_STEPS)
TRANSITIONS: dict[str, Step | SideStep] = {row.action: row for row in ROWS}


def step_for(state: S) -> Step | None:
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
