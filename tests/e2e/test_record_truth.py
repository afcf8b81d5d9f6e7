"""A record never says what its target does not hold (issue 16), on the embedded stack through the CLI,
each target read back from moto and the Huawei Cloud simulator:

- versions only move forward: v1 fails in an outage, v2 goes out, v1's replay (and a forced push of
  v1) ends SUPERSEDED while ACM, Huawei WAF and Huawei ELB keep serving v2; ``push --version 1
  --rollback`` moves them back, and v2's records say REPLACED;
- the certificate first, the attachment second: the listener an ELB push attaches to is deleted
  between versions; v2 ends ATTACH_FAILED (renewed in place: it is there), v1 REPLACED, and
  ``replay --drop-attach`` finishes it without uploading again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography import x509

from certpush.models.domain import CertificateMaterial, CertificateVersion, PushRequest
from certpush_cli.sample_certificates import SampleCertificate, make_certificate
from certpush_dev.local.aws_hooks import AwsError
from certpush_dev.local.fixtures import create_https_listener
from certpush_dev.local.stack import EmbeddedStack
from tests.e2e.conftest import CliResult, acm_certificates, write_material

pytestmark = pytest.mark.e2e

AWS_REGION, HUAWEI_REGION = "eu-west-2", "cn-north-4"
TARGETS = ["--to", f"aws:elb={AWS_REGION}", "--to", f"huaweicloud:waf={HUAWEI_REGION}",
           "--to", f"huaweicloud:elb={HUAWEI_REGION}"]  # fmt: skip


def _serial(sample: SampleCertificate) -> int:
    return x509.load_pem_x509_certificate(sample.certificate_pem.encode()).serial_number


def _name(certificate_id: str, version: int) -> str:
    stub = CertificateVersion.model_construct(certificate_id=certificate_id, version=version)
    return PushRequest.model_construct(
        certificate=stub, material=CertificateMaterial.model_construct()
    ).deterministic_name


def _records(cli: Callable[..., CliResult], certificate_id: str) -> dict[tuple[int, str], dict[str, Any]]:
    return {(r["version"], r["service"] if r["provider"] == "huaweicloud" else "acm"): r
            for r in cli("records", certificate_id, "--json").json()}  # fmt: skip


def _served(stack: EmbeddedStack, certificate_id: str, samples: dict[int, SampleCertificate]) -> dict[str, list[int]]:
    """Which versions each target holds, read back from the emulators (one entry per certificate there)."""
    held: dict[str, list[int]] = {"acm": [], "waf": [], "elb": []}
    for version, sample in samples.items():
        held["acm"] += [version] * len(acm_certificates(AWS_REGION, format(_serial(sample), "x")))
    state = stack.emulators["huaweicloud"].state()
    for service in ("waf", "elb"):
        for certificate in state[service].get(HUAWEI_REGION, {}).get("certificates", []):
            held[service] += [v for v in samples if certificate["name"] == _name(certificate_id, v)]
    return {target: sorted(versions) for target, versions in held.items()}


@pytest.fixture
def outage(stack: EmbeddedStack) -> Iterator[Callable[[bool], None]]:
    """A regional outage of every target of the push (permanent errors: the pushes end FAILED at once)."""

    def acm_unavailable(function: str, action: str, params: dict[str, Any]) -> AwsError | None:
        mine = function == "PushWorkerFunction" and action.startswith("acm:")
        return AwsError("AccessDeniedException", 400) if mine else None

    def switch(down: bool) -> None:
        for service in ("waf", "elb"):
            stack.emulators["huaweicloud"].set_service_purchased(service, HUAWEI_REGION, purchased=not down)
        if down:
            stack.aws_calls.faults.append(acm_unavailable)
        elif acm_unavailable in stack.aws_calls.faults:
            stack.aws_calls.faults.remove(acm_unavailable)

    yield switch
    switch(False)


def test_an_older_version_never_replaces_a_newer_one_unless_rolled_back(
    cli: Callable[..., CliResult],
    stack: EmbeddedStack,
    imported: SampleCertificate,
    certificate_id: str,
    tmp_path: Path,
    outage: Callable[[bool], None],
):
    samples = {1: imported}
    outage(True)
    cli("push", certificate_id, *TARGETS, "--wait", "--timeout", "60", expect=1)
    outage(False)
    assert {r["status"] for r in _records(cli, certificate_id).values()} == {"FAILED"}
    samples[2] = make_certificate(f"{certificate_id}.example.com")
    cli("certificates", "import", "--id", certificate_id, "--no-push", *write_material(tmp_path, samples[2]))
    cli("push", certificate_id, *TARGETS, "--wait", "--timeout", "60")
    assert _served(stack, certificate_id, samples) == {"acm": [2], "waf": [2], "elb": [2]}

    # the older version's retry comes last (the replay after the outage), and a forced push of it
    cli("replay", certificate_id, "--version", "1", "--wait", "--timeout", "60")
    cli("push", certificate_id, *TARGETS, "--version", "1", "--force", "--wait", "--timeout", "60")

    records = _records(cli, certificate_id)
    for target in ("acm", "waf", "elb"):
        v1, v2 = records[(1, target)], records[(2, target)]
        assert (v1["status"], v1["reason"]) == ("SUPERSEDED", "NEWER_VERSION"), v1
        assert "holds version 2" in v1["message"]
        assert v2["status"] == "SUCCEEDED" and v2["upload_action"] == "CREATED"
    assert _served(stack, certificate_id, samples) == {"acm": [2], "waf": [2], "elb": [2]}
    history = cli("history", certificate_id, "--limit", "20", "--json").json()
    assert sum(1 for h in history if h["status"] == "SUPERSEDED") == 6  # each refusal is in the history

    rolled = cli("push", certificate_id, *TARGETS, "--version", "1", "--rollback", "--wait", "--timeout", "60")

    assert "rollback" in rolled.stdout
    records = _records(cli, certificate_id)
    for target in ("acm", "waf", "elb"):
        v1, v2 = records[(1, target)], records[(2, target)]
        assert (v1["status"], v1["rollback"], v1["upload_action"]) == ("SUCCEEDED", True, "RENEWED_IN_PLACE"), v1
        assert (v2["status"], v2["replaced_by"], v2["reason"]) == ("REPLACED", 1, "REPLACED_BY"), v2
        assert v1["target_id"] == v2["target_id"]  # the same certificate, renewed in place with version 1
    assert _served(stack, certificate_id, samples) == {"acm": [1], "waf": [1], "elb": [1]}


def test_a_listener_deleted_between_versions_leaves_the_record_saying_what_is_there(
    cli: Callable[..., CliResult],
    stack: EmbeddedStack,
    imported: SampleCertificate,
    certificate_id: str,
    tmp_path: Path,
):
    listener = create_https_listener(AWS_REGION, f"lt-{certificate_id[-8:]}")
    attach = ["--to", f"aws:elb={AWS_REGION}", "--attach", f"aws:elb={listener}"]
    cli("push", certificate_id, *attach, "--wait", "--timeout", "60")
    [first] = cli("records", certificate_id, "--json").json()
    assert first["attached"] == [listener]
    boto3.client("elbv2", region_name=AWS_REGION).delete_listener(ListenerArn=listener)
    renewal = make_certificate(f"{certificate_id}.example.com")
    cli("certificates", "import", "--id", certificate_id, "--no-push", *write_material(tmp_path, renewal))

    cli("push", certificate_id, *attach, "--wait", "--timeout", "60", expect=1)

    records = {r["version"]: r for r in cli("records", certificate_id, "--json").json()}
    v2 = records[2]
    assert (v2["status"], v2["reason"], v2["upload_action"]) == (
        "ATTACH_FAILED",
        "LISTENER_NOT_FOUND",
        "RENEWED_IN_PLACE",
    )
    assert v2["target_id"] == first["target_id"] and v2["attached"] == []
    assert (records[1]["status"], records[1]["replaced_by"]) == ("REPLACED", 2)
    assert acm_certificates(AWS_REGION, format(_serial(renewal), "x")) == [first["target_id"]]  # v2 is what ACM has
    assert acm_certificates(AWS_REGION, format(_serial(imported), "x")) == []

    imports = stack.aws_calls.calls[("PushWorkerFunction", "acm:ImportCertificate")]
    cli("replay", certificate_id, "--drop-attach", listener, "--wait", "--timeout", "60")

    v2 = next(r for r in cli("records", certificate_id, "--json").json() if r["version"] == 2)
    assert (v2["status"], v2["upload_action"], v2["attached"]) == ("SUCCEEDED", "REUSED", [])
    assert stack.aws_calls.calls[("PushWorkerFunction", "acm:ImportCertificate")] == imports  # attached only
