"""make bench's report: goals marked met or missed from the measures (inconclusive on a busy
machine), scaling judged flat or not, the cost of a million pushes from the measured calls."""

from __future__ import annotations

from typing import Any

import pytest

from certpush_dev.bench.cost import million_pushes
from certpush_dev.bench.report import render_markdown

pytestmark = pytest.mark.unit


def _run(pushes: int, regions: int, cpu: float, calls: float) -> dict[str, Any]:
    return {
        "certificates": pushes // regions, "regions": regions, "pushes": pushes, "seconds": 1.0,
        "pushes_per_second": 10.0, "cpu_ms_per_push": cpu, "handlers_cpu_ms_per_push": cpu / 3,
        "aws_emulator_cpu_ms_per_push": cpu * 2 / 3, "control_plane_calls_per_push": calls,
        "control_plane_calls_per_push_by_operation": {"dynamodb.PutItem": 1.1, "secretsmanager.GetSecretValue": 0.3},
        "function_seconds_per_push": {"PushWorkerFunction": 0.1}, "invocations_per_push": {"PushWorkerFunction": 0.1},
    }  # fmt: skip


QUIET = {"cpu_count": 2, "load_1m_max": 1.2, "load_1m_start": 0.9, "steal_pct": 1.0, "seconds": 60.0}
BUSY = {**QUIET, "load_1m_max": 3.4}


def _fan_out(many_vs_one: float, speedup: float, conditions: dict[str, Any], targets: int = 20) -> dict[str, Any]:
    return {"setting": f"{targets} targets", "targets": targets, "latency_ms": 150, "one_target_s": 0.7,
            "many_targets_s": round(0.7 * many_vs_one, 2), "one_after_another_s": 10.0, "many_vs_one": many_vs_one,
            "speedup_vs_one_after_another": speedup, "rounds": 5, "conditions": conditions,
            "calls": {"control_plane_calls_per_push": 4.2}}  # fmt: skip


def _report(
    twenty_vs_one: float, speedup: float, scaling: list[dict[str, Any]], conditions: dict[str, Any] = QUIET
) -> dict[str, Any]:
    throughput = scaling[-1]
    return {
        "date": "2026-11-29T00:00:00+00:00", "full_matrix": True, "cpu_count": 2, "duration_s": 1.0,
        "fan_out": {"own": _fan_out(twenty_vs_one, speedup, conditions)},
        "throughput": throughput, "scaling": scaling,
        "cold_start": {"bare": {"median_ms": 140.0, "ratio": 1.0, "peak_mb_after_init": 41.0}, "conditions": conditions,
                       **{n: {"median_ms": 270.0, "ratio": 1.93, "init_ms": 170.0, "init_ratio": 1.21,
                              "peak_mb_after_init": 55.0, "first_invocation_ms": 100.0, "after_restore_ms": 80.0,
                              "cpu_ratio": 1.72, "other_target_ms": 60.0}
                          for n in ("validator", "push_worker", "notifier")}},
        "peak_memory_mb": {"ValidatorFunction": 86.0},
        "push_concurrency": [{"push_concurrency": 1, "twenty_targets_s": 3.2}],
        "sizes": {"layer_unpacked_mb": 63.1, "layer_zipped_mb": 30.9, "boto3_botocore_s3transfer_unpacked_mb": 23.6,
                  "functions_kb": {"validator": 9.0}},
        "cost": million_pushes(throughput, {"PushWorkerFunction": 512}, batch_targets=10),
    }  # fmt: skip


def test_goals_are_marked_from_the_measures() -> None:
    flat = [_run(100, 10, 50.0, 4.6), _run(5000, 10, 52.0, 4.7)]

    met = render_markdown(_report(1.37, 11.0, flat))
    missed = render_markdown(_report(1.6, 9.5, flat))

    assert "1.37 x one target | <= 1.5 x: met | load 1.20 / 2 cores, steal 1.0 % |" in met
    assert "11.0 x slower than the fan-out | >= 10 x: met |" in met
    assert "1.6 x one target | <= 1.5 x: **missed** |" in missed
    assert "9.5 x slower than the fan-out | >= 10 x: **missed** |" in missed
    assert "270.0 ms = 1.93 x bare (140.0 ms, its client made at init) (init 170.0 ms = 1.21 x," in met
    assert "+ the first invocation's building 100.0 ms); CPU time 1.72 x bare's; a first message for" in met
    assert "Huawei Cloud instead adds 60.0 ms (its HTTP client); restored from a SnapStart snapshot: 80.0 ms" in met
    assert "objects built again); 55.0 MB after init | <= 1.5 x: **missed** |" in met


def test_a_goal_is_not_judged_on_a_machine_busier_than_its_cores() -> None:
    flat = [_run(100, 10, 50.0, 4.6), _run(5000, 10, 52.0, 4.7)]

    busy = render_markdown(_report(1.37, 9.5, flat, conditions=BUSY))
    stolen = render_markdown(_report(1.37, 11.0, flat, conditions={**QUIET, "steal_pct": 14.0}))

    assert "1.37 x one target | <= 1.5 x: inconclusive (load 3.40 / 2 cores, steal 1.0 %; met as measured) |" in busy
    assert ">= 10 x: inconclusive (load 3.40 / 2 cores, steal 1.0 %; missed as measured) |" in busy
    assert "MB after init | <= 1.5 x: inconclusive (" in busy
    assert "<= 1.5 x: inconclusive (load 1.20 / 2 cores, steal 14.0 %; met as measured) |" in stolen
    # counts of calls do not depend on the load: they are still judged
    assert "x: met" not in busy and "x: met" not in stolen and "| <= 6: met |" in busy


def test_scaling_is_judged_flat_within_a_quarter() -> None:
    flat = render_markdown(_report(1.37, 11.0, [_run(100, 10, 50.0, 4.6), _run(5000, 10, 60.0, 4.7)]))
    growing = render_markdown(_report(1.37, 11.0, [_run(100, 10, 50.0, 4.6), _run(5000, 10, 80.0, 6.0)]))

    assert "50.0-60.0 ms (flat)" in flat and "4.6-4.7 (flat)" in flat
    assert "50.0-80.0 ms (not flat)" in growing and "4.6-6.0 (not flat)" in growing


def test_a_million_pushes_cost_adds_up_and_follows_memory() -> None:
    run = _run(5000, 10, 50.0, 4.6)

    small = million_pushes(run, {"PushWorkerFunction": 256}, batch_targets=10)
    large = million_pushes(run, {"PushWorkerFunction": 1024}, batch_targets=10)

    assert small["total_usd"] == pytest.approx(sum(small["usd_per_million_pushes"].values()), abs=0.01)
    assert large["usd_per_million_pushes"]["Lambda compute"] == pytest.approx(
        4 * small["usd_per_million_pushes"]["Lambda compute"], rel=0.05
    )
    # 0.3 secret reads per push, each with its KMS decrypt
    assert small["usd_per_million_pushes"]["Secrets Manager (+ KMS decrypt)"] == pytest.approx(0.3 * (5 + 3), abs=0.01)


def test_the_one_machine_host_is_reported_beside_the_embedded_stack() -> None:
    flat = [_run(100, 10, 50.0, 4.6), _run(5000, 10, 52.0, 4.7)]
    report = _report(1.37, 11.0, flat)
    report["host"] = {
        "fan_out": {"own": {**_fan_out(1.8, 12.0, QUIET), "push_concurrency": 20},
                    "wide": {**_fan_out(1.25, 16.0, QUIET, targets=30), "push_concurrency": 20}},
        "throughput": {"certificates": 200, "regions": 10, "pushes_per_second": 40.0, "cpu_ms_per_push": 9.0},
    }  # fmt: skip

    text = render_markdown(report)

    assert (
        "| one machine (20 push threads): 20 targets, one issuance | 1.26 s = 1.8 x one target | <= 1.5 x: **missed**"
        in text
    )
    assert (
        "| one machine (20 push threads): 30 targets, one issuance | 0.88 s = 1.25 x one target | <= 1.3 x: met" in text
    )
    assert "the same 30 one after another | 10.0 s = 16.0 x slower than the fan-out | >= 15 x: met" in text
    assert "40.0 pushes/s, 9.0 CPU ms/push (host and simulator, one process); the embedded stack above: 10.0" in text
    assert "| embedded stack: 20 targets, one issuance | 0.96 s = 1.37 x one target | <= 1.5 x: met |" in text


def test_the_dashboards_first_paint_is_judged_on_both_hosts_with_the_load_it_ran_at() -> None:
    from certpush_dev.bench.report import operator_lines

    painted = {"certificates": 50, "records": 500, "first_contentful_paint_ms": 70, "loads": 5}
    text = "\n".join(
        operator_lines(
            {
                "dashboard": {**painted, "list_painted_ms": 780, "list_painted_max_ms": 860, "conditions": QUIET},
                "dashboard_home": {**painted, "list_painted_ms": 1200, "list_painted_max_ms": 1300, "conditions": BUSY},
            }
        )
    )

    assert "dashboard on the embedded stack, 50 certificates / 500 records at 390 px" in text
    assert "certificate list painted 780 ms (met; median of 5, max 860 ms; load 1.20 / 2 cores" in text
    assert "dashboard on the one-machine host" in text
    assert "painted 1200 ms (inconclusive (load 3.40 / 2 cores, steal 1.0 %; missed as measured)" in text
