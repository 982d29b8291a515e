"""The dues ledger (党费): rates, the yearly amount, payments and corrections, paid-through, the six-month rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from registry.application import RegistryApplication
from registry.domain import ContactState, ContactStatus, Member, MemberCategory, OrgKind
from registry.domain.dues import DEFAULT_RATES, DuesAccount, DuesConflict, DuesRates, monthly_amount
from registry.outbound import outbound
from shared.clock import SettableClock
from shared.errors import Invalid
from shared.meta import event_meta

# 10:00 in Beijing on 15 January 2026.
START = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)


def account(starts: date = date(2026, 1, 1), amount: str = "15.00") -> DuesAccount:
    a = DuesAccount.open(tenant_id="t", member_id=uuid4(), organisation_id=uuid4(), starts=starts)
    a.fix_amount(
        year=starts.year,
        amount=Decimal(amount),
        income_kind="employed",
        base_income=Decimal("3000"),
        by="secretary-1",
        correction_reason=None,
    )
    return a


def pay(a: DuesAccount, *months: str, amount: str, on: date = date(2026, 3, 10)) -> str:
    payment_id = uuid4().hex[:16]
    a.record_payment(
        payment_id=payment_id,
        months=list(months),
        amount=Decimal(amount),
        by_proxy=False,
        paid_at="home",
        received_on=on,
        by="secretary-1",
    )
    return payment_id


@pytest.mark.parametrize(
    ("kind", "income", "expected"),
    [
        ("employed", "3000", "15.00"),
        ("employed", "3000.01", "30.00"),
        ("employed", "5000", "50.00"),
        ("employed", "5001", "75.02"),
        ("employed", "10000", "150.00"),
        ("employed", "10001", "200.02"),
        ("retired", "5000", "25.00"),
        ("retired", "5001", "50.01"),
        ("student", None, "0.20"),
        ("farmer", None, "0.20"),
    ],
)
def test_the_2008_rates_at_their_bracket_edges(kind: str, income: str | None, expected: str) -> None:
    assert monthly_amount(DEFAULT_RATES, kind, Decimal(income) if income else None) == Decimal(expected)


def test_an_income_kind_needs_the_income() -> None:
    with pytest.raises(Invalid) as refused:
        monthly_amount(DEFAULT_RATES, "employed", None)
    assert refused.value.extensions["field"] == "base_income"


def test_a_tenant_rate_table_must_ascend_end_open_and_stay_below_five_percent() -> None:
    rates = DuesRates(tenant_id="t")
    with pytest.raises(Invalid, match="ascend"):
        rates.change(
            {
                "employed": [
                    {"up_to": "5000", "rate": "0.01"},
                    {"up_to": "3000", "rate": "0.01"},
                    {"up_to": None, "rate": "0.02"},
                ]
            },
            by="admin",
            meta={},
        )
    with pytest.raises(Invalid, match="open"):
        rates.change({"retired": [{"up_to": "5000", "rate": "0.005"}]}, by="admin", meta={})
    with pytest.raises(Invalid, match=r"0\.05"):
        rates.change({"retired": [{"up_to": None, "rate": "0.06"}]}, by="admin", meta={})
    rates.change({"fixed": {**DEFAULT_RATES["fixed"], "farmer": "1.00"}}, by="admin", meta={})
    assert monthly_amount(rates.table, "farmer", None) == Decimal("1.00")
    assert rates.table["employed"] == DEFAULT_RATES["employed"]


def test_the_amount_is_fixed_once_a_year_and_changed_only_by_a_correction_with_a_reason() -> None:
    a = account()
    with pytest.raises(DuesConflict):
        a.fix_amount(
            year=2026,
            amount=Decimal("30.00"),
            income_kind="employed",
            base_income=Decimal("4000"),
            by="secretary-1",
            correction_reason=None,
        )
    a.fix_amount(
        year=2026,
        amount=Decimal("30.00"),
        income_kind="employed",
        base_income=Decimal("4000"),
        by="secretary-2",
        correction_reason="收入核定有误",
    )
    assert a.amount_for(2026) == Decimal("30.00")
    fixes = [e for e in a.collect_events() if isinstance(e, DuesAccount.AmountFixed)]
    assert [f.by for f in fixes] == ["secretary-1", "secretary-2"], "both stay in the ledger"


def test_payments_monthly_quarterly_in_arrears_and_in_advance() -> None:
    a = account()
    pay(a, "2026-01", "2026-02", amount="30.00")
    pay(a, "2026-03", amount="15.00")
    pay(a, "2026-04", "2026-05", "2026-06", amount="45.00")
    pay(a, "2026-07", "2026-08", "2026-09", "2026-10", amount="60.00")
    assert [p["mode"] for p in a.payments.values()] == ["arrears", "monthly", "advance", "advance"]
    assert a.paid_through() == "2026-10"


def test_a_payment_must_match_the_fixed_amounts_and_pay_each_month_once() -> None:
    a = account()
    with pytest.raises(Invalid) as wrong:
        pay(a, "2026-01", amount="10.00")
    assert wrong.value.extensions["field"] == "amount"
    pay(a, "2026-01", amount="15.00")
    with pytest.raises(DuesConflict, match="already paid"):
        pay(a, "2026-01", "2026-02", amount="30.00")
    with pytest.raises(DuesConflict, match="not fixed"):
        pay(a, "2027-01", amount="15.00")
    with pytest.raises(Invalid):
        pay(a, "2025-12", amount="15.00")


def test_a_correction_voids_a_payment_as_a_new_event_and_the_months_are_unpaid_again() -> None:
    a = account()
    pay(a, "2026-01", amount="15.00")
    wrong = pay(a, "2026-02", "2026-03", amount="30.00")
    a.correct_payment(payment_id=wrong, reason="录入错误：应为他人缴纳", by="secretary-2")
    assert a.paid_through() == "2026-01"
    assert a.payments[wrong]["voided"] == "录入错误：应为他人缴纳", "the payment stays, voided"
    with pytest.raises(DuesConflict):
        a.correct_payment(payment_id=wrong, reason="again", by="secretary-2")
    pay(a, "2026-02", amount="15.00")
    assert a.paid_through() == "2026-02"


def test_the_sixth_month_unpaid_completes_the_dues_clock() -> None:
    a = account()
    pay(a, "2026-01", amount="15.00")
    # February to July unpaid: the sixth unpaid month ends with July, so the clock runs out on 1 August.
    assert a.lapse_month() == "2026-08"
    assert a.longest_unpaid_run(date(2026, 7, 31)) == 5
    assert a.longest_unpaid_run(date(2026, 8, 1)) == 6
    assert a.lapse_at() == datetime(2026, 7, 31, 16, 0, tzinfo=UTC), "midnight in Beijing"
    pay(a, "2026-02", amount="15.00", on=date(2026, 7, 20))
    assert a.lapse_month() == "2026-09", "paying in arrears moves the clock"


def test_a_transfer_carries_the_paid_months_and_the_amounts() -> None:
    a = account()
    pay(a, "2026-01", "2026-02", "2026-03", amount="45.00")
    carried = DuesAccount.carry(a, member_id=uuid4(), organisation_id=uuid4(), tenant_id="receiver")
    assert carried.paid_through() == "2026-03" and carried.tenant_id == "receiver"
    carried.record_payment(
        payment_id="p",
        months=["2026-04"],
        amount=Decimal("15.00"),
        by_proxy=True,
        paid_at="home",
        received_on=date(2026, 4, 3),
        by="receiver-secretary",
    )
    assert carried.paid_through() == "2026-04"
    assert carried.carried_from["tenant_id"] == "t"


# The use cases: payments and the contact clocks together.


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def app(clock: SettableClock) -> RegistryApplication:
    return RegistryApplication(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock, platform_secret="test-secret"
    )


def member(app: RegistryApplication, tenant: str) -> tuple[object, object]:
    root = app.found_organisation(
        tenant_id=tenant,
        code="ROOT",
        name="党委",
        kind=OrgKind.PrimaryCommittee,
        parent_id=None,
        meta=event_meta("admin"),
    )
    branch = app.found_organisation(
        tenant_id=tenant,
        code="B1",
        name="第一支部",
        kind=OrgKind.Branch,
        parent_id=root.id,
        meta=event_meta("admin"),
    )
    m = app.register_member(
        member_id=uuid4(),
        tenant_id=tenant,
        organisation_id=branch.id,
        category=MemberCategory.Full,
        profile={"name": "王芳"},
        meta=event_meta("secretary-1"),
    )
    return branch, m


def test_a_dues_payment_does_not_reset_the_org_life_clock(
    app: RegistryApplication, clock: SettableClock
) -> None:
    _, m = member(app, "t-dues")
    app.fix_dues_amount(
        "t-dues",
        m.id,
        year=2026,
        income_kind="employed",
        base_income=Decimal("4000"),
        by="secretary-1",
        correction_reason=None,
    )
    clock.advance(timedelta(days=150))
    app.record_dues_payment(
        "t-dues",
        m.id,
        payment_id="p1",
        months=[f"2026-{i:02d}" for i in range(1, 13)],
        amount=Decimal("480.00"),
        by_proxy=False,
        paid_at="home",
        by="secretary-1",
    )
    status = app.contact_status(app.get_member("t-dues", m.id))
    assert status.last_org_life_at == START, "only attending moves the clock of organisational life"
    clock.advance(timedelta(days=32))
    app.contact_timer(m.id, "self_lapse")
    status = app.contact_status(app.get_member("t-dues", m.id))
    assert status.state is ContactState.SelfLapseReview
    opened = [e for e in app.events.get(status.id) if type(e).__name__ == "SelfLapseReviewOpened"]
    assert opened[-1].ground == "org_life"
    published = outbound(opened[-1])
    assert published is not None and published[1].ground == "org_life"  # type: ignore[attr-defined]


def test_six_unpaid_months_open_a_review_on_the_dues_clock(
    app: RegistryApplication, clock: SettableClock
) -> None:
    _, m = member(app, "t-dues")
    app.fix_dues_amount(
        "t-dues",
        m.id,
        year=2026,
        income_kind="student",
        base_income=None,
        by="secretary-1",
        correction_reason=None,
    )
    app.record_dues_payment(
        "t-dues",
        m.id,
        payment_id="p1",
        months=["2026-01"],
        amount=Decimal("0.20"),
        by_proxy=True,
        paid_at="home",
        by="secretary-1",
    )
    app.record_contact(
        m.id, kind="meeting_attended", at=START + timedelta(days=180), source="learning", tenant_id="t-dues"
    )
    # 31 July 2026, 23:59 in Beijing: five months unpaid.
    clock.advance(datetime(2026, 7, 31, 15, 59, tzinfo=UTC) - START)
    app.contact_timer(m.id, "self_lapse_dues")
    assert app.contact_status(app.get_member("t-dues", m.id)).state is ContactState.Normal
    clock.advance(timedelta(minutes=1))
    app.contact_timer(m.id, "self_lapse_dues")
    status = app.contact_status(app.get_member("t-dues", m.id))
    assert status.state is ContactState.SelfLapseReview
    assert [e for e in app.events.get(status.id)][-1].ground == "dues"


def test_a_payment_at_the_host_needs_an_activity_certificate(app: RegistryApplication) -> None:
    _, m = member(app, "t-dues")
    app.fix_dues_amount(
        "t-dues",
        m.id,
        year=2026,
        income_kind="student",
        base_income=None,
        by="secretary-1",
        correction_reason=None,
    )
    with pytest.raises(Invalid) as refused:
        app.record_dues_payment(
            "t-dues",
            m.id,
            payment_id="p1",
            months=["2026-01"],
            amount=Decimal("0.20"),
            by_proxy=False,
            paid_at="host",
            by="secretary-1",
        )
    assert refused.value.extensions["field"] == "paid_at"


def test_a_payment_is_published_with_who_recorded_it_and_the_paid_through(app: RegistryApplication) -> None:
    _, m = member(app, "t-dues")
    app.fix_dues_amount(
        "t-dues",
        m.id,
        year=2026,
        income_kind="student",
        base_income=None,
        by="secretary-1",
        correction_reason=None,
    )
    account = app.record_dues_payment(
        "t-dues",
        m.id,
        payment_id="p1",
        months=["2026-01", "2026-02"],
        amount=Decimal("0.40"),
        by_proxy=True,
        paid_at="home",
        by="secretary-9",
    )
    recorded = [e for e in app.events.get(account.id) if isinstance(e, DuesAccount.PaymentRecorded)][-1]
    published = outbound(recorded)
    assert published is not None
    tenant, contract = published
    assert tenant == "t-dues" and contract.TYPE == "cn.lianxin.registry.dues_payment_recorded.v1"
    assert contract.recorded_by == "secretary-9" and contract.paid_through == "2026-02"  # type: ignore[attr-defined]


def test_a_retried_payment_is_recorded_once(app: RegistryApplication) -> None:
    _, m = member(app, "t-dues")
    app.fix_dues_amount(
        "t-dues",
        m.id,
        year=2026,
        income_kind="student",
        base_income=None,
        by="secretary-1",
        correction_reason=None,
    )
    for _ in range(2):
        account = app.record_dues_payment(
            "t-dues",
            m.id,
            payment_id="same",
            months=["2026-01"],
            amount=Decimal("0.20"),
            by_proxy=False,
            paid_at="home",
            by="secretary-1",
        )
    assert list(account.payments) == ["same"]


def test_registering_a_member_starts_its_dues_clock_without_reading_a_ledger(
    app: RegistryApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new member's ledger cannot be stored yet: registration opens it in memory (one read less in the
    save's transaction) and the contact status's dues clock is the one the ledger gives once it exists."""
    looked_for: list[type] = []
    find = app.find

    def recording_find(cls: type, aggregate_id: object) -> object:
        looked_for.append(cls)
        return find(cls, aggregate_id)  # type: ignore[arg-type]

    monkeypatch.setattr(app, "find", recording_find)
    _, m = member(app, "t-dues-open")
    assert DuesAccount not in looked_for
    assert isinstance(m, Member)
    status = app.find(ContactStatus, ContactStatus.create_id(m.id))
    assert status is not None
    assert status.dues_lapse_at == app.dues_account(m).lapse_at()
    # One event: `Opened` carries the clock (a `DuesClockMoved` used to follow it in the same save).
    opened = list(app.events.get(status.id))
    assert [type(e) for e in opened] == [ContactStatus.Opened]
    assert opened[0].dues_lapse_at == status.dues_lapse_at


def test_an_opened_contact_status_stored_before_it_carried_the_dues_clock_still_opens_without_one() -> None:
    status = ContactStatus(tenant_id="t", member_id=uuid4(), organisation_id=uuid4(), since=START)
    (opened,) = status.collect_events()
    stored_before = object.__new__(ContactStatus.Opened)
    stored_before.__dict__.update({k: v for k, v in opened.__dict__.items() if k != "dues_lapse_at"})
    assert stored_before.dues_lapse_at is None
    reopened = stored_before.mutate(None)
    assert isinstance(reopened, ContactStatus)
    assert reopened.dues_lapse_at is None
    assert reopened.last_contact_at == START
