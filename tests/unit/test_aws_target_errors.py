"""How the AWS targets classify errors: by type, code and status only, and whether the request may have
been carried out although no answer said so (``ambiguous``: the retry settles, then looks)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from certpush.errors import PermanentPushError, TransientPushError
from certpush.providers.aws.acm import translate_aws_error

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
