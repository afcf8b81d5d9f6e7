"""samples/systemd/certpush.service: runs `certpush serve` on the home systemd makes for it, stops it
with SIGTERM (a clean stop), and is a unit systemd itself accepts."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

UNIT = Path(__file__).resolve().parents[2] / "samples" / "systemd" / "certpush.service"


def test_the_unit_serves_the_home_systemd_makes_for_it() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    unit.read(UNIT)
    service = unit["Service"]

    assert service["ExecStart"].split()[1:3] == ["serve", "--port"]
    assert service["Environment"] == f"CERTPUSH_HOME=/var/lib/{service['StateDirectory']}"
    assert (service["StateDirectoryMode"], service["UMask"], service["KillSignal"]) == ("0700", "0077", "SIGTERM")
    assert service["ReadWritePaths"] == f"/var/lib/{service['StateDirectory']}"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit() -> None:
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(UNIT)], capture_output=True, text=True, timeout=60, check=False
    )
    # the only complaint allowed: certpush is not installed at /opt/certpush on this machine
    complaints = [line for line in verified.stderr.splitlines() if line and "is not executable" not in line]
    assert complaints == [], verified.stderr
