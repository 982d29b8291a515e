"""The DuckDB tables: raw events, the landing position, parked messages and the modelled facts.

Every fact row is derived from one event by the SELECT in FACTS, run over the batch being landed (`staged`) in
the same transaction as the raw row and the tracking position; a rebuild runs the same SELECTs over the same
events, so it gives the same rows. Times are UTC; `day` is the Beijing calendar date (UTC+8, no daylight saving),
the date an organisation department reports by. Ids only: nothing on the stream names a person.
"""

from __future__ import annotations

from analytics import contracts as c

RAW = """
CREATE TABLE IF NOT EXISTS events (
    id VARCHAR PRIMARY KEY, type VARCHAR NOT NULL, source VARCHAR NOT NULL, subject VARCHAR NOT NULL,
    tenant VARCHAR NOT NULL, time TIMESTAMP NOT NULL, sequence BIGINT, data JSON NOT NULL);
CREATE TABLE IF NOT EXISTS tracking (
    stream VARCHAR NOT NULL, stream_seq BIGINT NOT NULL, event_id VARCHAR, PRIMARY KEY (stream, stream_seq));
CREATE TABLE IF NOT EXISTS parked (
    stream VARCHAR NOT NULL, stream_seq BIGINT NOT NULL, reason VARCHAR NOT NULL, payload VARCHAR NOT NULL,
    PRIMARY KEY (stream, stream_seq));
"""

FACT_TABLES = {
    "organisations": "event_id VARCHAR PRIMARY KEY, tenant VARCHAR, organisation_id VARCHAR, parent_id VARCHAR, "
    "kind VARCHAR, day DATE, occurred_at TIMESTAMP",
    "member_changes": "event_id VARCHAR, tenant VARCHAR, member_id VARCHAR, organisation_id VARCHAR, "
    "change VARCHAR, category VARCHAR, day DATE, occurred_at TIMESTAMP, PRIMARY KEY (event_id, change)",
    "mobile_steps": "event_id VARCHAR PRIMARY KEY, tenant VARCHAR, registration_id VARCHAR, member_id VARCHAR, "
    "step VARCHAR, kind VARCHAR, home_tenant VARCHAR, home_org_id VARCHAR, host_tenant VARCHAR, "
    "host_org_id VARCHAR, outcome VARCHAR, until_on DATE, day DATE, occurred_at TIMESTAMP, host_region VARCHAR",
    "transfer_steps": "event_id VARCHAR PRIMARY KEY, tenant VARCHAR, case_id VARCHAR, member_id VARCHAR, "
    "step VARCHAR, sending_tenant VARCHAR, receiving_tenant VARCHAR, sending_org_id VARCHAR, "
    "receiving_org_id VARCHAR, state VARCHAR, reason_code VARCHAR, expires_on DATE, "
    "receipt_due_on DATE, day DATE, occurred_at TIMESTAMP",
    "contact_cases": "event_id VARCHAR PRIMARY KEY, tenant VARCHAR, member_id VARCHAR, organisation_id VARCHAR, "
    "step VARCHAR, cause VARCHAR, reason VARCHAR, silent_days INTEGER, day DATE, occurred_at TIMESTAMP",
    "certificates": "event_id VARCHAR PRIMARY KEY, tenant VARCHAR, member_id VARCHAR, organisation_id VARCHAR, "
    "item_id VARCHAR, step VARCHAR, due_on DATE, state VARCHAR, day DATE, occurred_at TIMESTAMP",
    "meetings": "event_id VARCHAR PRIMARY KEY, tenant VARCHAR, meeting_id VARCHAR, organisation_id VARCHAR, "
    "meeting_type VARCHAR, mode VARCHAR, starts_at TIMESTAMP, day DATE, occurred_at TIMESTAMP",
    "learning_activity": "event_id VARCHAR PRIMARY KEY, tenant VARCHAR, member_tenant VARCHAR, member_id VARCHAR, "
    "organisation_id VARCHAR, activity VARCHAR, meeting_id VARCHAR, meeting_type VARCHAR, "
    "quarter VARCHAR, day DATE, occurred_at TIMESTAMP, quiz_id VARCHAR, score INTEGER, question_count INTEGER, "
    "passed BOOLEAN",
    "notifications": "event_id VARCHAR PRIMARY KEY, tenant VARCHAR, notification_id VARCHAR, outcome VARCHAR, "
    "channel VARCHAR, kind VARCHAR, recipient_id VARCHAR, day DATE, occurred_at TIMESTAMP",
    "member_categories": "event_id VARCHAR PRIMARY KEY, tenant VARCHAR, count_id VARCHAR, reference_date DATE, "
    "counts JSON, day DATE, occurred_at TIMESTAMP",
}
# Columns added after a table's first release, at its end: a file made before gains them (NULL in older rows;
# `lianxin analytics rebuild` fills them from the stream), and a fresh file has them in the same place.
APPENDED: dict[str, tuple[tuple[str, str], ...]] = {
    "mobile_steps": (("host_region", "VARCHAR"),),
    "learning_activity": (
        ("quiz_id", "VARCHAR"),
        ("score", "INTEGER"),
        ("question_count", "INTEGER"),
        ("passed", "BOOLEAN"),
    ),
}
# Tables whose first shape was replaced while they could only be empty (notify published nothing before
# notification_delivered.v1): an empty one of the old shape is dropped and made again.
REPLACED = {"notifications": "type"}
TABLES = ("events", "tracking", "parked", *FACT_TABLES)


def _in(types: object) -> str:
    return "(" + ", ".join(f"'{t}'" for t in types) + ")"  # type: ignore[attr-defined]


def _case(column: str, mapping: dict[str, str]) -> str:
    return "CASE " + " ".join(f"WHEN {column} = '{k}' THEN '{v}'" for k, v in mapping.items()) + " END"


def j(field: str) -> str:
    return f"(data->>'$.{field}')"


def jdate(field: str) -> str:
    return f"TRY_CAST(data->>'$.{field}' AS DATE)"


DAY = "CAST(time + INTERVAL 8 HOUR AS DATE)"
TRANSFER_PREFIX = "cn.lianxin.transfer."

# One SELECT per fact table over `staged` (the batch's fresh events, columns as in `events`).
FACTS: dict[str, str] = {
    "organisations": f"""
        SELECT id, tenant, {j("organisation_id")}, {j("parent_id")}, {j("kind")}, {DAY}, time
        FROM staged WHERE type = '{c.ORGANISATION_FOUNDED}'""",
    "member_changes": f"""
        SELECT id, tenant, {j("member_id")}, {j("organisation_id")}, 'registered', {j("category")},
               coalesce({jdate("registered_on")}, {DAY}), time
        FROM staged WHERE type = '{c.MEMBER_REGISTERED}'
        UNION ALL
        SELECT id, tenant, {j("member_id")}, NULL, coalesce({j("kind")}, 'decision'), NULL,
               coalesce({jdate("decided_on")}, {DAY}), time
        FROM staged WHERE type = '{c.DECISION_RECORDED}'
        UNION ALL
        SELECT id, tenant, {j("member_id")}, NULL, 'transferred_out', NULL, {DAY}, time
        FROM staged WHERE type = '{c.MEMBER_ENROLLED}'
        UNION ALL
        SELECT id, {j("receiving_tenant")}, {j("new_member_id")}, {j("receiving_org_id")}, 'transferred_in',
               {j("category")}, {DAY}, time
        FROM staged WHERE type = '{c.MEMBER_ENROLLED}'
        UNION ALL
        SELECT id, tenant, {j("member_id")}, NULL, 'released', NULL, {DAY}, time
        FROM staged WHERE type = '{c.MEMBER_RELEASED}'""",
    "mobile_steps": f"""
        SELECT id, tenant, {j("registration_id")}, {j("member_id")}, {_case("type", c.MOBILE_STEPS)}, {j("kind")},
               coalesce({j("home_tenant")}, CASE WHEN type LIKE '%outflow_registered%' OR
                        type LIKE '%mobility_ended%' THEN tenant END),
               {j("home_org_id")}, {j("host_tenant")}, {j("host_org_id")}, {j("outcome")}, {jdate("until")},
               coalesce({jdate("left_on")}, {jdate("registered_on")}, {jdate("ended_on")}, {DAY}), time,
               {j("host_region")}
        FROM staged WHERE type IN {_in(c.MOBILE_STEPS)}""",
    "transfer_steps": f"""
        SELECT id, tenant, {j("case_id")}, {j("member_id")}, {_case("type", c.TRANSFER_STEPS)},
               {j("sending_tenant")}, {j("receiving_tenant")}, {j("sending_org_id")}, {j("receiving_org_id")},
               {j("state")}, {j("reason_code")}, {jdate("expires_on")}, {jdate("receipt_due_on")}, {DAY}, time
        FROM staged WHERE type IN {_in(c.TRANSFER_STEPS)}""",
    "contact_cases": f"""
        SELECT id, tenant, {j("member_id")}, {j("organisation_id")}, {_case("type", c.CONTACT_STEPS)},
               {j("cause")}, {j("reason")}, TRY_CAST({j("silent_days")} AS INTEGER), {DAY}, time
        FROM staged WHERE type IN {_in(c.CONTACT_STEPS)}""",
    "certificates": f"""
        SELECT id, tenant, {j("member_id")}, {j("organisation_id")}, {j("item_id")},
               {_case("type", c.CERTIFICATE_STEPS)}, {jdate("due_on")}, {j("state")}, {DAY}, time
        FROM staged WHERE type IN {_in(c.CERTIFICATE_STEPS)}""",
    "meetings": f"""
        SELECT id, tenant, {j("meeting_id")}, {j("organisation_id")}, {j("meeting_type")}, {j("mode")},
               TRY_CAST({j("starts_at")} AS TIMESTAMPTZ)::TIMESTAMP,
               coalesce(CAST(TRY_CAST({j("starts_at")} AS TIMESTAMPTZ)::TIMESTAMP + INTERVAL 8 HOUR AS DATE),
                        {DAY}), time
        FROM staged WHERE type = '{c.MEETING_SCHEDULED}'""",
    "learning_activity": f"""
        SELECT id, tenant, coalesce({j("tenant")}, tenant), {j("member_id")}, {j("organisation_id")},
               {_case("type", c.LEARNING_ACTIVITIES)}, {j("meeting_id")}, {j("meeting_type")}, {j("quarter")},
               coalesce(CAST(TRY_CAST({j("occurred_at")} AS TIMESTAMPTZ)::TIMESTAMP + INTERVAL 8 HOUR AS DATE),
                        {jdate("due_on")}, {DAY}), time,
               {j("quiz_id")}, TRY_CAST({j("score")} AS INTEGER), TRY_CAST({j("question_count")} AS INTEGER),
               TRY_CAST({j("passed")} AS BOOLEAN)
        FROM staged WHERE type IN {_in(c.LEARNING_ACTIVITIES)}""",
    "notifications": f"""
        SELECT id, tenant, {j("notification_id")}, {_case("type", c.NOTIFICATION_OUTCOMES)}, {j("channel")},
               {j("kind")}, {j("recipient_id")}, {DAY}, time
        FROM staged WHERE type IN {_in(c.NOTIFICATION_OUTCOMES)}""",
    "member_categories": f"""
        SELECT id, tenant, {j("count_id")}, {jdate("reference_date")}, data->'$.counts', {DAY}, time
        FROM staged WHERE type = '{c.MEMBER_CATEGORIES_COUNTED}'""",
}

# Which event types feed each fact table: landing runs a table's SELECT only when its types are in the batch.
FACT_TYPES: dict[str, frozenset[str]] = {
    "organisations": frozenset({c.ORGANISATION_FOUNDED}),
    "member_changes": frozenset(
        {c.MEMBER_REGISTERED, c.DECISION_RECORDED, c.MEMBER_ENROLLED, c.MEMBER_RELEASED}
    ),
    "mobile_steps": frozenset(c.MOBILE_STEPS),
    "transfer_steps": frozenset(c.TRANSFER_STEPS),
    "contact_cases": frozenset(c.CONTACT_STEPS),
    "certificates": frozenset(c.CERTIFICATE_STEPS),
    "meetings": frozenset({c.MEETING_SCHEDULED}),
    "learning_activity": frozenset(c.LEARNING_ACTIVITIES),
    "notifications": frozenset(c.NOTIFICATION_OUTCOMES),
    "member_categories": frozenset({c.MEMBER_CATEGORIES_COUNTED}),
}


def feeds(table: str, types: set[str]) -> bool:
    return not FACT_TYPES[table].isdisjoint(types)


# A transfer case as one row: each funnel step's first time, the outcome (the last terminal step by event time,
# not by arrival), the duration from request to outcome, and whether the receipt went overdue.
def transfer_cases(where: str = "TRUE") -> str:
    """The SELECT behind the `transfers` view; statistics call it with their tenant's filter pushed down."""
    return f"""
SELECT case_id,
       any_value(tenant) AS tenant,
       any_value(sending_tenant) AS sending_tenant,
       max(receiving_tenant) AS receiving_tenant,
       any_value(sending_org_id) AS sending_org_id,
       max(receiving_org_id) AS receiving_org_id,
       {", ".join(f"min(occurred_at) FILTER (WHERE step = '{s}') AS {s}_at" for s in c.TRANSFER_FUNNEL)},
       arg_max(step, occurred_at) FILTER (WHERE step IN {_in(c.TRANSFER_OUTCOMES)}) AS outcome,
       max(occurred_at) FILTER (WHERE step IN {_in(c.TRANSFER_OUTCOMES)}) AS outcome_at,
       bool_or(step = 'receipt_overdue') AS overdue,
       min(day) FILTER (WHERE step = 'transfer_requested') AS requested_on
FROM transfer_steps WHERE {where} GROUP BY case_id
"""


TRANSFERS_VIEW = f"CREATE OR REPLACE VIEW transfers AS {transfer_cases()}"


def ddl() -> str:
    facts = "\n".join(
        f"CREATE TABLE IF NOT EXISTS {name} ({columns});" for name, columns in FACT_TABLES.items()
    )
    appended = "\n".join(
        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind};"
        for table, columns in APPENDED.items()
        for column, kind in columns
    )
    return RAW + facts + "\n" + appended + "\n" + TRANSFERS_VIEW


def replaced_tables(con: object) -> list[str]:
    """The DROP statements for tables of a replaced first shape that are still empty (see REPLACED)."""
    drops = []
    for table, old_column in REPLACED.items():
        found = con.execute(  # type: ignore[attr-defined]
            "SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = ?",
            [table, old_column],
        ).fetchone()
        if found and found[0]:
            (rows,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[attr-defined]
            if rows:
                raise RuntimeError(
                    f"table {table} has rows of its first shape: run `lianxin analytics rebuild --replace`"
                )
            drops.append(f"DROP TABLE {table}")
    return drops
