"""``make bench``: runs every benchmark, prints a Markdown table, keeps each run in bench/results/
(``bench-<time>.json`` and ``bench-<time>.md``; ``latest.*`` is the last).

python -m certpush_dev.bench                 # the whole matrix
BENCH_QUICK=1 python -m certpush_dev.bench   # a smaller matrix while working on it

Fan-outs run in two settings, the project's own (20 Huawei targets at 150 ms) and issue 22's (30
targets: 10 Huawei WAF + 10 Huawei ELB + 10 AWS ELB regions at 300 ms), on the embedded stack and
on the one-machine host; compared cases are interleaved, with medians of at least 5 rounds after a
warm-up, and every figure carries the load average and CPU steal of its measurement (machine.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from certpush_dev.bench.cold_start import find_python312, measure
from certpush_dev.bench.cost import million_pushes
from certpush_dev.bench.machine import MIN_ROUNDS, Watch
from certpush_dev.bench.pipeline import OWN, WIDE, Bench, concurrency_sweep, fan_out, peak_memory, throughput

ROOT = Path(__file__).resolve().parents[3]
RESULTS = ROOT / "bench" / "results"
BUILD = ROOT / "bench" / ".build"
LATENCY_MS = OWN.latency_ms  # Huawei Cloud simulator per request; ACM / ELB per call through a botocore hook
AWS_CONTROL_PLANE_MS = 10  # DynamoDB, SQS, EventBridge, SNS, Secrets Manager: an in-region round trip


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def build_layer(*, stock: bool = False) -> Path:
    """The layer, built by its own Makefile (kept while its inputs do not change). ``stock``: with
    every botocore service model, as boto3 ships (what the bare reference handler of the cold start
    bench runs on: the layer's own pruning is one of certpush's cuts, not the reference's)."""
    source = ROOT / "layers" / "certpush"
    digest = hashlib.sha256()
    for path in sorted([source / "Makefile", source / "requirements.txt", *source.joinpath("certpush").rglob("*.py")]):
        digest.update(path.read_bytes())
    name = "layer-stock" if stock else "layer"
    target, stamp = BUILD / name, BUILD / f"{name}.sha256"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return target / "python"
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(["make", "-s", "-C", str(source), "build-CertpushLayer", f"ARTIFACTS_DIR={target}",  # noqa: S603, S607
                    f"PYTHON={sys.executable}", *(["BOTOCORE_SERVICES="] if stock else [])],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    stamp.write_text(digest.hexdigest())
    return target / "python"


def sizes(layer: Path) -> dict[str, Any]:
    def unpacked(path: Path) -> int:
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())

    def zipped(path: Path) -> int:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for p in path.rglob("*"):
                if p.is_file():
                    archive.write(p, p.relative_to(path.parent))
        return buffer.tell()

    mb = 1024 * 1024
    boto = sum(unpacked(layer / name) for name in ("boto3", "botocore", "s3transfer") if (layer / name).exists())
    return {
        "layer_unpacked_mb": round(unpacked(layer) / mb, 1),
        "layer_zipped_mb": round(zipped(layer) / mb, 1),
        "boto3_botocore_s3transfer_unpacked_mb": round(boto / mb, 1),
        "functions_kb": {
            n: round(unpacked(ROOT / "functions" / n) / 1024, 1) for n in ("validator", "push_worker", "notifier")
        },
    }


def main() -> int:
    full = os.environ.get("BENCH_QUICK") != "1"
    started = time.monotonic()
    report: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "full_matrix": full,
                              "cpu_count": os.cpu_count()}  # fmt: skip

    say("building the layer with its Makefile")
    layer = build_layer()
    report["sizes"] = sizes(layer)
    python312 = find_python312()
    if python312:
        say("cold starts (CPython 3.12, the built layer only)")
        with Watch() as watch:
            report["cold_start"] = measure(ROOT, layer, build_layer(stock=True), python312, runs=7)
        report["cold_start"]["conditions"] = watch.conditions.to_dict() if watch.conditions else None
    else:
        report["cold_start"] = {"skipped": "no CPython 3.12 on this machine"}

    from certpush_dev.bench.operator import cli_start, dashboard_first_paint, home_dashboard_first_paint

    say("the command line's start: certpush --help, --version, push --help (goal: --help under 0.4 s)")
    report["cli_start"] = cli_start()
    say(f"cli start: {json.dumps(report['cli_start'])}")
    say("the dashboard's first paint: 50 certificates, 500 records, chromium at 390 px (goal: under 1 s)")
    report["dashboard"] = dashboard_first_paint(ROOT)
    say(f"dashboard: {json.dumps(report['dashboard'])}")
    say("the same on the one-machine host (a home's SQLite)")
    report["dashboard_home"] = home_dashboard_first_paint()
    say(f"dashboard (home): {json.dumps(report['dashboard_home'])}")

    say("starting the embedded stack")
    with Bench(ROOT, aws_target_ms=LATENCY_MS, aws_other_ms=AWS_CONTROL_PLANE_MS) as bench:
        report["fan_out"] = {}
        for key, setting in (("own", OWN), ("wide", WIDE)):
            say(f"fan-out: {setting.name}, {MIN_ROUNDS} interleaved rounds")
            report["fan_out"][key] = fan_out(bench, setting, rounds=MIN_ROUNDS)
            say(f"fan-out: {json.dumps(_brief(report['fan_out'][key]))}")

        bench.latency(0)
        bench.counter.slow_down({}, 0)
        certificates, regions = (500, 10) if full else (20, 10)
        say(f"throughput: {certificates} certificates x {regions} regions at 0 ms")
        with Watch() as watch:
            run = throughput(bench, certificates, regions)
        conditions = watch.conditions.to_dict() if watch.conditions else None
        report["throughput"] = {"certificates": certificates, "regions": regions, **run.summary(),
                                "conditions": conditions}  # fmt: skip
        say(f"throughput: {json.dumps(report['throughput'])}")

        # the throughput run is the matrix's last point (500 x 10)
        scaling = []
        matrix = [(10, 1), (10, 5), (10, 10), (100, 10)] if full else [(10, 1), (10, 5), (10, 10)]
        for n_certs, n_regions in matrix:
            say(f"scaling: {n_certs} certificates x {n_regions} regions")
            summary = throughput(bench, n_certs, n_regions).summary()
            scaling.append({"certificates": n_certs, "regions": n_regions, **summary})
            say(f"  {summary['pushes_per_second']} pushes/s, {summary['control_plane_calls_per_push']} calls/push")
        scaling.append({"certificates": certificates, "regions": regions, **run.summary()})
        if python312 and full:
            say("peak memory: one issuance of 10 regions, each invocation in a process of its own")
            report["peak_memory_mb"] = peak_memory(bench, python312, layer)
            say(f"peak memory: {json.dumps(report['peak_memory_mb'])}")
        report["scaling"] = scaling

    if full:  # a stack each: the longest part of the matrix
        say(f"PushConcurrency 1, 5, 10: 20 targets at {LATENCY_MS} ms, a stack each")
        report["push_concurrency"] = concurrency_sweep(ROOT, (1, 5, 10), LATENCY_MS, AWS_CONTROL_PLANE_MS)
        say(f"push concurrency: {json.dumps(report['push_concurrency'])}")

    from certpush_dev.bench.host import host_fan_out, host_throughput

    report["host"] = {"fan_out": {}}
    for key, setting in (("own", OWN), ("wide", WIDE)):
        say(f"one machine (certpush serve's runtime): fan-out, {setting.name}, {MIN_ROUNDS} interleaved rounds")
        report["host"]["fan_out"][key] = host_fan_out(setting, rounds=MIN_ROUNDS)
        say(f"one machine: {json.dumps(_brief(report['host']['fan_out'][key]))}")
    host_certificates = 200 if full else 20
    say(f"one machine: throughput, {host_certificates} certificates x 10 regions at 0 ms")
    with Watch() as watch:
        report["host"]["throughput"] = host_throughput(host_certificates)
    report["host"]["throughput"]["conditions"] = watch.conditions.to_dict() if watch.conditions else None
    say(f"one machine: {json.dumps(report['host']['throughput'])}")

    from certpush_dev.bench.mass_renewal import bench_mass_renewal

    say("mass renewal: one machine, Huawei simulator enforcing flow control, moto enforcing ACM's quotas")
    report["mass_renewal"] = bench_mass_renewal(quick=not full)
    say(f"mass renewal: {json.dumps(report['mass_renewal'])}")

    memory = {"ValidatorFunction": 512, "PushWorkerFunction": 512, "NotifierFunction": 512}
    report["cost"] = million_pushes(report["throughput"], memory, batch_targets=report["throughput"]["regions"])
    report["duration_s"] = round(time.monotonic() - started, 1)

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = report["date"].replace(":", "").replace("-", "")
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(report, indent=2) + "\n")
    table = render(report)
    (RESULTS / f"bench-{stamp}.md").write_text(table)
    (RESULTS / "latest.md").write_text(table)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table)
    return 0


def _brief(figures: dict[str, Any]) -> dict[str, Any]:
    keep = ("one_target_s", "many_targets_s", "one_after_another_s", "many_vs_one", "speedup_vs_one_after_another")
    return {**{k: figures[k] for k in keep}, "conditions": figures["conditions"]}


def render(report: dict[str, Any]) -> str:
    from certpush_dev.bench.report import render_markdown

    return render_markdown(report)


if __name__ == "__main__":
    raise SystemExit(main())
