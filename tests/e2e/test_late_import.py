"""A slow ACM import is not made twice (issue 16, item 2), on the embedded stack through the CLI.

The fault ``LateLanding`` (certpush_dev.local.aws_hooks): the push worker's ImportCertificate is sent,
the worker's client times out, and moto receives the very request later. ACM is read back from moto:
one certificate per (certificate, version, region), and the records say what ACM holds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography import x509

from certpush_cli.sample_certificates import SampleCertificate
from certpush_dev.local.aws_hooks import LateLanding
from certpush_dev.local.stack import EmbeddedStack
from tests.e2e.conftest import CliResult, acm_certificates, eventually

pytestmark = pytest.mark.e2e

REGION = "ap-northeast-1"


def _serial(sample: SampleCertificate) -> str:
    return format(x509.load_pem_x509_certificate(sample.certificate_pem.encode()).serial_number, "x")


def _fresh_import(params: dict[str, Any]) -> bool:
    body = params.get("body", b"")
    return b'"CertificateArn"' not in (body if isinstance(body, bytes) else str(body).encode())


@pytest.fixture
def late(stack: EmbeddedStack) -> Iterator[Callable[..., LateLanding]]:
    made: list[LateLanding] = []

    def make(**when: Any) -> LateLanding:
        landing = LateLanding("acm:ImportCertificate", when=_fresh_import, **when)
        made.append(landing)
        stack.aws_calls.late.append(landing)
        return landing

    yield make
    for landing in made:
        landing.cancel()
        stack.aws_calls.late.remove(landing)


def test_an_import_landing_after_the_timeout_is_found_by_the_retry(
    cli: Callable[..., CliResult], imported: SampleCertificate, certificate_id: str, late: Callable[..., LateLanding]
):
    # the settle wait (PushSettleSeconds; 0 on this stack) is modelled by the landing itself: it lands
    # when the retry starts looking, as a settle long enough would have let it, and 2 s after it was
    # sent at the latest (whatever the push did meanwhile)
    landing = late(before="tagging:GetResources", after_seconds=2)

    cli("push", certificate_id, "--to", f"aws:elb={REGION}", "--wait", "--timeout", "60")

    eventually(lambda: landing.landed, timeout=10, what="the late import")
    [record] = cli("records", certificate_id, "--json").json()
    assert landing.landed == [200]
    assert (record["status"], record["attempts"], record["upload_action"]) == ("SUCCEEDED", 2, "REUSED"), record
    assert record["message"] == "already in ACM"
    assert acm_certificates(REGION, _serial(imported)) == [record["target_id"]]


def test_an_import_landing_after_the_retry_imported_is_removed_by_the_next_push(
    cli: Callable[..., CliResult], imported: SampleCertificate, certificate_id: str, late: Callable[..., LateLanding]
):
    landing = late(after="acm:ImportCertificate")  # later than any settle: after the retry's own import
    cli("push", certificate_id, "--to", f"aws:elb={REGION}", "--wait", "--timeout", "60")
    [first] = cli("records", certificate_id, "--json").json()
    eventually(lambda: landing.landed == [200], timeout=10, what="the late import")
    copies = acm_certificates(REGION, _serial(imported))
    assert first["status"] == "SUCCEEDED" and first["upload_action"] == "CREATED" and len(copies) == 2
    [duplicate] = [arn for arn in copies if arn != first["target_id"]]

    cli("push", certificate_id, "--to", f"aws:elb={REGION}", "--force", "--wait", "--timeout", "60")

    [record] = cli("records", certificate_id, "--json").json()
    assert (record["status"], record["target_id"]) == ("SUCCEEDED", first["target_id"]), record
    assert f"removed a duplicate of version 1 ({duplicate}), which nothing used" in record["message"]
    assert acm_certificates(REGION, _serial(imported)) == [first["target_id"]]
