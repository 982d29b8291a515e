"""Ratios between the figures, the printed table, and bench/results/latest.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.audit import audit_rows


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _by_concurrency(runs: list[dict[str, Any]], key: str = "concurrency") -> dict[int, dict[str, Any]]:
    return {int(r[key]): r for r in runs}


def ratios(results: dict[str, Any]) -> dict[str, float | None]:
    pg = {r["clients"]: r["tps"] for r in results["pgbench"]}
    http = {c: r["per_second"] for c, r in _by_concurrency(results["http_registrations"]).items()}
    relay = results["relay"]
    out = {
        "http_registrations_c8_to_pgbench_c4": _div(http.get(8), pg.get(4)),
        "http_registrations_c1_to_pgbench_c1": _div(http.get(1), pg.get(1)),
        "relay_stored_events_to_pgbench_c4": _div(relay["stored_events_per_second"], pg.get(4)),
        "relay_published_to_pgbench_c4": _div(relay["published_per_second"], pg.get(4)),
    }
    if "pipelined_baseline" in relay:
        out["relay_published_to_pipelined_publish"] = _div(
            relay["published_per_second"], relay["pipelined_baseline"]["per_second"]
        )
    if "notify_inbox" in results:
        out["notify_inbox_to_relay_published"] = _div(
            results["notify_inbox"]["per_second"], relay["published_per_second"]
        )
    if "analytics_landing" in results:
        out["analytics_landed_to_relay_published"] = _div(
            results["analytics_landing"]["landed_per_second"], relay["published_per_second"]
        )
    if "baseline" in results:
        base = results["baseline"]["per_second"]
        out["http_registrations_c8_to_baseline_c8"] = _div(http.get(8), base)
        out["transfer_saga_steps_to_baseline_c8"] = _div(results["transfers"]["saga_steps_per_second"], base)
        if "half_rate" in results["transfers"]:
            out["transfer_completion_p99_to_p50_at_half_rate"] = results["transfers"]["half_rate"][
                "p99_to_p50"
            ]
    if "baseline_c1" in results:
        base_p50 = results["baseline_c1"]["p50_ms"]
        c1 = _by_concurrency(results["http_registrations"]).get(1)
        out["http_registration_p50_c1_to_baseline_p50_c1"] = _div(c1["p50_ms"] if c1 else None, base_p50)
        t1 = _by_concurrency(results["transfers"]["runs"]).get(1)
        out["transfer_completion_p50_c1_to_baseline_p50_c1"] = _div(
            t1["completion_p50_ms"] if t1 else None, base_p50
        )
    return out


# The aims (#18): ratio key -> (comparison, bound). Printed beside each ratio, never asserted.
AIMS = {
    "relay_published_to_pipelined_publish": (">=", 0.5),
    "notify_inbox_to_relay_published": (">=", 0.5),
    "http_registrations_c8_to_baseline_c8": (">=", 0.5),
    "http_registration_p50_c1_to_baseline_p50_c1": ("<=", 3.0),
    "transfer_saga_steps_to_baseline_c8": (">=", 0.35),
    "transfer_completion_p50_c1_to_baseline_p50_c1": ("<=", 20.0),
    "transfer_completion_p99_to_p50_at_half_rate": ("<=", 3.0),
}


def _aim(key: str, value: float | None) -> str:
    if key not in AIMS or value is None:
        return ""
    op, bound = AIMS[key]
    met = value >= bound if op == ">=" else value <= bound
    return f"   aim {op} {bound:g}: {'met' if met else 'NOT met'}"


RATIO_LABELS = {
    "http_registrations_c8_to_pgbench_c4": "HTTP registrations (8 clients) ÷ pgbench inserts (4 clients)",
    "http_registrations_c1_to_pgbench_c1": "HTTP registrations (1 client) ÷ pgbench inserts (1 client)",
    "relay_stored_events_to_pgbench_c4": "relay stored events drained ÷ pgbench inserts (4 clients)",
    "relay_published_to_pgbench_c4": "relay CloudEvents acked ÷ pgbench inserts (4 clients)",
    "notify_inbox_to_relay_published": "registrations into notify's inbox ÷ relay CloudEvents acked",
    "analytics_landed_to_relay_published": "analytics events landed ÷ relay CloudEvents acked (aim ≥ 0.5)",
    "http_registrations_c8_to_baseline_c8": "HTTP registrations (8) ÷ bare POST→insert→publish (8)",
    "transfer_saga_steps_to_baseline_c8": "transfer saga steps (best run) ÷ bare POST→insert→publish (8)",
    "relay_published_to_pipelined_publish": "relay CloudEvents acked ÷ pipelined JetStream publish, same count",
    "http_registration_p50_c1_to_baseline_p50_c1": "POST /v1/members p50 (1 client) ÷ bare p50 (1 client)",
    "transfer_completion_p50_c1_to_baseline_p50_c1": "transfer completion p50 (1 client) ÷ bare p50 (1 client)",
    "transfer_completion_p99_to_p50_at_half_rate": "transfer completion p99 ÷ its p50, started at half the best rate",
}


def _row(label: str, rate: float | None, detail: str = "") -> str:
    shown = f"{rate:10.1f}" if rate is not None else f"{'-':>10}"
    return f"  {label:<52}{shown} /s   {detail}".rstrip()


def _lat(r: dict[str, Any], p50: str = "p50_ms", p99: str = "p99_ms") -> str:
    return f"p50 {r[p50]:7.1f} ms  p99 {r[p99]:7.1f} ms"


def _heading(env: dict[str, Any]) -> list[str]:
    return [
        f"Lianxin benchmark: {env['postgres']}, nats-server {env['nats_server']}, "
        f"{env['cpus']} CPUs, {env['seconds']} s phases; 1-min load average "
        f"{env['load_1min_before']:.2f} before, {env['load_1min_after']:.2f} after",
        "",
    ]


def _ms(value: float | None) -> str:
    return f"{value:7.1f} ms" if value is not None else f"{'-':>7} ms"


def _relay_lag(lag: dict[str, Any]) -> list[str]:
    """Aim 3: printed, with the two bounds that enclose the commit (bench/lag.py)."""
    lines = [
        f"  relay lag, commit → PubAck, {lag['registered']} registrations at {lag['rate']:.1f}/s "
        f"(request p99 {lag['request']['p99_ms']:.1f} ms, errors {lag['errors']}):"
    ]
    for key, label in (
        ("after_response", "stored in the stream − response received (under-estimate)"),
        ("after_event_time", "stored in the stream − event's time (over-estimate)"),
    ):
        r = lag[key]
        missing = f"  ({r['missing']} never arrived)" if r["missing"] else ""
        lines.append(f"    {label:<60}p50 {_ms(r['p50_ms'])}  p99 {_ms(r['p99_ms'])}{missing}")
    return lines


def _notify_inbox(n: dict[str, Any]) -> str:
    first = f"{n['first_after_s']:.1f}" if n["first_after_s"] is not None else "-"
    state = "all" if n["complete"] else f"only {n['reached']} of them, stopped"
    return _row(
        f"notify: {n['registrations']} registrations into its inbox",
        n["per_second"],
        f"first {first} s, {state} {n['last_after_s']:.1f} s after notify started",
    )


def _rss(rss: dict[str, float]) -> str:
    return "  RSS: " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in rss.items())


def table(results: dict[str, Any]) -> str:
    lines = _heading(results["environment"])
    for r in results["pgbench"]:
        lines.append(
            _row(
                f"pgbench single-row insert, -c {r['clients']} -j {r['threads']}",
                r["tps"],
                f"avg {r['latency_avg_ms'] or 0:6.2f} ms  failed {r['failed']}",
            )
        )
    for r in results["http_registrations"]:
        lines.append(
            _row(
                f"POST /v1/members, {r['concurrency']} concurrent client(s)",
                r["per_second"],
                f"{_lat(r)}  errors {r['errors']}  ({r['registered']} registered)",
            )
        )
    if "generator_ceiling" in results:
        g = results["generator_ceiling"]
        lines.append(
            _row(
                f"load generator ceiling: GET /healthz, {g['connections']} connections",
                g["per_second"],
                f"{_lat(g)}  ({g['processes']} processes)",
            )
        )
    if "open_loop" in results:
        o = results["open_loop"]
        lines.append(
            _row(
                f"open loop: POST /v1/members at {o['rate']:.1f}/s",
                o["completed"] / o["seconds"],
                f"{_lat(o)}  errors {o['errors']}  late starts {o['late_starts']}",
            )
        )
    relay = results["relay"]
    lines.append(
        _row(
            "relay drain: stored events (relay_position)",
            relay["stored_events_per_second"],
            f"{relay['stored_events']} events; caught up "
            f"{relay['position_caught_up_after_s']:.1f} s after start",
        )
    )
    lines.append(
        _row(
            f"relay publish: CloudEvents in {relay['stream']}",
            relay["published_per_second"],
            f"{relay['published_events']} messages; complete "
            f"{relay['stream_complete_after_s']:.1f} s after start",
        )
    )
    lines.append(
        _row(
            "relay drain incl. service start-up (stored events)",
            relay["stored_events_per_second_with_startup"],
            f"first batch acked {relay['first_batch_after_s']:.1f} s after start",
        )
    )
    if "notify_inbox" in results:
        lines.append(_notify_inbox(results["notify_inbox"]))
    if "pipelined_baseline" in relay:
        p = relay["pipelined_baseline"]
        lines.append(
            _row(
                "pipelined JetStream publish (the relay's baseline)",
                p["per_second"],
                f"{p['messages']} messages of {p['bytes_each']} bytes",
            )
        )
    lines.append(
        _row(
            "backlog written in-process (100 members per save)",
            relay["in_process_save_events_per_second"],
            "stored events",
        )
    )
    if "analytics_landing" in results:
        a = results["analytics_landing"]
        lines.append(
            _row(
                f"analytics landing {a['messages']} registry messages",
                a["landed_per_second"],
                f"all landed {a['landed_after_s']:.1f} s after start",
            )
        )
    if "analytics_rebuild" in results:
        r = results["analytics_rebuild"]
        lines.append(
            _row(
                f"analytics rebuild of {r['events']} events from NATS",
                r["rebuilt_per_second"],
                f"{r['seconds']:.1f} s",
            )
        )
    if "analytics_statistics" in results:
        st = results["analytics_statistics"]
        lines.append(
            f"  analytics statistics over {st['events']} events, {st['tenants']} tenants, a year "
            f"({st['runs_per_statistic']} runs each, in-process; aim p99 < 200 ms):"
        )
        for name, lat in st["latency"].items():
            lines.append(f"    {name:<20} p50 {lat['p50_ms']:7.1f} ms  p99 {lat['p99_ms']:7.1f} ms")
    if "baseline" in results:
        b = results["baseline"]
        lines.append(
            _row(
                f"bare POST→insert→JetStream ack, {b['concurrency']} clients",
                b["per_second"],
                f"{_lat(b)}  errors {b['errors']}",
            )
        )
        for r in results["transfers"]["runs"]:
            lines.append(
                _row(
                    f"transfers to completion, {r['concurrency']} concurrent client(s)",
                    r["transfers_per_second"],
                    f"{_lat(r, 'completion_p50_ms', 'completion_p99_ms')}  failed {r['failed']}  "
                    f"({r['completed']} done, {r['saga_steps_per_second']:.1f} saga steps/s"
                    f"{'; ran out of members' if r['members_left'] == 0 else ''})",
                )
            )
            lines += [f"      a failed transfer: {error}" for error in r["first_errors"]]
        if "half_rate" in results["transfers"]:
            h = results["transfers"]["half_rate"]
            lines.append(
                _row(
                    f"transfers started at {h['rate']:.2f}/s (half the best rate)",
                    h["completed"] / h["seconds"] if h["seconds"] else None,
                    f"{_lat(h, 'completion_p50_ms', 'completion_p99_ms')}  failed {h['failed']}  "
                    f"({h['completed']} of {h['started']} done; starts late by ≤ {h['start_lag_max_ms']:.0f} ms)",
                )
            )
            lines += [f"      a failed transfer: {error}" for error in h["first_errors"]]
    if "audit" in results:
        lines += [_row(label, rate, detail) for label, rate, detail in audit_rows(results["audit"])]
    if "baseline_c1" in results:
        b = results["baseline_c1"]
        lines.append(_row("bare POST→insert→JetStream ack, 1 client", b["per_second"], _lat(b)))
    for r in results.get("transfers", {}).get("runs", []):
        if "cpu_ms_per_saga_step" in r:
            lines.append(
                f"  CPU per saga step, {r['concurrency']} client(s), every process: "
                f"{r['cpu_ms_per_saga_step']:.1f} ms"
            )
    if "relay_lag" in results:
        lines += _relay_lag(results["relay_lag"])
    if "costs" in results:
        lines += _costs(results["costs"])
    if "rss_mb_after_costs" in results:
        lines.append(_rss(results["rss_mb_after_costs"]) + "  (every service, after the cost phase)")
    lines += ["", "  ratios"]
    for key, value in results["ratios"].items():
        shown = f"{value:10.4f}" if value is not None else f"{'-':>10}"
        lines.append(f"    {RATIO_LABELS.get(key, key):<66}{shown}{_aim(key, value)}")
    return "\n".join(lines)


def _costs(costs: dict[str, Any]) -> list[str]:
    idle, each = costs["idle"], costs["registration"]
    lines = [
        "",
        f"  cost of one registration ({each['operations']} sequential, idle rate subtracted) "
        f"and idle rates ({idle['seconds']:.0f} s)",
    ]
    for service, rate in idle["commits_per_second"].items():
        per = each["commits_per_operation"][service]
        aim = "   aim ≤ 2: " + ("met" if per <= 2 else "NOT met") if service == "registry" else ""
        lines.append(f"    {service:<10} commits per registration {per:6.2f}{aim}")
        lines.append(
            f"    {service:<10} idle commits per second  {rate:6.2f}   aim ≤ 1: "
            f"{'met' if rate <= 1 else 'NOT met'}"
        )
    for process, ms in each["cpu_ms_per_operation"].items():
        lines.append(
            f"    {process:<10} CPU ms per registration  {ms:6.1f}   (idle {idle['cpu_ms_per_second'][process]:.1f} "
            f"ms/s)"
        )
    total = each["cpu_ms_per_operation_total"]
    lines.append(
        f"    every process: CPU ms per registration {total:6.1f}   aim < 5: {'met' if total < 5 else 'NOT met'}"
    )
    return lines


def growth_table(results: dict[str, Any]) -> str:
    """Aim 7: each figure with an empty roll and with N members on it, after ÷ before, nothing worse by > 1/3."""
    g = results["growth"]
    seed = g["seed"]
    lines = [
        *_heading(results["environment"]),
        f"  growth: {g['members']} members (of {g['members_asked']} asked) stored by {seed['processes']} "
        f"processes in {seed['seconds']:.0f} s ({seed['stored_events']} events), all on the roll after "
        f"{seed['seconds_to_the_roll']:.0f} s ({seed['members_on_the_roll_per_second'] or 0:.0f} members/s: "
        f"stored, published by the relay, projected); last chunk: relay caught up "
        f"{g['relay_caught_up_after_seed_s']:.0f} s, projections {g['projections_caught_up_after_seed_s']:.0f} s "
        f"after its last save; autovacuum waited for {g['autovacuum_waited_s']:.0f} s before the "
        f"second figures; {g['wall_seconds'] / 60:.1f} min in all",
        "",
        "  The same registry before and after (in time: the machine's load moves both):",
        *_growth_rows(g["comparison_in_time"], "empty roll", f"+{g['members']}"),
        "",
        f"  The grown registry beside one that did not grow, measured in turn ({g['rounds']} rounds, means): the verdict",
        *_growth_rows(g["comparison"], "beside", f"+{g['members']}"),
    ]
    return "\n".join(lines)


def _growth_rows(comparison: list[dict[str, Any]], before: str, after: str) -> list[str]:
    lines = [f"    {'figure':<40}{before:>12}{after:>12}{'ratio':>8}   aim: not worse by > 1/3"]
    for row in comparison:
        ratio = f"{row['ratio']:8.2f}" if row["ratio"] is not None else f"{'-':>8}"
        verdict = "WORSE" if row["worse_by_more_than_a_third"] else "met"
        lines.append(f"    {row['figure']:<40}{row['before']:12.1f}{row['after']:12.1f}{ratio}   {verdict}")
    return lines


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
