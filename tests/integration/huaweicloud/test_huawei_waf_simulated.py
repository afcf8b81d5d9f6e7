"""HuaweiWafTarget against the local simulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from certpush.errors import PermanentPushError, ServiceUnavailableInRegionError
from certpush.models.domain import PushRequest, UploadAction
from certpush.providers.huaweicloud.client import HuaweiCloudClient
from certpush.providers.huaweicloud.waf_adapter import HuaweiWafTarget
from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator
from tests.targets import push_to

pytestmark = pytest.mark.integration

MakeRequest = Callable[..., PushRequest]


def waf_certificates(sim: HuaweiCloudSimulator, region: str) -> list[dict[str, Any]]:
    return sim.state()["waf"].get(region, {}).get("certificates", [])


def test_create_then_reuse(sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest) -> None:
    request = make_request("cn-north-4")
    first = push_to(waf, request)
    second = push_to(waf, request)
    assert first.target_id == second.target_id
    assert first.console_url == "https://console.huaweicloud.com/waf/?region=cn-north-4#/waf/certificate"
    assert first.detail is not None and first.detail.startswith("created")
    assert second.detail is not None and second.detail.startswith("reused")
    [certificate] = waf_certificates(sim, "cn-north-4")
    assert certificate["name"] == request.deterministic_name
    assert sim.state()["stats"]["waf.create"] == 1


def test_versions_and_regions_are_separate(
    sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest
) -> None:
    ids = {
        push_to(waf, make_request(region, version=version)).target_id
        for region in ("cn-north-4", "ap-southeast-1")
        for version in (1, 2)
    }
    assert len(ids) == 4
    assert len(waf_certificates(sim, "cn-north-4")) == len(waf_certificates(sim, "ap-southeast-1")) == 2


def test_exact_name_match_despite_fuzzy_filter(
    sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest
) -> None:
    """``name=certpush-cert-1-v1`` also lists ``certpush-cert-1-v10``: only the exact name is reused."""
    tenth = push_to(waf, make_request(certificate_id="cert-1", version=10))
    first = push_to(waf, make_request(certificate_id="cert-1", version=1))
    assert tenth.target_id != first.target_id


def test_a_name_refused_as_taken_reuses_the_existing_certificate(
    sim: HuaweiCloudSimulator, hw_client: HuaweiCloudClient, make_request: MakeRequest
) -> None:
    """Where WAF refuses a taken name (the simulator's switch): another worker created the certificate
    between our lookup and our create; the refusal leads to it."""

    class RacingWafTarget(HuaweiWafTarget):
        lookups = 0

        def list_named(self, region: str, name: str, **kwargs: Any) -> list[dict[str, Any]]:
            self.lookups += 1
            return [] if self.lookups == 1 else super().list_named(region, name, **kwargs)

    sim.set_waf_refuses_duplicate_names(True)
    request = make_request()
    winner = push_to(HuaweiWafTarget(hw_client), request)
    racer = RacingWafTarget(hw_client)
    result = push_to(racer, request)
    assert result.target_id == winner.target_id
    assert len(waf_certificates(sim, "cn-north-4")) == 1


def test_a_certificate_applied_to_a_domain_is_found_again(
    sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest
) -> None:
    """ListCertificates without ``host`` lists only certificates applied to no domain ("default false"):
    the lookup asks for both, so a re-push of an applied certificate reuses it."""
    host = sim.add_waf_host("cn-north-4", "www.example.com")
    request = make_request(attach=(f"cn-north-4/{host}",))
    first = push_to(waf, request)
    again = push_to(waf, request)
    assert again.target_id == first.target_id and again.detail is not None and again.detail.startswith("reused")
    assert len(waf_certificates(sim, "cn-north-4")) == 1


def test_apply_to_hosts_of_the_region_only(
    sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest
) -> None:
    cloud = sim.add_waf_host("cn-north-4", "www.example.com")
    premium = sim.add_waf_host("cn-north-4", "example.com", mode="premium")
    elsewhere = sim.add_waf_host("ap-southeast-1", "www.example.com")
    attach = (f"cn-north-4/{cloud}", f"cn-north-4/premium/{premium}", f"ap-southeast-1/{elsewhere}")
    request = make_request("cn-north-4", attach=attach)
    result = push_to(waf, request)
    assert result.detail is not None and "2 protected domain" in result.detail
    [certificate] = waf_certificates(sim, "cn-north-4")
    assert {h["id"] for h in certificate["bind_host"]} == {cloud, premium}
    hosts = {h["id"]: h for h in sim.state()["waf"]["ap-southeast-1"]["hosts"]}
    assert hosts[elsewhere]["certificate_id"] is None
    push_to(waf, request)
    assert sim.state()["stats"]["waf.apply"] == 1  # already bound: no second call


def test_a_renewal_of_a_certificate_no_domain_uses_is_in_place(
    sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest
) -> None:
    first = push_to(waf, make_request(version=1))
    renewal = make_request(version=2)
    second = push_to(waf, renewal.model_copy(update={"previous_target_id": first.target_id}))
    assert (second.target_id, second.action) == (first.target_id, UploadAction.RENEWED_IN_PLACE)
    [certificate] = waf_certificates(sim, "cn-north-4")
    assert certificate["name"] == renewal.deterministic_name
    assert sim.state()["stats"]["waf.update"] == 1


def test_a_renewal_of_an_applied_certificate_is_a_new_one_the_domains_move_to(
    sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest
) -> None:
    """WAF refuses to change a certificate a domain uses (WAF.00022003): v2 is created and every domain
    v1 was applied to moves to it, the ones given with --attach or not; v1 stays, used by nothing."""
    named = sim.add_waf_host("cn-north-4", "www.example.com")
    console = sim.add_waf_host("cn-north-4", "example.com", mode="premium")
    first = push_to(waf, make_request(version=1, attach=(f"cn-north-4/{named}",)))
    sim_apply(sim, waf, first.target_id, premium=[console])  # someone applied it in the console too
    renewal = make_request(version=2, attach=(f"cn-north-4/{named}",))
    second = push_to(waf, renewal.model_copy(update={"previous_target_id": first.target_id}))
    assert second.target_id != first.target_id and second.action is UploadAction.CREATED
    assert second.detail is not None and "moved 1 protected domain(s)" in second.detail
    by_id = {c["id"]: c for c in waf_certificates(sim, "cn-north-4")}
    assert {h["id"] for h in by_id[second.target_id]["bind_host"]} == {named, console}
    assert by_id[first.target_id]["bind_host"] == []
    assert sim.state()["stats"].get("waf.update", 0) == 0


@pytest.mark.parametrize("region", ["eu-west-0", "my-kualalumpur-1"])
def test_where_update_takes_a_name_only_a_renewal_is_a_new_certificate(
    sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest, region: str
) -> None:
    host = sim.add_waf_host(region, "www.example.com")
    first = push_to(waf, make_request(region, version=1))
    sim_apply(sim, waf, first.target_id, cloud=[host], region=region)
    second = push_to(waf, make_request(region, version=2).model_copy(update={"previous_target_id": first.target_id}))
    assert second.target_id != first.target_id
    by_id = {c["id"]: c for c in waf_certificates(sim, region)}
    assert [h["id"] for h in by_id[second.target_id]["bind_host"]] == [host]


def test_keys_go_as_pkcs1_or_sec1(sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest) -> None:
    request = make_request()  # the fixture's key is PKCS#8 ("BEGIN PRIVATE KEY")
    assert "BEGIN PRIVATE KEY" in request.material.private_key_pem.get_secret_value()
    push_to(waf, request)
    [certificate] = waf_certificates(sim, "cn-north-4")
    assert certificate["key_format"] == "SEC1"


def sim_apply(
    sim: HuaweiCloudSimulator,
    waf: HuaweiWafTarget,
    certificate_id: str,
    *,
    cloud: list[str] | None = None,
    premium: list[str] | None = None,
    region: str = "cn-north-4",
) -> None:
    """What a person does in the console: apply the certificate to protected domains."""
    refs = [*(cloud or []), *(f"premium/{p}" for p in premium or [])]
    waf._apply_to_hosts(region, certificate_id, refs)


def test_a_premium_host_is_not_a_cloud_host(
    sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest
) -> None:
    premium = sim.add_waf_host("cn-north-4", "example.com", mode="premium")
    with pytest.raises(PermanentPushError) as caught:
        push_to(waf, make_request(attach=(f"cn-north-4/{premium}",)))
    assert caught.value.code == "WAF.00011004"


def test_unknown_host_fails_the_attach_not_the_upload(
    sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest
) -> None:
    """The certificate goes in first; the attach that follows fails on its own (ATTACH_FAILED)."""
    request = make_request(attach=("cn-north-4/no-such-host",))
    uploaded = waf.upload(request)
    assert sim.certificate_count("waf", "cn-north-4") == 1
    with pytest.raises(PermanentPushError) as caught:
        waf.attach(request, uploaded.target_id)
    assert caught.value.code == "WAF.00011004"
    assert waf.get("cn-north-4", uploaded.target_id) is not None  # still there, as its record will say


def test_expired_certificate_is_refused(
    sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest
) -> None:
    with pytest.raises(PermanentPushError) as caught:
        push_to(waf, make_request(expired=True))
    assert type(caught.value) is PermanentPushError
    assert caught.value.code == "WAF.00011021"
    assert waf_certificates(sim, "cn-north-4") == []


def test_mismatched_key_is_refused(waf: HuaweiWafTarget, make_request: MakeRequest) -> None:
    with pytest.raises(PermanentPushError) as caught:
        push_to(waf, make_request(mismatched_key=True))
    assert type(caught.value) is PermanentPushError
    assert caught.value.code == "WAF.00011019"


def test_not_purchased_region(sim: HuaweiCloudSimulator, waf: HuaweiWafTarget, make_request: MakeRequest) -> None:
    sim.set_service_purchased("waf", "la-south-2", False)
    with pytest.raises(ServiceUnavailableInRegionError) as caught:
        push_to(waf, make_request("la-south-2"))
    assert caught.value.code == "WAF.00012005"
    push_to(waf, make_request("cn-north-4"))  # other regions are unaffected
