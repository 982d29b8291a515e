"""TransferCase (组织关系转接): the saga's state and its own audit trail.

Draft → BranchApproved → CommitteeApproved → LetterIssued → Received → CheckedIn → ReceiptReturned → Completed,
side states Returned, Refused, Expired, Voided, Cancelled. Receipt by the receiving organisation is the pivot:
before it a failure compensates (the hold is lifted, the member stays at the sender), after it every step is
retried until done. The registry's part is requested by events (ADR 0001) with command ids <case>:<step>:<n>.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from transfer.domain.deadlines import expires_on, receipt_due_on
from transfer.domain.destination import DestinationKind, check_destination
from transfer.domain.errors import StepNotAllowed
from transfer.domain.saga import ENDED, TRANSITIONS, CaseState


class TransferCase(Aggregate):
    TOPIC = "lianxin.transfer.TransferCase"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.transfer.TransferCase.Created"

    class Requested(Created):
        TOPIC = "lianxin.transfer.TransferCase.Requested"
        sending_tenant: str
        member_id: UUID
        sending_org_id: UUID
        destination: DestinationKind
        receiving_tenant: str | None
        receiving_org_id: UUID | None
        receiving_org_name: str
        reason: str
        graduate: bool
        cross_province: bool
        meta: dict[str, Any]

    class Stepped(Event):
        """A step by people or by the saga: state changes, with who and why."""

        TOPIC = "lianxin.transfer.TransferCase.Stepped"
        step: str
        state: CaseState
        details: dict[str, Any]
        meta: dict[str, Any]

        class_version = 2
        parties: dict[str, Any] | None  # what its integration event names (None: stored before v2)

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["parties"] = None

    class ParticipantRequested(Event):
        """A request to the registry (ADR 0001); compensations are recorded here before they are sent."""

        TOPIC = "lianxin.transfer.TransferCase.ParticipantRequested"
        request: str  # hold | lift | enrol | release
        command_id: str
        meta: dict[str, Any]

        class_version = 2
        parties: dict[str, Any] | None  # what its integration event names (None: stored before v2)

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["parties"] = None

    class ParticipantAnswered(Event):
        TOPIC = "lianxin.transfer.TransferCase.ParticipantAnswered"
        command_id: str
        outcome: str
        reason_code: str | None
        details: dict[str, Any]

    class LetterIssued(Event):
        TOPIC = "lianxin.transfer.TransferCase.LetterIssued"
        letter: dict[str, Any]  # the signed letter: fields (personal data, encrypted at rest), number, code
        meta: dict[str, Any]

        class_version = 2
        parties: dict[str, Any] | None  # what its integration event names (None: stored before v2)

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["parties"] = None

    class LetterVoided(Event):
        TOPIC = "lianxin.transfer.TransferCase.LetterVoided"
        letter_no: str
        reason: str
        meta: dict[str, Any]

    @event(Requested)
    def __init__(
        self,
        *,
        id: UUID,
        sending_tenant: str,
        member_id: UUID,
        sending_org_id: UUID,
        destination: DestinationKind,
        receiving_tenant: str | None,
        receiving_org_id: UUID | None,
        receiving_org_name: str,
        reason: str,
        graduate: bool,
        cross_province: bool,
        meta: dict[str, Any],
    ) -> None:
        self.sending_tenant = sending_tenant
        self.member_id = member_id
        self.sending_org_id = sending_org_id
        self.destination = destination
        self.receiving_tenant = receiving_tenant
        self.receiving_org_id = receiving_org_id
        self.receiving_org_name = receiving_org_name
        self.graduate = graduate
        self.cross_province = cross_province
        self.state = CaseState.Draft
        self.letter: dict[str, Any] | None = None
        self.letters_voided: list[str] = []
        self.pending: dict[str, str] = {}  # command id -> request, awaiting the registry's answer
        self.attempts = 0
        self.hold_placed = False
        self.enrolled_member_id: UUID | None = None
        self.released = False
        self.refusal: dict[str, Any] | None = None
        self.checked_in_on: date | None = None
        self.receipt_returned = False
        self.letter_fields: dict[str, Any] = {}
        self.reminders_sent: list[str] = []  # "<letter_no>:<days before expiry>", each sent once
        self.receipt_escalated = False

    @classmethod
    def request(
        cls,
        *,
        case_id: UUID,
        sending_tenant: str,
        member_id: UUID,
        sending_org_id: UUID,
        destination: DestinationKind,
        receiving_tenant: str | None,
        receiving_org_id: UUID | None,
        receiving_org_name: str,
        reason: str,
        graduate: bool,
        cross_province: bool,
        meta: dict[str, Any],
    ) -> TransferCase:
        check_destination(
            destination,
            sending_tenant=sending_tenant,
            receiving_tenant=receiving_tenant,
            receiving_org_id=receiving_org_id,
        )
        return cls(
            id=case_id,
            sending_tenant=sending_tenant,
            member_id=member_id,
            sending_org_id=sending_org_id,
            destination=destination,
            receiving_tenant=receiving_tenant,
            receiving_org_id=receiving_org_id,
            receiving_org_name=receiving_org_name,
            reason=reason,
            graduate=graduate,
            cross_province=cross_province,
            meta=meta,
        )

    # Queries.

    @property
    def case_id(self) -> str:
        return str(self.id)

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    @property
    def on_platform(self) -> bool:
        return self.destination is not DestinationKind.OffPlatform

    def command_id(self, request: str) -> str:
        return f"{self.case_id}:{request}:{self.attempts}"

    def receipt_due_on(self) -> date | None:
        return receipt_due_on(self.checked_in_on) if self.checked_in_on else None

    def parties(self) -> dict[str, Any]:
        """What the integration event of a step names besides the step, as the case stands before it: carried on
        the event, so the relay publishes it without reloading the case (no personal data)."""
        return {
            "member_id": str(self.member_id),
            "sending_tenant": self.sending_tenant,
            "receiving_tenant": self.receiving_tenant,
            "sending_org_id": str(self.sending_org_id),
            "receiving_org_id": str(self.receiving_org_id) if self.receiving_org_id else None,
            "letter_no": self.letter["letter_no"] if self.letter else None,
            "expires_on": self.letter["expires_on"] if self.letter else None,
            "checked_in_on": self.checked_in_on.isoformat() if self.checked_in_on else None,
        }

    # Steps: each one allowed from the states its row in the saga table names, moving to the state it names.

    def allows(self, action: str) -> bool:
        return self.state in TRANSITIONS[action].from_states

    def _require(self, action: str) -> None:
        row = TRANSITIONS[action]
        if self.state not in row.from_states:
            raise StepNotAllowed(
                row.refusal or f"{row.name} is not possible while the case is {self.state.value}",
                state=self.state.value,
            )

    def _take(self, action: str, details: dict[str, Any], meta: dict[str, Any]) -> None:
        """A step of the table: refused from any other state, recorded with the state the table names."""
        self._require(action)
        row = TRANSITIONS[action]
        assert row.recorded is not None and row.to is not None, f"{action} is recorded by its own events"
        self._step(step=row.recorded, state=row.to, details=details, meta=meta)

    def approve_branch(self, meta: dict[str, Any]) -> None:
        self._take("approve_branch", {}, meta)

    def approve_committee(
        self, *, letter_fields: dict[str, Any], valid_days: int, meta: dict[str, Any]
    ) -> None:
        """The committee approves; the registry is asked to hold the member before any letter exists."""
        self._take(
            "approve_committee",
            {"letter_fields": letter_fields, "valid_days": valid_days, "attempt": self.attempts + 1},
            meta,
        )
        self._participant(request="hold", command_id=self.command_id("hold"), meta=meta)

    def issue_letter(self, letter: dict[str, Any], meta: dict[str, Any]) -> None:
        """The first letter (on the registry's hold_placed), or a reissue that keeps the case where it is."""
        self._require("issue_letter" if self.state is CaseState.CommitteeApproved else "reissue_letter")
        self._letter_issued(letter=letter, meta=meta)

    def receive(self, meta: dict[str, Any]) -> None:
        """The receiving committee accepts the member: the pivot."""
        self._take("receive", {}, meta)

    def refuse(self, reason: str, meta: dict[str, Any]) -> None:
        self._compensate("refuse", {"reason": reason}, meta)

    def send_back(self, reason: str, meta: dict[str, Any]) -> None:
        """Returned for correction (退回): the letter is void, the hold lifted; a new request starts again."""
        self._compensate("send_back", {"reason": reason}, meta)

    def cancel(self, reason: str, meta: dict[str, Any]) -> None:
        self._compensate("cancel", {"reason": reason}, meta)

    def expire(self, today: date, meta: dict[str, Any]) -> bool:
        """Timer: a letter not received by its expiry is void and the member stays at the sender."""
        if not self.allows("expire") or self.letter is None:
            return False
        if today < expires_on(self.letter):
            return False
        self._compensate("expire", {"expired_on": today.isoformat()}, meta)
        return True

    def remind_expiry(self, today: date, days_before: int, meta: dict[str, Any]) -> bool:
        """Timer, T-7 and T-1: the letter has not been received yet; said once per letter and day."""
        if self.state is not CaseState.LetterIssued or self.letter is None:
            return False
        key = f"{self.letter['letter_no']}:{days_before}"
        expiry = expires_on(self.letter)
        if key in self.reminders_sent or today >= expiry:
            return False
        self._step(
            step="letter_expiry_reminder",
            state=self.state,
            details={
                "letter_no": self.letter["letter_no"],
                "days_before": days_before,
                "expires_on": expiry.isoformat(),
            },
            meta=meta,
        )
        return True

    def escalate_receipt(self, meta: dict[str, Any]) -> bool:
        """Timer, 30 days after check-in: the receipt is overdue; the sender's committee hears it once."""
        if self.state is not CaseState.CheckedIn or self.receipt_escalated:
            return False
        self._step(
            step="receipt_overdue",
            state=self.state,
            details={"receipt_due_on": str(self.receipt_due_on())},
            meta=meta,
        )
        return True

    def void_letter(self, reason: str, meta: dict[str, Any], *, reissue: bool) -> None:
        """A lost letter or a clerk's error: voided, and either reissued under a new number or compensated."""
        if not reissue and self.state is CaseState.Received:
            raise StepNotAllowed("after receipt a voided letter is reissued", state=self.state.value)
        self._require("reissue_letter" if reissue else "void_letter")
        assert self.letter is not None
        self._letter_voided(letter_no=self.letter["letter_no"], reason=reason, meta=meta)
        if not reissue:
            self._compensate("void_letter", {"reason": reason}, meta)

    def check_in(self, today: date, late_reason: str | None, meta: dict[str, Any]) -> None:
        """报到: the member reported to the receiving branch; on the platform the receiver's roll enrols them."""
        self._require("check_in")
        assert self.letter is not None
        late = today > expires_on(self.letter)
        if late and not late_reason:
            raise StepNotAllowed(
                "the letter has expired: a late report needs a recorded reason", field="late_reason"
            )
        self._take("check_in", {"checked_in_on": today.isoformat(), "late_reason": late_reason}, meta)
        if self.on_platform:
            self._participant(request="enrol", command_id=self.command_id("enrol"), meta=meta)

    def confirm_off_platform(self, today: date, confirmation: dict[str, Any], meta: dict[str, Any]) -> None:
        """Off the platform, the receiver's confirmation (or the paper receipt) is receipt, report and 回执."""
        if self.on_platform:
            raise StepNotAllowed("on the platform the receiving organisation acts in its own tenant")
        self._require("confirm_off_platform")
        checked_in = {"checked_in_on": today.isoformat(), "late_reason": None}
        for action, details in (
            ("receive", confirmation),
            ("check_in", checked_in),
            ("return_receipt", confirmation),
        ):
            self._take(action, details, meta)
        self._participant(request="release", command_id=self.command_id("release"), meta=meta)

    def return_receipt(self, details: dict[str, Any], meta: dict[str, Any]) -> None:
        self._take("return_receipt", details, meta)
        self._complete_if_done(meta)

    # Answers from the registry.

    def answered(
        self,
        *,
        command_id: str,
        outcome: str,
        reason_code: str | None,
        details: dict[str, Any],
        issue: Any,
        meta: dict[str, Any],
    ) -> None:
        """Apply the registry's answer once; `issue` builds and signs the letter when the hold is placed."""
        if command_id not in self.pending:
            return
        self._answered(command_id=command_id, outcome=outcome, reason_code=reason_code, details=details)
        if outcome == "hold_placed":
            if self.state is CaseState.CommitteeApproved:
                self.issue_letter(issue(self), meta)
            else:  # cancelled meanwhile: the compensation already went out after the request
                return
        elif outcome == "hold_refused" and self.allows("hold_refused"):
            self._take(
                "hold_refused",
                {"by": "registry", "reason_code": reason_code, "reason": details.get("reason")},
                meta,
            )
        elif outcome in ("member_enrolled", "member_released"):
            # The registry enrols at the receiver and releases at the sender in one transaction, so enrolment is
            # the release too: no release request follows it (ADR 0001, amendment of 2026-12-02).
            self._complete_if_done(meta)
        # enrolment_refused: after the pivot nothing compensates; the case waits for people (see the work list).

    def _complete_if_done(self, meta: dict[str, Any]) -> None:
        if self.allows("complete") and self.released:
            self._take("complete", {}, meta)

    def _compensate(self, action: str, details: dict[str, Any], meta: dict[str, Any]) -> None:
        """A compensating step of the table: the letter voided and the hold lifted, recorded before they are
        sent, and safe when the hold never happened (the registry answers anyway)."""
        self._require(action)
        row = TRANSITIONS[action]
        assert row.recorded is not None, f"{action} is not a compensation"
        requested_hold = any(r == "hold" for r in self.pending.values()) or self.hold_placed
        if self.letter is not None and self.letter["letter_no"] not in self.letters_voided:
            self._letter_voided(letter_no=self.letter["letter_no"], reason=row.recorded, meta=meta)
        self._take(action, details, meta)
        if requested_hold:
            self._participant(request="lift", command_id=self.command_id("lift"), meta=meta)

    def _step(self, step: str, state: CaseState, details: dict[str, Any], meta: dict[str, Any]) -> None:
        self._stepped(step=step, state=state, details=details, meta=meta, parties=self.parties())

    @event(Stepped)
    def _stepped(
        self,
        step: str,
        state: CaseState,
        details: dict[str, Any],
        meta: dict[str, Any],
        parties: dict[str, Any],
    ) -> None:
        self.state = state
        if step == "committee_approved":
            self.letter_fields = {**details["letter_fields"], "valid_days": details["valid_days"]}
            self.attempts = details["attempt"]
        if step == "member_checked_in":
            self.checked_in_on = date.fromisoformat(details["checked_in_on"])
        if state is CaseState.Refused and details.get("by") == "registry":
            self.refusal = details
        if step == "receipt_returned":
            self.receipt_returned = True
        if step == "receipt_overdue":
            self.receipt_escalated = True
        if step == "letter_expiry_reminder":
            self.reminders_sent.append(f"{details['letter_no']}:{details['days_before']}")

    def _participant(self, request: str, command_id: str, meta: dict[str, Any]) -> None:
        self._requested(request=request, command_id=command_id, meta=meta, parties=self.parties())

    @event(ParticipantRequested)
    def _requested(
        self, request: str, command_id: str, meta: dict[str, Any], parties: dict[str, Any]
    ) -> None:
        self.pending[command_id] = request

    @event(ParticipantAnswered)
    def _answered(
        self, command_id: str, outcome: str, reason_code: str | None, details: dict[str, Any]
    ) -> None:
        self.pending.pop(command_id, None)
        if outcome == "hold_placed":
            self.hold_placed = True
        elif outcome == "hold_lifted":
            self.hold_placed = False
        elif outcome == "member_enrolled":
            self.enrolled_member_id = UUID(details["new_member_id"])
            self.released = True  # the registry enrols and releases in one transaction (ADR 0001)
        elif outcome == "member_released":
            self.released = True

    def _letter_issued(self, letter: dict[str, Any], meta: dict[str, Any]) -> None:
        self._issued(letter=letter, meta=meta, parties=self.parties())

    @event(LetterIssued)
    def _issued(self, letter: dict[str, Any], meta: dict[str, Any], parties: dict[str, Any]) -> None:
        self.letter = letter
        if self.state is CaseState.CommitteeApproved:
            self.state = CaseState.LetterIssued

    @event(LetterVoided)
    def _letter_voided(self, letter_no: str, reason: str, meta: dict[str, Any]) -> None:
        self.letters_voided.append(letter_no)
