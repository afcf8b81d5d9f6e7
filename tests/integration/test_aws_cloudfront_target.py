"""The AWS CloudFront target on moto: ACM import in us-east-1 whatever the record's region says
(``global``), re-import in place on renewal, the viewer certificate of a distribution set with the
rest of its config kept; and, with botocore's Stubber judging the requests against the CloudFront
model, the ETag round trip that moto does not enforce."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pydantic import SecretStr

from certpush.errors import PermanentPushError, TransientPushError
from certpush.logic.x509_checks import inspect_certificate
from certpush.models.domain import (
    GLOBAL_REGION,
    CertificateMaterial,
    CertificateVersion,
    PushRecord,
    PushRequest,
    PushStatus,
    TargetOptions,
)
from certpush.providers.aws.cloudfront import DEFINITION, inspect
from certpush.providers.aws.cloudfront_adapter import AwsCloudFrontTarget
from certpush_cli.sample_certificates import SampleCertificate, make_certificate
from tests.targets import push_to

pytestmark = pytest.mark.integration

DOMAIN = "cdn.example.com"
CONSOLE = "https://console.example/cloudfront/{target_id}"


def _request(sample: SampleCertificate, version: int = 1, previous: str | None = None, attach: tuple[str, ...] = ()):
    facts = inspect_certificate(sample.certificate_pem)
    return PushRequest(
        certificate=CertificateVersion(
            certificate_id="cdn", version=version, **asdict(facts), secret_id="s", imported_at=facts.not_before
        ),
        material=CertificateMaterial(
            certificate_pem=sample.certificate_pem,
            chain_pem=sample.chain_pem,
            private_key_pem=SecretStr(sample.private_key_pem),
        ),
        region=GLOBAL_REGION,
        options=TargetOptions(attach=attach),
        previous_target_id=previous,
    )


def _distribution(comment: str = "certpush test") -> str:
    response = boto3.client("cloudfront", region_name="us-east-1").create_distribution(
        DistributionConfig={
            "CallerReference": comment,
            "Comment": comment,
            "Enabled": True,
            "Aliases": {"Quantity": 1, "Items": [DOMAIN]},
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
            "DefaultCacheBehavior": {
                "TargetOriginId": "origin",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
    )
    return str(response["Distribution"]["Id"])


def _config(distribution_id: str) -> dict[str, Any]:
    config: dict[str, Any] = boto3.client("cloudfront", region_name="us-east-1").get_distribution_config(
        Id=distribution_id
    )["DistributionConfig"]
    return config


@pytest.fixture(scope="module")
def sample() -> SampleCertificate:
    return make_certificate(DOMAIN)


@pytest.mark.usefixtures("aws")
def test_imports_into_acm_of_us_east_1_and_sets_the_viewer_certificate(sample: SampleCertificate) -> None:
    distribution = _distribution()

    result = push_to(AwsCloudFrontTarget(CONSOLE), _request(sample, attach=(distribution,)))

    assert result.target_id.startswith("arn:aws:acm:us-east-1:")
    assert result.console_url == f"https://console.example/cloudfront/{result.target_id}"
    config = _config(distribution)
    assert config["ViewerCertificate"]["ACMCertificateArn"] == result.target_id
    assert config["ViewerCertificate"]["SSLSupportMethod"] == "sni-only"
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config["Comment"] == "certpush test" and config["Aliases"]["Items"] == [DOMAIN]
    assert config["Origins"]["Items"][0]["DomainName"] == "origin.example.com"


@pytest.mark.usefixtures("aws")
def test_a_retry_finds_the_import_and_a_renewal_reimports_in_place(sample: SampleCertificate) -> None:
    distribution = _distribution()
    first = push_to(AwsCloudFrontTarget(CONSOLE), _request(sample, attach=(distribution,)))

    again = push_to(AwsCloudFrontTarget(CONSOLE), _request(sample, attach=(distribution,)))
    renewed = push_to(
        AwsCloudFrontTarget(CONSOLE),
        _request(make_certificate(DOMAIN), version=2, previous=first.target_id, attach=(distribution,)),
    )

    assert again.target_id == first.target_id and again.detail == "already in ACM"
    assert renewed.target_id == first.target_id and renewed.detail == "re-imported in place"
    assert _config(distribution)["ViewerCertificate"]["ACMCertificateArn"] == first.target_id
    acm = boto3.client("acm", region_name="us-east-1")
    assert len(acm.list_certificates()["CertificateSummaryList"]) == 1


def _serve_with_policy(distribution_id: str, sample: SampleCertificate, policy: str) -> None:
    """The distribution's owner set a certificate of their own and this security policy."""
    arn = boto3.client("acm", region_name="us-east-1").import_certificate(
        Certificate=sample.certificate_pem.encode(), PrivateKey=sample.private_key_pem.encode()
    )["CertificateArn"]
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    current = cloudfront.get_distribution_config(Id=distribution_id)
    config = current["DistributionConfig"]
    config["ViewerCertificate"] = {"ACMCertificateArn": arn, "SSLSupportMethod": "sni-only",
                                   "MinimumProtocolVersion": policy, "CloudFrontDefaultCertificate": False}  # fmt: skip
    cloudfront.update_distribution(Id=distribution_id, IfMatch=current["ETag"], DistributionConfig=config)


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("had", "kept"),
    [("TLSv1.3_2025", True), ("TLSv1.2_2025", True), ("TLSv1.2_2021", False), ("TLSv1.2_2019", False),
     ("TLSv1", False)],
)  # fmt: skip
def test_a_stricter_security_policy_is_kept(sample: SampleCertificate, had: str, kept: bool) -> None:
    """Issue 18 item 7: TLSv1.2_2021 unless the distribution had a stricter policy (CloudFront Developer
    Guide, "Supported protocols and ciphers between viewers and CloudFront")."""
    distribution = _distribution(f"policy {had}")
    _serve_with_policy(distribution, make_certificate(DOMAIN), had)

    result = push_to(AwsCloudFrontTarget(CONSOLE), _request(sample, attach=(distribution,)))
    again = push_to(AwsCloudFrontTarget(CONSOLE), _request(sample, attach=(distribution,)))  # a retry: no change

    viewer = _config(distribution)["ViewerCertificate"]
    assert viewer["ACMCertificateArn"] == result.target_id
    assert viewer["MinimumProtocolVersion"] == (had if kept else "TLSv1.2_2021")
    note = f"distribution {distribution} keeps its security policy {had}"
    assert result.detail == ("imported; " + note if kept else "imported")
    assert again.detail == ("already in ACM; " + note if kept else "already in ACM")


@pytest.mark.usefixtures("aws")
def test_a_missing_distribution_is_a_permanent_failure(sample: SampleCertificate) -> None:
    with pytest.raises(PermanentPushError) as raised:
        push_to(AwsCloudFrontTarget(CONSOLE), _request(sample, attach=("E0000000000000",)))

    assert raised.value.code == "DISTRIBUTION_NOT_FOUND"


@pytest.mark.usefixtures("aws")
def test_local_inspection_sees_the_certificate_and_the_distribution(sample: SampleCertificate) -> None:
    distribution = _distribution()
    result = push_to(AwsCloudFrontTarget(CONSOLE), _request(sample, attach=(distribution,)))
    other = _distribution("not attached")
    record = PushRecord.model_validate(
        {"certificate_id": "cdn", "version": 1, "provider": "aws", "service": "cloudfront", "region": "global",
         "status": PushStatus.SUCCEEDED, "target_id": result.target_id, "issuance_id": "i", "push_id": "p",
         "options": TargetOptions(attach=(distribution, other)), "created_at": "2026-11-28T00:00:00Z",
         "updated_at": "2026-11-28T00:00:00Z"}
    )  # fmt: skip

    assert [ok for _, ok in inspect(record)] == [True, True, False]
    assert DEFINITION.inspect is inspect and DEFINITION.is_global


# -- what moto does not enforce: the ETag round trip (botocore's CloudFront model judges the requests) --
class _Stubbed:
    def __init__(self) -> None:
        self.cloudfront = boto3.client("cloudfront", region_name="us-east-1")
        self.stubber = Stubber(self.cloudfront)

    def factory(self, service: str, region: str) -> Any:
        if service == "cloudfront":
            return self.cloudfront
        return boto3.client(service, region_name=region)  # ACM: moto


_CONFIG = {
    "CallerReference": "c", "Comment": "kept", "Enabled": True,
    "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "origin.example.com"}]},
    "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "https-only"},
    "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
}  # fmt: skip


@pytest.mark.usefixtures("aws")
def test_the_config_goes_back_with_the_etag_it_was_read_with(sample: SampleCertificate) -> None:
    stubbed = _Stubbed()
    arn = boto3.client("acm", region_name="us-east-1").import_certificate(  # as certpush imports it: tagged
        Certificate=sample.certificate_pem.encode(),
        PrivateKey=sample.private_key_pem.encode(),
        Tags=[{"Key": "certpush:certificate-id", "Value": "cdn"}, {"Key": "certpush:version", "Value": "1"}],
    )["CertificateArn"]
    stubbed.stubber.add_response("get_distribution_config", {"DistributionConfig": _CONFIG, "ETag": "E1"}, {"Id": "D1"})
    expected = {
        **_CONFIG,
        "ViewerCertificate": {"ACMCertificateArn": arn, "SSLSupportMethod": "sni-only",
                              "MinimumProtocolVersion": "TLSv1.2_2021", "CloudFrontDefaultCertificate": False},
    }  # fmt: skip
    stubbed.stubber.add_response(
        "update_distribution", {"ETag": "E2"}, {"Id": "D1", "IfMatch": "E1", "DistributionConfig": expected}
    )

    with stubbed.stubber:
        result = push_to(AwsCloudFrontTarget(CONSOLE, client_factory=stubbed.factory), _request(sample, attach=("D1",)))

    stubbed.stubber.assert_no_pending_responses()
    assert result.target_id == arn


@pytest.mark.usefixtures("aws")
def test_a_distribution_changed_meanwhile_is_retried(sample: SampleCertificate) -> None:
    stubbed = _Stubbed()
    stubbed.stubber.add_response("get_distribution_config", {"DistributionConfig": _CONFIG, "ETag": "E1"}, {"Id": "D1"})
    stubbed.stubber.add_client_error(
        "update_distribution", service_error_code="PreconditionFailed", http_status_code=412
    )

    with stubbed.stubber, pytest.raises(TransientPushError) as raised:
        push_to(AwsCloudFrontTarget(CONSOLE, client_factory=stubbed.factory), _request(sample, attach=("D1",)))

    assert raised.value.code == "PreconditionFailed"


@pytest.mark.usefixtures("aws")
def test_retract_sees_the_distribution_that_serves_it_then_deletes(sample: SampleCertificate) -> None:
    distribution = _distribution("certpush retract")
    target = AwsCloudFrontTarget(CONSOLE)
    arn = push_to(target, _request(sample, attach=(distribution,))).target_id

    assert target.in_use(GLOBAL_REGION, arn, (distribution,)) == [f"distribution {distribution}"]
    config = _config(distribution)
    config["ViewerCertificate"] = {"CloudFrontDefaultCertificate": True}
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    etag = cloudfront.get_distribution_config(Id=distribution)["ETag"]
    cloudfront.update_distribution(Id=distribution, IfMatch=etag, DistributionConfig=config)
    assert target.in_use(GLOBAL_REGION, arn, (distribution,)) == []
    target.retract(GLOBAL_REGION, arn)
    target.retract(GLOBAL_REGION, arn)  # gone already: not an error
    assert target.in_use(GLOBAL_REGION, arn, (distribution,)) == []
    arns = [c["CertificateArn"] for c in boto3.client("acm", "us-east-1").list_certificates()["CertificateSummaryList"]]
    assert arn not in arns
