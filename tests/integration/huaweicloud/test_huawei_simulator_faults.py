"""Faults, authentication and the simulator's admin API, through the real adapters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from certpush.errors import AuthenticationFailedError, PermanentPushError, TransientPushError
from certpush.models.domain import PushRequest
from certpush.ports import PushTarget
from certpush.providers.huaweicloud.client import HuaweiCloudClient, HuaweiCloudCredentials
from certpush.providers.huaweicloud.elb_adapter import HuaweiElbTarget
from certpush.providers.huaweicloud.signer import HuaweiSigner
from certpush.providers.huaweicloud.waf_adapter import HuaweiWafTarget
from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator
from tests.targets import Pushed, push_to

pytestmark = pytest.mark.integration

MakeRequest = Callable[..., PushRequest]
REGIONS = ("cn-north-4", "ap-southeast-1", "eu-west-101")
MAX_ATTEMPTS = 60


def push_with_retries(target: PushTarget, request: PushRequest) -> tuple[Pushed, int]:
    """What the pipeline does: try again on TransientPushError, a bounded number of times."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return push_to(target, request), attempt
        except TransientPushError:
            continue
    raise AssertionError(f"no success in {MAX_ATTEMPTS} attempts")


@pytest.fixture
def targets(
    sim: HuaweiCloudSimulator, http_client: httpx.Client, credentials: HuaweiCloudCredentials
) -> list[PushTarget]:
    client = HuaweiCloudClient(
        lambda: credentials, http_client=http_client, endpoint_template=sim.endpoint_template, timeout_seconds=5
    )
    return [HuaweiWafTarget(client), HuaweiElbTarget(client)]


def test_thirty_percent_faults_still_end_with_one_certificate_per_target(
    sim: HuaweiCloudSimulator, targets: list[PushTarget], make_request: MakeRequest
) -> None:
    hosts = {region: sim.add_waf_host(region, "www.example.com") for region in REGIONS}
    listeners = {region: sim.add_elb_listener(region) for region in REGIONS}
    attach = {
        "waf": tuple(f"{r}/{hosts[r]}" for r in REGIONS),
        "elb": tuple(f"{r}/{listeners[r]}" for r in REGIONS),
    }
    sim.set_faults(failure_rate=0.3, kinds=["5xx", "5xx_after", "throttle", "timeout"], seed=20240601)
    retried = 0
    for target in targets:
        for region in REGIONS:
            result, attempts = push_with_retries(target, make_request(region, attach=attach[target.service]))
            retried += attempts - 1
            assert result.target_id
    sim.clear_faults()
    state = sim.state()
    assert retried > 0
    assert sum(v for k, v in state["stats"].items() if k.startswith("faults.")) > 0
    assert state["stats"].get("faults.timeout", 0) > 0
    for region in REGIONS:
        [waf_certificate] = state["waf"][region]["certificates"]
        [elb_certificate] = state["elb"][region]["certificates"]
        assert [h["id"] for h in waf_certificate["bind_host"]] == [hosts[region]]
        [listener] = state["elb"][region]["listeners"]
        assert listener["sni_container_refs"] == [elb_certificate["id"]]


def test_a_lost_answer_is_found_by_the_retry(
    sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest
) -> None:
    request = make_request()
    sim.set_faults(failure_rate=1.0, kinds=["timeout"])
    with pytest.raises(TransientPushError, match="CONNECTION_ERROR"):
        push_to(waf, request)  # the project lookup is answered by nobody: nothing made yet
    sim.set_faults()
    waf.find_by_name("cn-north-4", request.deterministic_name)  # learns the project id
    sim.set_faults(failure_rate=1.0, kinds=["timeout"])
    for _ in range(3):  # the lookup is dropped each time, so the create never happens
        with pytest.raises(TransientPushError):
            push_to(waf, request)
    assert sim.certificate_count("waf", "cn-north-4") == 0
    sim.set_faults(failure_rate=1.0, kinds=["5xx_after"])
    with pytest.raises(TransientPushError):
        push_to(waf, request)  # list answered 500 after running: still nothing created
    sim.clear_faults()
    first = push_to(waf, request)
    assert sim.certificate_count("waf", "cn-north-4") == 1
    assert push_to(waf, request).target_id == first.target_id


def test_create_done_but_connection_dropped(
    sim: HuaweiCloudSimulator, hw_client: HuaweiCloudClient, make_request: MakeRequest
) -> None:
    """The create runs and its answer is lost: the retry finds the certificate instead of making another."""

    class DropOnCreate(HuaweiWafTarget):
        def list_named(self, region: str, name: str, **kwargs: Any) -> list[dict[str, Any]]:
            found = super().list_named(region, name, **kwargs)
            sim.set_faults(failure_rate=1.0, kinds=["timeout"])  # the next call (the create) is dropped
            return found

    request = make_request()
    with pytest.raises(TransientPushError):
        push_to(DropOnCreate(hw_client), request)
    sim.clear_faults()
    assert sim.certificate_count("waf", "cn-north-4") == 1
    result = push_to(HuaweiWafTarget(hw_client), request)
    assert sim.certificate_count("waf", "cn-north-4") == 1
    assert result.detail is not None and result.detail.startswith("reused")


def test_throttling_is_transient(sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest) -> None:
    sim.set_faults(failure_rate=1.0, kinds=["throttle"])
    with pytest.raises(TransientPushError) as caught:
        push_to(waf, make_request())
    assert caught.value.code == "APIGW.0308"


def test_wrong_secret_is_refused_once_and_not_sent_again(
    sim: HuaweiCloudSimulator, http_client: httpx.Client, make_request: MakeRequest
) -> None:
    """A 401 is AUTH_FAILED with the gateway's code; the same credentials, read again, are not sent a
    second time (5 failures in a row lock the AK), nor by the next push."""
    wrong = HuaweiCloudCredentials(access_key=next(iter(sim.credentials)), secret_key="not-the-secret")
    client = HuaweiCloudClient(
        lambda: wrong,
        reload_credentials=lambda: wrong,
        http_client=http_client,
        endpoint_template=sim.endpoint_template,
    )
    for region in ("cn-north-4", "ap-southeast-1"):
        with pytest.raises(AuthenticationFailedError) as caught:
            push_to(HuaweiWafTarget(client), make_request(region))
        assert caught.value.code == "AUTH_FAILED"
    assert caught.value.gateway_code in ("APIGW.0301", "REFUSED_BEFORE")
    assert sim.state()["stats"]["signature_failures"] == 1


def test_clock_skew_is_refused(
    sim: HuaweiCloudSimulator, http_client: httpx.Client, credentials: HuaweiCloudCredentials, make_request: MakeRequest
) -> None:
    class SlowClock:
        def now(self) -> datetime:
            return datetime.now(UTC) - timedelta(minutes=20)

    client = HuaweiCloudClient(
        lambda: credentials, http_client=http_client, endpoint_template=sim.endpoint_template, clock=SlowClock()
    )
    with pytest.raises(AuthenticationFailedError, match="clock skew") as caught:
        push_to(HuaweiWafTarget(client), make_request())
    assert caught.value.gateway_code == "APIGW.0303"


def test_admin_http_api(sim: HuaweiCloudSimulator, targets: list[PushTarget], make_request: MakeRequest) -> None:
    with httpx.Client(base_url=sim.url) as admin:
        host = admin.post("/_sim/waf/cn-north-4/hosts", json={"hostname": "www.example.com"})
        assert host.status_code == 201
        listener = admin.post("/_sim/elb/cn-north-4/listeners", json={"protocol": "https"})
        assert listener.status_code == 201
        attach = {"waf": f"cn-north-4/{host.json()['id']}", "elb": f"cn-north-4/{listener.json()['id']}"}
        for target in targets:
            push_to(target, make_request(attach=(attach[target.service],)))
        state = admin.get("/_sim/state").json()
        assert len(state["waf"]["cn-north-4"]["certificates"]) == 1
        assert len(state["elb"]["cn-north-4"]["certificates"]) == 1
        assert "PRIVATE KEY" not in admin.get("/_sim/state").text
        faults = admin.post("/_sim/faults", json={"failure_rate": 0.5, "kinds": ["throttle"], "seed": 3})
        assert faults.json()["faults"]["failure_rate"] == 0.5
        assert admin.post("/_sim/faults", json={"failure_rate": 2}).status_code == 400
        assert admin.post("/_sim/faults", json={"kinds": ["meteor"]}).status_code == 400
        off = admin.post("/_sim/services", json={"service": "elb", "region": "cn-north-4", "purchased": False})
        assert off.json()["not_purchased"] == ["elb:cn-north-4"]
        assert admin.post("/_sim/reset").status_code == 200
        state = admin.get("/_sim/state").json()
        assert state["waf"] == {} and state["not_purchased"] == [] and state["faults"]["failure_rate"] == 0.0
        assert admin.get("/_sim/nothing").status_code == 404


def test_api_calls_need_a_signature(sim: HuaweiCloudSimulator) -> None:
    project = sim.project_id("cn-north-4")
    with httpx.Client(base_url=sim.url) as anonymous:
        answer = anonymous.get(f"/waf/cn-north-4/v1/{project}/waf/certificate")
    assert answer.status_code == 401
    assert answer.json()["error_code"] == "APIGW.0301"


@pytest.mark.parametrize(
    ("host", "path_region", "status"),
    [
        ("waf.cn-north-4.myhuaweicloud.com", "cn-north-4", 200),  # the host names the service and region
        ("waf.ap-southeast-1.myhuaweicloud.com", "cn-north-4", 400),  # its project is another region's
        ("elb.cn-north-4.myhuaweicloud.com", "cn-north-4", 404),  # a WAF path on the ELB host
        ("127.0.0.1", "cn-north-4", 200),  # no real host name: the path and project id decide
    ],
)
def test_the_host_header_tells_services_and_regions_apart(
    sim: HuaweiCloudSimulator, credentials: HuaweiCloudCredentials, host: str, path_region: str, status: int
) -> None:
    signer = HuaweiSigner(credentials.access_key, credentials.secret_key)
    with httpx.Client(auth=signer, timeout=5) as client:
        response = client.get(
            f"{sim.url}/v1/{sim.project_id(path_region)}/waf/certificate",
            headers={"Host": host, "Content-Type": "application/json"},
        )
    assert response.status_code == status, response.text


def test_a_deleted_protected_domain_or_listener_refuses_the_attach(
    sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, elb: HuaweiElbTarget, make_request: MakeRequest
) -> None:
    """What a person deleting them in the console leaves (``remove_waf_host``, ``remove_elb_listener``):
    the certificate still uploads, the attach is refused for good with the service's own code."""
    host, listener = sim.add_waf_host("cn-north-4", "www.example.com"), sim.add_elb_listener("cn-north-4")
    sim.remove_waf_host("cn-north-4", host)
    sim.remove_elb_listener("cn-north-4", listener)
    for target, reference, code in ((waf, host, "WAF.00011004"), (elb, listener, "ELB.8904")):
        request = make_request(attach=(f"cn-north-4/{reference}",))
        uploaded = target.upload(request)
        with pytest.raises(PermanentPushError) as caught:
            target.attach(request, uploaded.target_id)
        assert caught.value.code == code
    state = sim.state()
    assert state["waf"]["cn-north-4"]["hosts"] == [] and state["elb"]["cn-north-4"]["listeners"] == []


def test_rotated_credentials_refuse_the_old_pair(
    sim: HuaweiCloudSimulator, http_client: httpx.Client, credentials: HuaweiCloudCredentials, make_request: MakeRequest
) -> None:
    """``set_credentials``: IAM accepts the new pair only; a client that reloads its secret on 401 goes on."""
    before = sim.credentials
    fresh = HuaweiCloudCredentials(access_key="ROTATEDAK", secret_key=SecretStr("rotated-secret"))
    try:
        sim.set_credentials({"ROTATEDAK": "rotated-secret"})
        stale = HuaweiCloudClient(lambda: credentials, http_client=http_client, endpoint_template=sim.endpoint_template)
        with pytest.raises(AuthenticationFailedError) as caught:
            push_to(HuaweiWafTarget(stale), make_request())
        assert caught.value.gateway_code == "APIGW.0301"
        reloading = HuaweiCloudClient(
            lambda: credentials,
            reload_credentials=lambda: fresh,
            http_client=http_client,
            endpoint_template=sim.endpoint_template,
        )
        assert push_to(HuaweiWafTarget(reloading), make_request()).target_id
    finally:
        sim.set_credentials(before)
