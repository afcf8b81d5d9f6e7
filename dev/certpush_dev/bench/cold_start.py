"""Cold start of each handler against a bare Powertools + boto3 handler, in the same run.

Each sample is a fresh CPython 3.12 process (the runtime's version) with only the built layer and
the function's own directory on the path, in a Lambda-like environment (so the Tracer patches as
it does in Lambda), timing the import of the handler module: Lambda's init phase. Runs are
interleaved (bare, validator, push worker, notifier, bare, ...) after an unmeasured round, so a busy
machine slows all alike; the figure is the median.

Beside it, what the first invocation adds before its own network calls (``first_invocation_ms``:
building the handler's objects, settings, clients and the models they load; for the push worker, the
target of its first message too), and what a SnapStart
environment restored from a snapshot pays instead of init + that (``after_restore_ms``: the hook of
``certpush.snapstart`` and the objects built again, the service models already loaded).

The reference is a bare handler as the AWS cookbook writes it: Powertools' Logger, Tracer and Metrics
(ours use the three) and a boto3 client made at init ("initialize SDK clients outside of the function
handler", Lambda's best practices), deployed as such a function is: boto3 and Powertools only, with
every botocore service model (``BARE_PACKAGES``: a link farm over the stock build of the layer). Its
Tracer patches botocore only, as ours patch only what they call: a plain ``Tracer()`` tries every
library X-Ray can patch (run from our layer it imported httpx, which no bare deployment holds), a
cost that would flatter the ratios. As the bare handler makes its client at init and ours make
theirs at the first invocation, the compared figure (``ratio``) is init + what the first invocation
builds; init alone is ``init_ratio``."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
from pathlib import Path

BARE_HANDLER = """
import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer(patch_modules=["botocore"])  # as ours: only what it calls (Powertools' advice for cold starts)
metrics = Metrics()
dynamodb = boto3.client("dynamodb")  # made at init, once per environment


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    return {}
"""

# references that say where the floor is: the bare handler plus what any handler validating its
# input with pydantic models imports, and plus cryptography's X.509 (the validator checks chains)
WITH_PYDANTIC = BARE_HANDLER.replace(
    "import boto3\n", "import boto3\nfrom pydantic import BaseModel\n\n\nclass Event(BaseModel):\n    id: str\n\n"
)
WITH_PYDANTIC_AND_X509 = WITH_PYDANTIC.replace("import boto3\n", "import boto3\nfrom cryptography import x509\n")

# what each reference is deployed with (top-level names in the layer; their dist-info too)
BARE_PACKAGES = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "python_dateutil", "six",
                           "urllib3", "aws_lambda_powertools", "aws_xray_sdk", "wrapt",
                           "typing_extensions"})  # fmt: skip
PYDANTIC_PACKAGES = BARE_PACKAGES | {"pydantic", "pydantic_core", "annotated_types", "typing_inspection"}
X509_PACKAGES = PYDANTIC_PACKAGES | {"cryptography", "cffi", "_cffi_backend", "pycparser"}
REFERENCES = {"bare": (BARE_HANDLER, BARE_PACKAGES), "bare+pydantic": (WITH_PYDANTIC, PYDANTIC_PACKAGES),
              "bare+pydantic+x509": (WITH_PYDANTIC_AND_X509, X509_PACKAGES)}  # fmt: skip
# Not a reference the goal is judged by, shown beside it so that the figures say where the time went:
# the bare handler on the botocore data certpush's layer ships (layers/certpush/botocore_data.py: this
# deployment's services only, models without documentation, uncompressed), i.e. what the same build
# step would give any function. Its packages are linked from the built layer, not the stock one.
ON_OUR_DATA = {"bare, certpush's botocore data": (BARE_HANDLER, BARE_PACKAGES)}

_PROBE = """
import time
clock, cpu = time.perf_counter, time.process_time
t, c = clock(), cpu()
import app
ms, cpu_ms = (clock() - t) * 1000, (cpu() - c) * 1000
first = first_cpu = restored = other = 0.0
builder = getattr(app, {builder!r}, None)
if builder is not None:
    t, c = clock(), cpu()
    built = builder()
    {first_use}
    first, first_cpu = (clock() - t) * 1000, (cpu() - c) * 1000
    t = clock()
    {other_use}
    other = (clock() - t) * 1000
    from certpush.snapstart import after_restore
    t = clock()
    after_restore()
    built = builder()
    {first_use}
    restored = (clock() - t) * 1000
try:  # VmHWM, not ru_maxrss, which Linux keeps across execve (it would be the bench's own peak)
    mb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
except OSError:
    import resource, sys
    mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * (1024 if sys.platform == "darwin" else 1))
print(ms, mb, first, restored, cpu_ms, first_cpu, other)
"""
BUILDERS = {"validator": "_validator", "push_worker": "_consumer", "notifier": "_consumer"}
# what the first message uses beyond what its builder made: the push worker builds a target when a push
# first asks for it (certpush.wiring.TargetsOnDemand). Counted: an AWS target (its clients are the
# session's; no request is made, so no TLS context on either side). Beside it (``other_target_ms``):
# what a first message for Huawei Cloud costs instead: its HTTP client, whose TLS context httpx makes
# when the client is made (botocore makes its own at the first request, which no figure here counts)
FIRST_USE = {"push_worker": "built._worker.targets.get(('aws', 'elb'))"}
OTHER_USE = {"push_worker": "built._worker.targets.get(('huaweicloud', 'waf'))"}


def find_python312() -> str | None:
    candidates = ["python3.12", *sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))]
    versions = sorted(p.name for p in Path.home().glob(".pyenv/versions/3.12*"))
    env = {**os.environ, "PYENV_VERSION": versions[-1]} if versions else dict(os.environ)
    for candidate in candidates:
        try:
            out = subprocess.run([candidate, "-c", "import sys; print(sys.executable, sys.version_info[:2])"],  # noqa: S603
                                 capture_output=True, text=True, env=env, timeout=30, check=False)  # fmt: skip
        except OSError:
            continue
        if out.returncode == 0 and "(3, 12)" in out.stdout:
            return out.stdout.split()[0]
    return None


def _environment(layer: Path, code: Path, name: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{code}:{layer}",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",  # as under a read-only /opt: only the shipped bytecode counts
        "AWS_LAMBDA_FUNCTION_NAME": f"certpush-{name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "LAMBDA_TASK_ROOT": str(code),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        # Lambda gives the function's role credentials in the environment: without them botocore's
        # chain would ask the instance metadata service first (a request, on both sides)
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_SERVICE_NAME": f"certpush-{name}",
        "POWERTOOLS_METRICS_NAMESPACE": "certpush",
        # what the handlers' builders read, as template.yaml's Globals set it (no call is made: building
        # makes clients, not requests): the topic makes the notifier's SNS client, the Huawei Cloud
        # credentials' secret makes the push worker's Huawei Cloud client
        "RECORDS_TABLE": "certpush-records",
        "INVENTORY_TABLE": "certpush-inventory",
        "PUSH_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/certpush-push",
        "EVENT_BUS_NAME": "certpush",
        "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:certpush-notify",
        "CERTIFICATE_KMS_KEY_ID": "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000",
        "SECRETS_PREFIX": "certpush/certificates",
        "HUAWEICLOUD_CREDENTIALS_SECRET_ID": "certpush/huaweicloud",
        "HUAWEICLOUD_PROJECT_IDS": '{"ap-southeast-1": "0123456789abcdef0123456789abcdef"}',
        "HUAWEICLOUD_SITE": "com",
    }


def reference_layer(stock_layer: Path, packages: frozenset[str], into: Path) -> Path:
    """A layer holding only ``packages`` of the stock build (links, not copies)."""
    into.mkdir(parents=True)
    for entry in stock_layer.iterdir():
        name = entry.name.split("-")[0] if entry.name.endswith(".dist-info") else entry.name.split(".")[0]
        if name in packages or entry.name == "__pycache__":
            (into / entry.name).symlink_to(entry)
    return into


def measure(root: Path, layer: Path, stock_layer: Path, python: str, runs: int = 7) -> dict[str, dict[str, float]]:
    """Median cold start (ms) of each handler and of the references, and their ratios to the bare one."""
    with tempfile.TemporaryDirectory() as scratch:
        codes: dict[str, tuple[Path, Path]] = {}
        for name, (text, packages) in REFERENCES.items():
            code = Path(scratch) / name
            code.mkdir()
            (code / "app.py").write_text(text)
            codes[name] = (code, reference_layer(stock_layer, packages, Path(scratch) / f"{name}-layer"))
        for index, (name, (text, packages)) in enumerate(ON_OUR_DATA.items()):
            code = Path(scratch) / f"ours-{index}"
            code.mkdir()
            (code / "app.py").write_text(text)
            codes[name] = (code, reference_layer(layer, packages, Path(scratch) / f"ours-{index}-layer"))
        for name in ("validator", "push_worker", "notifier"):
            codes[name] = (root / "functions" / name, layer)
        samples: dict[str, list[float]] = {name: [] for name in codes}
        firsts: dict[str, list[float]] = {name: [] for name in codes}
        restores: dict[str, list[float]] = {name: [] for name in codes}
        cpu: dict[str, list[float]] = {name: [] for name in codes}
        others: dict[str, list[float]] = {name: [] for name in codes}
        memory: dict[str, float] = {}
        inits: dict[str, list[float]] = {}
        for round_ in range(runs + 1):  # the first, unmeasured, warms the page cache for every case
            for name, (code, on_path) in codes.items():
                probe = _PROBE.format(builder=BUILDERS.get(name, ""), first_use=FIRST_USE.get(name, "pass"),
                                      other_use=OTHER_USE.get(name, "pass"))  # fmt: skip
                out = subprocess.run([python, "-s", "-c", probe], cwd=code, env=_environment(on_path, code, name),  # noqa: S603
                                     capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
                init, peak_mb, first, restored, init_cpu, first_cpu, other = map(
                    float, out.stdout.strip().splitlines()[-1].split()
                )
                if round_ == 0:
                    continue
                samples[name].append(init + first)
                firsts[name].append(first)
                restores[name].append(restored)
                cpu[name].append(init_cpu + first_cpu)
                others[name].append(other)
                memory[name] = peak_mb
                inits.setdefault(name, []).append(init)
    bare_ms, bare_cpu_ms = statistics.median(samples["bare"]), statistics.median(cpu["bare"])
    found: dict[str, dict[str, float]] = {}
    for name, totals in samples.items():
        # medians of each run's init + first invocation, not sums of two medians
        total_ms, init_ms = statistics.median(totals), statistics.median(inits[name])
        cpu_ms = statistics.median(cpu[name])
        found[name] = {
            "median_ms": round(total_ms, 1),
            "ratio": round(total_ms / bare_ms, 2),
            "init_ms": round(init_ms, 1),
            "init_ratio": round(init_ms / statistics.median(inits["bare"]), 2),
            # CPU time of the same (the process's user + system): what a busy machine disturbs least
            "cpu_ms": round(cpu_ms, 1),
            "cpu_ratio": round(cpu_ms / bare_cpu_ms, 2),
            "peak_mb_after_init": round(memory[name], 1),
        }
        if name in BUILDERS:
            found[name]["first_invocation_ms"] = round(statistics.median(firsts[name]), 1)
            found[name]["after_restore_ms"] = round(statistics.median(restores[name]), 1)
        if name in OTHER_USE:
            found[name]["other_target_ms"] = round(statistics.median(others[name]), 1)
    return found


def main() -> int:
    """``python -m certpush_dev.bench.cold_start [runs]``: this part of the bench alone, recorded in
    bench/results/cold-start-<time>.json."""
    import json
    import sys
    from datetime import UTC, datetime

    from certpush_dev.bench.__main__ import RESULTS, ROOT, build_layer
    from certpush_dev.bench.machine import Watch

    python = find_python312()
    if python is None:
        print("no CPython 3.12 on this machine: install one (pyenv install 3.12) to measure", file=sys.stderr)
        return 1
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    layer, stock = build_layer(), build_layer(stock=True)
    with Watch() as watch:
        found: dict[str, object] = {**measure(ROOT, layer, stock, python, runs=runs)}
    found["conditions"] = watch.conditions.to_dict() if watch.conditions else None
    found["runs"] = runs
    date = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"cold-start-{date.replace(':', '').replace('-', '')}.json"
    path.write_text(json.dumps({"date": date, "cold_start": found}, indent=2) + "\n")
    print(json.dumps(found, indent=2))
    print(f"recorded in {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
