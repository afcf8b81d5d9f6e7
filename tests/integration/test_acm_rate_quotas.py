"""ACM's per-region API rate quotas in the embedded stack's AWS (moto in its own process, started with
``--acm-rate-quotas``: ``moto_patches.AcmRateQuotas``): unpaced imports are throttled as ACM throttles
them; the AWS ELB target paced by the limiter (``WindowRateLimiter`` with the declared quotas) pushes
several certificates into one region at once without one throttle, its clients making a single attempt
per call (no SDK retry hides a throttle)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from pydantic import SecretStr

from certpush.adapters.rate_limiter import WindowRateLimiter
from certpush.logic.rate_limits import QuotaTable
from certpush.logic.x509_checks import inspect_certificate
from certpush.models.domain import CertificateMaterial, CertificateVersion, PushRequest, UploadAction
from certpush.providers.aws.elb_adapter import AwsElbTarget
from certpush.providers.registry import REGISTRY
from certpush_cli.sample_certificates import make_certificate

pytestmark = pytest.mark.integration

REGION = "eu-central-1"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "certpush_emulators.aws.moto_process", "0", "--acm-rate-quotas"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    _, host, port = process.stdout.readline().split()
    try:
        yield f"http://{host}:{port}"
    finally:
        process.stdin.close()
        process.wait(timeout=20)
        process.stdout.close()


def _single_attempt(endpoint: str) -> Any:
    session = boto3.Session(aws_access_key_id="k", aws_secret_access_key="s")

    def make(service: str, region: str) -> Any:
        config = Config(retries={"mode": "standard", "total_max_attempts": 1})
        return session.client(service, region_name=region, endpoint_url=endpoint, config=config)

    return make


def _request(certificate_id: str) -> PushRequest:
    sample = make_certificate(f"{certificate_id}.example.com")
    facts = inspect_certificate(sample.certificate_pem)
    return PushRequest(
        certificate=CertificateVersion(
            certificate_id=certificate_id, version=1, **asdict(facts), secret_id="s", imported_at=facts.not_before
        ),
        material=CertificateMaterial(
            certificate_pem=sample.certificate_pem,
            chain_pem=sample.chain_pem,
            private_key_pem=SecretStr(sample.private_key_pem),
        ),
        region=REGION,
    )


def test_unpaced_imports_are_throttled_as_acm_throttles_them(endpoint: str) -> None:
    acm = _single_attempt(endpoint)("acm", "ap-south-1")
    sample = make_certificate("unpaced.example.com")
    material = {"Certificate": sample.certificate_pem.encode(), "PrivateKey": sample.private_key_pem.encode()}
    codes = []
    for _ in range(4):  # ImportCertificate: 1 a second per region
        try:
            acm.import_certificate(**material)
            codes.append("ok")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    assert codes[0] == "ok" and "ThrottlingException" in codes


def test_paced_pushes_into_one_region_are_never_throttled(endpoint: str) -> None:
    limiter = WindowRateLimiter(QuotaTable(REGISTRY.quotas()))
    target = AwsElbTarget("https://console.example/{region}", client_factory=_single_attempt(endpoint),
                          rate_limiter=limiter)  # fmt: skip
    requests = [_request(f"paced-{n}") for n in range(3)]

    with ThreadPoolExecutor(max_workers=3) as pool:
        uploads = list(pool.map(target.upload, requests))  # a throttle would raise TransientPushError

    assert [u.action for u in uploads] == [UploadAction.CREATED] * 3
    assert len({u.target_id for u in uploads}) == 3
    assert sum(limiter.waited.values()) > 0  # the imports did have to wait for the quota
