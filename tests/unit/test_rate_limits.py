"""Rate limits: the quotas targets declare, the operator's overrides, the in-process limiter, and the
provider clients that call it before every request (Huawei Cloud's client, boto3's before-send)."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import boto3
import httpx
import pytest
from botocore.awsrequest import AWSResponse
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from certpush.adapters.aws_errors import translate_aws_error
from certpush.adapters.rate_limiter import WindowRateLimiter
from certpush.errors import ConfigurationError, TransientPushError
from certpush.logic.rate_limits import Quota, QuotaTable, RateKey, parse_overrides, parse_quota
from certpush.providers.aws.acm import pace_calls
from certpush.providers.huaweicloud.client import HuaweiCloudClient, HuaweiCloudCredentials
from certpush.providers.registry import REGISTRY
from certpush.settings import Settings
from certpush_cli.host.home import Home
from tests.fakes import RecordingRateLimiter

pytestmark = pytest.mark.unit

BASE_ENV = {"RECORDS_TABLE": "r", "INVENTORY_TABLE": "i", "PUSH_QUEUE_URL": "q", "EVENT_BUS_NAME": "b"}


class FakeTime:
    """A monotonic clock that ``sleep`` moves forward."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


# -- declared quotas and overrides ------------------------------------------------------------------
def test_every_target_declares_the_quotas_of_the_apis_it_calls_with_their_source() -> None:
    table = dict(REGISTRY.quotas())
    for group in ("aws:acm:ImportCertificate", "aws:acm:DescribeCertificate", "aws:acm:AddTagsToCertificate",
                  "aws:resourcegroupstaggingapi", "aws:elbv2", "aws:cloudfront",
                  "huaweicloud:waf", "huaweicloud:elb", "huaweicloud:cdn", "huaweicloud:iam"):  # fmt: skip
        assert group in table, group
        assert table[group].source, group
    assert table["huaweicloud:cdn"] == Quota(200, 60.0, "global", table["huaweicloud:cdn"].source)
    assert all(definition.quotas for definition in REGISTRY)
    QuotaTable(REGISTRY.quotas())  # targets that share an API (ACM) declare the same quota for it


@pytest.mark.parametrize(
    ("text", "calls", "seconds"), [("10/1s", 10, 1.0), ("200/60s", 200, 60.0), ("5/s", 5, 1.0), (" 1 / 0.5s ", 1, 0.5)]
)
def test_a_quota_reads_calls_per_seconds(text: str, calls: int, seconds: float) -> None:
    quota = parse_quota(text)
    assert quota is not None and (quota.calls, quota.per_seconds) == (calls, seconds)


def test_none_lifts_a_limit_and_an_override_wins_over_the_declared_quota() -> None:
    table = QuotaTable(REGISTRY.quotas(), {"huaweicloud:waf": "none", "aws:acm:ImportCertificate": "3/2s"})
    assert table.find("huaweicloud", "waf", None, "cn-north-4") is None
    found = table.find("aws", "acm", "ImportCertificate", "eu-west-1")
    assert found is not None and found[0] == RateKey("aws:acm:ImportCertificate", "eu-west-1")
    assert (found[1].calls, found[1].per_seconds) == (3, 2.0)
    # an operation without a quota of its own draws from its service's; a global quota from one budget
    other = table.find("aws", "acm", "ListTagsForCertificate", "eu-west-1")
    assert other is not None and other[0].group == "aws:acm"
    cdn = table.find("huaweicloud", "cdn", None, "global")
    assert cdn is not None and cdn[0] == RateKey("huaweicloud:cdn", "global")
    assert table.find("aws", "sts", "GetCallerIdentity", "eu-west-1") is None


def test_a_share_of_the_quota_stretches_its_window() -> None:
    table = QuotaTable([("aws:acm:ImportCertificate", Quota(1, 1.0))], share=1 / 10)
    found = table.find("aws", "acm", "ImportCertificate", "us-east-1")
    assert found is not None and (found[1].calls, found[1].per_seconds) == (1, 10.0)


@pytest.mark.parametrize(
    "raw",
    ['["aws:acm"]', "{not json", '{"acm": "1/1s"}', '{"aws:acm": "fast"}', '{"aws:acm": 5}', '{"aws:acm": "0/1s"}'],
)
def test_bad_rate_limits_are_one_clear_error(raw: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        parse_overrides(raw)
    assert "RATE_LIMITS" in str(error.value) and "hint" in str(error.value) and "\n" not in str(error.value)


def test_the_settings_and_the_hosts_config_refuse_bad_rate_limits(tmp_path: Any) -> None:
    with pytest.raises(ConfigurationError, match="RATE_LIMITS"):
        Settings.from_env({**BASE_ENV, "RATE_LIMITS": '{"aws:acm": "soon"}'})
    good = Settings.from_env({**BASE_ENV, "RATE_LIMITS": '{"aws:acm": "2/1s"}', "PUSH_WORKER_MAX_CONCURRENCY": "10"})
    assert (good.rate_limits, good.push_environments) == ({"aws:acm": "2/1s"}, 10)

    home = Home.open(tmp_path / "home")
    with pytest.raises(ConfigurationError, match="rate_limits"):
        home.config({"CERTPUSH_RATE_LIMITS": '{"huaweicloud:waf": "x"}'})
    assert home.config({"CERTPUSH_RATE_LIMITS": '{"huaweicloud:waf": "5/1s"}'}).rate_limits == {
        "huaweicloud:waf": "5/1s"
    }


# -- the in-process limiter --------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(
    calls=st.integers(min_value=1, max_value=8),
    window=st.sampled_from([0.5, 1.0, 60.0]),
    gaps=st.lists(st.floats(min_value=0, max_value=2), min_size=1, max_size=60),
)
def test_never_more_calls_in_a_window_than_the_quota(calls: int, window: float, gaps: list[float]) -> None:
    """Callers arriving at any times: the slots handed out never put more than ``calls`` in one window."""
    time = FakeTime()
    limiter = WindowRateLimiter(
        QuotaTable([("huaweicloud:waf", Quota(calls, window))]), monotonic=time.monotonic, sleep=lambda s: None
    )
    slots = []
    for gap in gaps:
        time.now += gap
        slots.append(time.now + limiter.acquire("huaweicloud", "waf", None, "cn-north-4"))
    # in order, to float precision: a slot is handed out as a wait from now, and now + (slot - now) may
    # differ from slot in the last bit (415.5000000000001 after 415.50000000000006 was found)
    assert all(later >= earlier - 1e-9 for earlier, later in pairwise(slots))
    for i, start in enumerate(slots):
        assert sum(1 for s in slots[i:] if s < start + window) <= calls


def test_a_burst_goes_at_once_then_waits_a_window_and_budgets_are_apart() -> None:
    time = FakeTime()
    limiter = WindowRateLimiter(
        QuotaTable([("huaweicloud:waf", Quota(2, 1.0))]), monotonic=time.monotonic, sleep=time.sleep, margin=0.0,
        margin_seconds=0.0,
    )  # fmt: skip
    waits = [limiter.acquire("huaweicloud", "waf", None, "cn-north-4") for _ in range(3)]
    assert waits == [0.0, 0.0, 1.0]
    assert limiter.acquire("huaweicloud", "waf", None, "ap-southeast-1") == 0.0  # another region's budget
    assert limiter.acquire("huaweicloud", "elb", None, "cn-north-4") == 0.0  # no quota declared: not paced
    limiter.hold_off("huaweicloud", "waf", None, "ap-southeast-1", 30)
    assert limiter.acquire("huaweicloud", "waf", None, "ap-southeast-1") == 30.0
    # what the bench reads: requests let through and throttles met, per budget (unpaced calls not counted)
    sent = {str(k): n for k, n in limiter.sent.items()}
    assert sent == {"huaweicloud:waf@cn-north-4": 3, "huaweicloud:waf@ap-southeast-1": 2}
    assert {str(k): n for k, n in limiter.held_off.items()} == {"huaweicloud:waf@ap-southeast-1": 1}


# -- the provider clients pace every request ---------------------------------------------------------
def test_the_huawei_client_paces_each_request_by_service_and_region_and_honours_a_429() -> None:
    limiter = RecordingRateLimiter()
    answers = iter([httpx.Response(429, json={"error_code": "APIGW.0308"}, headers={"Retry-After": "7"})])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/projects":
            return httpx.Response(200, json={"projects": [{"name": "cn-north-4", "id": "p" * 32}]})
        return next(answers, httpx.Response(200, json={"items": [], "total": 0}))

    client = HuaweiCloudClient(
        lambda: HuaweiCloudCredentials(access_key="ak", secret_key=SecretStr("sk")),
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        endpoint_template="https://{service}.{region}.example",
        rate_limiter=limiter,
    )
    with pytest.raises(TransientPushError) as throttled:
        client.call("waf", "cn-north-4", "GET", "/v1/{project_id}/waf/certificate")
    assert throttled.value.throttled and throttled.value.retry_after == 7
    client.call("waf", "cn-north-4", "GET", "/v1/{project_id}/waf/certificate")

    assert limiter.calls == [
        ("huaweicloud", "iam", None, "cn-north-4"),  # the project id, looked up once
        ("huaweicloud", "waf", None, "cn-north-4"),
        ("huaweicloud", "waf", None, "cn-north-4"),
    ]
    assert limiter.holds == [("huaweicloud", "waf", None, "cn-north-4", 7.0)]


def test_boto3_clients_pace_each_http_attempt_by_operation_and_hold_off_after_a_throttle() -> None:
    limiter = RecordingRateLimiter()
    client = boto3.Session(aws_access_key_id="a", aws_secret_access_key="b").client(
        "acm", region_name="eu-west-1", config=boto3.session.Config(retries={"mode": "standard", "max_attempts": 2})
    )
    pace_calls(client, "acm", "eu-west-1", limiter)
    answers = [
        (400, {"__type": "ThrottlingException", "message": "Rate exceeded"}),
        (200, {"Certificate": {"CertificateArn": "arn:aws:acm:eu-west-1:1:certificate/x"}}),
    ]

    def answer(request: Any, **_: Any) -> AWSResponse:
        status, body = answers.pop(0)
        return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(json.dumps(body)))

    client.meta.events.register("before-send", answer)  # after pace_calls' handler: it answers for AWS
    client.describe_certificate(CertificateArn="arn:aws:acm:eu-west-1:1:certificate/x")

    assert limiter.calls == [("aws", "acm", "DescribeCertificate", "eu-west-1")] * 2  # the SDK's retry too
    assert limiter.holds == [("aws", "acm", "DescribeCertificate", "eu-west-1", 1.0)]


def test_an_aws_throttle_is_marked_throttled() -> None:
    from botocore.exceptions import ClientError

    for code in ("ThrottlingException", "Throttling", "TooManyRequestsException"):
        error = ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "ImportCertificate")
        translated = translate_aws_error(error, "import")
        assert isinstance(translated, TransientPushError) and translated.throttled
    other = ClientError({"Error": {"Code": "InternalFailure"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, "x")
    assert not getattr(translate_aws_error(other, "import"), "throttled", True)


class _Raw:
    """The raw body botocore reads from an AWSResponse."""

    def __init__(self, text: str) -> None:
        self._data = text.encode()

    def stream(self, **_: Any) -> Any:
        yield self._data

    def read(self, *_: Any) -> bytes:
        data, self._data = self._data, b""
        return data
