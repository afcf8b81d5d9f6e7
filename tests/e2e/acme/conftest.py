"""A real ACME server for the hooks in samples/hooks: Debian's pebble, Let's Encrypt's test server.

pebble listens on 127.0.0.1 only, on ports chosen here, with a TLS certificate made at run time;
``PEBBLE_VA_ALWAYS_VALID`` makes it skip challenge validation, so the clients only write challenge
files (webroot) and start no server of their own. The fixture stops pebble at the end."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certpush_cli.sample_certificates import make_certificate
from certpush_dev.local.stack import EmbeddedStack
from tests.e2e.conftest import ROOT, CliResult, acm_certificates, eventually

HOOKS = ROOT / "samples" / "hooks"
BIN = Path(sys.executable).parent
# one target of each kind; the policy that sends certificates there is added per test
AWS_REGION, WAF_REGION, ELB_REGION = "us-east-1", "cn-north-4", "ap-southeast-3"
TARGETS = [f"aws:elb={AWS_REGION}", f"huaweicloud:waf={WAF_REGION}", f"huaweicloud:elb={ELB_REGION}"]


@dataclass(frozen=True)
class Pebble:
    directory_url: str
    ca_bundle: Path  # trusts pebble's HTTPS listener
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def need(program: str, package: str) -> str:
    found = shutil.which(program) or shutil.which(program, path=str(BIN))
    if found is None:
        pytest.fail(f"{program} is not installed: run `make system-packages` (it installs {package})")
    return found


@pytest.fixture(scope="session")
def pebble(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pebble]:
    binary = need("pebble", "the Debian package pebble")
    workdir = tmp_path_factory.mktemp("pebble")
    tls = make_certificate("localhost", days=2)
    (workdir / "cert.pem").write_text(tls.certificate_pem + tls.chain_pem)
    (workdir / "key.pem").touch(mode=0o600)
    (workdir / "key.pem").write_text(tls.private_key_pem)
    (workdir / "ca.pem").write_text(tls.root_pem)
    port = _free_port()
    config = {
        "pebble": {
            "listenAddress": f"127.0.0.1:{port}",
            "managementListenAddress": f"127.0.0.1:{_free_port()}",
            "certificate": str(workdir / "cert.pem"),
            "privateKey": str(workdir / "key.pem"),
            "httpPort": 5002,  # where pebble's VA would connect; it does not, with VA_ALWAYS_VALID
            "tlsPort": 5001,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
    }
    (workdir / "pebble.json").write_text(json.dumps(config))
    environment = {
        **os.environ,
        "PEBBLE_VA_ALWAYS_VALID": "1",  # no challenge is fetched: nothing listens for it
        "PEBBLE_VA_NOSLEEP": "1",
        "PEBBLE_WFE_NONCEREJECT": "0",  # pebble rejects 5% of good nonces by default
        "PEBBLE_AUTHZREUSE": "100",  # renewals reuse the valid authorizations: fewer round trips
    }
    log = workdir / "pebble.log"
    url = f"https://localhost:{port}/dir"
    with log.open("w") as output:
        process = subprocess.Popen(
            [binary, "-config", str(workdir / "pebble.json")], cwd=workdir, env=environment,
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait_until_serving(process, url, workdir / "ca.pem", log)
            yield Pebble(directory_url=url, ca_bundle=workdir / "ca.pem", log=log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_serving(process: subprocess.Popen[bytes], url: str, ca: Path, log: Path) -> None:
    context = ssl.create_default_context(cafile=str(ca))
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            pytest.fail(f"pebble exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, verify=context, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"pebble did not serve {url} within 30 s:\n{log.read_text()}")
        time.sleep(0.1)


def run(command: list[str], environment: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Runs an ACME client or a hook; a failure shows everything it printed."""
    done = subprocess.run(command, env=environment, cwd=cwd, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"{' '.join(command)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def client_environment(**extra: str) -> dict[str, str]:
    """This process's environment (the embedded stack's AWS_ENDPOINT_URL and credentials), with the
    certpush CLI of this virtualenv on PATH, as a hook finds it when the client runs it."""
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **extra}


# -- the scenario every client goes through ------------------------------------------------------------
class AcmeClient(Protocol):
    certificate_id: str

    def issue(self) -> None: ...

    def renew(self) -> None: ...

    def run_hook_again(self) -> subprocess.CompletedProcess[str]:
        """The hook once more, exactly as the client ran it after the renewal."""
        ...

    def certificate_pem(self) -> str:
        """The certificate the client holds now."""
        ...


def unique_domain(client: str) -> str:
    return f"{client}-{uuid.uuid4().hex[:8]}.acme.example.com"


def _version_records(cli: Callable[..., CliResult], certificate_id: str, version: int) -> Callable[[], list[Any]]:
    def final() -> list[dict[str, Any]]:
        found = [r for r in cli("records", certificate_id, "--json").json() if r["version"] == version]
        broken = [r for r in found if r["status"] in ("FAILED", "REJECTED")]
        assert not broken, f"version {version} was not pushed: {broken}"
        return found if len(found) == len(TARGETS) and all(r["status"] == "SUCCEEDED" for r in found) else []

    return final


def _leaf(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificates(pem.encode())[0]


def _huawei_certificate(stack: EmbeddedStack, service: str, region: str, target_id: str) -> dict[str, Any]:
    certificates = stack.emulators["huaweicloud"].state()[service].get(region, {}).get("certificates", [])
    found = [c for c in certificates if c["id"] == target_id]
    assert len(found) == 1, f"huaweicloud:{service}:{region} has no {target_id}: {certificates}"
    return found[0]


def issue_push_renew_and_run_again(cli: Callable[..., CliResult], stack: EmbeddedStack, client: AcmeClient,
                                   domain: str) -> None:  # fmt: skip
    """Issue -> the hook imports -> the policy pushes version 1 -> renew -> version 2 goes where
    version 1 went -> the hook once more changes nothing. Then: nothing was pushed twice."""
    certificate_id = client.certificate_id
    policy = f"acme-{uuid.uuid4().hex[:8]}"
    cli("policies", "add", policy, "--pattern", f"*.{domain}", *[a for t in TARGETS for a in ("--to", t)])
    try:
        client.issue()
        first = {(r["provider"], r["service"]): r for r in eventually(
            _version_records(cli, certificate_id, 1), timeout=90, what="the policy's push of version 1")}  # fmt: skip
        first_pem = client.certificate_pem()
        client.renew()
        second = {(r["provider"], r["service"]): r for r in eventually(
            _version_records(cli, certificate_id, 2), timeout=90, what="the policy's push of version 2")}  # fmt: skip
        second_pem = client.certificate_pem()
        history = cli("history", certificate_id, "--limit", "100", "--json").json()

        again = client.run_hook_again()
    finally:
        cli("policies", "remove", policy)

    assert "already imported as version 2" in again.stdout, again.stdout + again.stderr
    versions = cli("certificates", "show", certificate_id, "--json").json()
    assert [v["version"] for v in versions] == [1, 2]
    old, new = _leaf(first_pem), _leaf(second_pem)
    assert old.serial_number != new.serial_number
    assert versions[1]["fingerprint_sha256"] == hashlib.sha256(new.public_bytes(serialization.Encoding.DER)).hexdigest()

    # AWS ELB: ACM re-imports in place, by ARN, so the certificate's listeners keep it
    arn = first[("aws", "elb")]["target_id"]
    assert second[("aws", "elb")]["target_id"] == arn
    assert acm_certificates(AWS_REGION, format(new.serial_number, "x")) == [arn]
    assert acm_certificates(AWS_REGION, format(old.serial_number, "x")) == []
    # Huawei Cloud: the target named in version 2's record holds version 2
    waf = _huawei_certificate(stack, "waf", WAF_REGION, second[("huaweicloud", "waf")]["target_id"])
    assert waf["expire_time"] == int(new.not_valid_after_utc.timestamp() * 1000)
    elb = _huawei_certificate(stack, "elb", ELB_REGION, second[("huaweicloud", "elb")]["target_id"])
    sha1 = hashlib.sha1(new.public_bytes(serialization.Encoding.DER), usedforsecurity=False).hexdigest().upper()
    assert elb["fingerprint"].replace(":", "").endswith(sha1)

    # nothing pushed twice, and the hook run once more added nothing
    pushes = Counter((h["version"], h["provider"], h["service"], h["region"], h["status"]) for h in history)
    assert sorted(pushes.values()) == [1] * 2 * len(TARGETS), pushes
    assert {key[4] for key in pushes} == {"SUCCEEDED"}
    assert cli("history", certificate_id, "--limit", "100", "--json").json() == history
