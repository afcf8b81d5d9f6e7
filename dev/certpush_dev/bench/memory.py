"""Peak memory of each handler, as Lambda's "Max Memory Used" reports it: one fresh process per
invocation (the runtime's Python, only the built layer and the function's code on the path), its
init and one invocation with a real event from the embedded stack, the peak resident set of both.

The embedded stack normally runs every handler in its own process; for this measure the bench hands
each invocation of the three pipeline functions to ``SubprocessRunner`` instead (``Invoker.runner``),
so the events, the AWS calls and the pushes are the real ones of an issuance."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

from certpush_dev.local.provision import FunctionSpec

# runs inside the child: only the standard library, the layer and the function's code are there
_CHILD = """
import json, sys, time, uuid
event = json.load(sys.stdin)
class Context:
    function_name = sys.argv[1]
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:" + sys.argv[1]
    aws_request_id = str(uuid.uuid4())
    log_group_name = log_stream_name = "local"
    function_version = "$LATEST"
    _deadline = time.monotonic() + float(sys.argv[2])
    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))
module, name = sys.argv[3].rsplit(".", 1)
handler = getattr(__import__(module), name)
try:
    result, ok = handler(event, Context()), True
except Exception as exc:
    result, ok = {"errorType": type(exc).__name__, "errorMessage": str(exc)}, False
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve, so a child of a big process would
# report its parent's peak (elsewhere ru_maxrss is all there is; macOS counts it in bytes)
try:
    peak_mb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
except OSError:
    import resource
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * (1024 if sys.platform == "darwin" else 1))
sys.stdout = sys.__stdout__
print("\\n" + json.dumps({"ok": ok, "result": result, "peak_mb": peak_mb}, default=str))
"""


class SubprocessRunner:
    """Runs one function's invocations each in a new process of ``python`` and keeps their peaks."""

    def __init__(self, spec: FunctionSpec, python: str, layer: Path) -> None:
        self._spec, self._python, self._layer = spec, python, layer
        self.peaks_mb: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> tuple[bool, Any]:
        environment = {
            **os.environ,
            **self._spec.environment,
            "PYTHONPATH": f"{self._spec.code_dir}:{self._layer}",
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWS_LAMBDA_FUNCTION_NAME": self._spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        }
        done = subprocess.run(  # noqa: S603 - the runtime's Python with our own script
            [self._python, "-s", "-c", _CHILD, self._spec.name, str(self._spec.timeout), self._spec.handler],
            input=json.dumps(event),
            capture_output=True,
            text=True,
            env=environment,
            cwd=self._spec.code_dir,
            timeout=self._spec.timeout + 30,
            check=False,
        )
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            return False, {"errorType": "ProcessFailed", "errorMessage": done.stderr[-2000:]}
        report = json.loads(lines[-1])
        with self._lock:
            self.peaks_mb.append(float(report["peak_mb"]))
        return bool(report["ok"]), report["result"]
