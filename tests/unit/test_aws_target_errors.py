"""How the AWS targets classify errors: by type, code and status only, and whether the request may have
been carried out although no answer said so (``ambiguous``: the retry settles, then looks); and which
CloudFront security policy an attach sets (the stricter of certpush's and the distribution's)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from certpush.adapters.aws_errors import is_transient, translate_aws_error
from certpush.errors import PermanentPushError, TransientPushError
from certpush.providers.aws.cloudfront import SECURITY_POLICIES, minimum_protocol_version

pytestmark = pytest.mark.unit


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    ("exc", "ambiguous"),
    [
        (EndpointConnectionError(endpoint_url="https://acm"), False),  # never sent
        (ReadTimeoutError(endpoint_url="https://acm"), True),  # sent, no answer
        (ConnectionClosedError(endpoint_url="https://acm"), True),
        (_client_error("ThrottlingException", 400), False),
        (_client_error("ServiceUnavailable", 503), False),
        (_client_error("InternalFailure", 500), True),
        (_client_error("GatewayTimeout", 504), True),
    ],
)
def test_transient_errors_say_whether_the_request_may_have_been_carried_out(exc: Exception, ambiguous: bool) -> None:
    error = translate_aws_error(exc, "importing into ACM")
    assert isinstance(error, TransientPushError)
    assert error.ambiguous is ambiguous


def test_a_refusal_is_permanent_and_never_ambiguous() -> None:
    error = translate_aws_error(_client_error("ValidationException", 400), "importing into ACM")
    assert isinstance(error, PermanentPushError) and not isinstance(error, TransientPushError)


@pytest.mark.parametrize(
    "exc", [ReadTimeoutError(endpoint_url="https://tagging"), _client_error("InternalServiceException", 500)]
)
def test_a_read_is_never_ambiguous(exc: Exception) -> None:
    """A lookup carried out unseen made nothing: its retry need not wait for anything to land."""
    error = translate_aws_error(exc, "looking for the certificate in ACM by its tags", changes=False)
    assert isinstance(error, TransientPushError)
    assert error.ambiguous is False


def test_one_classifier_botocore_s_throttles_pass_but_acm_s_quota_is_final() -> None:
    """Targets and stores share botocore's classification (adapters/aws_errors.py); ACM's
    LimitExceededException, a throttle to botocore, is the account's certificate quota for a push."""
    throttled = translate_aws_error(_client_error("RequestThrottledException", 400), "attaching")
    assert isinstance(throttled, TransientPushError) and not throttled.ambiguous
    assert is_transient(_client_error("LimitExceededException", 400))  # a store retries it later
    quota = translate_aws_error(_client_error("LimitExceededException", 400), "importing into ACM")
    assert isinstance(quota, PermanentPushError) and not isinstance(quota, TransientPushError)
    assert quota.code == "QUOTA_EXCEEDED"


def test_the_tagging_api_s_throttle_is_transient() -> None:
    error = translate_aws_error(_client_error("ThrottledException", 400), "looking", changes=False)
    assert isinstance(error, TransientPushError) and error.code == "ThrottledException"


@pytest.mark.parametrize(
    ("had", "set_"),
    [
        (None, "TLSv1.2_2021"),
        ("", "TLSv1.2_2021"),
        ("SSLv3", "TLSv1.2_2021"),
        ("TLSv1.1_2016", "TLSv1.2_2021"),
        ("TLSv1.2_2019", "TLSv1.2_2021"),
        ("TLSv1.2_2021", "TLSv1.2_2021"),
        ("TLSv1.2_2025", "TLSv1.2_2025"),
        ("TLSv1.3_2025", "TLSv1.3_2025"),
        ("TLSv1.3_2031", "TLSv1.3_2031"),  # newer than the list: kept
    ],
)
def test_cloudfront_keeps_a_stricter_security_policy(had: str | None, set_: str) -> None:
    assert minimum_protocol_version(had) == set_


def test_every_security_policy_of_botocore_s_model_is_ordered() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("cloudfront")
    assert set(model.shape_for("MinimumProtocolVersion").enum) == set(SECURITY_POLICIES)
