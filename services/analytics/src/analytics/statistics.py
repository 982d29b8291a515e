"""The statistics: SQL over the fact tables, one tenant at a time, small cells from other tenants suppressed.

Each statistic sees only rows its tenant is party to (the tenant of the event, or the sending, receiving, home
or host tenant named in it). A cell that counts rows coming from another tenant's events (a transfer sent to
you, a member of another tenant registered with your branch) is suppressed when its count is 1 to 4, so a small
branch elsewhere cannot be singled out; cells of your own data are never suppressed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

from analytics.contracts import CADENCE_PER_QUARTER, CATEGORY_CELLS, TRANSFER_FUNNEL
from analytics.store.schema import transfer_cases

SUPPRESS_BELOW = 5
PARTY = "sending_tenant = $tenant OR receiving_tenant = $tenant"  # the transfers a tenant is party to


class UnknownStatistic(LookupError):
    pass


class BadParameter(ValueError):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Query:
    tenant: str
    start: date
    end: date  # inclusive: the reference date (31 December for the annual report)
    group_by: tuple[str, ...] = ()


@dataclass
class Result:
    statistic: str
    columns: list[str]
    rows: list[dict[str, Any]]
    suppressed_cells: int = 0
    notes: list[str] = field(default_factory=list)
    details: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Statistic:
    name: str
    description: str
    dimensions: dict[str, str]  # group_by name -> SQL expression over the statistic's base rows
    default_group_by: tuple[str, ...]
    run: Callable[[duckdb.DuckDBPyConnection, Query, Sequence[str]], Result]
    notes: tuple[str, ...] = ()


def _select_dims(dims: dict[str, str], chosen: Sequence[str]) -> tuple[str, str, str]:
    if not chosen:
        return "", "", ""
    select = ", ".join(f"{dims[d]} AS {d}" for d in chosen) + ", "
    group = "GROUP BY " + ", ".join(dims[d] for d in chosen)
    order = "ORDER BY " + ", ".join(f"{d} NULLS LAST" for d in chosen)
    return select, group, order


def _rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]
) -> tuple[list[str], list[dict[str, Any]]]:
    cursor = con.execute(sql, params)
    columns = [d[0] for d in cursor.description or []]
    return columns, [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _suppress(
    columns: list[str], rows: list[dict[str, Any]], count_column: str, dims: Sequence[str]
) -> tuple[list[str], list[dict[str, Any]], int]:
    """`_foreign` marks a cell holding another tenant's rows; its measures go when the count is 1..4."""
    suppressed = 0
    for row in rows:
        foreign = bool(row.pop("_foreign", False))
        count = row.get(count_column) or 0
        hide = foreign and 0 < count < SUPPRESS_BELOW
        if hide:
            suppressed += 1
            for column in columns:
                if column not in dims and column != "_foreign":
                    row[column] = None
        row["suppressed"] = hide
    return [c for c in columns if c != "_foreign"] + ["suppressed"], rows, suppressed


def _round(rows: list[dict[str, Any]], *columns: str) -> None:
    for row in rows:
        for column in columns:
            if isinstance(row.get(column), float):
                row[column] = round(row[column], 1)


# ---- mobile-members -------------------------------------------------------------------------------------------

MOBILE_BASE = """
WITH reg AS (
  SELECT registration_id,
         any_value(member_id) AS member_id,
         max(kind) AS kind,
         max(home_tenant) AS home_tenant, max(home_org_id) AS home_org_id,
         max(host_tenant) AS host_tenant, max(host_org_id) AS host_org_id,
         max(host_region) AS host_region,
         min(day) FILTER (WHERE step = 'outflow_registered') AS left_on,
         min(day) FILTER (WHERE step = 'inflow_registered') AS inflow_on,
         min(day) FILTER (WHERE step = 'mobility_ended') AS ended_on,
         arg_min(outcome, day) FILTER (WHERE step = 'mobility_ended') AS outcome
  FROM mobile_steps GROUP BY registration_id),
base AS (
  SELECT *, coalesce(left_on, inflow_on) AS since FROM reg
  WHERE (home_tenant = $tenant OR host_tenant = $tenant)
    AND coalesce(left_on, inflow_on) <= $end AND (ended_on IS NULL OR ended_on >= $start))
"""


def mobile_members(con: duckdb.DuckDBPyConnection, q: Query, group_by: Sequence[str]) -> Result:
    select, group, order = _select_dims(MOBILE.dimensions, group_by)
    sql = (
        MOBILE_BASE
        + f"""
    SELECT {select}
      count(*) AS registrations,
      count(*) FILTER (WHERE since >= $start) AS new_in_period,
      count(*) FILTER (WHERE inflow_on IS NOT NULL AND inflow_on <= $end) AS enrolled_at_host,
      count(*) FILTER (WHERE ended_on IS NULL OR ended_on > $end) AS active_at_end,
      count(*) FILTER (WHERE ended_on <= $end AND outcome = 'returned') AS returned,
      count(*) FILTER (WHERE ended_on <= $end AND outcome = 'converted_to_transfer') AS converted_to_transfer,
      median(date_diff('day', since, least(coalesce(ended_on, $end), $end)))::DOUBLE AS median_days_away,
      bool_or(home_tenant IS DISTINCT FROM $tenant) AS _foreign
    FROM base {group} {order}"""
    )
    columns, rows = _rows(con, sql, _named(q))
    _round(rows, "median_days_away")
    columns, rows, hidden = _suppress(columns, rows, "registrations", group_by)
    return Result("mobile-members", columns, rows, hidden, list(MOBILE.notes))


def _named(q: Query) -> dict[str, Any]:
    return {"tenant": q.tenant, "start": q.start, "end": q.end}


# ---- flows ----------------------------------------------------------------------------------------------------

FLOWS_BASE = f"""
WITH moves AS (
  SELECT 'transfer' AS kind, sending_tenant AS from_tenant, coalesce(receiving_tenant, '(off-platform)') AS to_tenant,
         sending_org_id AS from_org, receiving_org_id AS to_org, CAST(outcome_at + INTERVAL 8 HOUR AS DATE) AS day
  FROM ({transfer_cases(PARTY)}) WHERE outcome = 'transfer_completed'
  UNION ALL
  SELECT 'mobile', home_tenant, coalesce(host_tenant, '(off-platform)'), home_org_id, host_org_id, day
  FROM mobile_steps WHERE step = 'outflow_registered'),
base AS (
  SELECT * FROM moves WHERE (from_tenant = $tenant OR to_tenant = $tenant) AND day BETWEEN $start AND $end)
"""


def flows(con: duckdb.DuckDBPyConnection, q: Query, group_by: Sequence[str]) -> Result:
    chosen = [
        "kind",
        "from_tenant",
        "to_tenant",
        *[d for d in group_by if d not in ("kind", "from_tenant", "to_tenant")],
    ]
    select, group, order = _select_dims(FLOWS.dimensions, chosen)
    sql = (
        FLOWS_BASE
        + f"""
    SELECT {select} count(*) AS members, bool_or(from_tenant IS DISTINCT FROM $tenant) AS _foreign
    FROM base {group} {order}"""
    )
    columns, rows = _rows(con, sql, _named(q))
    columns, rows, hidden = _suppress(columns, rows, "members", chosen)
    return Result("flows", columns, rows, hidden, list(FLOWS.notes))


# ---- transfers ------------------------------------------------------------------------------------------------

TRANSFERS_BASE = f"""
WITH base AS (
  SELECT *, date_diff('hour', transfer_requested_at, outcome_at) / 24.0 AS days_to_outcome
  FROM ({transfer_cases(PARTY)})
  WHERE requested_on BETWEEN $start AND $end)
"""


def transfers(con: duckdb.DuckDBPyConnection, q: Query, group_by: Sequence[str]) -> Result:
    select, group, order = _select_dims(TRANSFERS.dimensions, group_by)
    funnel = ",\n      ".join(f"count({s}_at) AS {s.removeprefix('transfer_')}" for s in TRANSFER_FUNNEL)
    completed = "outcome = 'transfer_completed'"
    sql = (
        TRANSFERS_BASE
        + f"""
    SELECT {select}
      {funnel},
      count(*) FILTER (WHERE outcome = 'transfer_refused') AS refused,
      count(*) FILTER (WHERE outcome = 'letter_expired') AS expired,
      count(*) FILTER (WHERE outcome = 'transfer_returned') AS returned,
      count(*) FILTER (WHERE outcome IN ('transfer_cancelled', 'letter_voided')) AS cancelled_or_voided,
      count(*) FILTER (WHERE outcome IS NULL) AS open,
      count(*) FILTER (WHERE overdue) AS receipt_overdue,
      quantile_cont(days_to_outcome, 0.5) FILTER (WHERE {completed}) AS p50_days_to_complete,
      quantile_cont(days_to_outcome, 0.9) FILTER (WHERE {completed}) AS p90_days_to_complete,
      bool_or(sending_tenant IS DISTINCT FROM $tenant) AS _foreign
    FROM base {group} {order}"""
    )
    columns, rows = _rows(con, sql, _named(q))
    _round(rows, "p50_days_to_complete", "p90_days_to_complete")
    columns, rows, hidden = _suppress(columns, rows, "requested", group_by)
    return Result("transfers", columns, rows, hidden, list(TRANSFERS.notes))


# One pass: each step's first time per case, the previous step's time and the case's request day by window.
TRANSFER_STEP_DURATIONS = f"""
WITH cases AS (
  SELECT case_id, step, min(occurred_at) AS step_at, min(day) AS step_day,
         bool_or(sending_tenant IS DISTINCT FROM $tenant) AS foreign_case
  FROM transfer_steps WHERE ({PARTY}) AND step IN ({{steps}}) GROUP BY case_id, step),
timed AS (
  SELECT step, step_at, foreign_case,
         lag(step_at) OVER (PARTITION BY case_id ORDER BY step_at) AS prev_at,
         min(step_day) FILTER (WHERE step = 'transfer_requested') OVER (PARTITION BY case_id) AS requested_on
  FROM cases)
SELECT step, count(*) AS cases,
  quantile_cont(date_diff('hour', prev_at, step_at) / 24.0, 0.5) AS p50_days_from_previous,
  quantile_cont(date_diff('hour', prev_at, step_at) / 24.0, 0.9) AS p90_days_from_previous,
  bool_or(foreign_case) AS _foreign
FROM timed
WHERE prev_at IS NOT NULL AND requested_on BETWEEN $start AND $end GROUP BY step ORDER BY min(step_at), step
"""


# ---- contact --------------------------------------------------------------------------------------------------

CONTACT_BASE = """
WITH cases AS (
  SELECT *, coalesce(cause, last_value(cause IGNORE NULLS) OVER (
                PARTITION BY tenant, member_id ORDER BY occurred_at
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS effective_cause
  FROM contact_cases WHERE tenant = $tenant),
base AS (SELECT * FROM cases WHERE day BETWEEN $start AND $end)
"""


def contact(con: duckdb.DuckDBPyConnection, q: Query, group_by: Sequence[str]) -> Result:
    select, group, order = _select_dims(CONTACT.dimensions, group_by)
    sql = (
        CONTACT_BASE
        + f"""
    SELECT {select}
      count(*) FILTER (WHERE step = 'at_risk') AS at_risk,
      count(*) FILTER (WHERE step = 'lost_contact') AS lost_contact,
      count(*) FILTER (WHERE step = 'self_lapse_review') AS self_lapse_review,
      count(*) FILTER (WHERE step = 'closed') AS closed,
      count(DISTINCT member_id) AS members
    FROM base {group} {order}"""
    )
    columns, rows = _rows(con, sql, _named(q))
    return Result("contact", columns, rows, 0, list(CONTACT.notes))


# ---- cadence (三会一课) -----------------------------------------------------------------------------------------


def cadence(con: duckdb.DuckDBPyConnection, q: Query, group_by: Sequence[str]) -> Result:
    types = list(CADENCE_PER_QUARTER)
    # one row per meeting and branch-quarter first, so each count below is a plain count, not a DISTINCT one
    flags = ",\n             ".join(f"bool_or(mt.meeting_type = '{t}') AS is_{t}" for t in types)
    counts = ",\n        ".join(f"count(*) FILTER (WHERE m.held AND m.is_{t}) AS {t}" for t in types)
    meets = " AND ".join(f"{t} >= {n}" for t, n in CADENCE_PER_QUARTER.items() if t != "group_meeting")
    sql = f"""
    WITH quarters AS (
      SELECT unnest(range(date_trunc('quarter', $start::DATE)::TIMESTAMP, $end::TIMESTAMP + INTERVAL 1 DAY,
                          INTERVAL 3 MONTH))::DATE AS quarter_start),
    orgs AS (SELECT organisation_id, parent_id, kind, day AS founded_on FROM organisations WHERE tenant = $tenant),
    attended AS (SELECT DISTINCT meeting_id FROM learning_activity
                 WHERE tenant = $tenant AND activity = 'meeting_attended' AND meeting_id IS NOT NULL),
    held AS (
      SELECT -- a group's meeting counts for the branch the group belongs to
             CASE WHEN o.kind = 'group' THEN o.parent_id ELSE mt.organisation_id END AS branch_id,
             date_trunc('quarter', mt.day)::DATE AS quarter_start,
             mt.meeting_id,
             bool_or(mt.meeting_id IN (SELECT meeting_id FROM attended)) AS held,
             {flags}
      FROM meetings mt LEFT JOIN orgs o ON o.organisation_id = mt.organisation_id
      WHERE mt.tenant = $tenant AND mt.day BETWEEN $start AND $end AND mt.meeting_id IS NOT NULL
      GROUP BY ALL),
    grid AS (
      SELECT b.organisation_id, q.quarter_start FROM orgs b, quarters q
      WHERE b.kind = 'branch' AND b.founded_on <= q.quarter_start + INTERVAL 3 MONTH - INTERVAL 1 DAY),
    cells AS (
      SELECT g.organisation_id,
        strftime(g.quarter_start, '%Y') || '-Q' || CAST(quarter(g.quarter_start) AS VARCHAR) AS quarter,
        count(*) FILTER (WHERE m.held) AS meetings_held,
        count(m.meeting_id) AS meetings_scheduled,
        {counts}
      FROM grid g LEFT JOIN held m ON m.branch_id = g.organisation_id AND m.quarter_start = g.quarter_start
      GROUP BY g.organisation_id, g.quarter_start)
    SELECT *, ({meets}) AS meets_three_meetings_one_lesson FROM cells ORDER BY quarter, organisation_id"""
    columns, rows = _rows(con, sql, _named(q))
    if "quarter" in group_by and "organisation" not in group_by:
        rows = _roll_up_quarters(rows)
        columns = ["quarter", "branches", "branches_meeting_cadence", "meetings_held"]
    return Result("cadence", columns, rows, 0, list(CADENCE.notes))


def _roll_up_quarters(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        cell = out.setdefault(
            row["quarter"],
            {"quarter": row["quarter"], "branches": 0, "branches_meeting_cadence": 0, "meetings_held": 0},
        )
        cell["branches"] += 1
        cell["branches_meeting_cadence"] += int(bool(row["meets_three_meetings_one_lesson"]))
        cell["meetings_held"] += row["meetings_held"]
    return list(out.values())


# ---- learning -------------------------------------------------------------------------------------------------

LEARNING_BASE = """
WITH base AS (SELECT * FROM learning_activity WHERE tenant = $tenant AND day BETWEEN $start AND $end)
"""


def learning(con: duckdb.DuckDBPyConnection, q: Query, group_by: Sequence[str]) -> Result:
    select, group, order = _select_dims(LEARNING.dimensions, group_by)
    sql = (
        LEARNING_BASE
        + f"""
    SELECT {select}
      count(DISTINCT member_id) AS participants,
      count(*) FILTER (WHERE activity = 'meeting_attended') AS meeting_attendances,
      count(DISTINCT member_id) FILTER (WHERE activity = 'meeting_attended') AS members_attending,
      count(*) FILTER (WHERE activity = 'study_checked_in') AS study_check_ins,
      count(DISTINCT member_id) FILTER (WHERE activity = 'study_checked_in') AS members_studying,
      count(*) FILTER (WHERE activity = 'thought_report_submitted') AS thought_reports_submitted,
      count(*) FILTER (WHERE activity = 'thought_report_due') AS thought_reports_due,
      count(*) FILTER (WHERE activity = 'quiz_completed') AS quizzes_completed,
      count(DISTINCT member_id) FILTER (WHERE activity = 'quiz_completed') AS members_quizzing,
      count(*) FILTER (WHERE activity = 'quiz_completed' AND passed) AS quizzes_passed,
      round(100.0 * sum(score) FILTER (WHERE activity = 'quiz_completed')
            / nullif(sum(question_count) FILTER (WHERE activity = 'quiz_completed'), 0), 1)
        AS quiz_score_percent,
      count(DISTINCT member_id) FILTER (WHERE member_tenant IS DISTINCT FROM tenant) AS members_from_other_tenants
    FROM base {group} {order}"""
    )
    columns, rows = _rows(con, sql, _named(q))
    return Result("learning", columns, rows, 0, list(LEARNING.notes))


# ---- notifications --------------------------------------------------------------------------------------------

NOTIFICATIONS_BASE = """
WITH outcomes AS (
  SELECT notification_id, any_value(channel) AS channel, any_value(kind) AS kind,
         arg_max(outcome, occurred_at) AS outcome, arg_max(day, occurred_at) AS day,
         bool_or(outcome = 'failed') AS ever_failed, count(DISTINCT recipient_id) AS recipients
  FROM notifications WHERE tenant = $tenant GROUP BY notification_id),
base AS (SELECT * FROM outcomes WHERE day BETWEEN $start AND $end)
"""


def notifications(con: duckdb.DuckDBPyConnection, q: Query, group_by: Sequence[str]) -> Result:
    select, group, order = _select_dims(NOTIFICATIONS.dimensions, group_by)
    sql = (
        NOTIFICATIONS_BASE
        + f"""
    SELECT {select}
      count(*) AS notifications,
      count(*) FILTER (WHERE outcome = 'delivered') AS delivered,
      count(*) FILTER (WHERE outcome = 'failed') AS failed,
      count(*) FILTER (WHERE outcome = 'delivered' AND ever_failed) AS delivered_after_replay
    FROM base {group} {order}"""
    )
    columns, rows = _rows(con, sql, _named(q))
    return Result("notifications", columns, rows, 0, list(NOTIFICATIONS.notes))


# ---- members (党员基本情况) -------------------------------------------------------------------------------------

MEMBERS_BASE = """
WITH changes AS (SELECT * FROM member_changes WHERE tenant = $tenant AND day <= $end),
state AS (
  SELECT member_id,
    arg_min(organisation_id, day) FILTER (WHERE change IN ('registered', 'transferred_in')) AS organisation_id,
    arg_min(category, day) FILTER (WHERE change IN ('registered', 'transferred_in')) AS first_category,
    bool_or(change = 'regularisation') AS regularised,
    bool_or(change IN ('transferred_out', 'released', 'striking_off')) AS gone,
    arg_max(change, occurred_at) FILTER (WHERE change IN ('suspension', 'reinstatement')) = 'suspension'
      AS suspended
  FROM changes GROUP BY member_id),
roll AS (
  SELECT *, CASE WHEN regularised THEN 'full' ELSE first_category END AS category
  FROM state WHERE organisation_id IS NOT NULL AND NOT gone),
period AS (SELECT * FROM changes WHERE day >= $start)
"""


def members(con: duckdb.DuckDBPyConnection, q: Query, group_by: Sequence[str]) -> Result:
    if "month" in group_by:  # over time: the standing at each month's end, the month's own changes
        rest = [d for d in group_by if d != "month"]
        columns: list[str] = []
        rows: list[dict[str, Any]] = []
        for first, last in _months(q.start, q.end):
            month = members(con, Query(q.tenant, first, last), rest)
            columns = ["month", *month.columns]
            rows += [{"month": first.strftime("%Y-%m"), **row} for row in month.rows]
        return Result("members", columns, rows, 0, list(MEMBERS.notes))
    org = "organisation" in group_by
    key = "organisation_id, " if org else ""
    join = "USING (organisation_id)" if org else "ON TRUE"
    sql = (
        MEMBERS_BASE
        + f"""
    , standing AS (
      SELECT {key}
        count(*) FILTER (WHERE NOT coalesce(suspended, FALSE)) AS total,
        count(*) FILTER (WHERE category = 'full' AND NOT coalesce(suspended, FALSE)) AS full_members,
        count(*) FILTER (WHERE category = 'probationary' AND NOT coalesce(suspended, FALSE)) AS probationary,
        count(*) FILTER (WHERE coalesce(suspended, FALSE)) AS suspended
      FROM roll {"GROUP BY organisation_id" if org else ""}),
    moves AS (
      SELECT {"p.organisation_id AS organisation_id, " if org else ""}
        count(*) FILTER (WHERE change = 'registered') AS registered_in_period,
        count(*) FILTER (WHERE change = 'transferred_in') AS transferred_in,
        -- an enrolment elsewhere is followed by the release from this roll: one member leaving, counted once
        count(DISTINCT member_id) FILTER (WHERE change IN ('transferred_out', 'released')) AS transferred_out,
        count(*) FILTER (WHERE change = 'regularisation') AS regularised,
        count(*) FILTER (WHERE change = 'probation_extension') AS probation_extended,
        count(*) FILTER (WHERE change = 'suspension') AS suspended_in_period,
        count(*) FILTER (WHERE change = 'reinstatement') AS reinstated,
        count(*) FILTER (WHERE change = 'striking_off') AS struck_off
      FROM (SELECT pe.change, pe.member_id, s.organisation_id FROM period pe LEFT JOIN state s USING (member_id)) p
      {"GROUP BY p.organisation_id" if org else ""})
    SELECT {"coalesce(s.organisation_id, m.organisation_id) AS organisation_id, " if org else ""}
      $end AS reference_date,
      coalesce(total, 0) AS total, coalesce(full_members, 0) AS full_members,
      coalesce(probationary, 0) AS probationary, coalesce(suspended, 0) AS suspended,
      coalesce(registered_in_period, 0) AS registered_in_period, coalesce(transferred_in, 0) AS transferred_in,
      coalesce(transferred_out, 0) AS transferred_out, coalesce(regularised, 0) AS regularised,
      coalesce(probation_extended, 0) AS probation_extended,
      coalesce(suspended_in_period, 0) AS suspended_in_period, coalesce(reinstated, 0) AS reinstated,
      coalesce(struck_off, 0) AS struck_off
    FROM standing s FULL OUTER JOIN moves m {join}
    {"ORDER BY 1" if org else ""}"""
    )
    columns, rows = _rows(con, sql, _named(q))
    result = Result("members", columns, rows, 0, list(MEMBERS.notes))
    result.details["categories"] = member_categories(con, q)
    return result


def member_categories(con: duckdb.DuckDBPyConnection, q: Query) -> list[dict[str, Any]]:
    """党员基本情况's personal categories at the reference date `to`, as the registry counted and published them:
    the latest count (by event time) for that date; none when the committee has not asked for one."""
    found = con.execute(
        "SELECT count_id, counts, occurred_at FROM member_categories WHERE tenant = $tenant "
        "AND reference_date = $end ORDER BY occurred_at DESC, event_id DESC LIMIT 1",
        {"tenant": q.tenant, "end": q.end},
    ).fetchone()
    if found is None:
        return []
    count_id, raw, counted_at = found
    counts = json.loads(raw) if isinstance(raw, str) else raw
    return [
        {
            "category": code,
            "label": label,
            "members": counts.get(code),
            "suppressed": counts.get(code, 0) is None,
            "count_id": count_id,
            "counted_at": counted_at,
        }
        for code, label in CATEGORY_CELLS
    ]


def _months(start: date, end: date) -> list[tuple[date, date]]:
    """The calendar months from `start` to `end`, each cut to the period: (first day, last day)."""
    out = []
    first = start
    while first <= end:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        out.append((first, min(end, following - timedelta(days=1))))
        first = following
    return out


# ---- the catalogue --------------------------------------------------------------------------------------------

MOBILE = Statistic(
    "mobile-members",
    "流动党员: registrations active in the period, by reason (kind), host tenant and organisation",
    {
        "kind": "kind",
        "host_tenant": "coalesce(host_tenant, '(off-platform)')",
        "home_tenant": "home_tenant",
        "home_org": "home_org_id",
        "host_org": "host_org_id",
        "host_region": "host_region",
        "host_province": "CASE WHEN host_region IS NOT NULL THEN left(host_region, 2) || '0000' END",
        "month": "strftime(since, '%Y-%m')",
    },
    ("kind",),
    mobile_members,
    (
        "The reason is the kind of mobility (outflow, graduate_deferral, abroad). host_region is the 流入地 "
        "行政区划 code (6 digits) given at registration, NULL when none was given (abroad, or registered before "
        "it existed); host_province rolls it up to the province (its first two digits, then 0000).",
    ),
)
FLOWS = Statistic(
    "flows",
    "Member movements between tenants: completed transfers and mobile outflows (a flow chart's edges)",
    {
        "kind": "kind",
        "from_tenant": "from_tenant",
        "to_tenant": "to_tenant",
        "from_org": "from_org",
        "to_org": "to_org",
        "month": "strftime(day, '%Y-%m')",
    },
    ("kind", "from_tenant", "to_tenant"),
    flows,
    ("Transfers count on the day they completed; mobile outflows on the day the member left.",),
)
TRANSFERS = Statistic(
    "transfers",
    "组织关系转接: the funnel by step, outcomes and durations of the cases requested in the period",
    {
        "sending_tenant": "sending_tenant",
        "receiving_tenant": "coalesce(receiving_tenant, '(off-platform)')",
        "sending_org": "sending_org_id",
        "receiving_org": "receiving_org_id",
        "month": "strftime(requested_on, '%Y-%m')",
    },
    (),
    transfers,
    (
        "Durations in days from the request to completion (p50/p90); receipt_overdue counts cases whose 回执 went "
        "overdue at least once.",
    ),
)
CONTACT = Statistic(
    "contact",
    "失联: at-risk, lost-contact and self-lapse cases opened, and cases closed, in the period",
    {
        "cause": "effective_cause",
        "reason": "reason",
        "organisation": "organisation_id",
        "month": "strftime(day, '%Y-%m')",
    },
    ("cause",),
    contact,
    ("A lost-contact or closed case takes the cause of the member's latest at-risk case before it.",),
)
CADENCE = Statistic(
    "cadence",
    "三会一课: meetings held per branch per quarter and whether the branch met the cadence",
    {"organisation": "organisation_id", "quarter": "quarter"},
    ("organisation", "quarter"),
    cadence,
    (
        "A meeting is held when at least one member signed in. The cadence: 支部党员大会 ≥1, 支委会 ≥3 and 党课 ≥1 "
        "a quarter; 党小组会 (monthly, held by the groups) are counted for the group's branch but not required.",
    ),
)
LEARNING = Statistic(
    "learning",
    "Participation in organisational life and study: attendance, study check-ins, thought reports",
    {
        "organisation": "organisation_id",
        "month": "strftime(day, '%Y-%m')",
        "quarter": "strftime(day, '%Y') || '-Q' || CAST(quarter(day) AS VARCHAR)",
        "meeting_type": "meeting_type",
    },
    (),
    learning,
    (
        "A quiz counts when a member answered its last question (quiz_completed); passed: at least 60% of the "
        "questions right, rounded up; quiz_score_percent: right answers over questions answered in completed "
        "quizzes.",
    ),
)
MEMBERS = Statistic(
    "members",
    "党员基本情况 at the reference date (`to`), with the period's changes (`from`..`to`)",
    {"organisation": "organisation_id", "month": "month"},
    (),
    members,
    (
        "Members are counted where their formal relation is (统计依据), probationary members included, suspended "
        "(停止党籍) members apart. details.categories: 女, 少数民族, 大专及以上学历, age bands, 入党时间 and 职业 at "
        "the reference date `to`, as the registry counted them (POST /v1/statistics/member-categories on the "
        "registry, ADR 0004): counts only, cells of 1 to 4 null; empty until a count for that date exists.",
    ),
)

NOTIFICATIONS = Statistic(
    "notifications",
    "Notifications delivered and failed (given up after their attempts), by channel and kind",
    {"channel": "channel", "kind": "kind", "month": "strftime(day, '%Y-%m')"},
    ("channel",),
    notifications,
    (
        "One row per notification: its outcome is the latest by event time (a failed one an operator replayed "
        "and then delivered counts as delivered, and in delivered_after_replay). The inbox is a channel: an "
        "inbox item is delivered when it is created.",
    ),
)

STATISTICS: dict[str, Statistic] = {
    s.name: s for s in (MOBILE, FLOWS, TRANSFERS, CONTACT, CADENCE, LEARNING, NOTIFICATIONS, MEMBERS)
}


def parse_group_by(statistic: Statistic, raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return statistic.default_group_by
    chosen = tuple(d.strip() for d in raw.split(",") if d.strip())
    unknown = [d for d in chosen if d not in statistic.dimensions]
    if unknown:
        raise BadParameter(
            "group_by",
            f"{', '.join(unknown)} cannot group {statistic.name}; "
            f"choose from {', '.join(statistic.dimensions)}",
        )
    if len(set(chosen)) != len(chosen):
        raise BadParameter("group_by", "a dimension is named twice")
    return chosen


def compute(con: duckdb.DuckDBPyConnection, name: str, query: Query) -> Result:
    statistic = STATISTICS.get(name)
    if statistic is None:
        raise UnknownStatistic(name)
    if query.end < query.start:
        raise BadParameter("to", "`to` is before `from`")
    result = statistic.run(con, query, query.group_by)
    if name == "transfers":
        steps = ", ".join(f"'{s}'" for s in (*TRANSFER_FUNNEL, "transfer_refused", "letter_expired"))
        columns, durations = _rows(con, TRANSFER_STEP_DURATIONS.format(steps=steps), _named(query))
        _round(durations, "p50_days_from_previous", "p90_days_from_previous")
        _, durations, hidden = _suppress(columns, durations, "cases", ("step",))
        result.suppressed_cells += hidden
        result.details["step_durations"] = durations
    return result
