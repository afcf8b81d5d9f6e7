"""Cold start of each handler against a bare Powertools + boto3 handler, in the same run.

Each sample is a fresh CPython 3.12 process (the runtime's version) with only the built layer and
the function's own directory on the path, in a Lambda-like environment (so the Tracer patches as
it does in Lambda), timing the import of the handler module: Lambda's init phase. Runs are
interleaved (bare, validator, push worker, notifier, bare, ...) so a busy machine slows all alike;
the figure is the median.

Beside it, what the first invocation adds before its own network calls (``first_invocation_ms``:
building the handler's objects, settings, clients and the models they load), and what a SnapStart
environment restored from a snapshot pays instead of init + that (``after_restore_ms``: the hook of
``certpush.snapstart`` and the objects built again, the service models already loaded)."""

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
tracer = Tracer()
metrics = Metrics()


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

_PROBE = """
import time
t = time.perf_counter()
import app
ms = (time.perf_counter() - t) * 1000
first = restored = 0.0
builder = getattr(app, {builder!r}, None)
if builder is not None:
    t = time.perf_counter()
    builder()
    first = (time.perf_counter() - t) * 1000
    from certpush.snapstart import after_restore
    t = time.perf_counter()
    after_restore()
    builder()
    restored = (time.perf_counter() - t) * 1000
try:  # VmHWM, not ru_maxrss, which Linux keeps across execve (it would be the bench's own peak)
    mb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
except OSError:
    import resource, sys
    mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * (1024 if sys.platform == "darwin" else 1))
print(ms, mb, first, restored)
"""
BUILDERS = {"validator": "_validator", "push_worker": "_consumer", "notifier": "_consumer"}


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
        "POWERTOOLS_SERVICE_NAME": f"certpush-{name}",
        "POWERTOOLS_METRICS_NAMESPACE": "certpush",
        # what the handlers' builders read (no call is made: building makes clients, not requests)
        "RECORDS_TABLE": "certpush-records",
        "INVENTORY_TABLE": "certpush-inventory",
        "PUSH_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/certpush-push",
        "EVENT_BUS_NAME": "certpush",
    }


def measure(root: Path, layer: Path, python: str, runs: int = 7) -> dict[str, dict[str, float]]:
    """Median import time (ms) of each handler and of the bare handler, and their ratios."""
    with tempfile.TemporaryDirectory() as scratch:
        references = {}
        for name, text in (("bare", BARE_HANDLER), ("bare+pydantic", WITH_PYDANTIC),
                           ("bare+pydantic+x509", WITH_PYDANTIC_AND_X509)):  # fmt: skip
            references[name] = Path(scratch) / name
            references[name].mkdir()
            (references[name] / "app.py").write_text(text)
        codes = {**references, **{n: root / "functions" / n for n in ("validator", "push_worker", "notifier")}}
        samples: dict[str, list[float]] = {name: [] for name in codes}
        firsts: dict[str, list[float]] = {name: [] for name in codes}
        restores: dict[str, list[float]] = {name: [] for name in codes}
        memory: dict[str, float] = {}
        for _ in range(runs):
            for name, code in codes.items():
                probe = _PROBE.format(builder=BUILDERS.get(name, ""))
                out = subprocess.run([python, "-s", "-c", probe], cwd=code, env=_environment(layer, code, name),  # noqa: S603
                                     capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
                elapsed, peak_mb, first, restored = out.stdout.strip().splitlines()[-1].split()
                samples[name].append(float(elapsed))
                firsts[name].append(float(first))
                restores[name].append(float(restored))
                memory[name] = float(peak_mb)
    bare_ms = statistics.median(samples["bare"])
    found: dict[str, dict[str, float]] = {}
    for name, values in samples.items():
        found[name] = {
            "median_ms": round(statistics.median(values), 1),
            "ratio": round(statistics.median(values) / bare_ms, 2),
            "peak_mb_after_init": round(memory[name], 1),
        }
        if name in BUILDERS:
            first_ms = statistics.median(firsts[name])
            found[name]["first_invocation_ms"] = round(first_ms, 1)
            found[name]["init_and_first_ratio"] = round((statistics.median(values) + first_ms) / bare_ms, 2)
            found[name]["after_restore_ms"] = round(statistics.median(restores[name]), 1)
    return found
