"""HuaweiCdnTarget against the local simulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from certpush.errors import PermanentPushError
from certpush.models.domain import PushRequest, UploadAction
from certpush.providers.huaweicloud.cdn_adapter import HuaweiCdnTarget
from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator
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
