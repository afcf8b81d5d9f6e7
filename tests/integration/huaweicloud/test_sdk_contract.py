"""The official Huawei Cloud SDK clients judge the simulator: each operation certpush uses, performed by
``huaweicloudsdkwaf`` / ``huaweicloudsdkelb`` / ``huaweicloudsdkiam`` / ``huaweicloudsdkcdn`` pointed at
the simulator's address with no shim, signs, is accepted and its answer deserializes into the SDK's
response model; errors arrive as the SDK's ClientRequestException with the service's status and code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from huaweicloudsdkcdn import v2 as cdn_sdk
from huaweicloudsdkcdn.v2 import CdnClient
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkelb.v3 import (
    CreateCertificateOption,
    CreateCertificateRequest,
    CreateCertificateRequestBody,
    DeleteCertificateRequest,
    ElbClient,
    ListCertificatesRequest,
    ShowCertificateRequest,
    ShowListenerRequest,
    UpdateCertificateOption,
    UpdateCertificateRequest,
    UpdateCertificateRequestBody,
    UpdateListenerOption,
    UpdateListenerRequest,
    UpdateListenerRequestBody,
)
from huaweicloudsdkiam.v3 import IamClient, KeystoneListProjectsRequest
from huaweicloudsdkwaf import v1 as waf_sdk

from certpush.models.domain import PushRequest
from certpush_emulators.huaweicloud.simulator import DOMAIN_ID, HuaweiCloudSimulator

pytestmark = pytest.mark.integration

REGION = "cn-north-4"
MakeRequest = Callable[..., PushRequest]


def _config() -> HttpConfig:
    config = HttpConfig.get_default_config()
    config.retry_times = 0
    config.timeout = (5, 5)
    return config


def _basic(sim: HuaweiCloudSimulator, region: str = REGION) -> BasicCredentials:
    ak, sk = next(iter(sim.credentials.items()))
    return BasicCredentials(ak, sk, sim.project_id(region))


def waf_client(sim: HuaweiCloudSimulator, region: str = REGION) -> Any:
    builder = waf_sdk.WafClient.new_builder().with_credentials(_basic(sim, region)).with_http_config(_config())
    return builder.with_endpoints([sim.url]).build()


def elb_client(sim: HuaweiCloudSimulator, region: str = REGION) -> Any:
    builder = ElbClient.new_builder().with_credentials(_basic(sim, region)).with_http_config(_config())
    return builder.with_endpoints([sim.url]).build()


def iam_client(sim: HuaweiCloudSimulator) -> Any:
    ak, sk = next(iter(sim.credentials.items()))
    credentials = GlobalCredentials(ak, sk, DOMAIN_ID)
    builder = IamClient.new_builder().with_credentials(credentials).with_http_config(_config())
    return builder.with_endpoints([sim.url]).build()


def _pem(make_request: MakeRequest, **kwargs: Any) -> tuple[str, str]:
    request = make_request(**kwargs)
    return request.material.full_chain_pem, request.material.private_key_pem.get_secret_value()


def test_iam_lists_every_project_and_filters_by_name(sim: HuaweiCloudSimulator) -> None:
    client = iam_client(sim)
    everything = client.keystone_list_projects(KeystoneListProjectsRequest())
    assert {p.name for p in everything.projects} == set(sim.regions)
    [project] = client.keystone_list_projects(KeystoneListProjectsRequest(name=REGION)).projects
    assert project.id == sim.project_id(REGION)
    assert client.keystone_list_projects(KeystoneListProjectsRequest(name="xx-nowhere-1")).projects == []


def test_waf_certificate_lifecycle(sim: HuaweiCloudSimulator, make_request: MakeRequest) -> None:
    client = waf_client(sim)
    content, key = _pem(make_request)
    created = client.create_certificate(
        waf_sdk.CreateCertificateRequest(
            body=waf_sdk.CreateCertificateRequestBody(name="sdk-a", content=content, key=key)
        )
    )
    assert created.id and created.name == "sdk-a" and created.expire_time > 0
    listed = client.list_certificates(waf_sdk.ListCertificatesRequest(page=1, pagesize=100, name="sdk"))
    assert listed.total == 1 and listed.items[0].id == created.id
    host = sim.add_waf_host(REGION, "www.example.com")
    premium = sim.add_waf_host(REGION, "example.com", mode="premium")
    applied = client.apply_certificate_to_host(
        waf_sdk.ApplyCertificateToHostRequest(
            certificate_id=created.id,
            body=waf_sdk.ApplyCertificateToHostRequestBody(cloud_host_ids=[host], premium_host_ids=[premium]),
        )
    )
    assert {h.id for h in applied.bind_host} == {host, premium}
    bound = client.list_certificates(waf_sdk.ListCertificatesRequest(host=True)).items
    assert [c.id for c in bound] == [created.id]
    assert client.list_certificates(waf_sdk.ListCertificatesRequest(host=False)).items == []
    assert [c.id for c in client.list_certificates(waf_sdk.ListCertificatesRequest(exp_status=0)).items] == [created.id]
    new_content, new_key = _pem(make_request, version=2)
    client.update_certificate(
        waf_sdk.UpdateCertificateRequest(
            certificate_id=created.id,
            body=waf_sdk.UpdateCertificateRequestBody(name="sdk-b", content=new_content, key=new_key),
        )
    )
    shown = client.show_certificate(waf_sdk.ShowCertificateRequest(certificate_id=created.id))
    assert shown.name == "sdk-b" and shown.content == new_content
    assert {h.id for h in shown.bind_host} == {host, premium}  # renewed in place: still applied
    client.delete_certificate(waf_sdk.DeleteCertificateRequest(certificate_id=created.id))
    assert client.list_certificates(waf_sdk.ListCertificatesRequest()).total == 0


def test_waf_errors_are_client_request_exceptions(sim: HuaweiCloudSimulator, make_request: MakeRequest) -> None:
    client = waf_client(sim)
    with pytest.raises(ClientRequestException) as caught:
        client.show_certificate(waf_sdk.ShowCertificateRequest(certificate_id="0" * 32))
    assert (caught.value.status_code, caught.value.error_code) == (404, "WAF.00014002")
    content, key = _pem(make_request, expired=True)
    with pytest.raises(ClientRequestException) as caught:
        client.create_certificate(
            waf_sdk.CreateCertificateRequest(
                body=waf_sdk.CreateCertificateRequestBody(name="x", content=content, key=key)
            )
        )
    assert (caught.value.status_code, caught.value.error_code) == (400, "WAF.00011021")
    content, key = _pem(make_request)
    with pytest.raises(ClientRequestException) as caught:
        client.create_certificate(
            waf_sdk.CreateCertificateRequest(
                body=waf_sdk.CreateCertificateRequestBody(name="a" * 257, content=content, key=key)
            )
        )
    assert (caught.value.status_code, caught.value.error_code) == (400, "WAF.00011005")
    premium = sim.add_waf_host(REGION, "example.com", mode="premium")
    created = client.create_certificate(
        waf_sdk.CreateCertificateRequest(
            body=waf_sdk.CreateCertificateRequestBody(name="a" * 256, content=content, key=key)
        )
    )
    with pytest.raises(ClientRequestException) as caught:  # a dedicated-mode domain is not a cloud one
        client.apply_certificate_to_host(
            waf_sdk.ApplyCertificateToHostRequest(
                certificate_id=created.id, body=waf_sdk.ApplyCertificateToHostRequestBody(cloud_host_ids=[premium])
            )
        )
    assert caught.value.error_code == "WAF.00011004"


def test_the_project_says_the_region(sim: HuaweiCloudSimulator, make_request: MakeRequest) -> None:
    content, key = _pem(make_request)
    body = waf_sdk.CreateCertificateRequestBody(name="only-here", content=content, key=key)
    waf_client(sim, "ap-southeast-1").create_certificate(waf_sdk.CreateCertificateRequest(body=body))
    assert waf_client(sim, REGION).list_certificates(waf_sdk.ListCertificatesRequest()).total == 0
    assert waf_client(sim, "ap-southeast-1").list_certificates(waf_sdk.ListCertificatesRequest()).total == 1


def test_elb_certificate_and_listener_lifecycle(sim: HuaweiCloudSimulator, make_request: MakeRequest) -> None:
    client = elb_client(sim)
    content, key = _pem(make_request)
    created = client.create_certificate(
        CreateCertificateRequest(
            body=CreateCertificateRequestBody(
                certificate=CreateCertificateOption(
                    name="sdk", certificate=content, private_key=key, type="server", domain="www.example.com"
                )
            )
        )
    ).certificate
    assert created.id and created.domain == "www.example.com" and created.fingerprint
    listed = client.list_certificates(ListCertificatesRequest(name=["sdk"], limit=10, domain=["www.example.com"]))
    assert [c.id for c in listed.certificates] == [created.id]
    assert listed.page_info.current_count == 1
    by_fingerprint = client.list_certificates(ListCertificatesRequest(fingerprint=[created.fingerprint]))
    assert [c.id for c in by_fingerprint.certificates] == [created.id]
    assert client.list_certificates(ListCertificatesRequest(common_name=["nope.example"])).certificates == []
    new_content, new_key = _pem(make_request, version=2)
    updated = client.update_certificate(
        UpdateCertificateRequest(
            certificate_id=created.id,
            body=UpdateCertificateRequestBody(
                certificate=UpdateCertificateOption(name="sdk-2", certificate=new_content, private_key=new_key)
            ),
        )
    ).certificate
    assert updated.id == created.id and updated.fingerprint != created.fingerprint
    shown = client.show_certificate(ShowCertificateRequest(certificate_id=created.id)).certificate
    assert shown.name == "sdk-2" and shown.certificate == new_content
    listener_id = sim.add_elb_listener(REGION)
    client.update_listener(
        UpdateListenerRequest(
            listener_id=listener_id,
            body=UpdateListenerRequestBody(
                listener=UpdateListenerOption(default_tls_container_ref=created.id, sni_container_refs=[created.id])
            ),
        )
    )
    listener = client.show_listener(ShowListenerRequest(listener_id=listener_id)).listener
    assert listener.default_tls_container_ref == created.id and listener.sni_container_refs == [created.id]
    with pytest.raises(ClientRequestException) as caught:  # in use by a listener
        client.delete_certificate(DeleteCertificateRequest(certificate_id=created.id))
    assert caught.value.status_code == 409
    client.update_listener(
        UpdateListenerRequest(
            listener_id=listener_id,
            body=UpdateListenerRequestBody(listener=UpdateListenerOption(sni_container_refs=[])),
        )
    )
    other, other_key = _pem(make_request, certificate_id="other")
    spare = client.create_certificate(
        CreateCertificateRequest(
            body=CreateCertificateRequestBody(
                certificate=CreateCertificateOption(certificate=other, private_key=other_key, domain="example.com")
            )
        )
    ).certificate
    client.update_listener(
        UpdateListenerRequest(
            listener_id=listener_id,
            body=UpdateListenerRequestBody(listener=UpdateListenerOption(default_tls_container_ref=spare.id)),
        )
    )
    client.delete_certificate(DeleteCertificateRequest(certificate_id=created.id))
    remaining = client.list_certificates(ListCertificatesRequest()).certificates
    assert [c.id for c in remaining] == [spare.id]


def test_elb_sni_rules(sim: HuaweiCloudSimulator, make_request: MakeRequest) -> None:
    client = elb_client(sim)

    def create(domain: str, **kwargs: Any) -> str:
        content, key = _pem(make_request, **kwargs)
        option = CreateCertificateOption(certificate=content, private_key=key, domain=domain or None)
        body = CreateCertificateRequestBody(certificate=option)
        return str(client.create_certificate(CreateCertificateRequest(body=body)).certificate.id)

    def set_sni(listener_id: str, refs: list[str]) -> None:
        option = UpdateListenerOption(sni_container_refs=refs)
        client.update_listener(
            UpdateListenerRequest(listener_id=listener_id, body=UpdateListenerRequestBody(listener=option))
        )

    listener = sim.add_elb_listener(REGION)
    first = create("www.example.com,example.com")
    overlapping = create("example.com", version=2)
    without_domain = create("", version=3)
    for refs in ([first, overlapping], [without_domain]):
        with pytest.raises(ClientRequestException) as caught:
            set_sni(listener, refs)
        assert (caught.value.status_code, caught.value.error_code) == (400, "ELB.8902")
    set_sni(listener, [first])
    assert sim.state()["elb"][REGION]["listeners"][0]["sni_container_refs"] == [first]


def test_elb_client_certificates_need_no_key_and_expired_ones_are_stored(
    sim: HuaweiCloudSimulator, make_request: MakeRequest
) -> None:
    client = elb_client(sim)
    ca, _ = _pem(make_request)
    option = CreateCertificateOption(certificate=ca, type="client", name="ca")
    created = client.create_certificate(CreateCertificateRequest(body=CreateCertificateRequestBody(certificate=option)))
    assert created.certificate.type == "client"
    expired, key = _pem(make_request, expired=True)
    option = CreateCertificateOption(certificate=expired, private_key=key, name="old")
    client.create_certificate(CreateCertificateRequest(body=CreateCertificateRequestBody(certificate=option)))
    listed = client.list_certificates(ListCertificatesRequest(type=["client"])).certificates
    assert [c.name for c in listed] == ["ca"]


def test_filters_the_simulator_does_not_implement_are_refused(sim: HuaweiCloudSimulator) -> None:
    with pytest.raises(ClientRequestException) as caught:
        elb_client(sim).list_certificates(ListCertificatesRequest(protection_status=["nonProtection"]))
    assert (caught.value.status_code, caught.value.error_code) == (400, "SIM.NOT_SIMULATED")


def test_an_unknown_project_is_refused(sim: HuaweiCloudSimulator) -> None:
    ak, sk = next(iter(sim.credentials.items()))
    credentials = BasicCredentials(ak, sk, "f" * 32)
    client = waf_sdk.WafClient.new_builder().with_credentials(credentials).with_http_config(_config())
    with pytest.raises(ClientRequestException) as caught:
        client.with_endpoints([sim.url]).build().list_certificates(waf_sdk.ListCertificatesRequest())
    assert caught.value.error_code == "WAF.00012002"


def cdn_client(sim: HuaweiCloudSimulator) -> Any:
    ak, sk = next(iter(sim.credentials.items()))
    builder = CdnClient.new_builder().with_credentials(GlobalCredentials(ak, sk, DOMAIN_ID))
    return builder.with_http_config(_config()).with_endpoints([sim.url]).build()


def test_cdn_https_configuration(sim: HuaweiCloudSimulator, make_request: MakeRequest) -> None:
    client = cdn_client(sim)
    sim.add_cdn_domain("www.example.com")
    sim.add_cdn_domain("static.example.org")
    listed = client.list_domains(cdn_sdk.ListDomainsRequest(domain_name="example", page_size=100, page_number=1))
    assert listed.total == 2 and {d.domain_name for d in listed.domains} == {"www.example.com", "static.example.org"}
    exact = client.list_domains(cdn_sdk.ListDomainsRequest(domain_name="www.example.com", exact_match=True))
    assert [d.domain_name for d in exact.domains] == ["www.example.com"]
    content, key = _pem(make_request)

    def https(domain: str, **fields: Any) -> None:
        body = cdn_sdk.ModifyDomainConfigRequestBody(configs=cdn_sdk.Configs(https=cdn_sdk.HttpPutBody(**fields)))
        client.update_domain_full_config(cdn_sdk.UpdateDomainFullConfigRequest(domain_name=domain, body=body))

    https("www.example.com", https_status="on", certificate_source=0, certificate_name="sdk-cert",
          certificate_value=content, private_key=key)  # fmt: skip
    shown = client.show_domain_full_config(cdn_sdk.ShowDomainFullConfigRequest(domain_name="www.example.com"))
    assert shown.configs.https.https_status == "on" and shown.configs.https.certificate_name == "sdk-cert"
    assert shown.configs.https.certificate_value == content and shown.configs.https.expire_time > 0
    errors = {
        "CDN.0406": ("static.example.org", content, key),  # the certificate does not cover the domain
        "CDN.0105": ("nowhere.example.com", content, key),
        "CDN.0405": ("www.example.com", content, _pem(make_request)[1]),
        "CDN.0408": ("www.example.com", *_pem(make_request, expired=True)),
    }
    for code, (domain, value, private_key) in errors.items():
        with pytest.raises(ClientRequestException) as caught:
            https(domain, https_status="on", certificate_source=0, certificate_name="sdk-cert",
                  certificate_value=value, private_key=private_key)  # fmt: skip
        assert caught.value.error_code == code
