"""`make demo` (samples/demo.sh) as a user runs it: certpush serve --simulate in a fresh home, a push
to every simulated service, the host stopped and started again, everything still there, and nothing
left running or on disk afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.host.conftest import ROOT, host_environment

pytestmark = pytest.mark.host


def test_the_demo_pushes_stops_the_host_starts_it_again_and_everything_is_still_there(tmp_path: Path) -> None:
    env = host_environment(tmp_path / "unused", PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    del env["CERTPUSH_HOME"]  # the demo makes its own home

    result = subprocess.run(
        ["bash", "samples/demo.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
    before, after = result.stdout.split("== after the restart")
    home = next(line.split("(home ")[1].rstrip(")") for line in before.splitlines() if "(home " in line)
    pushed = {tuple(line.split()[:3]) for line in before.splitlines() if " SUCCEEDED " in line and "https://" in line}
    assert {(p, s) for p, s, _ in pushed} >= {("huaweicloud", "waf"), ("huaweicloud", "elb"), ("huaweicloud", "cdn")}
    assert ("aws", "elb", "us-east-1") in pushed  # moto is installed here
    kept = {tuple(line.split()[:3]) for line in after.splitlines() if " SUCCEEDED " in line}
    assert kept >= pushed  # the records (and their history) after the restart
    assert "demo-example-com" in after and "Certificate Push Summary" in after
    assert not Path(home).exists()  # cleaned up, simulators stopped with it
