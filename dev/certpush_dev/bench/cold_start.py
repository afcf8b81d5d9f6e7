"""Cold start of each handler against a bare Powertools + boto3 handler, in the same run.

Each sample is a fresh CPython 3.12 process (the runtime's version) with only the built layer and
the function's own directory on the path, in a Lambda-like environment (so the Tracer patches as
it does in Lambda), timing the import of the handler module: Lambda's init phase. Runs are
interleaved (bare, validator, push worker, notifier, bare, ...) so a busy machine slows all alike;
the figure is the median."""

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

_PROBE = "import time; t = time.perf_counter(); import app; print((time.perf_counter() - t) * 1000)"


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
    }


def measure(root: Path, layer: Path, python: str, runs: int = 7) -> dict[str, dict[str, float]]:
    """Median import time (ms) of each handler and of the bare handler, and their ratios."""
    with tempfile.TemporaryDirectory() as scratch:
        bare = Path(scratch)
        (bare / "app.py").write_text(BARE_HANDLER)
        codes = {"bare": bare, **{n: root / "functions" / n for n in ("validator", "push_worker", "notifier")}}
        samples: dict[str, list[float]] = {name: [] for name in codes}
        for _ in range(runs):
            for name, code in codes.items():
                out = subprocess.run([python, "-s", "-c", _PROBE], cwd=code, env=_environment(layer, code, name),  # noqa: S603
                                     capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
                samples[name].append(float(out.stdout.strip().splitlines()[-1]))
    bare_ms = statistics.median(samples["bare"])
    return {
        name: {"median_ms": round(statistics.median(values), 1), "ratio": round(statistics.median(values) / bare_ms, 2)}
        for name, values in samples.items()
    }
