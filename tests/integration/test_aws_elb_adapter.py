"""The AWS ELB push target on moto: ACM import in the target region, idempotent retries, re-import in
place for a new version, listener attachment; and the translation of AWS errors (botocore Stubber)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError
from botocore.stub import Stubber
from pydantic import SecretStr

from certpush.adapters.aws_clients import aws_client, shared_session
from certpush.errors import PermanentPushError, PushError, ServiceUnavailableInRegionError, TransientPushError
from certpush.logic.x509_checks import inspect_certificate
from certpush.models.domain import CertificateMaterial, CertificateVersion, PushRequest, TargetOptions, UploadAction
from certpush.providers.aws.acm import region_of_arn
from certpush.providers.aws.elb_adapter import AwsElbTarget
from certpush_cli.sample_certificates import SampleCertificate, make_certificate
from certpush_dev.local.fixtures import create_https_listener
from tests.targets import push_to

pytestmark = pytest.mark.integration

DOMAIN = "shop.example.com"

# a console template using every placeholder the adapter fills in
ACM_CONSOLE = "https://{region}.console.aws.amazon.com/acm/home?region={region}#/certificates/{target_name}"


def _request(
    sample: SampleCertificate,
    region: str = "us-east-1",
    version: int = 1,
    options: TargetOptions | None = None,
    previous_target_id: str | None = None,
) -> PushRequest:
    facts = inspect_certificate(sample.certificate_pem)
    metadata = CertificateVersion(
        certificate_id="shop",
        version=version,
        **asdict(facts),
        secret_id=f"certpush/certificates/shop/v{version}",
        imported_at=facts.not_before,
    )
    material = CertificateMaterial(
        certificate_pem=sample.certificate_pem,
        chain_pem=sample.chain_pem,
        private_key_pem=SecretStr(sample.private_key_pem),
    )
    return PushRequest(
        certificate=metadata,
        material=material,
        region=region,
        options=options or TargetOptions(),
        previous_target_id=previous_target_id,
    )


def _imported(region: str) -> list[str]:
    acm = boto3.client("acm", region_name=region)
    summaries = acm.list_certificates(Includes={"keyTypes": ["EC_prime256v1", "RSA_2048"]})["CertificateSummaryList"]
    arns = [s["CertificateArn"] for s in summaries]
    return [arn for arn in arns if acm.describe_certificate(CertificateArn=arn)["Certificate"]["Type"] == "IMPORTED"]


def _serial(region: str, arn: str) -> int:
    serial = boto3.client("acm", region_name=region).describe_certificate(CertificateArn=arn)["Certificate"]["Serial"]
    return int(serial.replace(":", ""), 16) if ":" in serial else int(serial)


def _sni_certificates(region: str, listener: str) -> list[str]:
    elbv2 = boto3.client("elbv2", region_name=region)
    described = elbv2.describe_listener_certificates(ListenerArn=listener)["Certificates"]
    return [c["CertificateArn"] for c in described if not c.get("IsDefault")]


def _default_certificate(region: str, listener: str) -> str:
    elbv2 = boto3.client("elbv2", region_name=region)
    described = elbv2.describe_listeners(ListenerArns=[listener])["Listeners"][0]
    return str(described["Certificates"][0]["CertificateArn"])


@pytest.fixture
def target(aws: None) -> AwsElbTarget:
    return AwsElbTarget(ACM_CONSOLE)


@pytest.fixture(scope="module")
def sample() -> SampleCertificate:
    return make_certificate(DOMAIN)


# -- ACM ---------------------------------------------------------------------------------------------
def test_imports_into_acm_of_the_target_region(target: AwsElbTarget, sample: SampleCertificate):
    request = _request(sample, region="eu-west-1")

    result = push_to(target, request)

    assert result.target_id.startswith("arn:aws:acm:eu-west-1:")
    assert result.detail == "imported"
    assert _imported("eu-west-1") == [result.target_id]
    assert _imported("us-east-1") == []
    assert _serial("eu-west-1", result.target_id) == int(request.certificate.serial_number, 16)
    assert result.console_url is not None
    assert "region=eu-west-1" in result.console_url
    assert result.console_url.endswith(result.target_id.rsplit("/", 1)[-1])
    tags = boto3.client("acm", region_name="eu-west-1").list_tags_for_certificate(CertificateArn=result.target_id)
    assert {t["Key"]: t["Value"] for t in tags["Tags"]} == {"certpush:certificate-id": "shop", "certpush:version": "1"}


def test_a_retry_finds_the_certificate_an_earlier_attempt_imported(target: AwsElbTarget, sample: SampleCertificate):
    request = _request(sample)
    first = push_to(target, request)

    again = push_to(target, request)
    after_a_crash = push_to(AwsElbTarget(ACM_CONSOLE), request)  # a new container, nothing cached

    assert again.target_id == after_a_crash.target_id == first.target_id
    assert (again.detail, after_a_crash.detail) == ("already in ACM", "already in ACM")
    assert _imported("us-east-1") == [first.target_id]


def test_another_certificate_with_the_same_name_is_not_taken_for_a_retry(
    target: AwsElbTarget, sample: SampleCertificate
):
    first = push_to(target, _request(sample))

    other = push_to(target, _request(make_certificate(DOMAIN), version=2))

    assert other.target_id != first.target_id
    assert sorted(_imported("us-east-1")) == sorted([first.target_id, other.target_id])


def test_a_new_version_is_reimported_in_place(target: AwsElbTarget, sample: SampleCertificate):
    first = push_to(target, _request(sample))
    renewed = _request(make_certificate(DOMAIN), version=2, previous_target_id=first.target_id)

    result = push_to(target, renewed)

    assert result.target_id == first.target_id
    assert result.detail == "re-imported in place"
    assert _imported("us-east-1") == [first.target_id]
    assert _serial("us-east-1", first.target_id) == int(renewed.certificate.serial_number, 16)
    tags = boto3.client("acm", region_name="us-east-1").list_tags_for_certificate(CertificateArn=first.target_id)
    assert {"Key": "certpush:version", "Value": "2"} in tags["Tags"]


def test_a_push_where_certpush_recorded_the_certificate_never_lists_the_region(aws: None, sample: SampleCertificate):
    """Renewals and repeats find the certificate by its recorded ARN: ACM is not listed."""
    calls: list[str] = []

    def counted_client(service: str, region: str) -> Any:
        client = aws_client(service, region)
        client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
        return client

    target = AwsElbTarget(ACM_CONSOLE, client_factory=counted_client)
    first = push_to(target, _request(sample))
    calls.clear()

    again = push_to(target, _request(sample, previous_target_id=first.target_id))
    renewed = push_to(target, _request(make_certificate(DOMAIN), version=2, previous_target_id=first.target_id))

    assert (again.detail, renewed.detail) == ("already in ACM", "re-imported in place")
    assert "ListCertificates" not in calls, calls
    assert _imported("us-east-1") == [first.target_id]


def _counting(calls: list[str]) -> Callable[[str, str], Any]:
    def counted_client(service: str, region: str) -> Any:
        client = aws_client(service, region)
        client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
        return client

    return counted_client


def _import_tagged(sample: SampleCertificate, version: int = 1, region: str = "us-east-1") -> str:
    """An import as certpush makes it (tagged in the call): what a late import leaves in ACM."""
    return str(
        boto3.client("acm", region_name=region).import_certificate(
            Certificate=sample.certificate_pem.encode(),
            PrivateKey=sample.private_key_pem.encode(),
            CertificateChain=sample.chain_pem.encode(),
            Tags=[
                {"Key": "certpush:certificate-id", "Value": "shop"},
                {"Key": "certpush:version", "Value": str(version)},
            ],
        )["CertificateArn"]
    )


def _imported_earlier(arn: str, seconds: int) -> None:
    """Moves the certificate's ImportedAt back in moto (in this process)."""
    from moto.acm.models import acm_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    bundle = acm_backends[DEFAULT_ACCOUNT_ID][region_of_arn(arn)].get_certificate(arn)
    bundle.created_at -= timedelta(seconds=seconds)


def _tags(arn: str) -> dict[str, str]:
    acm = boto3.client("acm", region_name=region_of_arn(arn))
    return {t["Key"]: t.get("Value", "") for t in acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]}


def test_the_first_push_into_a_region_finds_an_earlier_import_by_its_tags(aws: None, sample: SampleCertificate):
    """No listing of the region (issue 22): one GetResources of the tagging API, then one
    DescribeCertificate per certificate it names, however many certificates the region holds."""
    for index in range(3):  # other certificates of the region, one of them of the same name
        _import_tagged(make_certificate(DOMAIN if index == 0 else f"other{index}.example.com"), version=index + 2)
    calls: list[str] = []
    first = push_to(AwsElbTarget(ACM_CONSOLE, client_factory=_counting(calls)), _request(sample))
    first_calls = list(calls)
    calls.clear()

    again = push_to(AwsElbTarget(ACM_CONSOLE, client_factory=_counting(calls)), _request(sample))  # nothing recorded

    assert first_calls == ["GetResources", "ImportCertificate"]
    assert calls == ["GetResources", "DescribeCertificate"]
    assert (again.target_id, again.action, again.detail) == (first.target_id, UploadAction.REUSED, "already in ACM")


def test_a_certificate_certpush_did_not_tag_is_not_taken_for_its_own(target: AwsElbTarget, sample: SampleCertificate):
    """The same material imported by hand (no certpush tags): certpush imports its own copy. It could
    not renew the other in place anyway: its role re-imports only certificates carrying its tag."""
    by_hand = boto3.client("acm", region_name="us-east-1").import_certificate(
        Certificate=sample.certificate_pem.encode(), PrivateKey=sample.private_key_pem.encode()
    )["CertificateArn"]

    result = push_to(target, _request(sample))

    assert result.target_id != by_hand and result.action is UploadAction.CREATED
    assert sorted(_imported("us-east-1")) == sorted([by_hand, result.target_id])


def test_two_copies_of_a_version_keep_the_oldest_and_the_other_is_removed(
    target: AwsElbTarget, sample: SampleCertificate
):
    """Two attempts that timed out, both imports landed late: the retry finds both."""
    later = _import_tagged(sample)
    oldest = _import_tagged(sample)
    _imported_earlier(oldest, seconds=60)  # moto's ImportedAt counts whole seconds: no tie

    result = push_to(target, _request(sample))

    assert (result.target_id, result.action) == (oldest, UploadAction.REUSED)
    assert _imported("us-east-1") == [oldest]
    assert result.detail == f"already in ACM; removed a duplicate of version 1 ({later}), which nothing used"


def test_the_certificate_the_binding_names_is_kept_over_an_older_copy(target: AwsElbTarget, sample: SampleCertificate):
    """A late import that landed after the retry had made its own; the push is forced again."""
    late = _import_tagged(sample)
    recorded = _import_tagged(sample)

    result = push_to(target, _request(sample, previous_target_id=recorded))

    assert (result.target_id, result.action) == (recorded, UploadAction.REUSED)
    assert _imported("us-east-1") == [recorded]
    assert f"removed a duplicate of version 1 ({late})" in (result.detail or "")


def test_a_copy_of_another_version_or_certificate_is_no_duplicate(target: AwsElbTarget, sample: SampleCertificate):
    recorded = _import_tagged(sample)
    other_version = _import_tagged(make_certificate(DOMAIN), version=2)
    same_tags_other_serial = _import_tagged(make_certificate(DOMAIN))  # e.g. mid-renewal: content moved, tag not yet

    result = push_to(target, _request(sample, previous_target_id=recorded))

    assert result.detail == "already in ACM"
    assert sorted(_imported("us-east-1")) == sorted([recorded, other_version, same_tags_other_serial])


def test_a_renewal_whose_re_tagging_was_lost_is_tagged_by_its_retry(target: AwsElbTarget, sample: SampleCertificate):
    first = push_to(target, _request(sample)).target_id
    renewal = make_certificate(DOMAIN)
    acm = boto3.client("acm", region_name="us-east-1")
    # the re-import landed and the answer was lost before AddTagsToCertificate: ACM keeps the old tags
    # (moto drops them on re-import, so they are put back as AWS leaves them)
    acm.import_certificate(CertificateArn=first, Certificate=renewal.certificate_pem.encode(),
                           PrivateKey=renewal.private_key_pem.encode())  # fmt: skip
    acm.add_tags_to_certificate(
        CertificateArn=first,
        Tags=[{"Key": "certpush:certificate-id", "Value": "shop"}, {"Key": "certpush:version", "Value": "1"}],
    )

    retried = push_to(target, _request(renewal, version=2, previous_target_id=first))

    assert (retried.target_id, retried.action) == (first, UploadAction.REUSED)
    assert _tags(first) == {"certpush:certificate-id": "shop", "certpush:version": "2"}
    assert _imported("us-east-1") == [first]


def test_a_timed_out_import_is_not_repeated_by_the_sdk(aws: None, sample: SampleCertificate):
    """botocore's standard mode retries a read timeout at once, and ImportCertificate has no idempotency
    token: each retry of a request ACM may still carry out could import another copy. The fresh
    import is sent once; the worker's retry settles, then looks by tag. (A control: the shared client
    configuration does retry it.)"""
    sent: list[str] = []

    def times_out(request: Any, **_: Any) -> None:
        sent.append(request.url)
        raise ReadTimeoutError(endpoint_url=request.url)

    events = shared_session().events
    events.register_first("before-send.acm.ImportCertificate", times_out, unique_id="h6-times-out")
    try:
        with pytest.raises(TransientPushError) as raised:
            AwsElbTarget(ACM_CONSOLE).upload(_request(sample))
        sent_by_the_target = len(sent)
        with pytest.raises(ReadTimeoutError):
            aws_client("acm", "us-east-1").import_certificate(
                Certificate=sample.certificate_pem.encode(), PrivateKey=sample.private_key_pem.encode()
            )
    finally:
        events.unregister("before-send.acm.ImportCertificate", unique_id="h6-times-out")

    assert sent_by_the_target == 1
    assert raised.value.ambiguous is True
    assert len(sent) - sent_by_the_target == 5  # the shared configuration: 4 retries


def test_a_previous_certificate_of_another_region_is_not_reimported(target: AwsElbTarget, sample: SampleCertificate):
    in_us = push_to(target, _request(sample, region="us-east-1"))

    in_eu = push_to(
        target, _request(make_certificate(DOMAIN), region="eu-west-1", version=2, previous_target_id=in_us.target_id)
    )

    assert in_eu.target_id.startswith("arn:aws:acm:eu-west-1:")
    assert in_eu.detail == "imported"
    assert _imported("us-east-1") == [in_us.target_id]
    assert _serial("us-east-1", in_us.target_id) == int(inspect_certificate(sample.certificate_pem).serial_number, 16)


# -- listeners ---------------------------------------------------------------------------------------
def test_attaches_as_sni_certificate(target: AwsElbTarget, sample: SampleCertificate):
    listener = create_https_listener("us-east-1")
    request = _request(sample, options=TargetOptions(attach=(listener,)))
    placeholder = _default_certificate("us-east-1", listener)

    result = push_to(target, request)
    retried = push_to(target, request)

    assert retried.target_id == result.target_id
    # AWS ignores a certificate that is already on the listener; moto lists it once per call
    assert set(_sni_certificates("us-east-1", listener)) == {result.target_id}
    assert _default_certificate("us-east-1", listener) == placeholder


def test_becomes_the_default_certificate(target: AwsElbTarget, sample: SampleCertificate):
    listener = create_https_listener("us-east-1")

    result = push_to(target, _request(sample, options=TargetOptions(attach_default=(listener,))))

    assert _default_certificate("us-east-1", listener) == result.target_id
    assert _sni_certificates("us-east-1", listener) == []


def test_listeners_of_other_regions_are_left_alone(target: AwsElbTarget, sample: SampleCertificate):
    us_listener = create_https_listener("us-east-1", name="certpush-us")
    eu_listener = create_https_listener("eu-west-1", name="certpush-eu")
    eu_default = _default_certificate("eu-west-1", eu_listener)
    options = TargetOptions(attach=(us_listener, eu_listener), attach_default=(eu_listener,))

    result = push_to(target, _request(sample, region="us-east-1", options=options))

    assert _sni_certificates("us-east-1", us_listener) == [result.target_id]
    assert _sni_certificates("eu-west-1", eu_listener) == []
    assert _default_certificate("eu-west-1", eu_listener) == eu_default
    assert _imported("eu-west-1") == []


# -- error translation -------------------------------------------------------------------------------
class _Clients:
    """Real (unsent) boto3 clients whose answers a Stubber scripts."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.stubbers: dict[str, Stubber] = {}

    def stub(self, service: str) -> Stubber:
        client = boto3.client(service, region_name="us-east-1")
        self.clients[service] = client
        self.stubbers[service] = Stubber(client)
        self.stubbers[service].activate()
        return self.stubbers[service]

    def factory(self, service: str, region: str) -> Any:
        return self.clients[service]


@pytest.fixture
def stubbed(aws: None) -> _Clients:
    return _Clients()


def _push_with(clients: _Clients, sample: SampleCertificate, **options: Any) -> PushError:
    target = AwsElbTarget(ACM_CONSOLE, client_factory=clients.factory)
    with pytest.raises(PushError) as raised:
        push_to(target, _request(sample, options=TargetOptions(**options)))
    for stubber in clients.stubbers.values():
        stubber.assert_no_pending_responses()
    assert isinstance(raised.value.__cause__, ClientError | ReadTimeoutError | ConnectTimeoutError)
    return raised.value


_NOTHING_TAGGED: dict[str, Any] = {"ResourceTagMappingList": []}
_IMPORTED = {"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0000"}


@pytest.mark.parametrize(
    ("code", "status"),
    [("ThrottlingException", 400), ("RequestInProgressException", 400), ("InternalFailure", 500), ("Weird", 503)],
)
def test_throttling_and_server_errors_are_transient(
    stubbed: _Clients, sample: SampleCertificate, code: str, status: int
):
    stubbed.stub("resourcegroupstaggingapi").add_response("get_resources", _NOTHING_TAGGED)
    acm = stubbed.stub("acm")
    acm.add_client_error("import_certificate", service_error_code=code, http_status_code=status)

    error = _push_with(stubbed, sample)

    assert type(error) is TransientPushError
    assert error.retryable is True


def test_quota_exceeded_is_permanent(stubbed: _Clients, sample: SampleCertificate):
    stubbed.stub("resourcegroupstaggingapi").add_response("get_resources", _NOTHING_TAGGED)
    acm = stubbed.stub("acm")
    acm.add_client_error("import_certificate", service_error_code="LimitExceededException", http_status_code=400)

    error = _push_with(stubbed, sample)

    assert type(error) is PermanentPushError
    assert (error.code, error.retryable) == ("QUOTA_EXCEEDED", False)


@pytest.mark.parametrize("code", ["AccessDeniedException", "UnrecognizedClientException"])
def test_access_denied_means_the_service_is_unavailable_in_that_region(
    stubbed: _Clients, sample: SampleCertificate, code: str
):
    stubbed.stub("acm")  # never called: the lookup by tag is refused first
    stubbed.stub("resourcegroupstaggingapi").add_client_error(
        "get_resources", service_error_code=code, http_status_code=400
    )

    error = _push_with(stubbed, sample)

    assert isinstance(error, ServiceUnavailableInRegionError)
    assert error.retryable is False


def test_a_refused_certificate_is_permanent(stubbed: _Clients, sample: SampleCertificate):
    stubbed.stub("resourcegroupstaggingapi").add_response("get_resources", _NOTHING_TAGGED)
    acm = stubbed.stub("acm")
    acm.add_client_error("import_certificate", service_error_code="ValidationException", http_status_code=400)

    error = _push_with(stubbed, sample)

    assert type(error) is PermanentPushError
    assert error.code == "CERTIFICATE_REFUSED"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("TooManyCertificates", "QUOTA_EXCEEDED"), ("ListenerNotFound", "LISTENER_NOT_FOUND")],
)
def test_listener_errors(stubbed: _Clients, sample: SampleCertificate, code: str, expected: str):
    listener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/lb/1/2"
    stubbed.stub("resourcegroupstaggingapi").add_response("get_resources", _NOTHING_TAGGED)
    acm = stubbed.stub("acm")
    acm.add_response("import_certificate", _IMPORTED)
    stubbed.stub("elbv2").add_client_error("add_listener_certificates", service_error_code=code, http_status_code=400)

    error = _push_with(stubbed, sample, attach=(listener,))

    assert type(error) is PermanentPushError
    assert error.code == expected


@pytest.mark.parametrize(
    "failure",
    [
        lambda: ReadTimeoutError(endpoint_url="https://acm.us-east-1.amazonaws.com"),
        lambda: ConnectTimeoutError(endpoint_url="https://acm.us-east-1.amazonaws.com"),
    ],
)
def test_timeouts_are_transient(sample: SampleCertificate, failure: Callable[[], Exception]):
    class TimingOut:
        def get_paginator(self, name: str) -> Any:
            raise failure()

    target = AwsElbTarget(ACM_CONSOLE, client_factory=lambda service, region: TimingOut())

    with pytest.raises(TransientPushError) as raised:
        push_to(target, _request(sample))

    assert raised.value.code == "NETWORK"


def test_the_last_look_finds_a_late_import_or_re_import_and_imports_nothing(
    target: AwsElbTarget, sample: SampleCertificate
):
    """``find``, the push worker's look after an ambiguous last attempt: reads (tags, the certificate the
    binding names), never ImportCertificate. It finds an import that landed late by its tags, and a
    re-import in place that landed late in the certificate the binding names."""
    calls: list[str] = []
    looking = AwsElbTarget(ACM_CONSOLE, client_factory=_counting(calls))
    request = _request(sample)
    assert looking.find(request) is None
    late = _import_tagged(sample)  # the last attempt's import, landed after its client gave up

    found = looking.find(request)

    assert found is not None and (found.target_id, found.action) == (late, UploadAction.REUSED)
    renewed_sample = make_certificate(DOMAIN)
    renewal = _request(renewed_sample, version=2, previous_target_id=late)
    assert looking.find(renewal) is None  # the binding's certificate still holds version 1
    boto3.client("acm", region_name="us-east-1").import_certificate(
        CertificateArn=late,
        Certificate=renewed_sample.certificate_pem.encode(),
        PrivateKey=renewed_sample.private_key_pem.encode(),
        CertificateChain=renewed_sample.chain_pem.encode(),
    )  # the re-import in place, landed late (its re-tagging never happened)

    again = looking.find(renewal)

    assert again is not None and again.target_id == late
    assert "ImportCertificate" not in calls and _imported("us-east-1") == [late]
