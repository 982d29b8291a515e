"""Use cases of the dues ledger (党费): the tenant's rate table, the yearly amount, payments and corrections."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

from registry.application.contact import ContactUseCases
from registry.domain import ActivityCertificate, Member
from registry.domain.dues import DuesAccount, DuesConflict, DuesRates, monthly_amount
from shared.errors import Invalid
from shared.eventstore import rerun_on_clash


class DuesUseCases(ContactUseCases):
    def dues_rates(self, tenant_id: str) -> DuesRates:
        found = self.find(DuesRates, DuesRates.create_id(tenant_id))
        return found if found is not None else DuesRates(tenant_id=tenant_id)

    @rerun_on_clash
    def change_dues_rates(
        self, tenant_id: str, table: dict[str, Any], *, by: str, meta: dict[str, Any]
    ) -> DuesRates:
        rates = self.dues_rates(tenant_id)
        rates.change(table, by=by, meta=meta)
        self.save(rates)
        return rates

    def dues_account(self, member: Member) -> DuesAccount:
        """The member's ledger; it starts in the month the member came on this roll."""
        found = self.find(DuesAccount, DuesAccount.create_id(member.id))
        if found is not None:
            return found
        return DuesAccount.open(
            tenant_id=member.tenant_id,
            member_id=member.id,
            organisation_id=member.organisation_id,
            starts=member.registered_on,
        )

    def member_dues(self, tenant_id: str, member_id: UUID) -> DuesAccount:
        return self.dues_account(self.get_member(tenant_id, member_id))

    @rerun_on_clash
    def fix_dues_amount(
        self,
        tenant_id: str,
        member_id: UUID,
        *,
        year: int,
        income_kind: str,
        base_income: Decimal | None,
        by: str,
        correction_reason: str | None,
    ) -> DuesAccount:
        member = self.get_member(tenant_id, member_id)
        account = self.dues_account(member)
        amount = monthly_amount(self.dues_rates(tenant_id).table, income_kind, base_income)
        account.fix_amount(
            year=year,
            amount=amount,
            income_kind=income_kind,
            base_income=base_income,
            by=by,
            correction_reason=correction_reason,
        )
        self.save(account)
        return account

    def record_dues_opening(
        self, tenant_id: str, member_id: UUID, *, paid_through: str, basis: str, by: str
    ) -> DuesAccount:
        return self._on_ledger(
            tenant_id,
            member_id,
            by,
            lambda account: account.record_opening(paid_through=paid_through, basis=basis, by=by),
        )

    @rerun_on_clash
    def _on_ledger(
        self, tenant_id: str, member_id: UUID, by: str, command: Callable[[DuesAccount], None]
    ) -> DuesAccount:
        """Run a ledger command; the contact status's dues clock moves with it, in the same transaction."""
        member = self.get_member(tenant_id, member_id)
        account = self.dues_account(member)
        command(account)
        status = self.contact_status(member)
        status.dues_clock_moved(account.lapse_at(), by=by)
        self.save(account, status)
        return account

    @rerun_on_clash
    def record_dues_payment(
        self,
        tenant_id: str,
        member_id: UUID,
        *,
        payment_id: str,
        months: list[str],
        amount: Decimal,
        by_proxy: bool,
        paid_at: str,
        by: str,
    ) -> DuesAccount:
        """Paid to the branch of the formal relation, or at the host against an activity certificate in force.

        The payment is also a contact (at-risk clears) and moves the dues clock; it does not move the clock of
        organisational life, which only attending does."""
        member = self.get_member(tenant_id, member_id)
        if not member.on_roll:
            raise DuesConflict("the member is no longer on this roll", field="member_id")
        if paid_at == "host":
            certificate = None
            if member.mobile_registration_id is not None:
                certificate = self.find(
                    ActivityCertificate, ActivityCertificate.id_for(member.mobile_registration_id)
                )
            if certificate is None or not certificate.in_force:
                raise Invalid("paying at the host needs an activity certificate in force", field="paid_at")
        account = self.dues_account(member)
        if payment_id in account.payments:  # a retried request whose first attempt was stored
            return account
        today = self.today()
        account.record_payment(
            payment_id=payment_id,
            months=months,
            amount=amount,
            by_proxy=by_proxy,
            paid_at=paid_at,
            received_on=today,
            by=by,
        )
        status = self.contact_status(member)
        status.record_contact("dues_paid", self.clock.now(), f"user:{by}")
        status.dues_clock_moved(account.lapse_at(), by=by)
        self.save(account, status)
        return account

    def correct_dues_payment(
        self, tenant_id: str, member_id: UUID, *, payment_id: str, reason: str, by: str
    ) -> DuesAccount:
        return self._on_ledger(
            tenant_id,
            member_id,
            by,
            lambda account: account.correct_payment(payment_id=payment_id, reason=reason, by=by),
        )

    def carried_dues(self, leaving: Member, arriving: Member) -> DuesAccount:
        """The ledger follows a transfer: paid months and fixed amounts open the receiver's account."""
        found = self.find(DuesAccount, DuesAccount.create_id(leaving.id))
        if found is None:
            return DuesAccount.open(
                tenant_id=arriving.tenant_id,
                member_id=arriving.id,
                organisation_id=arriving.organisation_id,
                starts=leaving.registered_on,
            )
        return DuesAccount.carry(
            found,
            member_id=arriving.id,
            organisation_id=arriving.organisation_id,
            tenant_id=arriving.tenant_id,
        )

    def probation_ending(self, member_id: UUID) -> None:
        """Deadline handler: a month before the end of probation, the branch is reminded (idempotent)."""
        member = self.find(Member, member_id)
        if member is not None and member.note_probation_ending(self.today()):
            self.save(member)
