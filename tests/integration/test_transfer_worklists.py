"""The transfer work lists and the list of cases read from real PostgreSQL: the states, dates and branches are
chosen in SQL before a page is cut, so an old open case is on the first page of 待办 and 超时 however many newer
cases the tenant has; a branch secretary's organisations decide which cases they see, per side."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from shared.db import create_pool, migrate, system_transaction
from shared.dbsetup import provision
from tests.integration.conftest import Infra
from transfer.readmodels import MIGRATIONS
from transfer.readmodels.queries import Worklist, cases, worklist

pytestmark = pytest.mark.integration
TODAY = date(2026, 11, 23)  # the day the queries are asked on (given to them, as the routes give the clock's)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@dataclass
class Tenants:
    pool: asyncpg.Pool
    sender: str
    other: str
    branch_a: UUID
    branch_b: UUID
    old_draft: UUID
    old_overdue: UUID
    incoming: UUID
    b_draft: UUID
    upcoming: UUID


async def _case(
    conn: asyncpg.Connection,
    *,
    sending: str,
    sending_org: UUID,
    state: str,
    age_days: float,
    receiving: str | None = None,
    receiving_org: UUID | None = None,
    expires_on: date | None = None,
    receipt_due_on: date | None = None,
) -> UUID:
    case_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO transfer_cases (id, sending_tenant, receiving_tenant, member_id, sending_org_id, "
        "receiving_org_id, receiving_org_name, destination, state, expires_on, receipt_due_on, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, '某支部', 'other_tenant', $7, $8, $9, $10)",
        case_id,
        sending,
        receiving,
        uuid.uuid4(),
        sending_org,
        receiving_org,
        state,
        expires_on,
        receipt_due_on,
        NOW - timedelta(days=age_days),
    )
    return case_id


@pytest.fixture(scope="module")
async def tenants(infra: Infra) -> AsyncIterator[Tenants]:
    database = provision(infra.admin_url, prefix=f"lx{uuid.uuid4().hex[:8]}", services=("transfer",))[
        "transfer"
    ]
    await migrate(database.owner_url, "transfer", MIGRATIONS)
    pool = await create_pool(database.app_url)
    sender, other, elsewhere = (f"t-{uuid.uuid4().hex[:8]}" for _ in range(3))
    branch_a, branch_b, other_branch = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    try:
        async with system_transaction(pool) as conn:
            # Old open cases of branch A: a draft (待办) and a letter past its expiry (超时).
            old_draft = await _case(conn, sending=sender, sending_org=branch_a, state="draft", age_days=400)
            old_overdue = await _case(
                conn,
                sending=sender,
                sending_org=branch_a,
                state="letter_issued",
                age_days=300,
                receiving=other,
                receiving_org=other_branch,
                expires_on=TODAY - timedelta(days=5),
            )
            # Many newer cases that are on no work list: completed, refused, cancelled.
            for n in range(12):
                await _case(
                    conn,
                    sending=sender,
                    sending_org=branch_a,
                    state=("completed", "refused", "cancelled")[n % 3],
                    age_days=n / 10,
                )
            # Newer open cases: one the tenant receives into branch A, a draft of branch B, and a receipt due soon.
            incoming = await _case(
                conn,
                sending=other,
                sending_org=other_branch,
                state="received",
                age_days=50,
                receiving=sender,
                receiving_org=branch_a,
            )
            b_draft = await _case(conn, sending=sender, sending_org=branch_b, state="draft", age_days=40)
            upcoming = await _case(
                conn,
                sending=sender,
                sending_org=branch_b,
                state="checked_in",
                age_days=30,
                receiving=other,
                receiving_org=other_branch,
                receipt_due_on=TODAY + timedelta(days=10),
            )
            # Another tenant's draft in a branch with the same id: never this tenant's.
            await _case(conn, sending=elsewhere, sending_org=branch_a, state="draft", age_days=1)
        yield Tenants(
            pool, sender, other, branch_a, branch_b, old_draft, old_overdue, incoming, b_draft, upcoming
        )
    finally:
        await pool.close()


async def test_an_old_open_case_is_on_the_first_small_page_of_todo_and_overdue(tenants: Tenants) -> None:
    pool, tenant = tenants.pool, tenants.sender
    # The newest three cases of the tenant are closed: the old draft is nowhere near the first page of them all.
    newest = await cases(pool, tenant, limit=3)
    assert len(newest) == 3 and {c.state for c in newest} <= {"completed", "refused", "cancelled"}

    todo = await worklist(pool, tenant, "todo", today=TODAY, limit=3)
    assert [c.id for c in todo] == [tenants.b_draft, tenants.incoming, tenants.old_draft]
    assert [c.side for c in todo] == ["sender", "receiver", "sender"]
    overdue = await worklist(pool, tenant, "overdue", today=TODAY, limit=2)
    assert [c.id for c in overdue] == [tenants.old_overdue]
    # The letter past its expiry waits for the sender's counterpart, not for the sender: 未办结 there.
    pending = await worklist(pool, tenant, "pending", today=TODAY, limit=2)
    assert [c.id for c in pending] == [tenants.upcoming, tenants.old_overdue]


async def test_pages_follow_one_another_with_before_and_miss_no_case(tenants: Tenants) -> None:
    pool, tenant = tenants.pool, tenants.sender
    seen: list[UUID] = []
    before = None
    while page := await cases(pool, tenant, before=before, limit=4):
        seen += [c.id for c in page]
        before = page[-1].id
    assert len(seen) == len(set(seen)) == 17  # the tenant's 12 closed and 5 open cases, each once
    assert seen[-1] == tenants.old_draft
    todo_pages = [
        [c.id for c in await worklist(pool, tenant, "todo", today=TODAY, limit=2)],
        [c.id for c in await worklist(pool, tenant, "todo", today=TODAY, limit=2, before=tenants.incoming)],
    ]
    assert todo_pages == [[tenants.b_draft, tenants.incoming], [tenants.old_draft]]


async def test_upcoming_is_the_cases_whose_date_falls_within_the_days_asked(tenants: Tenants) -> None:
    pool, tenant = tenants.pool, tenants.sender
    assert [c.id for c in await worklist(pool, tenant, "upcoming", today=TODAY, days=10)] == [
        tenants.upcoming
    ]
    assert await worklist(pool, tenant, "upcoming", today=TODAY, days=9) == []
    # Eleven days on, the receipt is overdue and the letter still is.
    later = TODAY + timedelta(days=11)
    assert [c.id for c in await worklist(pool, tenant, "overdue", today=later)] == [
        tenants.upcoming,
        tenants.old_overdue,
    ]


async def test_a_branch_secretary_sees_the_cases_of_their_branches_on_each_side(tenants: Tenants) -> None:
    pool, tenant = tenants.pool, tenants.sender
    a = [str(tenants.branch_a)]
    todo_a = await worklist(pool, tenant, "todo", today=TODAY, organisations=a)
    assert [c.id for c in todo_a] == [tenants.incoming, tenants.old_draft]
    todo_b = await worklist(pool, tenant, "todo", today=TODAY, organisations=[str(tenants.branch_b)])
    assert [c.id for c in todo_b] == [tenants.b_draft]
    assert await worklist(pool, tenant, "todo", today=TODAY, organisations=[]) == []
    assert [c.id for c in await cases(pool, tenant, state="draft", organisations=a)] == [tenants.old_draft]
    # The incoming case's sending branch is the other tenant's business, not a way into it here.
    incoming = await cases(pool, tenant, side="receiver")
    assert [c.id for c in incoming] == [tenants.incoming]
    assert await cases(pool, tenant, organisations=[str(incoming[0].sending_org_id)]) == []


async def test_the_other_party_sees_the_shared_cases_only_and_on_its_own_side(tenants: Tenants) -> None:
    pool, other = tenants.pool, tenants.other
    shared = await cases(pool, other)
    assert {c.id for c in shared} == {tenants.incoming, tenants.old_overdue, tenants.upcoming}
    # For the receiver the letter past its expiry is 待办 (accept it) and the received case is its own to chase.
    assert [c.id for c in await worklist(pool, other, "todo", today=TODAY)] == [
        tenants.upcoming,
        tenants.old_overdue,
    ]
    assert [c.id for c in await worklist(pool, other, "pending", today=TODAY)] == [tenants.incoming]


async def test_a_transfer_between_two_branches_of_the_tenant_is_on_both_branches_lists(
    tenants: Tenants,
) -> None:
    pool, tenant = tenants.pool, f"t-{uuid.uuid4().hex[:8]}"
    out_branch, in_branch = uuid.uuid4(), uuid.uuid4()
    async with system_transaction(pool) as conn:
        waiting = await _case(
            conn,
            sending=tenant,
            sending_org=out_branch,
            state="letter_issued",
            age_days=2,
            receiving=tenant,
            receiving_org=in_branch,
            expires_on=TODAY + timedelta(days=30),
        )
        draft = await _case(
            conn,
            sending=tenant,
            sending_org=out_branch,
            state="draft",
            age_days=1,
            receiving=tenant,
            receiving_org=in_branch,
        )
    sending, receiving = [str(out_branch)], [str(in_branch)]
    # The committee accepts the letter: for the receiving branch's secretary it waits for another (未办结), not
    # for them (待办); they see both cases.
    assert await worklist(pool, tenant, "todo", today=TODAY, organisations=receiving) == []
    assert [c.id for c in await worklist(pool, tenant, "pending", today=TODAY, organisations=receiving)] == [
        waiting
    ]
    seen = await cases(pool, tenant, organisations=receiving)
    assert [(c.id, c.side) for c in seen] == [(draft, "receiver"), (waiting, "receiver")]
    assert [c.id for c in await cases(pool, tenant, side="receiver", organisations=receiving)] == [
        draft,
        waiting,
    ]
    assert await cases(pool, tenant, side="sender", organisations=receiving) == []
    # The sending branch's secretary approves the draft and waits for the other branch on the letter.
    assert [c.id for c in await worklist(pool, tenant, "todo", today=TODAY, organisations=sending)] == [draft]
    assert [c.id for c in await worklist(pool, tenant, "pending", today=TODAY, organisations=sending)] == [
        waiting
    ]
    # The committee is both sides: each case once, on both of its lists where each side has a step.
    whole = await cases(pool, tenant)
    assert [(c.id, c.side) for c in whole] == [(draft, "both"), (waiting, "both")]
    assert [c.id for c in await worklist(pool, tenant, "todo", today=TODAY)] == [draft, waiting]
    assert [c.id for c in await worklist(pool, tenant, "pending", today=TODAY)] == [waiting]
    assert [c.id for c in await cases(pool, tenant, side="sender")] == [draft, waiting]


async def test_the_committees_steps_are_todo_for_the_committee_and_pending_for_the_branches(
    tenants: Tenants,
) -> None:
    """Approving for the committee, accepting a letter and returning the receipt are the committee's alone: a branch
    secretary cannot do them, so they wait on the branch's 未办结, not on its 待办."""
    pool, tenant = tenants.pool, f"t-{uuid.uuid4().hex[:8]}"
    out_branch, in_branch = uuid.uuid4(), uuid.uuid4()
    async with system_transaction(pool) as conn:
        ids = {
            state: await _case(
                conn,
                sending=tenant,
                sending_org=out_branch,
                state=state,
                age_days=age,
                receiving=tenant,
                receiving_org=in_branch,
                expires_on=TODAY + timedelta(days=30),
                receipt_due_on=TODAY + timedelta(days=30),
            )
            for age, state in enumerate(
                ("branch_approved", "letter_issued", "received", "checked_in"), start=1
            )
        }

    async def listed(which: Worklist, organisations: list[str] | None) -> set[str]:
        rows = await worklist(pool, tenant, which, today=TODAY, organisations=organisations)
        return {state for state, id_ in ids.items() if id_ in {r.id for r in rows}}

    assert await listed("todo", None) == set(ids)
    assert await listed("todo", [str(out_branch)]) == set()
    assert await listed("pending", [str(out_branch)]) == set(ids)
    assert await listed("todo", [str(in_branch)]) == {"received"}
    assert await listed("pending", [str(in_branch)]) == {"letter_issued", "checked_in"}
