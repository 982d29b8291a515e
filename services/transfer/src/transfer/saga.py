"""The transfer saga's table, as the work list reads it: what a case waits for, in a secretary's words.

The table itself (STEPS, SIDE_STEPS) lives in `transfer.domain.saga`, because TransferCase enforces it.
"""

from __future__ import annotations

from transfer.domain import CaseState, TransferCase
from transfer.domain.saga import PIVOT, SIDE_STEPS, STEPS, SideStep, Step, step_for

__all__ = ["PIVOT", "SIDE_STEPS", "STEPS", "SideStep", "Step", "next_step", "step_for"]


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
