"""The benchmark report as Markdown: the goals of issue 11 beside what was measured."""

from __future__ import annotations

from typing import Any

GOALS = {"twenty_vs_one": 1.5, "speedup": 10.0, "calls_per_push": 6.0, "cold_start_ratio": 1.3}


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


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
    lines = [
        f"certpush benchmark, {r['date']} ({r['cpu_count']} CPUs; "
        f"{'the whole matrix' if r['full_matrix'] else 'BENCH_QUICK: a smaller matrix'}; "
        f"took {r['duration_s']} s)",
        "",
        "| measure | value | goal |",
        "|---|---|---|",
        f"| one target (150 ms latency) | {fan['one_target_s']} s | |",
        f"| 20 targets in one issuance | {fan['twenty_targets_s']} s = {fan['twenty_vs_one']} x one target "
        f"| <= {GOALS['twenty_vs_one']} x: {_mark(fan['twenty_vs_one'] <= GOALS['twenty_vs_one'])} |",
        f"| the same 20 one after another | {fan['one_after_another_s']} s = "
        f"{fan['speedup_vs_one_after_another']} x slower than the fan-out "
        f"| >= {GOALS['speedup']:.0f} x: {_mark(fan['speedup_vs_one_after_another'] >= GOALS['speedup'])} |",
        f"| control-plane calls per push (fan-out) | {fan['calls']['control_plane_calls_per_push']} "
        f"| <= 6: {_mark(fan['calls']['control_plane_calls_per_push'] <= GOALS['calls_per_push'])} |",
        f"| throughput, {thr['certificates']} certificates x {thr['regions']} regions, 0 ms | "
        f"{thr['pushes_per_second']} pushes/s, {thr['cpu_ms_per_push']} CPU ms/push: handlers, pollers and "
        f"simulator {thr['handlers_cpu_ms_per_push']}, moto {thr['aws_emulator_cpu_ms_per_push']} | |",
        f"| control-plane calls per push (throughput) | {thr['control_plane_calls_per_push']} "
        f"| <= 6: {_mark(thr['control_plane_calls_per_push'] <= GOALS['calls_per_push'])} |",
    ]
    host = r.get("host")
    if host:
        hf, ht = host["fan_out"], host["throughput"]
        lines += [
            f"| one machine (certpush serve, {hf['push_concurrency']} push threads): one target "
            f"| {hf['one_target_s']} s | |",
            f"| one machine: 20 targets in one issuance | {hf['twenty_targets_s']} s = {hf['twenty_vs_one']} x one "
            f"target | <= {GOALS['twenty_vs_one']} x: {_mark(hf['twenty_vs_one'] <= GOALS['twenty_vs_one'])} |",
            f"| one machine: throughput, {ht['certificates']} certificates x {ht['regions']} regions, 0 ms | "
            f"{ht['pushes_per_second']} pushes/s, {ht['cpu_ms_per_push']} CPU ms/push (host and simulator, one "
            f"process); the embedded stack above: {thr['pushes_per_second']} pushes/s | |",
        ]
    cold = r["cold_start"]
    if "bare" in cold:
        for name in ("validator", "push_worker", "notifier"):
            c = cold[name]
            lines.append(
                f"| cold start {name} | {c['median_ms']} ms = {c['ratio']} x bare ({cold['bare']['median_ms']} ms); "
                f"{c['peak_mb_after_init']} MB after init "
                f"| <= {GOALS['cold_start_ratio']} x: {_mark(c['ratio'] <= GOALS['cold_start_ratio'])} |"
            )
        for name in ("bare+pydantic", "bare+pydantic+x509"):
            if name in cold:
                lines.append(
                    f"| cold start, reference: {name} | {cold[name]['median_ms']} ms = {cold[name]['ratio']} x bare | |"
                )
    else:
        lines.append(f"| cold start | {cold.get('skipped')} | |")
    peaks = r.get("peak_memory_mb")
    if peaks:
        listed = ", ".join(f"{name.removesuffix('Function')} {mb} MB" for name, mb in peaks.items())
        lines.append(f"| peak memory, init + one invocation (Lambda's Max Memory Used) | {listed}; MemorySize 512 | |")
    s = r["sizes"]
    lines += [
        f"| layer | {s['layer_unpacked_mb']} MB unpacked, {s['layer_zipped_mb']} MB zipped "
        f"(boto3 + botocore + s3transfer {s['boto3_botocore_s3transfer_unpacked_mb']} MB) | |",
        f"| functions | {', '.join(f'{k} {v} KB' for k, v in s['functions_kb'].items())} | |",
        f"| cost of 1 million pushes | ${r['cost']['total_usd']} | |",
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
    d = r.get("dashboard", {})
    if "list_painted_ms" in d:
        painted = d["list_painted_ms"]
        lines.append(f"- dashboard, {d['certificates']} certificates / {d['records']} records at 390 px: first "
                     f"contentful paint {d['first_contentful_paint_ms']} ms, certificate list painted {painted} ms "
                     f"({_mark(painted < 1000)}; max {d['list_painted_max_ms']} ms)")  # fmt: skip
    elif d:
        lines.append(f"- dashboard: {d.get('skipped')}")
    return [*lines, ""]
