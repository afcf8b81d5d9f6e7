"""The benchmark report as Markdown: the goals of issues 11 and 22 beside what was measured, each
figure with the load average and CPU steal of its measurement, and a verdict that is "inconclusive"
when the machine was busier than it has cores (``machine.verdict``)."""

from __future__ import annotations

from typing import Any

from certpush_dev.bench.machine import Conditions, verdict

GOALS = {"calls_per_push": 6.0, "cold_start_ratio": 1.5}
# (at most x one target, at least x faster than one after another) per fan-out setting: issue 11's
# for the project's own setting, issue 22's for 30 targets at 300 ms
FAN_OUT_GOALS = {"own": (1.5, 10.0), "wide": (1.3, 15.0)}


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _load(conditions: dict[str, Any] | None) -> str:
    if not conditions:
        return "load ?"
    return Conditions.from_dict(conditions).describe()


def _first_invocation(c: dict[str, Any]) -> str:
    if "first_invocation_ms" not in c:
        return ""
    other = (
        f"; a first message for Huawei Cloud instead adds {c['other_target_ms']} ms (its HTTP client)"
        if "other_target_ms" in c
        else ""
    )
    cpu = f"; CPU time {c['cpu_ratio']} x bare's" if "cpu_ratio" in c else ""
    return (
        f" (init {c['init_ms']} ms = {c['init_ratio']} x, + the first invocation's building "
        f"{c['first_invocation_ms']} ms){cpu}{other}; restored from a SnapStart snapshot: {c['after_restore_ms']} ms "
        "(hook + objects built again)"
    )


def _fan_out_rows(where: str, figures: dict[str, dict[str, Any]]) -> list[str]:
    rows = []
    for key, f in figures.items():
        most, least = FAN_OUT_GOALS.get(key, FAN_OUT_GOALS["own"])
        c = f.get("conditions")
        rows += [
            f"| {where}: one target, {f['latency_ms']} ms | {f['one_target_s']} s | | {_load(c)} |",
            f"| {where}: {f['setting']}, one issuance | {f['many_targets_s']} s = {f['many_vs_one']} x one target "
            f"| <= {most} x: {verdict(f['many_vs_one'] <= most, c)} | {_load(c)} |",
            f"| {where}: the same {f['targets']} one after another | {f['one_after_another_s']} s = "
            f"{f['speedup_vs_one_after_another']} x slower than the fan-out "
            f"| >= {least:.0f} x: {verdict(f['speedup_vs_one_after_another'] >= least, c)} | {_load(c)} |",
        ]
    return rows


def _flat(scaling: list[dict[str, Any]]) -> str:
    """Whether time and calls per push stay flat as regions and certificates grow (within 25%)."""
    if len(scaling) < 2:
        return ""
    busy = [x for x in scaling if x["regions"] == max(y["regions"] for y in scaling)]
    cpu = [x["cpu_ms_per_push"] for x in busy]
    calls = [x["control_plane_calls_per_push"] for x in busy]
    one = [x for x in scaling if x["regions"] == 1]
    verdict = [
        f"CPU per push at {busy[0]['regions']} regions from {busy[0]['pushes']} to {busy[-1]['pushes']} pushes: "
        f"{min(cpu)}-{max(cpu)} ms ({'flat' if max(cpu) <= 1.25 * min(cpu) else 'not flat'}); "
        f"calls per push {min(calls)}-{max(calls)} ({'flat' if max(calls) <= 1.25 * min(calls) else 'not flat'})."
    ]
    if one:
        verdict.append(
            f"With one region per issuance a push costs {one[0]['control_plane_calls_per_push']} calls: the "
            "issuance's own calls (its item, the event, the version's secret) are not shared with other regions."
        )
    return " ".join(verdict)


def render_markdown(r: dict[str, Any]) -> str:
    fan, thr = r["fan_out"], r["throughput"]
    rounds = next(iter(fan.values())).get("rounds", "?")
    fan_calls = next(iter(fan.values()))["calls"]["control_plane_calls_per_push"]
    lines = [
        f"certpush benchmark, {r['date']} ({r['cpu_count']} CPUs; "
        f"{'the whole matrix' if r['full_matrix'] else 'BENCH_QUICK: a smaller matrix'}; "
        f"took {r['duration_s']} s)",
        "",
        f"Compared cases interleaved (one, many, one after another, one, ...), medians of {rounds} rounds after a "
        "warm-up. Load is the highest 1-minute load average during the measurement, steal the share of CPU time "
        "the hypervisor took; a goal is judged only when the load stayed within the cores and steal low, "
        "otherwise it is inconclusive.",
        "",
        "| measure | value | goal | machine |",
        "|---|---|---|---|",
        *_fan_out_rows("embedded stack", fan),
        f"| control-plane calls per push (fan-out) | {fan_calls} "
        f"| <= 6: {_mark(fan_calls <= GOALS['calls_per_push'])} | |",
        f"| throughput, {thr['certificates']} certificates x {thr['regions']} regions, 0 ms | "
        f"{thr['pushes_per_second']} pushes/s, {thr['cpu_ms_per_push']} CPU ms/push: handlers, pollers and "
        f"simulator {thr['handlers_cpu_ms_per_push']}, moto {thr['aws_emulator_cpu_ms_per_push']} | | "
        f"{_load(thr.get('conditions'))} |",
        f"| control-plane calls per push (throughput) | {thr['control_plane_calls_per_push']} "
        f"| <= 6: {_mark(thr['control_plane_calls_per_push'] <= GOALS['calls_per_push'])} | |",
    ]
    host = r.get("host")
    if host:
        ht = host["throughput"]
        concurrency = next(iter(host["fan_out"].values()))["push_concurrency"]
        lines += [
            *_fan_out_rows(f"one machine ({concurrency} push threads)", host["fan_out"]),
            f"| one machine: throughput, {ht['certificates']} certificates x {ht['regions']} regions, 0 ms | "
            f"{ht['pushes_per_second']} pushes/s, {ht['cpu_ms_per_push']} CPU ms/push (host and simulator, one "
            f"process); the embedded stack above: {thr['pushes_per_second']} pushes/s | | "
            f"{_load(ht.get('conditions'))} |",
        ]
    cold = r["cold_start"]
    if "bare" in cold:
        cold_conditions, goal = cold.get("conditions"), GOALS["cold_start_ratio"]
        for name in ("validator", "push_worker", "notifier"):
            c = cold[name]
            lines.append(
                f"| cold start {name} | {c['median_ms']} ms = {c['ratio']} x bare ({cold['bare']['median_ms']} ms, "
                f"its client made at init){_first_invocation(c)}; {c['peak_mb_after_init']} MB after init "
                f"| <= {goal} x: {verdict(c['ratio'] <= goal, cold_conditions)} "
                f"| {_load(cold_conditions)} |"
            )
        for name in ("bare+pydantic", "bare+pydantic+x509", "bare, certpush's botocore data"):
            if name in cold:
                lines.append(
                    f"| cold start, reference: {name} | {cold[name]['median_ms']} ms = {cold[name]['ratio']} x bare "
                    "| | |"
                )
    else:
        lines.append(f"| cold start | {cold.get('skipped')} | | |")
    peaks = r.get("peak_memory_mb")
    if peaks:
        listed = ", ".join(f"{name.removesuffix('Function')} {mb} MB" for name, mb in peaks.items())
        lines.append(
            f"| peak memory, init + one invocation (Lambda's Max Memory Used) | {listed}; MemorySize 512 | | |"
        )
    s = r["sizes"]
    lines += [
        f"| layer | {s['layer_unpacked_mb']} MB unpacked, {s['layer_zipped_mb']} MB zipped "
        f"(boto3 + botocore + s3transfer {s['boto3_botocore_s3transfer_unpacked_mb']} MB) | | |",
        f"| functions | {', '.join(f'{k} {v} KB' for k, v in s['functions_kb'].items())} | | |",
        f"| cost of 1 million pushes | ${r['cost']['total_usd']} | | |",
        "",
        "Control-plane calls per push by operation (throughput run):",
        "",
        "| operation | calls per push |",
        "|---|---|",
        *[f"| {op} | {n} |" for op, n in thr["control_plane_calls_per_push_by_operation"].items()],
        "",
        "PushConcurrency (pushes of one batch at the same time), 20 targets at 150 ms:",
        "",
        "| PushConcurrency | 20 targets, s |",
        "|---|---|",
        *[f"| {x['push_concurrency']} | {x['twenty_targets_s']} |" for x in r.get("push_concurrency", [])],
        "",
        "Scaling (0 ms latency):",
        "",
        "| certificates | regions | pushes | pushes/s | CPU ms/push | calls/push |",
        "|---|---|---|---|---|---|",
        *[
            f"| {x['certificates']} | {x['regions']} | {x['pushes']} | {x['pushes_per_second']} "
            f"| {x['cpu_ms_per_push']} | {x['control_plane_calls_per_push']} |"
            for x in r["scaling"]
        ],
        "",
        _flat(r["scaling"]),
        "",
        f"Cost of 1 million pushes (USD; prices {r['cost']['prices_as_of']}):",
        "",
        "| item | USD |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in r["cost"]["usd_per_million_pushes"].items()],
        "",
    ]
    return "\n".join(lines + operator_lines(r))


def operator_lines(r: dict[str, Any]) -> list[str]:
    """What an operator waits for (issue 20): the command line's start and the dashboard's first paint."""
    lines = ["What an operator waits for (issue 20; goals: --help under 0.4 s, the list painted under 1 s):", ""]
    if "cli_start" in r:
        c = r["cli_start"]
        lines.append(f"- certpush --help {c['help_s']} s ({_mark(c['help_s'] < 0.4)}), --version {c['version_s']} s, "
                     f"push --help {c['push_help_s']} s (median of 7)")  # fmt: skip
    for key, where in (("dashboard", "embedded stack"), ("dashboard_home", "one-machine host")):
        d = r.get(key, {})
        if "list_painted_ms" in d:
            painted, c = d["list_painted_ms"], d.get("conditions")
            lines.append(f"- dashboard on the {where}, {d['certificates']} certificates / {d['records']} records at "
                         f"390 px: first contentful paint {d['first_contentful_paint_ms']} ms, certificate list "
                         f"painted {painted} ms ({verdict(painted < 1000, c)}; median of {d.get('loads', 5)}, max "
                         f"{d['list_painted_max_ms']} ms; {_load(c)})")  # fmt: skip
        elif d:
            lines.append(f"- dashboard on the {where}: {d.get('skipped')}")
    return [*lines, ""]
