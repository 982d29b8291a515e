"""党费 (DOMAIN.md section 5): the tenant's rate table, and a ledger per member whose facts are events.

The monthly amount is fixed once a year from the rate table; the branch records payments (one month, a quarter,
in advance or in arrears, by proxy for a mobile member) and who recorded them; a wrong payment is voided by a
correction event and recorded again, never edited. What is paid through, and what is in arrears, is computed
from the ledger. Months are "YYYY-MM" strings; amounts are decimal strings in yuan.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.errors import Conflict, Invalid

DUES_NAMESPACE = UUID("5c1f0e2a-8b7d-4a39-9e64-3d2b7f1a0c85")
RATES_NAMESPACE = UUID("a94e3b70-2f6c-4d15-8a07-6e9c1b5d2f43")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CENT = Decimal("0.01")
# Months turn over in Beijing, whatever the server's zone (China keeps no summer time).
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

# 《关于中国共产党党费收缴、使用和管理的规定》 (2008): a share of the monthly after-tax income by bracket
# (an income up to and including `up_to` pays `rate`); retirees by their own brackets; fixed amounts per month
# for students, the unemployed, recipients of 低保 and farmers (0.2 to 1 yuan; the branch may set up to 1).
DEFAULT_RATES: dict[str, Any] = {
    "employed": [
        {"up_to": "3000", "rate": "0.005"},
        {"up_to": "5000", "rate": "0.01"},
        {"up_to": "10000", "rate": "0.015"},
        {"up_to": None, "rate": "0.02"},
    ],
    "retired": [{"up_to": "5000", "rate": "0.005"}, {"up_to": None, "rate": "0.01"}],
    "fixed": {"student": "0.20", "unemployed": "0.20", "subsistence_allowance": "0.20", "farmer": "0.20"},
}
INCOME_KINDS = ("employed", "retired")


class DuesConflict(Conflict):
    type = "dues-conflict"


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def parse_month(value: str, *, field: str = "month") -> tuple[int, int]:
    match = MONTH.match(value)
    if not match:
        raise Invalid(f"{value!r} is not a month (YYYY-MM)", field=field)
    return int(match.group(1)), int(match.group(2))


def add_months(month: str, n: int) -> str:
    year, mon = parse_month(month)
    index = year * 12 + mon - 1 + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_from(first: str, last: str) -> list[str]:
    """Every month from first to last, both included; empty when last is before first."""
    out, month = [], first
    while month <= last:
        out.append(month)
        month = add_months(month, 1)
    return out


def paid_through_of(starts: str, paid: set[str]) -> str | None:
    if starts not in paid:
        return None
    month = starts
    while add_months(month, 1) in paid:
        month = add_months(month, 1)
    return month


SELF_LAPSE_MONTHS = 6  # consecutive months unpaid: the self-lapse rule (党章 art. 9)


def unpaid_months_of(starts: str, paid: Collection[str], today: date) -> list[str]:
    """Months from `starts` that have ended without dues; the current month is not yet owed."""
    return [m for m in months_from(starts, add_months(month_of(today), -1)) if m not in paid]


def longest_unpaid_run_of(starts: str, paid: Collection[str], today: date) -> int:
    """The most consecutive ended months without dues."""
    run = longest = 0
    for month in months_from(starts, add_months(month_of(today), -1)):
        run = 0 if month in paid else run + 1
        longest = max(longest, run)
    return longest


def _decimal(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise Invalid(f"{value!r} is not a number", field=field) from None
    if not number.is_finite() or number < 0:
        raise Invalid("must be a number of at least 0", field=field)
    return number


def validate_rates(table: dict[str, Any]) -> dict[str, Any]:
    """Brackets ascend and end open; rates are shares of at most 5%; fixed amounts 0.01 to 100 yuan a month."""
    unknown = set(table) - set(DEFAULT_RATES)
    if unknown:
        raise Invalid(f"unknown rate groups: {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    merged = {**DEFAULT_RATES, **table}
    for kind in INCOME_KINDS:
        brackets = merged[kind]
        if not isinstance(brackets, list) or not brackets:
            raise Invalid("a list of brackets is needed", field=kind)
        previous = Decimal(-1)
        for i, bracket in enumerate(brackets):
            rate = _decimal(bracket.get("rate"), f"{kind}[{i}].rate")
            if rate > Decimal("0.05"):
                raise Invalid("a rate is a share of income, at most 0.05", field=f"{kind}[{i}].rate")
            up_to = bracket.get("up_to")
            last = i == len(brackets) - 1
            if (up_to is None) != last:
                raise Invalid("only the last bracket is open (up_to null)", field=f"{kind}[{i}].up_to")
            if up_to is not None:
                bound = _decimal(up_to, f"{kind}[{i}].up_to")
                if bound <= previous:
                    raise Invalid("brackets ascend", field=f"{kind}[{i}].up_to")
                previous = bound
    fixed = merged["fixed"]
    if set(fixed) != set(DEFAULT_RATES["fixed"]):
        raise Invalid(f"fixed amounts are given for {', '.join(DEFAULT_RATES['fixed'])}", field="fixed")
    for kind, amount in fixed.items():
        if not Decimal("0.01") <= _decimal(amount, f"fixed.{kind}") <= Decimal("100"):
            raise Invalid("a fixed monthly amount is 0.01 to 100 yuan", field=f"fixed.{kind}")
    return {k: merged[k] for k in DEFAULT_RATES}


def monthly_amount(table: dict[str, Any], income_kind: str, base_income: Decimal | None) -> Decimal:
    """The monthly amount for one member under a rate table, rounded to the fen."""
    if income_kind in table["fixed"]:
        return Decimal(table["fixed"][income_kind]).quantize(CENT)
    if income_kind not in INCOME_KINDS:
        raise Invalid(f"unknown income kind {income_kind!r}", field="income_kind")
    if base_income is None:
        raise Invalid("the monthly after-tax income is needed for this income kind", field="base_income")
    for bracket in table[income_kind]:
        if bracket["up_to"] is None or base_income <= Decimal(bracket["up_to"]):
            return (base_income * Decimal(bracket["rate"])).quantize(CENT, rounding=ROUND_HALF_UP)
    raise Invalid("the rate table has no open bracket", field="income_kind")  # validate_rates prevents this


class DuesRates(Aggregate):
    """A tenant's rate table; it starts as the 2008 rules and each change is an event naming who made it."""

    TOPIC = "lianxin.registry.DuesRates"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.DuesRates.Created"

    class Started(Created):
        TOPIC = "lianxin.registry.DuesRates.Started"
        tenant_id: str

    class Changed(Event):
        TOPIC = "lianxin.registry.DuesRates.Changed"
        table: dict[str, Any]
        by: str
        meta: dict[str, Any]

    @staticmethod
    def create_id(tenant_id: str) -> UUID:
        return uuid5(RATES_NAMESPACE, tenant_id)

    @event(Started)
    def __init__(self, *, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.table: dict[str, Any] = dict(DEFAULT_RATES)

    def change(self, table: dict[str, Any], *, by: str, meta: dict[str, Any]) -> None:
        merged = validate_rates(table)
        if merged != self.table:
            self._changed(table=merged, by=by, meta=meta)

    @event(Changed)
    def _changed(self, table: dict[str, Any], by: str, meta: dict[str, Any]) -> None:
        self.table = table


class DuesAccount(Aggregate):
    """One member's ledger on one roll. An account opened by a transfer carries the months paid at the sender."""

    TOPIC = "lianxin.registry.DuesAccount"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.DuesAccount.Created"

    class Opened(Created):
        TOPIC = "lianxin.registry.DuesAccount.Opened"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        starts: str
        carried_months: list[str]
        carried_from: dict[str, Any]

    class AmountFixed(Event):
        TOPIC = "lianxin.registry.DuesAccount.AmountFixed"
        tenant_id: str
        member_id: UUID
        year: int
        monthly_amount: str
        income_kind: str
        base_income: str | None
        correction_reason: str | None
        by: str

    class OpeningRecorded(Event):
        """Paid before the ledger existed, as the branch's paper records show; once, before any payment."""

        TOPIC = "lianxin.registry.DuesAccount.OpeningRecorded"
        tenant_id: str
        member_id: UUID
        paid_through: str
        basis: str
        by: str

    class PaymentRecorded(Event):
        TOPIC = "lianxin.registry.DuesAccount.PaymentRecorded"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        payment_id: str
        months: dict[str, str]
        amount: str
        mode: str
        by_proxy: bool
        paid_at: str
        received_on: str
        by: str
        paid_through: str | None

    class PaymentCorrected(Event):
        TOPIC = "lianxin.registry.DuesAccount.PaymentCorrected"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        payment_id: str
        months: dict[str, str]
        amount: str
        reason: str
        by: str

    @staticmethod
    def create_id(member_id: UUID) -> UUID:
        return uuid5(DUES_NAMESPACE, str(member_id))

    @event(Opened)
    def __init__(
        self,
        *,
        tenant_id: str,
        member_id: UUID,
        organisation_id: UUID,
        starts: str,
        carried_months: list[str],
        carried_from: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.member_id = member_id
        self.organisation_id = organisation_id
        self.starts = starts
        self.amounts: dict[int, str] = {}
        self.paid: dict[str, str] = {month: "carried" for month in carried_months}
        self.payments: dict[str, dict[str, Any]] = {}
        self.carried_from = dict(carried_from)

    @classmethod
    def open(cls, *, tenant_id: str, member_id: UUID, organisation_id: UUID, starts: date) -> DuesAccount:
        return cls(
            tenant_id=tenant_id,
            member_id=member_id,
            organisation_id=organisation_id,
            starts=month_of(starts),
            carried_months=[],
            carried_from={},
        )

    @classmethod
    def carry(
        cls, leaving: DuesAccount, *, member_id: UUID, organisation_id: UUID, tenant_id: str
    ) -> DuesAccount:
        """The ledger follows a transfer: the receiver sees which months are paid, not the sender's records."""
        return cls(
            tenant_id=tenant_id,
            member_id=member_id,
            organisation_id=organisation_id,
            starts=leaving.starts,
            carried_months=sorted(leaving.paid),
            carried_from={
                "tenant_id": leaving.tenant_id,
                "member_id": str(leaving.member_id),
                "amounts": {str(y): a for y, a in leaving.amounts.items()},
            },
        )

    def _ids(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "member_id": self.member_id}

    # The amount, fixed once a year.

    def amount_for(self, year: int) -> Decimal | None:
        amount = self.amounts.get(year)
        if amount is None and str(year) in self.carried_from.get("amounts", {}):
            amount = self.carried_from["amounts"][str(year)]
        return Decimal(amount) if amount is not None else None

    def fix_amount(
        self,
        *,
        year: int,
        amount: Decimal,
        income_kind: str,
        base_income: Decimal | None,
        by: str,
        correction_reason: str | None,
    ) -> None:
        if year in self.amounts and not (correction_reason or "").strip():
            raise DuesConflict(
                f"the amount for {year} is already fixed; a change needs a correction_reason",
                field="correction_reason",
            )
        self._amount_fixed(
            **self._ids(),
            year=year,
            monthly_amount=str(amount),
            income_kind=income_kind,
            base_income=None if base_income is None else str(base_income),
            correction_reason=correction_reason or None,
            by=by,
        )

    @event(AmountFixed)
    def _amount_fixed(
        self,
        tenant_id: str,
        member_id: UUID,
        year: int,
        monthly_amount: str,
        income_kind: str,
        base_income: str | None,
        correction_reason: str | None,
        by: str,
    ) -> None:
        self.amounts[year] = monthly_amount

    # Payments.

    def record_opening(self, *, paid_through: str, basis: str, by: str) -> None:
        parse_month(paid_through, field="paid_through")
        if self.payments or any(v == "opening" for v in self.paid.values()):
            raise DuesConflict(
                "an opening balance is recorded once, before any payment", field="paid_through"
            )
        if paid_through < self.starts:
            raise Invalid(f"the ledger starts in {self.starts}", field="paid_through")
        if not basis.strip():
            raise Invalid("name the paper record the opening balance comes from", field="basis")
        self._opening(**self._ids(), paid_through=paid_through, basis=basis, by=by)

    @event(OpeningRecorded)
    def _opening(self, tenant_id: str, member_id: UUID, paid_through: str, basis: str, by: str) -> None:
        for month in months_from(self.starts, paid_through):
            self.paid.setdefault(month, "opening")

    def record_payment(
        self,
        *,
        payment_id: str,
        months: list[str],
        amount: Decimal,
        by_proxy: bool,
        paid_at: str,
        received_on: date,
        by: str,
    ) -> None:
        if not months:
            raise Invalid("name at least one month", field="months")
        for month in months:
            parse_month(month, field="months")
        if len(set(months)) != len(months):
            raise Invalid("a month is named twice", field="months")
        months = sorted(months)
        if months[0] < self.starts:
            raise Invalid(f"the ledger starts in {self.starts}", field="months")
        already = [m for m in months if m in self.paid]
        if already:
            raise DuesConflict(f"already paid: {', '.join(already)}", field="months")
        owed: dict[str, str] = {}
        for month in months:
            fixed = self.amount_for(int(month[:4]))
            if fixed is None:
                raise DuesConflict(f"the monthly amount for {month[:4]} is not fixed yet", field="months")
            owed[month] = str(fixed)
        due = sum((Decimal(v) for v in owed.values()), Decimal(0))
        if amount != due:
            raise Invalid(f"the months named come to {due} yuan", field="amount")
        current = month_of(received_on)
        mode = (
            "arrears"
            if months[-1] < current
            else "advance"
            if months[0] > current
            else "quarterly"
            if len(months) == 3
            else "monthly"
            if len(months) == 1
            else "several_months"
        )
        self._payment(
            **self._ids(),
            organisation_id=self.organisation_id,
            payment_id=payment_id,
            months=owed,
            amount=str(due),
            mode=mode,
            by_proxy=by_proxy,
            paid_at=paid_at,
            received_on=received_on.isoformat(),
            by=by,
            paid_through=paid_through_of(self.starts, {*self.paid, *owed}),
        )

    @event(PaymentRecorded)
    def _payment(
        self,
        tenant_id: str,
        member_id: UUID,
        organisation_id: UUID,
        payment_id: str,
        months: dict[str, str],
        amount: str,
        mode: str,
        by_proxy: bool,
        paid_at: str,
        received_on: str,
        by: str,
        paid_through: str | None,
    ) -> None:
        self.payments[payment_id] = {
            "months": months,
            "amount": amount,
            "mode": mode,
            "by_proxy": by_proxy,
            "paid_at": paid_at,
            "received_on": received_on,
            "by": by,
            "voided": None,
        }
        for month in months:
            self.paid[month] = payment_id

    def correct_payment(self, *, payment_id: str, reason: str, by: str) -> None:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise Invalid(f"no payment {payment_id} on this ledger", field="payment_id")
        if payment["voided"]:
            raise DuesConflict("this payment is already corrected", field="payment_id")
        if not reason.strip():
            raise Invalid("a correction says why", field="reason")
        self._corrected(
            **self._ids(),
            organisation_id=self.organisation_id,
            payment_id=payment_id,
            months=payment["months"],
            amount=payment["amount"],
            reason=reason,
            by=by,
        )

    @event(PaymentCorrected)
    def _corrected(
        self,
        tenant_id: str,
        member_id: UUID,
        organisation_id: UUID,
        payment_id: str,
        months: dict[str, str],
        amount: str,
        reason: str,
        by: str,
    ) -> None:
        self.payments[payment_id]["voided"] = reason
        for month in months:
            if self.paid.get(month) == payment_id:
                del self.paid[month]

    # What the ledger says.

    def paid_through(self) -> str | None:
        """党费已交到: the last month of the unbroken run of paid months from the start; None if none is paid."""
        return paid_through_of(self.starts, set(self.paid))

    def unpaid_months(self, today: date) -> list[str]:
        """Months that have ended without dues; the current month is not yet owed."""
        return unpaid_months_of(self.starts, self.paid, today)

    def longest_unpaid_run(self, today: date) -> int:
        return longest_unpaid_run_of(self.starts, self.paid, today)

    def lapse_month(self) -> str:
        """The month at whose start six consecutive months will have ended unpaid (党章 art. 9), if nothing more
        is paid: the dues clock of the self-lapse rule."""
        run, month = 0, self.starts
        while run < SELF_LAPSE_MONTHS:
            run = 0 if month in self.paid else run + 1
            month = add_months(month, 1)
        return month

    def lapse_at(self) -> datetime:
        year, mon = parse_month(self.lapse_month())
        return datetime(year, mon, 1, tzinfo=BEIJING).astimezone(UTC)
