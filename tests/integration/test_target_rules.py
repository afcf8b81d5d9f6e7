"""Every target rule runs against the emulator AND the validator, so the two cannot drift apart.

For each push target of the registry and each certificate shape (``tests/certificate_shapes.py``),
the target's own rules (``TargetCertificateRules``, what the validator reads) say whether it takes
the material; the target's adapter then pushes it into the embedded stack's emulator of that target:
moto in its own process with the embedded stack's patches (``moto_process.py``: ACM refuses what
ACM's ImportCertificate refuses, CloudFront a viewer certificate whose key it does not serve) and the
Huawei Cloud simulator. The emulator must refuse exactly what the rules reject. Every rule of every
target is broken by one of the shapes (``tests/unit/test_certificate_rules.py`` checks that)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from pydantic import SecretStr

from certpush.errors import PermanentPushError
from certpush.logic.x509_checks import inspect_certificate, material_shape
from certpush.models.domain import GLOBAL_REGION, CertificateVersion, PushRequest, TargetOptions
from certpush.ports import PushTarget
from certpush.providers.aws.cloudfront_adapter import AwsCloudFrontTarget
from certpush.providers.aws.elb_adapter import AwsElbTarget
from certpush.providers.huaweicloud.cdn_adapter import HuaweiCdnTarget
from certpush.providers.huaweicloud.client import HuaweiCloudClient, HuaweiCloudCredentials
from certpush.providers.huaweicloud.elb_adapter import HuaweiElbTarget
from certpush.providers.huaweicloud.waf_adapter import HuaweiWafTarget
from certpush.providers.registry import REGISTRY
from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator
from tests.certificate_shapes import SHAPES, material, shape
from tests.targets import push_to

pytestmark = pytest.mark.integration

REGION = "us-east-1"
HUAWEI_REGION = "cn-north-4"
# Shapes that never reach the service as they are: the Huawei adapters send the key re-encoded as
# PKCS#1 / SEC1 (the form the services document, ``providers/huaweicloud/keys.py``), which drops the text
# padded after the PEM block. The validator still rejects them by the rule (the imported key's text).
REENCODED_ON_THE_WAY = {("key-text-over-8k", "huaweicloud:elb")}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """The embedded stack's AWS emulator: moto in its own process, with its patches."""
    process = subprocess.Popen(
        [sys.executable, "-m", "certpush_emulators.aws.moto_process", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    word, host, port = process.stdout.readline().split()
    assert word == "listening"
    try:
        yield f"http://{host}:{port}"
    finally:
        process.stdin.close()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def aws_client(moto_endpoint: str) -> Callable[[str, str], Any]:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")  # moto's fake account

    def client(service: str, region: str = REGION) -> Any:
        return session.client(service, region_name=region, endpoint_url=moto_endpoint)

    return client


@pytest.fixture(scope="module")
def distribution(aws_client: Callable[[str, str], Any]) -> str:
    response = aws_client("cloudfront", REGION).create_distribution(
        DistributionConfig={
            "CallerReference": "target-rules",
            "Comment": "target rules",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "origin",
                        "DomainName": "origin.example.com",
                        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
                    }
                ],
            },
            "DefaultCacheBehavior": {"TargetOriginId": "origin", "ViewerProtocolPolicy": "redirect-to-https"},
        }
    )
    return str(response["Distribution"]["Id"])


@pytest.fixture(scope="module")
def simulator() -> Iterator[HuaweiCloudSimulator]:
    with HuaweiCloudSimulator() as sim:
        for name in SHAPES:  # the CDN takes a certificate for the accelerated domains it covers
            sim.add_cdn_domain(inspect_certificate(shape(name).certificate_pem).common_name)
        yield sim


@pytest.fixture(scope="module")
def targets(
    aws_client: Callable[[str, str], Any], distribution: str, simulator: HuaweiCloudSimulator
) -> Iterator[dict[str, tuple[PushTarget, str, tuple[str, ...]]]]:
    access_key, secret_key = next(iter(simulator.credentials.items()))
    credentials = HuaweiCloudCredentials(access_key=access_key, secret_key=SecretStr(secret_key))
    with httpx.Client(timeout=httpx.Timeout(10.0), transport=httpx.HTTPTransport(retries=0)) as http:
        huawei = HuaweiCloudClient(lambda: credentials, http_client=http, endpoint_template=simulator.endpoint_template)
        yield {  # target, region, attach
            "aws:elb": (AwsElbTarget("{target_id}", client_factory=aws_client), REGION, ()),
            "aws:cloudfront": (
                AwsCloudFrontTarget("{target_id}", client_factory=aws_client),
                GLOBAL_REGION,
                (distribution,),
            ),
            "huaweicloud:waf": (HuaweiWafTarget(huawei), HUAWEI_REGION, ()),
            "huaweicloud:elb": (HuaweiElbTarget(huawei), HUAWEI_REGION, ()),
            "huaweicloud:cdn": (HuaweiCdnTarget(huawei), GLOBAL_REGION, ()),
        }


def _request(name: str, region: str, attach: tuple[str, ...]) -> PushRequest:
    sample = shape(name)
    facts = inspect_certificate(sample.certificate_pem)
    return PushRequest(
        certificate=CertificateVersion(
            certificate_id=name, version=1, **asdict(facts), secret_id="s", imported_at=facts.not_before
        ),
        material=material(sample),
        region=region,
        options=TargetOptions(attach=attach),
    )


@pytest.mark.parametrize("name", SHAPES)
@pytest.mark.parametrize("target", [d.name for d in REGISTRY])
def test_the_emulator_refuses_what_the_rules_reject(
    target: str, name: str, targets: dict[str, tuple[PushTarget, str, tuple[str, ...]]]
) -> None:
    adapter, region, attach = targets[target]
    violations = REGISTRY.find(*target.split(":")).rules.violations(material_shape(material(shape(name))))

    try:
        push_to(adapter, _request(name, region, attach))
        refused: str | None = None
    except PermanentPushError as exc:
        refused = str(exc)

    if (name, target) in REENCODED_ON_THE_WAY:
        assert violations and refused is None, f"{target}: {name} should be rejected by the rule and sent re-encoded"
    elif violations:
        assert refused is not None, f"{target} took {name}, which its rules reject: {violations[0].code}"
    else:
        assert refused is None, f"{target} refused {name}, which its rules take: {refused}"


# -- the embedded stack's ACM and CloudFront, called directly ----------------------------------------------
def test_the_embedded_stacks_acm_refuses_an_ed25519_import(aws_client: Callable[[str, str], Any]) -> None:
    ed25519 = shape("ed25519")

    with pytest.raises(ClientError) as refused:
        aws_client("acm", REGION).import_certificate(
            Certificate=ed25519.certificate_pem.encode(),
            PrivateKey=ed25519.private_key_pem.encode(),
            CertificateChain=ed25519.chain_pem.encode(),
        )

    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "key algorithm" in error["Message"]


def test_the_embedded_stacks_acm_refuses_a_key_that_does_not_match(aws_client: Callable[[str, str], Any]) -> None:
    with pytest.raises(ClientError) as refused:
        aws_client("acm", REGION).import_certificate(
            Certificate=shape("ec-p256").certificate_pem.encode(), PrivateKey=shape("x509-v1").private_key_pem.encode()
        )

    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_the_embedded_stacks_cloudfront_refuses_a_p384_viewer_certificate(
    aws_client: Callable[[str, str], Any], distribution: str
) -> None:
    p384 = shape("ec-p384")
    acm, cloudfront = aws_client("acm", REGION), aws_client("cloudfront", REGION)
    arn = acm.import_certificate(Certificate=p384.certificate_pem.encode(), PrivateKey=p384.private_key_pem.encode())[
        "CertificateArn"
    ]
    current = cloudfront.get_distribution_config(Id=distribution)
    config = current["DistributionConfig"]
    config["ViewerCertificate"] = {
        "ACMCertificateArn": arn,
        "SSLSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }

    with pytest.raises(ClientError) as refused:
        cloudfront.update_distribution(Id=distribution, IfMatch=current["ETag"], DistributionConfig=config)

    assert refused.value.response["Error"]["Code"] == "InvalidViewerCertificate"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
