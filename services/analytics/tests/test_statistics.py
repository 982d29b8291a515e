"""Each statistic on the landed quarter, against the counts the scenario was built with."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from analytics.statistics import (
    STATISTICS,
    BadParameter,
    Query,
    Result,
    UnknownStatistic,
    compute,
    parse_group_by,
)
from analytics.store import AnalyticsStore

A, B, STRANGER = "tenant-aa", "tenant-bb", "tenant-cc"
Q1 = (date(2026, 1, 1), date(2026, 3, 31))


def run(
    store: AnalyticsStore,
    name: str,
    tenant: str = A,
    group_by: str | None = None,
    period: tuple[date, date] = Q1,
) -> Result:
    query = Query(tenant, period[0], period[1], parse_group_by(STATISTICS[name], group_by))
    with store.reader() as con:
        return compute(con, name, query)


def only(result: Result) -> dict[str, Any]:
    assert len(result.rows) == 1, result.rows
    return result.rows[0]


def by(result: Result, *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(row[k] for k in keys): row for row in result.rows}


def test_members_are_counted_where_their_relation_is(store: AnalyticsStore, landed_quarter: Any) -> None:
    row = only(run(store, "members"))
    assert row["reference_date"] == date(2026, 3, 31)
    # 9 registered; 4 transferred out; 2 transferred in; p1 regularised; m7 suspended.
    assert (row["total"], row["full_members"], row["probationary"], row["suspended"]) == (6, 5, 1, 1)
    assert (row["registered_in_period"], row["transferred_in"], row["transferred_out"]) == (9, 2, 4)
    assert (row["regularised"], row["suspended_in_period"], row["struck_off"]) == (1, 1, 0)
    # At 31 January only b1's six were on the roll, none transferred yet.
    january = only(run(store, "members", period=(date(2026, 1, 1), date(2026, 1, 31))))
    assert (january["total"], january["probationary"]) == (6, 2)
    monthly = by(run(store, "members", group_by="month"), "month")  # over time: each month's end
    assert [(m, r["total"], r["transferred_out"]) for (m,), r in monthly.items()] == [
        ("2026-01", 6, 0),
        ("2026-02", 7, 4),
        ("2026-03", 6, 0),
    ]
    assert monthly[("2026-02",)]["reference_date"] == date(2026, 2, 28)
    branches = by(run(store, "members", group_by="organisation"), "organisation_id")
    b1, b2 = landed_quarter.id("b1"), landed_quarter.id("b2")
    assert branches[(b1,)]["total"] == 2 and branches[(b2,)]["total"] == 4  # p1, p2 | m5, m6, x1, x2


def test_the_transfer_funnel_durations_and_outcomes(store: AnalyticsStore, landed_quarter: Any) -> None:
    row = only(run(store, "transfers"))
    assert (row["requested"], row["letter_issued"], row["completed"]) == (8, 7, 6)
    assert (row["refused"], row["expired"], row["receipt_overdue"], row["open"]) == (1, 1, 1, 0)
    assert row["p50_days_to_complete"] == 7.0 and row["p90_days_to_complete"] == 7.0
    assert row["suppressed"] is False  # eight cases: big enough, though two are B's
    steps = {d["step"]: d for d in run(store, "transfers").details["step_durations"]}
    assert steps["branch_approved"]["p50_days_from_previous"] == 1.0


def test_small_cells_of_another_tenants_data_are_suppressed(
    store: AnalyticsStore, landed_quarter: Any
) -> None:
    cells = by(run(store, "transfers", group_by="sending_tenant"), "sending_tenant")
    assert cells[(A,)]["requested"] == 6 and cells[(A,)]["suppressed"] is False  # A's own, never suppressed
    assert cells[(B,)]["requested"] is None and cells[(B,)]["suppressed"] is True  # two of B's cases
    flows = by(run(store, "flows"), "kind", "from_tenant", "to_tenant")
    assert flows[("transfer", A, B)]["members"] == 4
    assert flows[("transfer", B, A)] == {
        "kind": "transfer",
        "from_tenant": B,
        "to_tenant": A,
        "members": None,
        "suppressed": True,
    }
    assert flows[("mobile", A, B)]["members"] == 2
    assert flows[("mobile", A, "(off-platform)")]["members"] == 1
    assert run(store, "flows").suppressed_cells == 1


def test_mobile_members_by_reason_and_host(store: AnalyticsStore, landed_quarter: Any) -> None:
    kinds = by(run(store, "mobile-members"), "kind")
    assert kinds[("outflow",)]["registrations"] == 2 and kinds[("abroad",)]["registrations"] == 1
    assert kinds[("outflow",)]["returned"] == 1 and kinds[("outflow",)]["active_at_end"] == 1
    hosts = by(run(store, "mobile-members", group_by="host_tenant"), "host_tenant")
    assert hosts[(B,)]["registrations"] == 2 and hosts[("(off-platform)",)]["registrations"] == 1
    # The host sees the registrations with its branch, but only as a suppressed small cell of A's data.
    seen_by_host = only(run(store, "mobile-members", tenant=B, group_by=""))
    assert seen_by_host["registrations"] is None and seen_by_host["suppressed"] is True


def test_contact_cases_by_cause(store: AnalyticsStore, landed_quarter: Any) -> None:
    causes = by(run(store, "contact"), "cause")
    assert causes[("abroad",)]["at_risk"] == 2
    assert causes[("abroad",)]["lost_contact"] == 1  # p2's lost case takes the cause of its at-risk case
    assert causes[("other",)]["at_risk"] == 1 and causes[("other",)]["closed"] == 1
    total = only(run(store, "contact", group_by=""))
    assert (total["at_risk"], total["lost_contact"], total["closed"], total["members"]) == (3, 1, 1, 3)


def test_cadence_per_branch_per_quarter(store: AnalyticsStore, landed_quarter: Any) -> None:
    cells = by(run(store, "cadence"), "organisation_id", "quarter")
    b1 = cells[(landed_quarter.id("b1"), "2026-Q1")]
    b2 = cells[(landed_quarter.id("b2"), "2026-Q1")]
    assert (b1["branch_assembly"], b1["branch_committee"], b1["party_lecture"], b1["group_meeting"]) == (
        1,
        3,
        1,
        1,
    )
    assert b1["meets_three_meetings_one_lesson"] is True
    assert (b2["meetings_held"], b2["meetings_scheduled"], b2["party_lecture"]) == (1, 2, 0)
    assert b2["meets_three_meetings_one_lesson"] is False
    assert len(cells) == 2  # groups and the committee are not branches
    rolled = only(run(store, "cadence", group_by="quarter"))
    assert rolled == {"quarter": "2026-Q1", "branches": 2, "branches_meeting_cadence": 1, "meetings_held": 7}


def test_learning_participation(store: AnalyticsStore, landed_quarter: Any) -> None:
    row = only(run(store, "learning"))
    assert (row["study_check_ins"], row["members_studying"]) == (5, 3)
    assert (row["meeting_attendances"], row["members_attending"]) == (13, 3)
    march = only(run(store, "learning", period=(date(2026, 3, 1), date(2026, 3, 31))))
    assert (
        march["meeting_attendances"] == 2 * 2 + 0
    )  # b1's March committee and lecture; b2's lecture unattended


def test_another_tenant_sees_nothing(store: AnalyticsStore, landed_quarter: Any) -> None:
    for name, statistic in STATISTICS.items():
        result = run(store, name, tenant=STRANGER, group_by=",".join(statistic.default_group_by))
        numbers = [
            v
            for row in result.rows
            for k, v in row.items()
            if isinstance(v, int) and not isinstance(v, bool) and k != "reference_date"
        ]
        assert all(v == 0 for v in numbers), (name, result.rows)


def test_unknown_statistics_and_bad_parameters_are_refused(store: AnalyticsStore) -> None:
    with pytest.raises(UnknownStatistic), store.reader() as con:
        compute(con, "nope", Query(A, *Q1))
    with pytest.raises(BadParameter) as bad:
        parse_group_by(STATISTICS["transfers"], "sending_tenant,shoe_size")
    assert bad.value.param == "group_by" and "shoe_size" in str(bad.value)
    with pytest.raises(BadParameter) as backwards, store.reader() as con:
        compute(con, "members", Query(A, Q1[1], Q1[0]))
    assert backwards.value.param == "to"


def test_mobile_members_by_host_region_and_province(store: AnalyticsStore, landed_quarter: Any) -> None:
    regions = by(run(store, "mobile-members", group_by="host_region"), "host_region")
    assert {k: r["registrations"] for (k,), r in regions.items()} == {"110105": 1, "310115": 1, None: 1}
    provinces = by(run(store, "mobile-members", group_by="host_province,kind"), "host_province", "kind")
    assert provinces[("110000", "outflow")]["registrations"] == 1
    assert provinces[(None, "abroad")]["registrations"] == 1


def test_learning_counts_completed_quizzes_and_passes(store: AnalyticsStore, landed_quarter: Any) -> None:
    row = only(run(store, "learning"))
    # p1 2/3 (passed), p2 1/3 (failed): 3 right of 6 asked.
    assert (row["quizzes_completed"], row["members_quizzing"], row["quizzes_passed"]) == (2, 2, 1)
    assert row["quiz_score_percent"] == 50.0
    assert only(run(store, "learning", tenant=B))["quizzes_completed"] == 0


def test_notifications_take_their_latest_outcome(store: AnalyticsStore, landed_quarter: Any) -> None:
    channels = by(run(store, "notifications"), "channel")
    assert {k: (r["notifications"], r["delivered"], r["failed"]) for (k,), r in channels.items()} == {
        "email": (1, 1, 0),
        "inbox": (2, 2, 0),
        "webhook": (1, 0, 1),
    }
    assert channels[("email",)]["delivered_after_replay"] == 1
    assert run(store, "notifications", tenant=B).rows == []


def test_members_serve_the_registrys_latest_category_count(
    store: AnalyticsStore, landed_quarter: Any
) -> None:
    cells = {c["category"]: c for c in run(store, "members").details["categories"]}
    assert cells["total"]["label"] == "党员总数"
    assert (cells["female"]["members"], cells["female"]["suppressed"]) == (6, False)  # the later count
    assert cells["age_30_and_under"]["members"] == 0
    assert (cells["occupation_student"]["members"], cells["occupation_student"]["suppressed"]) == (
        None,
        False,
    )
    # no count for another reference date, nor for another tenant
    assert run(store, "members", period=(date(2026, 1, 1), date(2026, 1, 31))).details["categories"] == []
    assert run(store, "members", tenant=B).details["categories"] == []
