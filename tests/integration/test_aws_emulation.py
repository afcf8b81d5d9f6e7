"""What the embedded stack's AWS gives the ACM lookup, in moto's own process as the stack runs it
(``certpush_emulators.aws.moto_process``):

- the Resource Groups Tagging API knows ACM certificates (moto 5.2: ``AWSCertificateManagerBackend``
  mixes in ``TaggableResourcesMixin``), and answers GetResources as AWS documents it: only the region's
  certificates, filters of different keys ANDed and the values of one key ORed (Resource Groups Tagging
  API reference, GetResources, TagFilters), pages joined by PaginationToken; botocore's model parses it;
- the fault ``LateLanding`` (certpush_dev.local.aws_hooks): the caller times out, the very request is
  carried out later; a client that retries sends it again at once, which is how a second copy is made;
- ACM says which load balancers and distributions use a certificate and refuses to delete it then
  (``moto_patches.acm_knows_who_uses_a_certificate``): a push keeps a second copy that is in use."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from pydantic import SecretStr

from certpush.logic.x509_checks import inspect_certificate
from certpush.models.domain import CertificateMaterial, CertificateVersion, PushRequest, UploadAction
from certpush.providers.aws.elb_adapter import AwsElbTarget
from certpush_cli.sample_certificates import SampleCertificate, make_certificate
from certpush_dev.local.aws_hooks import AwsCallHooks, LateLanding
from certpush_dev.local.fixtures import create_distribution, create_https_listener

pytestmark = pytest.mark.integration

ID, VERSION = "certpush:certificate-id", "certpush:version"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "certpush_emulators.aws.moto_process", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"},  # a VPC for the listeners, not the AMI catalogue
    )
    assert process.stdout is not None and process.stdin is not None
    _, host, port = process.stdout.readline().split()
    try:
        yield f"http://{host}:{port}"
    finally:
        process.stdin.close()
        process.wait(timeout=20)
        process.stdout.close()


@pytest.fixture
def session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1")


@pytest.fixture(scope="module")
def sample() -> SampleCertificate:
    return make_certificate("tagged.example.com")


def _client(session: boto3.Session, endpoint: str, service: str, region: str, **config: Any) -> Any:
    from botocore.config import Config

    return session.client(service, region_name=region, endpoint_url=endpoint, config=Config(**config))


def _import(acm: Any, sample: SampleCertificate, **tags: str) -> str:
    tagged = {"Tags": [{"Key": key, "Value": value} for key, value in tags.items()]} if tags else {}
    return str(
        acm.import_certificate(
            Certificate=sample.certificate_pem.encode(), PrivateKey=sample.private_key_pem.encode(), **tagged
        )["CertificateArn"]
    )


def _found(tagging: Any, **filters: list[str]) -> set[str]:
    arns = set()
    for page in tagging.get_paginator("get_resources").paginate(
        ResourceTypeFilters=["acm:certificate"],
        TagFilters=[{"Key": key, "Values": values} for key, values in filters.items()],
        PaginationConfig={"PageSize": 1},
    ):
        arns |= {mapping["ResourceARN"] for mapping in page["ResourceTagMappingList"]}
    return arns


def test_get_resources_finds_acm_certificates_by_their_tags(
    session: boto3.Session, endpoint: str, sample: SampleCertificate
) -> None:
    region = "eu-south-1"
    acm = _client(session, endpoint, "acm", region)
    tagging = _client(session, endpoint, "resourcegroupstaggingapi", region)
    v1 = _import(acm, sample, **{ID: "shop", VERSION: "1"})
    v1_again = _import(acm, sample, **{ID: "shop", VERSION: "1"})
    v2 = _import(acm, sample, **{ID: "shop", VERSION: "2"})
    other = _import(acm, sample, **{ID: "blog", VERSION: "1"})
    _import(acm, sample)  # no tags
    _import(_client(session, endpoint, "acm", "eu-south-2"), sample, **{ID: "shop", VERSION: "1"})  # another region

    page = tagging.get_resources(ResourceTypeFilters=["acm:certificate"], TagFilters=[{"Key": ID, "Values": ["blog"]}])

    assert page["ResourceTagMappingList"] == [{"ResourceARN": other, "Tags": [
        {"Key": ID, "Value": "blog"}, {"Key": VERSION, "Value": "1"}]}]  # fmt: skip
    assert _found(tagging, **{ID: ["shop"], VERSION: ["1"]}) == {v1, v1_again}  # keys ANDed
    assert _found(tagging, **{ID: ["shop"], VERSION: ["1", "2"]}) == {v1, v1_again, v2}  # values ORed
    assert _found(tagging, **{ID: ["shop", "blog"], VERSION: ["1"]}) == {v1, v1_again, other}
    assert _found(tagging, **{ID: ["nothing"]}) == set()


def test_a_late_landing_times_out_for_the_caller_and_lands_later(
    session: boto3.Session, endpoint: str, sample: SampleCertificate
) -> None:
    region = "ca-central-1"
    hooks = AwsCallHooks()
    hooks.install(session)
    # 3 s: long enough that "not yet" holds on a machine at load 17 (0.2 s did not), short for the suite
    landing = LateLanding("acm:ImportCertificate", function=None, after_seconds=3)
    hooks.late.append(landing)
    try:
        once = _client(session, endpoint, "acm", region, retries={"mode": "standard", "total_max_attempts": 1})
        with pytest.raises(ReadTimeoutError):
            _import(once, sample, **{ID: "late", VERSION: "1"})
        tagging = _client(session, endpoint, "resourcegroupstaggingapi", region)
        assert landing.pending == 1 and _found(tagging, **{ID: ["late"]}) == set()  # not yet

        deadline = time.monotonic() + 20
        while not landing.landed and time.monotonic() < deadline:
            time.sleep(0.05)  # polls the landing's state

        assert landing.landed == [200] and landing.pending == 0
        assert len(_found(tagging, **{ID: ["late"]})) == 1
    finally:
        hooks.uninstall()


def test_a_client_that_retries_a_timed_out_import_makes_a_second_copy(
    session: boto3.Session, endpoint: str, sample: SampleCertificate
) -> None:
    """Why certpush sends a fresh import once (certpush.providers.aws.acm)."""
    region = "sa-east-1"
    hooks = AwsCallHooks()
    hooks.install(session)
    landing = LateLanding("acm:ImportCertificate", function=None)  # lands on land()
    hooks.late.append(landing)
    try:
        retrying = _client(session, endpoint, "acm", region, retries={"mode": "standard", "max_attempts": 4})
        arn = _import(retrying, sample, **{ID: "retried", VERSION: "1"})  # the SDK's retry went through
        landing.land()
    finally:
        hooks.uninstall()

    tagging = _client(session, endpoint, "resourcegroupstaggingapi", region)
    found = _found(tagging, **{ID: ["retried"]})
    assert landing.landed == [200] and arn in found and len(found) == 2


@pytest.fixture
def on_moto(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3's default clients (the fixtures', certpush's) reach moto's process."""
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return endpoint


def _in_use_by(region: str, arn: str) -> list[str]:
    return list(
        boto3.client("acm", region_name=region).describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"]
    )


def _refused_delete(region: str, arn: str) -> str:
    with pytest.raises(ClientError) as refused:
        boto3.client("acm", region_name=region).delete_certificate(CertificateArn=arn)
    return str(refused.value.response["Error"]["Code"])


def test_acm_says_which_load_balancers_use_a_certificate_and_keeps_it_while_they_do(
    on_moto: str, sample: SampleCertificate
) -> None:
    region = "eu-north-1"
    acm, elbv2 = boto3.client("acm", region_name=region), boto3.client("elbv2", region_name=region)
    arn = _import(acm, sample)
    listener = create_https_listener(region, name="in-use")
    balancer = elbv2.describe_listeners(ListenerArns=[listener])["Listeners"][0]["LoadBalancerArn"]
    assert _in_use_by(region, arn) == []

    elbv2.add_listener_certificates(ListenerArn=listener, Certificates=[{"CertificateArn": arn}])
    assert _in_use_by(region, arn) == [balancer]
    assert _refused_delete(region, arn) == "ResourceInUseException"

    elbv2.remove_listener_certificates(ListenerArn=listener, Certificates=[{"CertificateArn": arn}])
    elbv2.modify_listener(ListenerArn=listener, Certificates=[{"CertificateArn": arn}])  # the default one
    assert _in_use_by(region, arn) == [balancer]

    elbv2.delete_listener(ListenerArn=listener)
    assert _in_use_by(region, arn) == []
    acm.delete_certificate(CertificateArn=arn)


def test_acm_says_which_distributions_use_a_certificate(on_moto: str, sample: SampleCertificate) -> None:
    arn = _import(boto3.client("acm", region_name="us-east-1"), sample)
    viewer = {"ACMCertificateArn": arn, "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"}
    distribution = create_distribution("in-use.example.com", ViewerCertificate=viewer)
    account = boto3.client("sts").get_caller_identity()["Account"]

    assert _in_use_by("us-east-1", arn) == [f"arn:aws:cloudfront::{account}:distribution/{distribution}"]
    assert _refused_delete("us-east-1", arn) == "ResourceInUseException"


def _push_request(sample: SampleCertificate, region: str, previous: str) -> PushRequest:
    facts = inspect_certificate(sample.certificate_pem)
    return PushRequest(
        certificate=CertificateVersion(
            certificate_id="shop", version=1, **asdict(facts), secret_id="s", imported_at=facts.not_before
        ),
        material=CertificateMaterial(
            certificate_pem=sample.certificate_pem,
            chain_pem=sample.chain_pem,
            private_key_pem=SecretStr(sample.private_key_pem),
        ),
        region=region,
        previous_target_id=previous,
    )


def test_a_second_copy_in_use_is_kept(on_moto: str, sample: SampleCertificate) -> None:
    """Someone attached the late copy to a listener before a forced push looked: ACM would refuse its deletion."""
    region = "eu-west-3"
    acm = boto3.client("acm", region_name=region)
    recorded = _import(acm, sample, **{ID: "shop", VERSION: "1"})
    used = _import(acm, sample, **{ID: "shop", VERSION: "1"})
    listener = create_https_listener(region, name="late-copy")
    boto3.client("elbv2", region_name=region).add_listener_certificates(
        ListenerArn=listener, Certificates=[{"CertificateArn": used}]
    )

    result = AwsElbTarget("https://console/{region}").upload(_push_request(sample, region, previous=recorded))

    assert (result.target_id, result.action) == (recorded, UploadAction.REUSED)
    assert f"kept a duplicate of version 1 ({used}): used by arn:aws:elasticloadbalancing:{region}:" in (
        result.detail or ""
    )
    assert _in_use_by(region, used) != []  # still there
