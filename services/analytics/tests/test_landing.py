"""Landing: exactly once per stream position and per event id, poison parked, order of arrival irrelevant."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest

import analytics.store as store_module
from analytics.contracts import ORGANISATION_FOUNDED
from analytics.store import AnalyticsStore, Incoming, connect
from analytics.synthetic import Feed, Generator, at, year_of_events


def _transfer(
    g: Generator, day: date, steps: list[str], tenant: str = "tenant-aa", to: str = "tenant-bb"
) -> list:
    case = g.uid()
    common = {
        "case_id": case,
        "member_id": g.uid(),
        "sending_tenant": tenant,
        "receiving_tenant": to,
        "sending_org_id": g.uid(),
        "receiving_org_id": g.uid(),
    }
    return [
        g.event("transfer", step, tenant, at(day + timedelta(days=n)), case, state=step, **common)
        for n, step in enumerate(steps)
    ]


def count(store: AnalyticsStore, sql: str) -> int:
    with store.reader() as r:
        row = r.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def test_a_redelivered_message_counts_once(store: AnalyticsStore, gen: Generator, feed: Feed) -> None:
    messages = feed.messages(_transfer(gen, date(2026, 3, 2), ["transfer_requested", "branch_approved"]))
    first = store.land(messages)
    again = store.land(messages)  # the ack was lost: JetStream delivers the same positions again
    assert (first.landed, first.duplicates) == (2, 0)
    assert (again.landed, again.duplicates) == (0, 2)
    assert count(store, "SELECT count(*) FROM events") == 2
    assert count(store, "SELECT count(*) FROM transfer_steps") == 2


def test_a_batch_redelivered_after_a_restart_counts_once_among_new_messages(
    gen: Generator, feed: Feed, tmp_path: Path
) -> None:
    """The store notes the highest tracked position per stream and looks up only positions at or below it: after a
    restart it reads that from the file, so a redelivered batch mixed with new messages still counts once."""
    steps = ["transfer_requested", "branch_approved", "committee_approved", "letter_issued"]
    old = feed.messages(_transfer(gen, date(2026, 3, 2), steps))
    new = feed.messages(_transfer(gen, date(2026, 3, 9), steps[:2]))
    first = AnalyticsStore(tmp_path / "a.duckdb")
    first.land(old)
    first.close()  # a crash after the commit, before the acks
    again = AnalyticsStore(tmp_path / "a.duckdb")
    try:
        result = again.land([new[0], old[2], old[0], new[1], old[3]])
        assert (result.landed, result.duplicates, result.parked) == (2, 3, [])
        assert result.streams["LIANXIN_TRANSFER"].duplicates == 3
        assert count(again, "SELECT count(*) FROM events") == 6
        assert count(again, "SELECT count(*) FROM transfer_steps") == 6
        assert count(again, "SELECT count(*) FROM tracking") == 6
        assert again.land([old[1], new[1]]).duplicates == 2  # and once more, from memory and from the file
    finally:
        again.close()


def test_a_stale_highest_position_costs_a_retry_never_a_duplicate(
    store: AnalyticsStore, gen: Generator, feed: Feed
) -> None:
    messages = feed.messages(_transfer(gen, date(2026, 3, 2), ["transfer_requested", "branch_approved"]))
    store.land(messages)
    store._tracked_to.clear()  # as if the file had been written behind this store's back
    result = store.land(messages)  # the tracking key refuses the batch; one by one, they are found tracked
    assert (result.landed, result.duplicates, result.parked) == (0, 2, [])
    assert count(store, "SELECT count(*) FROM tracking") == 2
    assert count(store, "SELECT count(*) FROM parked") == 0


def test_a_republished_event_at_a_new_position_counts_once(
    store: AnalyticsStore, gen: Generator, feed: Feed
) -> None:
    [event] = _transfer(gen, date(2026, 3, 2), ["transfer_requested"])
    first, second = feed.messages([event, event])  # the relay published it twice, past the duplicate window
    store.land([first])
    result = store.land([second])
    assert (result.landed, result.duplicates) == (0, 1)
    assert count(store, "SELECT count(*) FROM transfer_steps") == 1
    assert count(store, "SELECT count(*) FROM tracking") == 2  # both positions are done


def test_a_poison_message_is_parked_and_the_rest_of_the_batch_lands(
    store: AnalyticsStore, gen: Generator, feed: Feed
) -> None:
    good = feed.messages(_transfer(gen, date(2026, 3, 2), ["transfer_requested", "branch_approved"]))
    poison = Incoming("LIANXIN_TRANSFER", 99, b'{"id": "x", "type": "not an envelope"}')
    result = store.land([good[0], poison, good[1]])
    assert result.landed == 2
    assert [seq for seq, _ in result.parked] == [99]
    assert "malformed CloudEvent" in result.parked[0][1]
    assert store.parked_messages()[0]["stream_seq"] == 99
    assert store.land([poison]).duplicates == 1  # redelivered poison is not parked twice


def test_a_message_that_breaks_a_fact_is_parked_alone(
    store: AnalyticsStore, gen: Generator, feed: Feed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fact SELECT that cannot take one event's data (here: a kind that is not a number).
    monkeypatch.setitem(
        store_module.FACTS,
        "organisations",
        f"""
        SELECT id, tenant, NULL, NULL, CAST(CAST(data->>'$.kind' AS INTEGER) AS VARCHAR), NULL, NULL
        FROM staged WHERE type = '{ORGANISATION_FOUNDED}'""",
    )
    day = date(2026, 3, 2)
    founded = [
        gen.event(
            "registry",
            "organisation_founded",
            "tenant-aa",
            at(day),
            f"o-{kind}",
            organisation_id=f"o-{kind}",
            parent_id=None,
            kind=kind,
        )
        for kind in ("7", "branch", "8")
    ]
    result = store.land(feed.messages(founded))
    assert result.landed == 2
    assert [seq for seq, _ in result.parked] == [2]
    assert "could not be landed" in result.parked[0][1]
    assert count(store, "SELECT count(*) FROM organisations") == 2
    assert count(store, "SELECT count(*) FROM tracking") == 3  # the parked one is done too: not redelivered


def test_late_events_are_modelled_by_event_time(gen: Generator) -> None:
    steps = ["transfer_requested", "branch_approved", "committee_approved", "letter_issued", "letter_expired"]
    events = _transfer(gen, date(2026, 5, 1), steps)
    in_order, shuffled = AnalyticsStore(None), AnalyticsStore(None)
    in_order.land(Feed().messages(events))
    late = list(reversed(events))
    shuffled.land(Feed().messages(late[:2]))
    shuffled.land(Feed().messages(late[2:]))
    query = "SELECT outcome, requested_on, transfer_requested_at, letter_issued_at FROM transfers"
    with in_order.reader() as a, shuffled.reader() as b:
        assert a.execute(query).fetchall() == b.execute(query).fetchall()
        assert a.execute(query).fetchall()[0][:2] == ("letter_expired", date(2026, 5, 1))


def test_batch_size_and_arrival_order_give_the_same_tables() -> None:
    events = list(year_of_events(2, days=8, branches=2, members_per_branch=8))
    feed = Feed()
    messages = feed.messages(events)
    one_by_one, big, shuffled = AnalyticsStore(None), AnalyticsStore(None), AnalyticsStore(None)
    for message in messages:
        one_by_one.land([message])
    big.land(messages)
    mixed = messages[:]
    random.Random(5).shuffle(mixed)
    for start in range(0, len(mixed), 37):
        shuffled.land(mixed[start : start + 37])
    assert one_by_one.digest() == big.digest() == shuffled.digest()
    assert big.digest()["events"]["rows"] == len(events)


def test_a_file_of_the_first_shape_gains_the_new_columns(tmp_path: Path) -> None:
    """An empty notifications table of the first shape is replaced; other tables gain their appended columns."""

    old = tmp_path / "old.duckdb"
    con = connect(old)
    con.execute(
        "CREATE TABLE notifications (event_id VARCHAR PRIMARY KEY, tenant VARCHAR, type VARCHAR, "
        "subject VARCHAR, day DATE, occurred_at TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE mobile_steps (event_id VARCHAR PRIMARY KEY, tenant VARCHAR, registration_id VARCHAR, "
        "member_id VARCHAR, step VARCHAR, kind VARCHAR, home_tenant VARCHAR, home_org_id VARCHAR, "
        "host_tenant VARCHAR, host_org_id VARCHAR, outcome VARCHAR, until_on DATE, day DATE, "
        "occurred_at TIMESTAMP)"
    )
    con.close()
    upgraded = AnalyticsStore(old)
    fresh = AnalyticsStore(tmp_path / "fresh.duckdb")
    try:
        for table in ("notifications", "mobile_steps"):
            shape = "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position"
            with upgraded.reader() as a, fresh.reader() as b:
                assert a.execute(shape, [table]).fetchall() == b.execute(shape, [table]).fetchall()
    finally:
        upgraded.close()
        fresh.close()
