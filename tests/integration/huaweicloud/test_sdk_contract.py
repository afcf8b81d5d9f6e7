"""The official Huawei Cloud SDK clients judge the simulator: each operation certpush uses, performed by
``huaweicloudsdkwaf`` / ``huaweicloudsdkelb`` / ``huaweicloudsdkiam`` / ``huaweicloudsdkcdn`` pointed at
the simulator's address with no shim, signs, is accepted and its answer deserializes into the SDK's
response model, carrying every field that model declares (``sdk_fields``: checked on every answer of
every test here); errors arrive as the SDK's ClientRequestException with the service's status and code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import huaweicloudsdkcore.client as sdk_core
import pytest
from huaweicloudsdkcdn import v2 as cdn_sdk
from huaweicloudsdkcdn.v2 import CdnClient
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkelb.v3 import (
    CreateCertificateOption,
    CreateCertificateRequest,
    CreateCertificateRequestBody,
    DeleteCertificateRequest,
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
from huaweicloudsdkiam.v3 import KeystoneListAuthDomainsRequest, KeystoneListProjectsRequest
from huaweicloudsdkwaf import v1 as waf_sdk

from certpush.models.domain import PushRequest
from certpush.providers.huaweicloud.signer import HuaweiSigner
from certpush_emulators.huaweicloud.simulator import DOMAIN_ID, HuaweiCloudSimulator
from tests.integration.huaweicloud.sdk_clients import _config, cdn_client, elb_client, iam_client, waf_client
from tests.integration.huaweicloud.sdk_fields import missing_fields, missing_in_response

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def every_declared_field(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Each successful answer the SDK deserialises here must carry every field its response model
    declares (header fields aside): the test fails on one left out."""
    missing: list[str] = []
    answered: list[str] = []
    original = sdk_core.Client.sync_response_handler

    def judged(self: Any, response: Any, response_type: Any, response_headers: Any, progress_callback: Any) -> Any:
        if isinstance(response_type, str) and response.status_code < 300:
            answered.append(response_type)
            gaps = missing_in_response(self.model_package, response_type, response.content, response_headers or [])
            missing.extend(f"{response_type}: {gap}" for gap in gaps)
        return original(self, response, response_type, response_headers, progress_callback)

    monkeypatch.setattr(sdk_core.Client, "sync_response_handler", judged)
    yield answered
    assert not missing, f"answers lack fields their SDK model declares: {sorted(set(missing))[:20]}"


def test_the_judge_finds_a_declared_field_left_out() -> None:
    """The check above can fail: an ELB certificate without ``protection_status`` is caught, nested too."""
    import huaweicloudsdkelb.v3.model as elb_models

    declared = {elb_models.CertificateInfo.attribute_map[a] for a in elb_models.CertificateInfo.openapi_types}
    complete = dict.fromkeys(declared, "x") | {"subject_alternative_names": []}
    shown = {"certificate": complete, "request_id": "r"}
    assert list(missing_fields(elb_models, "ShowCertificateResponse", shown, skip=frozenset({"X-Request-Id"}))) == []
    partial = {k: v for k, v in complete.items() if k != "protection_status"}
    gaps = list(missing_fields(elb_models, "ListCertificatesResponse", {"certificates": [partial], "page_info": None}))
    assert sorted(gaps) == ["certificates[0].protection_status", "request_id"]


REGION = "cn-north-4"
MakeRequest = Callable[..., PushRequest]


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
    # "host": "default false", certificates applied to no domain; the bound one is listed with host=true only
    assert client.list_certificates(waf_sdk.ListCertificatesRequest(host=False)).items == []
    assert client.list_certificates(waf_sdk.ListCertificatesRequest()).items == []
    assert [c.id for c in client.list_certificates(waf_sdk.ListCertificatesRequest(exp_status=0, host=True)).items] == [
        created.id
    ]
    new_content, new_key = _pem(make_request, version=2)
    renewal = waf_sdk.UpdateCertificateRequestBody(name="sdk-b", content=new_content, key=new_key)
    for refused in (
        lambda: client.update_certificate(waf_sdk.UpdateCertificateRequest(certificate_id=created.id, body=renewal)),
        lambda: client.delete_certificate(waf_sdk.DeleteCertificateRequest(certificate_id=created.id)),
    ):
        with pytest.raises(ClientRequestException) as caught:  # applied to domains: in use
            refused()
        assert (caught.value.status_code, caught.value.error_code) == (400, "WAF.00022003")
    shown = client.show_certificate(waf_sdk.ShowCertificateRequest(certificate_id=created.id))
    assert shown.name == "sdk-a" and shown.content == content and shown.key == key
    assert {h.id for h in shown.bind_host} == {host, premium}
    spare = client.create_certificate(
        waf_sdk.CreateCertificateRequest(
            body=waf_sdk.CreateCertificateRequestBody(name="sdk-c", content=content, key=key)
        )
    )
    client.update_certificate(waf_sdk.UpdateCertificateRequest(certificate_id=spare.id, body=renewal))  # unbound
    assert client.show_certificate(waf_sdk.ShowCertificateRequest(certificate_id=spare.id)).content == new_content
    client.apply_certificate_to_host(  # the domains move: a domain takes one certificate
        waf_sdk.ApplyCertificateToHostRequest(
            certificate_id=spare.id,
            body=waf_sdk.ApplyCertificateToHostRequestBody(cloud_host_ids=[host], premium_host_ids=[premium]),
        )
    )
    client.delete_certificate(waf_sdk.DeleteCertificateRequest(certificate_id=created.id))
    assert [c.id for c in client.list_certificates(waf_sdk.ListCertificatesRequest(host=True)).items] == [spare.id]


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
        elb_client(sim).list_certificates(ListCertificatesRequest(page_reverse=True))
    assert (caught.value.status_code, caught.value.error_code) == (400, "SIM.NOT_SIMULATED")
    assert (
        elb_client(sim).list_certificates(ListCertificatesRequest(protection_status=["nonProtection"])).certificates
        == []
    )


def test_an_unknown_project_is_refused(sim: HuaweiCloudSimulator) -> None:
    ak, sk = next(iter(sim.credentials.items()))
    credentials = BasicCredentials(ak, sk, "f" * 32)
    client = waf_sdk.WafClient.new_builder().with_credentials(credentials).with_http_config(_config())
    with pytest.raises(ClientRequestException) as caught:
        client.with_endpoints([sim.url]).build().list_certificates(waf_sdk.ListCertificatesRequest())
    assert caught.value.error_code == "WAF.00012002"


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


def test_iam_names_the_account_and_the_sdk_finds_it_for_cdn(sim: HuaweiCloudSimulator) -> None:
    client = iam_client(sim)
    [domain] = client.keystone_list_auth_domains(KeystoneListAuthDomainsRequest()).domains
    assert domain.id == DOMAIN_ID
    ak, sk = next(iter(sim.credentials.items()))
    credentials = GlobalCredentials(ak, sk).with_iam_endpoint(sim.url)  # no domain id: the SDK asks IAM
    cdn = CdnClient.new_builder().with_credentials(credentials).with_http_config(_config())
    sim.add_cdn_domain("www.example.com")
    assert cdn.with_region(Region("cn-north-1", sim.url)).build().list_domains(cdn_sdk.ListDomainsRequest()).total == 1
    assert credentials.domain_id == DOMAIN_ID


def test_cdn_needs_the_accounts_id(sim: HuaweiCloudSimulator) -> None:
    ak, sk = next(iter(sim.credentials.items()))
    other = CdnClient.new_builder().with_credentials(GlobalCredentials(ak, sk, "e" * 32)).with_http_config(_config())
    with pytest.raises(ClientRequestException) as caught:
        other.with_endpoints([sim.url]).build().list_domains(cdn_sdk.ListDomainsRequest())
    assert (caught.value.status_code, caught.value.error_code) == (401, "APIGW.0301")


def _https(client: Any, domain: str, **fields: Any) -> None:
    configs = cdn_sdk.Configs(https=cdn_sdk.HttpPutBody(**fields))
    body = cdn_sdk.ModifyDomainConfigRequestBody(configs=configs)
    client.update_domain_full_config(cdn_sdk.UpdateDomainFullConfigRequest(domain_name=domain, body=body))


def test_cdn_https_settings_are_reset_by_a_put_that_leaves_them_out(
    sim: HuaweiCloudSimulator, make_request: MakeRequest
) -> None:
    """UpdateDomainFullConfig replaces the https object: HTTP/2, TLS versions and OCSP stapling not sent
    take their defaults; force_redirect, another configuration, stays; HTTPS off turns HTTP/2 off."""
    client = cdn_client(sim)
    sim.add_cdn_domain("www.example.com")
    content, key = _pem(make_request)
    certificate = {"certificate_source": 0, "certificate_name": "sdk-cert", "certificate_value": content}
    _https(client, "www.example.com", https_status="on", private_key=key, http2_status="on",
           tls_version="TLSv1.2,TLSv1.3", ocsp_stapling_status="on", **certificate)  # fmt: skip
    redirect = cdn_sdk.ForceRedirectConfig(status="on", type="https", redirect_code=301)
    client.update_domain_full_config(
        cdn_sdk.UpdateDomainFullConfigRequest(
            domain_name="www.example.com",
            body=cdn_sdk.ModifyDomainConfigRequestBody(configs=cdn_sdk.Configs(force_redirect=redirect)),
        )
    )

    def shown() -> Any:
        return client.show_domain_full_config(
            cdn_sdk.ShowDomainFullConfigRequest(domain_name="www.example.com")
        ).configs

    configs = shown()
    assert (configs.https.http2_status, configs.https.tls_version, configs.https.ocsp_stapling_status) == (
        "on", "TLSv1.2,TLSv1.3", "on",
    )  # fmt: skip
    _https(client, "www.example.com", https_status="on", private_key=key, **certificate)
    configs = shown()
    assert (configs.https.http2_status, configs.https.tls_version, configs.https.ocsp_stapling_status) == (
        "off", "TLSv1.1,TLSv1.2,TLSv1.3", "off",
    )  # fmt: skip
    assert (configs.force_redirect.status, configs.force_redirect.type) == ("on", "https")
    _https(client, "www.example.com", https_status="off", http2_status="on")
    assert (shown().https.https_status, shown().https.http2_status) == ("off", "off")
    for tls_version in ("TLSv1.0,TLSv1.2", "SSLv3", ""):
        with pytest.raises(ClientRequestException) as caught:
            _https(
                client, "www.example.com", https_status="on", private_key=key, tls_version=tls_version, **certificate
            )
        assert caught.value.error_code == "CDN.0001"


def test_enterprise_projects_are_checked_and_scope_what_is_seen(
    sim: HuaweiCloudSimulator, make_request: MakeRequest
) -> None:
    project = "0f4e1e1c-6f5c-4a0e-9b1c-5d2c6f7a8b9c"
    sim.add_enterprise_project(project)
    waf = waf_client(sim)
    content, key = _pem(make_request)
    body = waf_sdk.CreateCertificateRequestBody(name="in-project", content=content, key=key)
    created = waf.create_certificate(waf_sdk.CreateCertificateRequest(enterprise_project_id=project, body=body))
    assert waf.list_certificates(waf_sdk.ListCertificatesRequest()).total == 0  # "0", the default project
    assert waf.list_certificates(waf_sdk.ListCertificatesRequest(enterprise_project_id=project)).total == 1
    assert waf.list_certificates(waf_sdk.ListCertificatesRequest(enterprise_project_id="all_granted_eps")).total == 1
    with pytest.raises(ClientRequestException) as caught:
        waf.show_certificate(waf_sdk.ShowCertificateRequest(certificate_id=created.id))
    assert caught.value.status_code == 404  # not in the default project
    with pytest.raises(ClientRequestException) as caught:
        waf.list_certificates(waf_sdk.ListCertificatesRequest(enterprise_project_id="no-such-project"))
    assert caught.value.status_code == 400
    elb = elb_client(sim)
    option = CreateCertificateOption(certificate=content, private_key=key, enterprise_project_id=project)
    made = elb.create_certificate(CreateCertificateRequest(body=CreateCertificateRequestBody(certificate=option)))
    assert made.certificate.enterprise_project_id == project
    assert elb.list_certificates(ListCertificatesRequest(enterprise_project_id=["0"])).certificates == []
    assert len(elb.list_certificates(ListCertificatesRequest()).certificates) == 1  # no filter: every project
    option = CreateCertificateOption(certificate=content, private_key=key, enterprise_project_id="nope")
    with pytest.raises(ClientRequestException) as caught:
        elb.create_certificate(CreateCertificateRequest(body=CreateCertificateRequestBody(certificate=option)))
    assert caught.value.error_code == "ELB.8902"
    sim.add_cdn_domain("www.example.com", enterprise_project_id=project)
    cdn = cdn_client(sim)
    assert cdn.list_domains(cdn_sdk.ListDomainsRequest(enterprise_project_id="0")).total == 0
    assert cdn.list_domains(cdn_sdk.ListDomainsRequest(enterprise_project_id=project)).total == 1


def test_waf_renews_by_name_only_where_the_region_says_so(sim: HuaweiCloudSimulator, make_request: MakeRequest) -> None:
    region = "eu-west-0"  # UpdateCertificate takes a name only there
    client = waf_client(sim, region)
    content, key = _pem(make_request, region=region)
    created = client.create_certificate(
        waf_sdk.CreateCertificateRequest(body=waf_sdk.CreateCertificateRequestBody(name="eu", content=content, key=key))
    )
    new_content, new_key = _pem(make_request, region=region, version=2)
    with pytest.raises(ClientRequestException) as caught:
        client.update_certificate(
            waf_sdk.UpdateCertificateRequest(
                certificate_id=created.id,
                body=waf_sdk.UpdateCertificateRequestBody(name="eu", content=new_content, key=new_key),
            )
        )
    assert caught.value.error_code == "WAF.00011003"
    renamed = client.update_certificate(
        waf_sdk.UpdateCertificateRequest(
            certificate_id=created.id, body=waf_sdk.UpdateCertificateRequestBody(name="eu-2")
        )
    )
    assert renamed.name == "eu-2"


def test_waf_takes_two_certificates_of_one_name_unless_told_otherwise(
    sim: HuaweiCloudSimulator, make_request: MakeRequest
) -> None:
    client = waf_client(sim)
    content, key = _pem(make_request)
    body = waf_sdk.CreateCertificateRequestBody(name="twice", content=content, key=key)
    for _ in range(2):  # WAF documents no refusal of a taken certificate name
        client.create_certificate(waf_sdk.CreateCertificateRequest(body=body))
    assert client.list_certificates(waf_sdk.ListCertificatesRequest(name="twice")).total == 2
    sim.set_waf_refuses_duplicate_names(True)
    with pytest.raises(ClientRequestException) as caught:
        client.create_certificate(waf_sdk.CreateCertificateRequest(body=body))
    assert caught.value.error_code == "WAF.00011016"


def test_elb_listener_settings_are_kept_not_ignored(sim: HuaweiCloudSimulator) -> None:
    client = elb_client(sim)
    listener_id = sim.add_elb_listener(REGION)
    option = UpdateListenerOption(
        sni_match_algo="longest_suffix", tls_ciphers_policy="tls-1-2-strict", http2_enable=True
    )
    client.update_listener(
        UpdateListenerRequest(listener_id=listener_id, body=UpdateListenerRequestBody(listener=option))
    )
    listener = client.show_listener(ShowListenerRequest(listener_id=listener_id)).listener
    assert (listener.sni_match_algo, listener.tls_ciphers_policy, listener.http2_enable) == (
        "longest_suffix", "tls-1-2-strict", True,
    )  # fmt: skip
    with pytest.raises(ClientRequestException) as caught:
        option = UpdateListenerOption(sni_match_algo="closest")
        client.update_listener(
            UpdateListenerRequest(listener_id=listener_id, body=UpdateListenerRequestBody(listener=option))
        )
    assert caught.value.error_code == "ELB.8902"


def test_the_simulators_clock_runs_the_lock_and_flow_control(make_request: MakeRequest) -> None:
    """5 failed authentications in a row lock the AK for 5 minutes, whatever it signs then; CDN takes
    200 calls a minute, then 429 APIGW.0308 with Retry-After (both on the simulator's clock)."""

    class Clock:
        moment = datetime.now(UTC)

        def now(self) -> datetime:
            return self.moment

    clock = Clock()
    with HuaweiCloudSimulator(clock=clock, max_clock_skew=timedelta(hours=1)) as sim:
        ak, _ = next(iter(sim.credentials.items()))
        wrong = waf_sdk.WafClient.new_builder().with_credentials(BasicCredentials(ak, "wrong", sim.project_id(REGION)))
        wrong = wrong.with_http_config(_config()).with_endpoints([sim.url]).build()
        for _ in range(5):
            with pytest.raises(ClientRequestException):
                wrong.list_certificates(waf_sdk.ListCertificatesRequest())
        with pytest.raises(ClientRequestException) as caught:
            waf_client(sim).list_certificates(waf_sdk.ListCertificatesRequest())
        assert (caught.value.status_code, caught.value.error_code) == (401, "APIGW.0301")
        clock.moment += timedelta(minutes=5, seconds=1)
        assert waf_client(sim).list_certificates(waf_sdk.ListCertificatesRequest()).total == 0

        cdn = cdn_client(sim)
        for _ in range(200):
            cdn.list_domains(cdn_sdk.ListDomainsRequest())
        signer = HuaweiSigner(ak, sim.credentials[ak], clock=clock)
        with httpx.Client(auth=signer, timeout=5) as raw:
            answer = raw.get(f"{sim.url}/v1.0/cdn/domains", headers={"X-Domain-Id": DOMAIN_ID})
            assert (answer.status_code, answer.json()["error_code"]) == (429, "APIGW.0308")
            assert answer.headers["Retry-After"] == "60"
            clock.moment += timedelta(seconds=30)
            answer = raw.get(f"{sim.url}/v1.0/cdn/domains", headers={"X-Domain-Id": DOMAIN_ID})
            assert (answer.status_code, answer.headers["Retry-After"]) == (429, "30")
        clock.moment += timedelta(seconds=31)
        assert cdn.list_domains(cdn_sdk.ListDomainsRequest()).total == 0
        sim.set_flow_control(False)
        for _ in range(250):
            cdn.list_domains(cdn_sdk.ListDomainsRequest())
