"""Three processes on one home at once: `certpush serve` and two `push --wait` commands, each of which
drives its own issuances while serve works the same queue. 100 pushes (5 certificates to WAF and ELB
in 10 regions each): every one SUCCEEDED, one copy in each target, and no "database is locked" (nor
any other error) reaching a user."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from certpush.models.domain import CertificateMaterial
from certpush.providers.registry import REGISTRY
from certpush_cli.host.home import Home
from certpush_cli.host.wiring import Host
from certpush_cli.logic.certificate_import import import_certificate
from tests.host.conftest import CliResult, Serve, copies, host_environment, sample

pytestmark = pytest.mark.host

REGIONS = ("cn-north-4", "cn-north-1", "cn-east-3", "cn-east-2", "cn-south-1", "ap-southeast-1", "ap-southeast-2",
           "ap-southeast-3", "af-south-1", "la-south-2")  # fmt: skip
CERTIFICATES = [f"busy-{n}" for n in range(5)]


def _import(home: Path) -> None:
    """The certificates straight into the home's inventory (the pushes are what this test is about)."""
    host = Host.open(Home.open(home))
    for certificate_id in CERTIFICATES:
        made = sample(certificate_id)
        material = CertificateMaterial(
            certificate_pem=made.certificate_pem,
            chain_pem=made.chain_pem,
            private_key_pem=SecretStr(made.private_key_pem),
        )
        import_certificate(host.store, host.clock, material, certificate_id, catalog=REGISTRY)
    host.close()


def test_two_push_wait_commands_and_serve_push_everything_once(
    cli: Callable[..., CliResult], serve: Serve, home: Path
) -> None:
    _import(home)
    serve.start()
    targets = f"--to huaweicloud:waf={','.join(REGIONS)} --to huaweicloud:elb={','.join(REGIONS)}"
    commands = [
        " && ".join(f"{sys.executable} -m certpush_cli.main push {c} {targets} --wait --json" for c in half)
        for half in (CERTIFICATES[:3], CERTIFICATES[3:])
    ]
    running = [
        subprocess.Popen(
            ["bash", "-c", command],
            env=host_environment(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    outputs = [process.communicate(timeout=300) for process in running]

    for process, (stdout, stderr) in zip(running, outputs, strict=True):
        assert process.returncode == 0, stdout + stderr
        assert "locked" not in stderr.lower() and "error" not in stderr.lower(), stderr
    records = [r for c in CERTIFICATES for r in cli("records", c, "--json").json()]
    assert len(records) == 100 and {r["status"] for r in records} == {"SUCCEEDED"}
    for certificate_id in CERTIFICATES:
        for region in REGIONS:
            name = f"certpush-{certificate_id}-v1"
            assert (copies(home, "waf", region, name), copies(home, "elb", region, name)) == (1, 1)
    assert serve.terminate() == 0
    log = serve.log.read_text()
    assert "locked" not in log.lower() and "Traceback" not in log
