"""The transfer service's eventsourcing Application: one method per step of the saga."""

from __future__ import annotations

import enum
import hmac
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from shared.clock import Clock, SystemClock
from shared.eventstore import ServiceApplication, in_one_transaction, rerun_on_clash
from shared.meta import EventMeta
from shared.shredding import PersonalDataApplication
from transfer.application.letters import LETTER_PERSONAL_DATA, compose_letter
from transfer.domain import (
    BatchTransfer,
    CaseNotFound,
    CaseState,
    DestinationKind,
    LetterBook,
    StepNotAllowed,
    TenantKeys,
    TransferCase,
    TransferPolicy,
)
from transfer.domain.letters import RANDOM_CODE

A = TypeVar("A", bound=Aggregate)
Allowed = Callable[[TransferCase], None]  # raises when the caller may not take the step on this case


class TransferApplication(PersonalDataApplication, ServiceApplication):
    name = "transfer"
    personal_data = LETTER_PERSONAL_DATA
    enums: ClassVar[Mapping[str, type[enum.Enum]]] = {
        "transfer.CaseState": CaseState,
        "transfer.DestinationKind": DestinationKind,
    }

    def __init__(self, env: Mapping[str, str] | None = None, clock: Clock | None = None) -> None:
        super().__init__(env)
        self.clock = clock or SystemClock()

    def get_case(self, tenant_id: str, case_id: UUID) -> TransferCase:
        """Either party sees the case; anyone else finds nothing."""
        case = self.find(TransferCase, case_id)
        if case is None or tenant_id not in (case.sending_tenant, case.receiving_tenant):
            raise CaseNotFound(f"transfer {case_id} not found")
        return case

    def history(self, case_id: UUID) -> list[Any]:
        """Every event of the case, oldest first (the reader's rights were checked on the case)."""
        return list(self.events.get(case_id))

    def erase_letters(self, member_id: UUID, case_ids: list[UUID]) -> int:
        """The registry erased the member: destroy the key of each of their cases (the name and ID number in the
        letter's fields and in the signed letter then read back as None). Returns the keys destroyed now."""
        basis = f"registry erased member {member_id}"
        return sum(
            self.subject_keys().erase(case_id, by="service:registry", basis=basis, at=self.clock.now())
            for case_id in case_ids
        )

    def policy(self, tenant_id: str) -> TransferPolicy:
        return self.find(TransferPolicy, TransferPolicy.create_id(tenant_id)) or TransferPolicy(
            tenant_id=tenant_id
        )

    def change_policy(self, tenant_id: str, values: dict[str, int], meta: EventMeta) -> TransferPolicy:
        policy = self.policy(tenant_id)
        policy.change(values, dict(meta))
        self.save(policy)
        return policy

    def request(self, *, case_id: UUID, meta: EventMeta, **fields: Any) -> TransferCase:
        case = TransferCase.request(case_id=case_id, meta=dict(meta), **fields)
        self.save(case)
        return case

    # The steps people take, one method each. Each one loads the case afresh, so a version clash re-runs it against
    # the winner (rerun_on_clash); `allowed` is the API's check of the caller's side and role on the case it loaded
    # (one read of the case per step, not one for the check and one for the step). The read and the save commit
    # together (in_one_transaction): nothing else happens between them.

    def _step(
        self,
        tenant_id: str,
        case_id: UUID,
        take: Callable[[TransferCase], None],
        allowed: Allowed | None = None,
    ) -> TransferCase:
        case = self.get_case(tenant_id, case_id)
        if allowed is not None:
            allowed(case)
        take(case)
        self.save(case)
        return case

    @in_one_transaction
    @rerun_on_clash
    def approve_branch(
        self, tenant_id: str, case_id: UUID, meta: EventMeta, *, allowed: Allowed | None = None
    ) -> TransferCase:
        return self._step(tenant_id, case_id, lambda case: case.approve_branch(dict(meta)), allowed)

    @in_one_transaction
    @rerun_on_clash
    def approve_committee(
        self,
        tenant_id: str,
        case_id: UUID,
        meta: EventMeta,
        *,
        letter_fields: dict[str, Any],
        valid_days: int | None,
        allowed: Allowed | None = None,
    ) -> TransferCase:
        def approve(case: TransferCase) -> None:
            days = self.policy(case.sending_tenant).validity(
                graduate=case.graduate, cross_province=case.cross_province, asked=valid_days
            )
            case.approve_committee(letter_fields=letter_fields, valid_days=days, meta=dict(meta))

        return self._step(tenant_id, case_id, approve, allowed)

    @in_one_transaction
    @rerun_on_clash
    def receive(
        self, tenant_id: str, case_id: UUID, meta: EventMeta, *, allowed: Allowed | None = None
    ) -> TransferCase:
        return self._step(tenant_id, case_id, lambda case: case.receive(dict(meta)), allowed)

    @in_one_transaction
    @rerun_on_clash
    def refuse(
        self, tenant_id: str, case_id: UUID, meta: EventMeta, *, reason: str, allowed: Allowed | None = None
    ) -> TransferCase:
        return self._step(tenant_id, case_id, lambda case: case.refuse(reason, dict(meta)), allowed)

    @in_one_transaction
    @rerun_on_clash
    def send_back(
        self, tenant_id: str, case_id: UUID, meta: EventMeta, *, reason: str, allowed: Allowed | None = None
    ) -> TransferCase:
        return self._step(tenant_id, case_id, lambda case: case.send_back(reason, dict(meta)), allowed)

    @in_one_transaction
    @rerun_on_clash
    def cancel(
        self, tenant_id: str, case_id: UUID, meta: EventMeta, *, reason: str, allowed: Allowed | None = None
    ) -> TransferCase:
        return self._step(tenant_id, case_id, lambda case: case.cancel(reason, dict(meta)), allowed)

    @in_one_transaction
    @rerun_on_clash
    def check_in(
        self,
        tenant_id: str,
        case_id: UUID,
        meta: EventMeta,
        *,
        late_reason: str | None,
        allowed: Allowed | None = None,
    ) -> TransferCase:
        today = self.clock.now().date()
        return self._step(
            tenant_id, case_id, lambda case: case.check_in(today, late_reason, dict(meta)), allowed
        )

    @in_one_transaction
    @rerun_on_clash
    def return_receipt(
        self,
        tenant_id: str,
        case_id: UUID,
        meta: EventMeta,
        *,
        details: dict[str, Any],
        allowed: Allowed | None = None,
    ) -> TransferCase:
        return self._step(tenant_id, case_id, lambda case: case.return_receipt(details, dict(meta)), allowed)

    @in_one_transaction
    @rerun_on_clash
    def record_paper_receipt(
        self,
        tenant_id: str,
        case_id: UUID,
        meta: EventMeta,
        *,
        details: dict[str, Any],
        allowed: Allowed | None = None,
    ) -> TransferCase:
        today = self.clock.now().date()
        return self._step(
            tenant_id,
            case_id,
            lambda case: case.confirm_off_platform(today, {**details, "paper": True}, dict(meta)),
            allowed,
        )

    @in_one_transaction
    @rerun_on_clash
    def void_letter(
        self, tenant_id: str, case_id: UUID, meta: EventMeta, *, reason: str, allowed: Allowed | None = None
    ) -> TransferCase:
        return self._step(
            tenant_id, case_id, lambda case: case.void_letter(reason, dict(meta), reissue=False), allowed
        )

    @in_one_transaction
    @rerun_on_clash
    def reissue_letter(
        self, tenant_id: str, case_id: UUID, meta: EventMeta, *, reason: str, allowed: Allowed | None = None
    ) -> TransferCase:
        """补办: a new number and code, the old letter void; the hold stands. The letter book joins the save."""
        case = self.get_case(tenant_id, case_id)
        if allowed is not None:
            allowed(case)
        case.void_letter(reason, dict(meta), reissue=True)
        extra: list[Aggregate] = []
        case.issue_letter(self._letter(case, extra, reissue=True), dict(meta))
        self.save(case, *extra)
        return case

    def confirm_by_code(
        self, code: str, confirmation: dict[str, Any], case_id: UUID, meta: EventMeta
    ) -> TransferCase:
        case = self.find(TransferCase, case_id)
        if case is None or case.letter is None or not hmac.compare_digest(case.letter["code"], code):
            raise CaseNotFound("no letter with this code")
        if case.letter.get("code_kind") != RANDOM_CODE:
            raise StepNotAllowed(
                "this letter's code was derived, not drawn at random: it proves nothing alone, "
                "so the sending committee records the paper receipt instead"
            )
        case.confirm_off_platform(self.clock.now().date(), confirmation, dict(meta))
        self.save(case)
        return case

    def expire(self, case_id: UUID) -> None:
        """Deadline handler: idempotent, and a case received meanwhile is left alone."""
        case = self.find(TransferCase, case_id)
        if case is not None and case.expire(self.clock.now().date(), {"actor": "timer:letter-expiry"}):
            self.save(case)

    def remind_expiry(self, case_id: UUID, days_before: int) -> None:
        """Deadline handler (T-7, T-1): recorded once per letter and day, so a refired deadline says nothing."""
        case = self.find(TransferCase, case_id)
        if case is not None and case.remind_expiry(
            self.clock.now().date(), days_before, {"actor": "timer:letter-expiry-reminder"}
        ):
            self.save(case)

    def receipt_overdue(self, case_id: UUID) -> None:
        case = self.find(TransferCase, case_id)
        if case is not None and case.escalate_receipt({"actor": "timer:receipt-due"}):
            self.save(case)

    # The registry's answers.

    def answered(
        self, *, case_id: str, command_id: str, outcome: str, reason_code: str | None, details: dict[str, Any]
    ) -> list[Aggregate]:
        """The case (and a letter's book and keys) moved by the registry's answer, for the consumer to store with
        the answer's position; nothing for a case this service does not hold."""
        try:
            case = self.find(TransferCase, UUID(case_id))
        except ValueError:
            case = None
        if case is None:
            return []
        extra: list[Aggregate] = []
        case.answered(
            command_id=command_id,
            outcome=outcome,
            reason_code=reason_code,
            details=details,
            issue=lambda c: self._letter(c, extra, reissue=False),
            meta={"actor": "service:registry"},
        )
        return [case, *extra]

    # Letters.

    def _letter(self, case: TransferCase, extra: list[Aggregate], *, reissue: bool) -> dict[str, Any]:
        """Number, fields and signature of the introduction letter; book and keys join the case's transaction."""
        today = self.clock.now().date()
        fields = case.letter_fields
        committee = str(fields.get("issuer_name") or case.sending_tenant)
        book = self.find(LetterBook, LetterBook.create_id(case.sending_tenant, committee)) or LetterBook(
            tenant_id=case.sending_tenant, committee=committee
        )
        keys = self.find(TenantKeys, TenantKeys.create_id(case.sending_tenant)) or TenantKeys(
            tenant_id=case.sending_tenant
        )
        if keys.current is None:
            keys.rotate(today)
        extra.extend([book, keys])
        return compose_letter(case, book, keys, today, reissue=reissue)

    def keys(self, tenant_id: str) -> TenantKeys | None:
        return self.find(TenantKeys, TenantKeys.create_id(tenant_id))

    def rotate_keys(self, tenant_id: str) -> TenantKeys:
        keys = self.keys(tenant_id) or TenantKeys(tenant_id=tenant_id)
        keys.rotate(self.clock.now().date())
        self.save(keys)
        return keys

    # Graduation batches.

    def import_batch(
        self,
        *,
        batch_id: UUID,
        tenant_id: str,
        title: str,
        rows: list[dict[str, Any]],
        rejected: list[dict[str, Any]],
        default_destination: dict[str, Any] | None,
        cut_off: Any,
        meta: EventMeta,
    ) -> BatchTransfer:
        batch = BatchTransfer(
            id=batch_id,
            tenant_id=tenant_id,
            title=title,
            rows=rows,
            rejected=rejected,
            default_destination=default_destination,
            cut_off=cut_off,
            meta=dict(meta),
        )
        self.save(batch)
        return batch

    def get_batch(self, tenant_id: str, batch_id: UUID) -> BatchTransfer:
        batch = self.find(BatchTransfer, batch_id)
        if batch is None or batch.tenant_id != tenant_id:
            raise CaseNotFound(f"batch {batch_id} not found")
        return batch

    def open_batch_cases(
        self, tenant_id: str, batch_id: UUID, cases: dict[str, str], meta: EventMeta
    ) -> BatchTransfer:
        batch = self.get_batch(tenant_id, batch_id)
        batch.opened(cases, dict(meta))
        self.save(batch)
        return batch

    def open_from_batch(
        self,
        tenant: str,
        case_id: UUID,
        request: dict[str, Any],
        fields: dict[str, Any],
        valid_days: int | None,
        meta: EventMeta,
    ) -> None:
        """A batch row becomes a transfer approved by branch and committee; the saga goes on from the hold.

        The case id follows from batch and member, so an approval retried after a crash picks up where it stopped.
        """
        try:
            state = self.get_case(tenant, case_id).state
        except CaseNotFound:
            self.request(case_id=case_id, meta=meta, **request)
            state = CaseState.Draft
        if state is CaseState.Draft:
            self.approve_branch(tenant, case_id, meta)
            state = CaseState.BranchApproved
        if state is CaseState.BranchApproved:
            self.approve_committee(tenant, case_id, meta, letter_fields=fields, valid_days=valid_days)


def new_case_id() -> UUID:
    return uuid4()
