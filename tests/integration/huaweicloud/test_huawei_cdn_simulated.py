"""HuaweiCdnTarget against the local simulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from huaweicloudsdkcdn import v2 as cdn_sdk

from certpush.errors import PermanentPushError
from certpush.models.domain import PushRequest, UploadAction
from certpush.providers.huaweicloud.cdn_adapter import HuaweiCdnTarget
from certpush.providers.huaweicloud.client import HuaweiCloudClient
from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator
from tests.integration.huaweicloud.sdk_clients import cdn_client
from tests.targets import push_to

pytestmark = pytest.mark.integration

MakeRequest = Callable[..., PushRequest]
GLOBAL = "global"


def served(sim: HuaweiCloudSimulator) -> dict[str, str]:
    return {c["id"]: c["name"] for c in sim.state()["cdn"]["global"]["certificates"]}


def test_configures_every_covered_domain_once(
    sim: HuaweiCloudSimulator, cdn: HuaweiCdnTarget, make_request: MakeRequest
) -> None:
    for name in ("www.example.com", "example.com", "other.example.org"):
        sim.add_cdn_domain(name)
    request = make_request(GLOBAL)
    result = push_to(cdn, request)
    assert result.target_id == "example.com,www.example.com"
    assert served(sim) == {"www.example.com": request.deterministic_name, "example.com": request.deterministic_name}
    assert push_to(cdn, request).target_id == result.target_id
    assert sim.state()["stats"]["cdn.https"] == 2  # the retry changed nothing


def test_attach_names_the_domains_and_a_renewal_replaces_the_certificate(
    sim: HuaweiCloudSimulator, cdn: HuaweiCdnTarget, make_request: MakeRequest
) -> None:
    sim.add_cdn_domain("www.example.com")
    sim.add_cdn_domain("example.com")
    push_to(cdn, make_request(GLOBAL, attach=("www.example.com",)))
    renewal = make_request(GLOBAL, version=2, attach=("www.example.com",))
    assert push_to(cdn, renewal).target_id == "www.example.com"
    assert served(sim) == {"www.example.com": renewal.deterministic_name}
    assert cdn.in_use(GLOBAL, "www.example.com") == [
        f"accelerated domain www.example.com ({renewal.deterministic_name})"
    ]


def test_refusals(sim: HuaweiCloudSimulator, cdn: HuaweiCdnTarget, make_request: MakeRequest) -> None:
    with pytest.raises(PermanentPushError) as caught:
        push_to(cdn, make_request(GLOBAL))
    assert caught.value.code == "NO_ACCELERATED_DOMAIN"
    sim.add_cdn_domain("static.example.org")
    with pytest.raises(PermanentPushError) as caught:
        push_to(cdn, make_request(GLOBAL, attach=("static.example.org",)))
    assert caught.value.code == "CDN.0406"
    with pytest.raises(PermanentPushError) as caught:
        push_to(cdn, make_request(GLOBAL, attach=("missing.example.com",)))
    assert caught.value.code == "CDN.0105"


def test_the_upload_says_what_the_domains_serve_and_a_gone_domain_fails_the_attach(
    sim: HuaweiCloudSimulator, cdn: HuaweiCdnTarget, make_request: MakeRequest
) -> None:
    """CDN stores nothing: the upload reads what each domain serves (REUSED, RENEWED_IN_PLACE or
    CREATED) and changes nothing; the attach configures them, and fails on a domain that is gone."""
    sim.add_cdn_domain("www.example.com")
    first = make_request(GLOBAL, attach=("www.example.com",))
    assert cdn.upload(first).action is UploadAction.CREATED
    assert sim.state()["stats"].get("cdn.https", 0) == 0  # nothing configured by the upload
    push_to(cdn, first)
    assert cdn.upload(first).action is UploadAction.REUSED
    renewal = make_request(GLOBAL, version=2, attach=("www.example.com", "gone.example.com"))

    uploaded = cdn.upload(renewal)
    assert (uploaded.target_id, uploaded.action) == ("gone.example.com,www.example.com", UploadAction.RENEWED_IN_PLACE)
    with pytest.raises(PermanentPushError) as caught:
        cdn.attach(renewal, uploaded.target_id)
    assert caught.value.code == "CDN.0105"


def test_a_push_changes_the_certificate_and_nothing_else(
    sim: HuaweiCloudSimulator, cdn: HuaweiCdnTarget, make_request: MakeRequest
) -> None:
    """HTTP/2, the TLS versions, OCSP stapling and the force redirect stay as the domain had them: read
    back through the official CDN SDK."""
    sim.add_cdn_domain("www.example.com")
    sdk = cdn_client(sim)
    before = make_request(GLOBAL, certificate_id="by-hand")
    https = cdn_sdk.HttpPutBody(
        https_status="on", certificate_source=0, certificate_name="by-hand",
        certificate_value=before.material.full_chain_pem,
        private_key=before.material.private_key_pem.get_secret_value(),
        http2_status="on", tls_version="TLSv1.2,TLSv1.3", ocsp_stapling_status="on",
    )  # fmt: skip
    redirect = cdn_sdk.ForceRedirectConfig(status="on", type="https", redirect_code=302)
    configs = cdn_sdk.Configs(https=https, force_redirect=redirect)
    sdk.update_domain_full_config(
        cdn_sdk.UpdateDomainFullConfigRequest(
            domain_name="www.example.com", body=cdn_sdk.ModifyDomainConfigRequestBody(configs=configs)
        )
    )
    request = make_request(GLOBAL, attach=("www.example.com",))

    push_to(cdn, request)

    shown = sdk.show_domain_full_config(cdn_sdk.ShowDomainFullConfigRequest(domain_name="www.example.com")).configs
    assert shown.https.certificate_name == request.deterministic_name
    assert shown.https.certificate_value == request.material.full_chain_pem
    assert (shown.https.http2_status, shown.https.tls_version, shown.https.ocsp_stapling_status) == (
        "on", "TLSv1.2,TLSv1.3", "on",
    )  # fmt: skip
    assert (shown.force_redirect.status, shown.force_redirect.type, shown.force_redirect.redirect_code) == (
        "on", "https", 302,
    )  # fmt: skip
    [configured] = [c for c in sim.state()["cdn"]["global"]["certificates"] if c["id"] == "www.example.com"]
    assert configured["key_format"] == "SEC1"  # the fixture's PKCS#8 key went as CDN documents it


def test_every_call_names_the_account_asked_of_iam_once(
    sim: HuaweiCloudSimulator, cdn: HuaweiCdnTarget, make_request: MakeRequest
) -> None:
    sim.add_cdn_domain("www.example.com")
    push_to(cdn, make_request(GLOBAL))
    push_to(cdn, make_request(GLOBAL, version=2))
    iam = [r for r in sim.requests() if r.service == "iam"]
    assert [r.path for r in iam] == ["/v3/auth/domains"]
    assert all("x-domain-id" in r.signed_headers for r in sim.requests() if r.service == "cdn")


def test_the_enterprise_project_is_named_and_scopes_the_domains(
    sim: HuaweiCloudSimulator, hw_client: HuaweiCloudClient, make_request: MakeRequest
) -> None:
    project = "5c1f0e8a-0000-4000-8000-00000000cdn1"
    sim.add_enterprise_project(project)
    sim.add_cdn_domain("www.example.com", enterprise_project_id=project)
    sim.add_cdn_domain("example.com")  # the default project's
    scoped = HuaweiCdnTarget(hw_client, enterprise_project_id=project)
    assert push_to(scoped, make_request(GLOBAL)).target_id == "www.example.com"
    cdn_calls = [r for r in sim.requests() if r.service == "cdn"]
    assert cdn_calls and all(("enterprise_project_id", project) in r.query for r in cdn_calls)


def test_retract_refuses_while_a_domain_serves_it_and_says_when_nothing_is_left(
    sim: HuaweiCloudSimulator, cdn: HuaweiCdnTarget, make_request: MakeRequest
) -> None:
    """CDN removes a certificate only by turning HTTPS off (an outage, and the previous certificate's key
    cannot be read back to restore it): refused while served, with what to do; nothing removed."""
    sim.add_cdn_domain("www.example.com")
    request = make_request(GLOBAL)
    pushed = push_to(cdn, request)
    with pytest.raises(PermanentPushError) as caught:
        cdn.retract(GLOBAL, pushed.target_id)
    assert caught.value.code == "CDN_SERVES_IT" and "configure another certificate" in caught.value.message
    assert served(sim) == {"www.example.com": request.deterministic_name}
    other = make_request(GLOBAL, certificate_id="by-hand")
    sdk = cdn_client(sim)
    https = cdn_sdk.HttpPutBody(
        https_status="on", certificate_source=0, certificate_name="by-hand",
        certificate_value=other.material.full_chain_pem, private_key=other.material.private_key_pem.get_secret_value(),
    )  # fmt: skip
    sdk.update_domain_full_config(
        cdn_sdk.UpdateDomainFullConfigRequest(
            domain_name="www.example.com",
            body=cdn_sdk.ModifyDomainConfigRequestBody(configs=cdn_sdk.Configs(https=https)),
        )
    )
    assert cdn.in_use(GLOBAL, pushed.target_id) == []
    assert "nothing to remove" in cdn.retract(GLOBAL, pushed.target_id)
