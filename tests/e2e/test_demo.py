"""The embedded AWS stack's demo (samples/embedded-stack-demo.sh), as a user runs it: the detached
embedded stack, the CLI in a shell, cleanup. (`make demo` itself runs on one machine: tests/host/test_demo.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_pushes_everywhere_and_every_certificate_is_where_its_record_says() -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for name in [k for k in env if k.startswith("AWS_")]:  # the demo must find its stack by itself
        del env[name]

    result = subprocess.run(
        ["bash", "samples/embedded-stack-demo.sh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    pushed = [line for line in lines if " SUCCEEDED " in line and "console" in line]
    services = {tuple(line.split()[:3]) for line in pushed}
    assert {(p, s) for p, s, _ in services} == {
        ("aws", "elb"),
        ("aws", "cloudfront"),
        ("huaweicloud", "waf"),
        ("huaweicloud", "elb"),
        ("huaweicloud", "cdn"),
    }
    assert len(services) == 9
    assert ("aws", "cloudfront", "global") in services and ("huaweicloud", "cdn", "global") in services
    checks = [line for line in lines if line.startswith(("ok ", "MISSING "))]
    assert checks and all(line.startswith("ok ") for line in checks)
    assert any("listener" in line for line in checks)
    assert any("distribution" in line and "serves it (TLSv1.2_2021)" in line for line in checks)
    assert any("huaweicloud:cdn:global has demo.example.com" in line for line in checks)
    assert not (ROOT / ".certpush" / "local.json").exists()
