"""HuaweiElbTarget against the local simulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from certpush.errors import PermanentPushError, ServiceUnavailableInRegionError
from certpush.models.domain import PushRequest
from certpush.providers.huaweicloud.client import HuaweiCloudClient
from certpush.providers.huaweicloud.elb_adapter import HuaweiElbTarget, certificate_fingerprints
from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator
from tests.targets import push_to

pytestmark = pytest.mark.integration

MakeRequest = Callable[..., PushRequest]


def elb_state(sim: HuaweiCloudSimulator, region: str) -> dict[str, Any]:
    return sim.state()["elb"].get(region, {"certificates": [], "listeners": []})


def test_create_then_reuse(sim: HuaweiCloudSimulator, elb: HuaweiElbTarget, make_request: MakeRequest) -> None:
    request = make_request("ap-southeast-1", sans=("www.example.com", "*.example.com"))
    first = push_to(elb, request)
    second = push_to(elb, request)
    assert first.target_id == second.target_id
    assert first.console_url == "https://console.huaweicloud.com/elb/?region=ap-southeast-1#/elb/certificate"
    [certificate] = elb_state(sim, "ap-southeast-1")["certificates"]
    assert certificate["name"] == request.deterministic_name
    assert certificate["type"] == "server"
    assert certificate["domain"] == "www.example.com,*.example.com"
    assert sim.state()["stats"]["elb.create"] == 1


def test_reuses_a_certificate_with_the_same_fingerprint(
    sim: HuaweiCloudSimulator, elb: HuaweiElbTarget, hw_client: HuaweiCloudClient, make_request: MakeRequest
) -> None:
    request = make_request()
    uploaded = hw_client.call(
        "elb",
        "cn-north-4",
        "POST",
        "/v3/{project_id}/elb/certificates",
        json_body={
            "certificate": {
                "name": "uploaded-by-hand",
                "certificate": request.material.full_chain_pem,
                "private_key": request.material.private_key_pem.get_secret_value(),
            }
        },
    )
    result = push_to(elb, request)
    assert result.target_id == uploaded["certificate"]["id"]
    assert len(elb_state(sim, "cn-north-4")["certificates"]) == 1


def test_listener_binding_sni_and_default(
    sim: HuaweiCloudSimulator, elb: HuaweiElbTarget, make_request: MakeRequest
) -> None:
    sni = sim.add_elb_listener("cn-north-4")
    default = sim.add_elb_listener("cn-north-4", protocol="TLS")
    other = sim.add_elb_listener("ap-southeast-1")
    request = make_request(
        attach=(f"cn-north-4/{sni}", f"ap-southeast-1/{other}"),
        attach_default=(f"cn-north-4/{default}",),
    )
    result = push_to(elb, request)
    push_to(elb, request)
    listeners = {lst["id"]: lst for lst in elb_state(sim, "cn-north-4")["listeners"]}
    assert listeners[sni]["sni_container_refs"] == [result.target_id]
    assert listeners[sni]["default_tls_container_ref"] is None
    assert listeners[default]["default_tls_container_ref"] == result.target_id
    assert elb_state(sim, "ap-southeast-1")["listeners"][0]["sni_container_refs"] == []
    assert sim.state()["stats"]["elb.listener_update"] == 2  # the second push changed nothing


def test_an_sni_certificate_replaces_those_that_share_a_domain(
    sim: HuaweiCloudSimulator, elb: HuaweiElbTarget, make_request: MakeRequest
) -> None:
    listener = sim.add_elb_listener("cn-north-4")
    attach = (f"cn-north-4/{listener}",)
    other = push_to(elb, make_request(certificate_id="other", sans=("api.example.org",), attach=attach)).target_id
    old = push_to(elb, make_request(version=1, attach=attach)).target_id
    new = push_to(elb, make_request(version=2, attach=attach)).target_id  # not renewed in place: a new id
    [state] = elb_state(sim, "cn-north-4")["listeners"]
    assert new != old
    assert state["sni_container_refs"] == [other, new]


def test_renewal_updates_the_certificate_in_place(
    sim: HuaweiCloudSimulator, elb: HuaweiElbTarget, make_request: MakeRequest
) -> None:
    listener = sim.add_elb_listener("cn-north-4")
    attach = (f"cn-north-4/{listener}",)
    first = push_to(elb, make_request(version=1, attach=attach))
    renewal = make_request(version=2, attach=attach).model_copy(update={"previous_target_id": first.target_id})
    second = push_to(elb, renewal)
    assert second.target_id == first.target_id
    assert "renewed in place" in (second.detail or "")
    [certificate] = elb_state(sim, "cn-north-4")["certificates"]
    assert certificate["name"] == renewal.deterministic_name
    assert (
        certificate["fingerprint"]
        .replace(":", "")
        .lower()
        .endswith(certificate_fingerprints(renewal.material.certificate_pem)[0])
    )
    [state] = elb_state(sim, "cn-north-4")["listeners"]
    assert state["sni_container_refs"] == [first.target_id]
    assert push_to(elb, renewal).target_id == first.target_id  # a retry finds it by its new name
    assert sim.state()["stats"]["elb.update"] == 1


def test_a_renewal_whose_earlier_certificate_is_gone_creates_one(
    sim: HuaweiCloudSimulator, elb: HuaweiElbTarget, make_request: MakeRequest
) -> None:
    renewal = make_request(version=2).model_copy(update={"previous_target_id": "0" * 32})
    created = push_to(elb, renewal)
    assert created.target_id != "0" * 32
    assert "created" in (created.detail or "")


def test_an_sni_certificate_needs_a_domain(
    sim: HuaweiCloudSimulator, elb: HuaweiElbTarget, make_request: MakeRequest
) -> None:
    listener = sim.add_elb_listener("cn-north-4")
    with pytest.raises(PermanentPushError) as exc_info:
        push_to(elb, make_request(sans=("10.0.0.1",), attach=(f"cn-north-4/{listener}",)))
    assert exc_info.value.code == "SNI_NEEDS_DOMAIN"


def test_plain_http_listener_is_refused(
    sim: HuaweiCloudSimulator, elb: HuaweiElbTarget, make_request: MakeRequest
) -> None:
    listener = sim.add_elb_listener("cn-north-4", protocol="HTTP")
    with pytest.raises(PermanentPushError, match="LISTENER_NOT_TLS"):
        push_to(elb, make_request(attach=(f"cn-north-4/{listener}",)))


def test_unknown_listener_fails_the_attach_not_the_upload(
    sim: HuaweiCloudSimulator, elb: HuaweiElbTarget, make_request: MakeRequest
) -> None:
    request = make_request(attach=("cn-north-4/missing",))
    uploaded = elb.upload(request)
    with pytest.raises(PermanentPushError) as caught:
        elb.attach(request, uploaded.target_id)
    assert caught.value.code == "ELB.8904"
    assert elb.get("cn-north-4", uploaded.target_id) is not None
    assert sim.certificate_count("elb", "cn-north-4") == 1


def test_a_key_that_does_not_match_is_refused(
    sim: HuaweiCloudSimulator, elb: HuaweiElbTarget, make_request: MakeRequest
) -> None:
    with pytest.raises(PermanentPushError) as caught:
        push_to(elb, make_request(mismatched_key=True))
    assert type(caught.value) is PermanentPushError
    assert caught.value.code == "ELB.8902"
    assert elb_state(sim, "cn-north-4")["certificates"] == []


def test_an_expired_certificate_is_stored(
    sim: HuaweiCloudSimulator, elb: HuaweiElbTarget, make_request: MakeRequest
) -> None:
    # ELB's CreateCertificate documents no refusal of expired certificates (the validator refuses them
    # before any push; the simulator must not be stricter than the cloud).
    push_to(elb, make_request(expired=True))
    assert len(elb_state(sim, "cn-north-4")["certificates"]) == 1


def test_not_purchased_region(sim: HuaweiCloudSimulator, elb: HuaweiElbTarget, make_request: MakeRequest) -> None:
    sim.set_service_purchased("elb", "af-south-1", False)
    with pytest.raises(ServiceUnavailableInRegionError):
        push_to(elb, make_request("af-south-1"))


def test_a_region_without_a_project_is_unavailable(
    http_client: Any, credentials: Any, make_request: MakeRequest
) -> None:
    # IAM lists the account's projects only: a region with none is never invented
    with HuaweiCloudSimulator(regions=["cn-north-4"]) as only_one:
        client = HuaweiCloudClient(
            lambda: credentials, http_client=http_client, endpoint_template=only_one.endpoint_template
        )
        with pytest.raises(ServiceUnavailableInRegionError) as caught:
            push_to(HuaweiElbTarget(client), make_request("ap-southeast-1"))
        assert caught.value.code == "PROJECT_NOT_FOUND"
        assert push_to(HuaweiElbTarget(client), make_request("cn-north-4")).target_id
