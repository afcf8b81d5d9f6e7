"""HuaweiCloudClient on httpx.MockTransport: error mapping, project ids, lazy credentials; regions,
settings and console links."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from pydantic import SecretStr, ValidationError

from certpush.errors import (
    AuthenticationFailedError,
    ConfigurationError,
    PermanentPushError,
    PushError,
    ServiceUnavailableInRegionError,
    TransientPushError,
)
from certpush.providers.definition import BuildContext
from certpush.providers.huaweicloud.client import (
    HuaweiCloudClient,
    HuaweiCloudCredentials,
    error_for_response,
    load_credentials,
)
from certpush.providers.huaweicloud.elb_adapter import (
    HuaweiElbTarget,
    certificate_fingerprints,
    elb_domain,
    format_sha1_fingerprint,
    normalise_fingerprint,
)
from certpush.providers.huaweicloud.references import references_in_region
from certpush.providers.huaweicloud.regions import endpoint_for, offered_regions
from certpush.providers.huaweicloud.settings import HuaweiCloudSettings
from certpush.providers.huaweicloud.waf_adapter import HuaweiWafTarget
from certpush.providers.registry import REGISTRY

pytestmark = pytest.mark.unit

CREDENTIALS = HuaweiCloudCredentials(access_key="ak", secret_key=SecretStr("sk"))
Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, **kwargs: object) -> tuple[HuaweiCloudClient, httpx.Client]:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    kwargs.setdefault("project_ids", {"cn-north-4": "p" * 32})
    client = HuaweiCloudClient(lambda: CREDENTIALS, http_client=http, **kwargs)  # type: ignore[arg-type]
    return client, http


def answer(status: int, body: object = None, content: bytes | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if content is not None:
            return httpx.Response(status, content=content)
        return httpx.Response(status, json=body)

    return handler


def call_waf(client: HuaweiCloudClient) -> dict[str, object]:
    return client.call("waf", "cn-north-4", "GET", "/v1/{project_id}/waf/certificate")


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (429, {"error_code": "APIGW.0308", "error_msg": "throttled"}, TransientPushError, "APIGW.0308"),
        (429, None, TransientPushError, "HTTP_429"),
        (500, {"error_code": "WAF.00010001", "error_msg": "x"}, TransientPushError, "WAF.00010001"),
        (502, None, TransientPushError, "HTTP_502"),
        (503, {"error": {"code": "ELB.9000", "message": "busy"}}, TransientPushError, "ELB.9000"),
        (408, None, TransientPushError, "HTTP_408"),
        (400, {"error_code": "WAF.00011019", "error_msg": "illegal"}, PermanentPushError, "WAF.00011019"),
        (400, {"error_code": "WAF.00011021", "error_msg": "expired"}, PermanentPushError, "WAF.00011021"),
        (400, {"error_code": "WAF.00011016", "error_msg": "dup"}, PermanentPushError, "WAF.00011016"),
        (400, {"error_code": "ELB.8902", "error_msg": "invalid"}, PermanentPushError, "ELB.8902"),
        (400, {"NeutronError": {"type": "BadRequest", "message": "m"}}, PermanentPushError, "BadRequest"),
        (404, {"error_code": "ELB.8904"}, PermanentPushError, "ELB.8904"),
        (409, {"error": {"error_code": "ELB.8905", "error_msg": "in use"}}, PermanentPushError, "ELB.8905"),
        (400, {"error_code": "WAF.00012001"}, ServiceUnavailableInRegionError, "WAF.00012001"),
        (400, {"error_code": "WAF.00012003"}, ServiceUnavailableInRegionError, "WAF.00012003"),
        (400, {"error_code": "WAF.00012005"}, ServiceUnavailableInRegionError, "WAF.00012005"),
        (401, {"error_code": "APIGW.0301", "error_msg": "bad auth"}, AuthenticationFailedError, "AUTH_FAILED"),
        (401, {"error_code": "APIGW.0303", "error_msg": "date"}, AuthenticationFailedError, "AUTH_FAILED"),
        (403, {"error_code": "ELB.1101"}, ServiceUnavailableInRegionError, "ELB.1101"),
        (404, {"error_code": "APIGW.0101"}, ServiceUnavailableInRegionError, "APIGW.0101"),
    ],
)
def test_error_mapping(status: int, body: object, kind: type[PushError], code: str) -> None:
    client, http = make_client(answer(status, body))
    with http, pytest.raises(kind) as caught:
        call_waf(client)
    assert type(caught.value) is kind
    assert caught.value.code == code


def test_messages_never_decide() -> None:
    """The same message under another status maps by status and code only."""
    text = {"error_code": "X.1", "error_msg": "throttled, please retry later, timeout"}
    assert isinstance(error_for_response(httpx.Response(400, json=text)), PermanentPushError)
    assert not isinstance(error_for_response(httpx.Response(400, json=text)), TransientPushError)


@pytest.mark.parametrize(
    ("exc", "ambiguous"),
    [
        (httpx.ConnectError("refused"), False),  # never sent: nothing can have happened
        (httpx.ConnectTimeout("slow"), False),
        (httpx.ReadTimeout("slow"), True),  # sent: the service may still carry it out
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), True),
        (httpx.ReadError("reset"), True),
    ],
)
def test_transport_errors_are_transient_and_say_whether_the_request_may_have_been_carried_out(
    exc: Exception, ambiguous: bool
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    client, http = make_client(handler)
    with http, pytest.raises(TransientPushError) as caught:
        call_waf(client)
    assert caught.value.ambiguous is ambiguous


@pytest.mark.parametrize(("status", "ambiguous"), [(500, True), (502, True), (503, False), (504, True), (429, False)])
def test_server_errors_after_which_the_work_may_be_done_are_ambiguous(status: int, ambiguous: bool) -> None:
    assert getattr(error_for_response(httpx.Response(status, json={})), "ambiguous", None) is ambiguous


def test_answers_that_are_not_json_objects_are_transient() -> None:
    for handler in (answer(200, content=b"<html>"), answer(200, [1, 2])):
        client, http = make_client(handler)
        with http, pytest.raises(TransientPushError, match="INVALID_RESPONSE"):
            call_waf(client)


def test_project_id_discovered_once_through_signed_iam_call() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.url.path == "/v3/projects":
            assert request.url.host == "iam.eu-west-101.myhuaweicloud.eu"
            name = request.url.params["name"]
            return httpx.Response(200, json={"projects": [{"id": "0" * 31 + "1", "name": name}]})
        assert request.headers["X-Project-Id"] == "0" * 31 + "1"
        return httpx.Response(200, json={"items": [], "total": 0})

    client, http = make_client(handler, project_ids={})
    with http:
        call_one = client.call("elb", "eu-west-101", "GET", "/v3/{project_id}/elb/certificates")
        client.call("elb", "eu-west-101", "GET", "/v3/{project_id}/elb/certificates")
    assert call_one == {"items": [], "total": 0}
    assert [r.url.path for r in calls] == ["/v3/projects", *["/v3/" + "0" * 31 + "1/elb/certificates"] * 2]
    assert all(r.headers["Authorization"].startswith("SDK-HMAC-SHA256 Access=ak, ") for r in calls)
    assert "x-project-id" not in calls[0].headers


def test_configured_project_id_skips_iam_and_unknown_project_is_unavailable() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if request.url.path == "/v3/projects":
            return httpx.Response(200, json={"projects": []})
        return httpx.Response(200, json={})

    client, http = make_client(handler)
    with http:
        call_waf(client)
        with pytest.raises(ServiceUnavailableInRegionError, match="PROJECT_NOT_FOUND"):
            client.call("waf", "ap-southeast-1", "GET", "/v1/{project_id}/waf/certificate")
    assert paths == ["/v1/" + "p" * 32 + "/waf/certificate", "/v3/projects"]


def test_credentials_are_loaded_lazily_and_once() -> None:
    loads: list[int] = []

    def loader() -> HuaweiCloudCredentials:
        loads.append(1)
        return CREDENTIALS

    http = httpx.Client(transport=httpx.MockTransport(answer(200, {})))
    client = HuaweiCloudClient(loader, http_client=http, project_ids={"cn-north-4": "p"})
    assert loads == []
    with http:
        call_waf(client)
        call_waf(client)
    assert loads == [1]


def test_credential_loader_failures() -> None:
    def broken() -> HuaweiCloudCredentials:
        raise RuntimeError("secrets store unavailable")

    def misconfigured() -> HuaweiCloudCredentials:
        raise ConfigurationError("no secret id")

    for loader, kind in ((broken, TransientPushError), (misconfigured, ConfigurationError)):
        with httpx.Client(transport=httpx.MockTransport(answer(200, {}))) as http:
            client = HuaweiCloudClient(loader, http_client=http, project_ids={"cn-north-4": "p"})
            with pytest.raises(kind):
                call_waf(client)


def test_load_credentials() -> None:
    creds = load_credentials("s", lambda secret_id: {"access_key": "AK", "secret_key": "SK"})
    assert creds.access_key == "AK" and creds.secret_key.get_secret_value() == "SK"
    assert "SK" not in repr(creds)
    assert load_credentials("s", lambda _: json.dumps({"ak": "A", "sk": "B"})).access_key == "A"
    for bad in ({"access_key": "AK"}, "not json", "[1]", {"access_key": 1, "secret_key": "x"}):
        with pytest.raises(ConfigurationError):
            load_credentials("s", lambda _, bad=bad: bad)  # type: ignore[misc]


def test_temporary_credentials_send_their_security_token() -> None:
    creds = load_credentials("s", lambda _: {"ak": "A", "sk": "B", "security_token": "T0k3n"})
    assert creds.security_token is not None and "T0k3n" not in repr(creds)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        call_waf(HuaweiCloudClient(lambda: creds, http_client=http, project_ids={"cn-north-4": "p"}))
    assert seen[0].headers["X-Security-Token"] == "T0k3n"
    assert "x-sdk-date;x-security-token," in seen[0].headers["Authorization"]


def test_an_error_body_is_an_error_whatever_the_status() -> None:
    body = {"error": {"error_code": "CDN.0105", "error_msg": "The acceleration domain name does not exist."}}
    client, http = make_client(answer(200, body))
    with http, pytest.raises(PermanentPushError) as caught:
        call_waf(client)
    assert caught.value.code == "CDN.0105"


def test_default_client_has_explicit_timeouts_and_no_retries() -> None:
    client = HuaweiCloudClient(lambda: CREDENTIALS, timeout_seconds=7)
    try:
        http = client._http
        assert http.timeout.read == 7 and http.timeout.connect == 5
        assert http._transport._pool._retries == 0  # type: ignore[attr-defined]
    finally:
        client.close()


def test_region_tables() -> None:
    assert endpoint_for("waf", "cn-north-4") == "https://waf.cn-north-4.myhuaweicloud.com"
    assert endpoint_for("waf", "cn-north-9") == "https://waf.cn-north-9.myhuaweicloud.cn"
    assert endpoint_for("iam", "eu-west-101") == "https://iam.eu-west-101.myhuaweicloud.eu"
    assert endpoint_for("ELB", "ap-southeast-3") == "https://elb.ap-southeast-3.myhuaweicloud.com"
    assert endpoint_for("iam", "cn-south-4") == "https://iam.myhuaweicloud.com"
    assert endpoint_for("waf", "any-1", "http://127.0.0.1:1/{service}/{region}/") == "http://127.0.0.1:1/waf/any-1"
    assert "cn-north-4" in offered_regions("waf") and "cn-southwest-3" not in offered_regions("elb")
    assert offered_regions("cdn") == frozenset()
    with pytest.raises(ServiceUnavailableInRegionError):
        endpoint_for("elb", "mars-1")
    with pytest.raises(ConfigurationError):
        endpoint_for("waf", "cn-north-4", "http://x/{account}")


def test_settings_validate_templates() -> None:
    HuaweiCloudSettings(endpoint_template="http://127.0.0.1:8765/{service}/{region}")
    for bad in (
        {"endpoint_template": "ftp://x/{region}"},
        {"endpoint_template": "http://x/{zone}"},
        {"waf_console_template": "https://c/{project}"},
        {"elb_console_template": "https://c/{region"},
        {"timeout_seconds": 0},
    ):
        with pytest.raises(ValidationError):
            HuaweiCloudSettings(**bad)


@pytest.mark.parametrize(
    "template",
    ["http://127.0.0.1:8765", "http://127.0.0.2:1/{service}/{region}", "http://localhost:4598", "http://[::1]:4598",
     "https://waf.example.com", "https://{service}.{region}.example.com"],
)  # fmt: skip
def test_an_endpoint_is_https_or_on_this_machine(template: str) -> None:
    assert HuaweiCloudSettings(endpoint_template=template).endpoint_template == template


@pytest.mark.parametrize(
    "template",
    ["http://10.0.0.5:8765", "http://{service}.{region}.myhuaweicloud.com", "http://localhost.example.com",
     "http://[::2]:80", "http://127.0.0.1.nip.io"],
)  # fmt: skip
def test_an_http_endpoint_off_this_machine_is_refused(template: str) -> None:
    """Issue 18: a push sends the private key; over http:// only to a simulator on this machine."""
    with pytest.raises(ValidationError, match=r"only for 127\.0\.0\.1, localhost"):
        HuaweiCloudSettings(endpoint_template=template)


def test_build_targets_loads_nothing_and_renders_links() -> None:
    def fetch(name: str) -> object:
        raise AssertionError("credentials must load on the first push only")

    settings = HuaweiCloudSettings(
        credentials_secret_id="hw", elb_console_template="https://c/elb?region={region}#/cert/{target_id}"
    )
    context = BuildContext(fetch_secret=fetch)
    waf, elb = (REGISTRY.find("huaweicloud", s).build_from(settings, context) for s in ("waf", "elb"))
    assert isinstance(waf, HuaweiWafTarget) and isinstance(elb, HuaweiElbTarget)
    assert (waf.provider, waf.service, elb.service) == ("huaweicloud", "waf", "elb")
    assert waf.console_url("cn-north-4") == "https://console.huaweicloud.com/waf/?region=cn-north-4#/waf/certificate"
    assert elb.console_url("ap-southeast-1", "abc") == "https://c/elb?region=ap-southeast-1#/cert/abc"


def test_references_in_region() -> None:
    refs = ["cn-north-4/h1", "cn-north-4/premium/h2", "cn-north-40/h3", "cn-north-4/", "cn-north-4/h1"]
    assert references_in_region(refs, "cn-north-4") == ["h1", "premium/h2"]


def test_fingerprints_and_domains() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "a.example")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    sha1, sha256 = certificate_fingerprints(cert.public_bytes(Encoding.PEM).decode())
    assert sha256 == cert.fingerprint(hashes.SHA256()).hex()
    assert normalise_fingerprint(format_sha1_fingerprint(sha1)) == sha1
    assert normalise_fingerprint(sha256.upper()) == sha256
    assert elb_domain(["a.example", "*.b.example", "A.example", "10.0.0.1", "bad_name", ""]) == "a.example,*.b.example"


ROTATED = HuaweiCloudCredentials(access_key="ak2", secret_key=SecretStr("sk2"))


def _accepting(access_key: str) -> Handler:
    """Answers 401 to a request signed with any other access key (what IAM does after a rotation)."""

    def handler(request: httpx.Request) -> httpx.Response:
        signed_with = request.headers["Authorization"].split("Access=", 1)[1].split(",", 1)[0]
        return httpx.Response(200, json={}) if signed_with == access_key else httpx.Response(401, json={})

    return handler


def test_a_401_reloads_the_credentials_once_and_sends_again() -> None:
    reloads: list[int] = []

    def reload() -> HuaweiCloudCredentials:
        reloads.append(1)
        return ROTATED

    client, http = make_client(_accepting("ak2"), reload_credentials=reload)
    with http:
        assert call_waf(client) == {}
        assert call_waf(client) == {}  # the reloaded pair is kept
    assert reloads == [1]


def test_a_401_with_the_same_credentials_after_the_reload_is_final_and_not_sent_again() -> None:
    reloads: list[int] = []
    sent: list[httpx.Request] = []

    def reload() -> HuaweiCloudCredentials:
        reloads.append(1)
        return CREDENTIALS  # the secret was not rotated: the keys are simply wrong

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _accepting("someone-else")(request)

    client, http = make_client(handler, reload_credentials=reload)
    with http:
        with pytest.raises(AuthenticationFailedError) as caught:
            call_waf(client)
        assert (caught.value.code, caught.value.gateway_code) == ("AUTH_FAILED", "HTTP_401")
        with pytest.raises(AuthenticationFailedError) as again:
            call_waf(client)  # the next push: read again, unchanged, not sent (an AK locks after 5 failures)
        assert again.value.gateway_code == "REFUSED_BEFORE"
    assert len(sent) == 1
    assert reloads == [1, 1]


def test_refused_credentials_are_tried_again_after_the_lock_would_have_ended() -> None:
    sent: list[httpx.Request] = []
    now = [0.0]

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(401, json={"error_code": "APIGW.0301"})

    client, http = make_client(handler, monotonic=lambda: now[0])
    with http:
        for _ in range(3):
            with pytest.raises(AuthenticationFailedError):
                call_waf(client)
        assert len(sent) == 1
        now[0] += 301  # the gateway's lock lasts 5 minutes
        with pytest.raises(AuthenticationFailedError):
            call_waf(client)
    assert len(sent) == 2


def test_a_401_for_clock_skew_names_it_and_does_not_condemn_the_key() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if len(sent) == 1:
            return httpx.Response(401, json={"error_code": "APIGW.0303", "error_msg": "date"})
        return httpx.Response(200, json={})

    client, http = make_client(handler, reload_credentials=lambda: CREDENTIALS)
    with http:
        with pytest.raises(AuthenticationFailedError, match="clock skew"):
            call_waf(client)
        assert call_waf(client) == {}  # the clock was fixed: the same key works
    assert len(sent) == 2


@pytest.mark.parametrize(
    ("status", "headers", "retry_after", "throttled"),
    [
        (429, {"Retry-After": "42"}, 42, True),
        (429, {}, None, True),
        (503, {"Retry-After": "7"}, 7, False),
        (429, {"Retry-After": "soon"}, None, True),
        (429, {"Retry-After": "999999"}, 12 * 3600, True),
    ],
)
def test_retry_after_is_kept_for_the_worker(
    status: int, headers: dict[str, str], retry_after: int | None, throttled: bool
) -> None:
    code = "APIGW.0308" if status == 429 else "ELB.9000"
    error = error_for_response(httpx.Response(status, json={"error_code": code}, headers=headers))
    assert isinstance(error, TransientPushError)
    assert (error.retry_after, error.throttled) == (retry_after, throttled)


def test_retry_after_as_an_http_date() -> None:
    later = (datetime.now(UTC) + timedelta(seconds=120)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    error = error_for_response(httpx.Response(429, headers={"Retry-After": later}))
    assert isinstance(error, TransientPushError) and error.retry_after is not None
    assert 100 <= error.retry_after <= 121


def test_the_account_id_is_asked_of_iam_once_and_sent_to_global_services() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v3/auth/domains":
            return httpx.Response(200, json={"domains": [{"id": "d" * 32, "name": "acct"}]})
        return httpx.Response(200, json={})

    client, http = make_client(handler)
    with http:
        for _ in range(2):
            client.call("cdn", "global", "GET", "/v1.0/cdn/domains", global_service=True)
    assert [r.url.host for r in seen] == ["iam.myhuaweicloud.com", "cdn.myhuaweicloud.com", "cdn.myhuaweicloud.com"]
    assert [r.headers.get("X-Domain-Id") for r in seen[1:]] == ["d" * 32, "d" * 32]
    assert "x-domain-id" in seen[1].headers["Authorization"]  # signed, as the SDK signs it


def test_the_european_site_has_its_own_cdn_and_iam() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return httpx.Response(200, json={"domains": [{"id": "e" * 32}]})

    client, http = make_client(handler, site="eu")
    with http:
        client.call("cdn", "global", "GET", "/v1.0/cdn/domains", global_service=True)
    assert seen == ["iam.eu-west-101.myhuaweicloud.eu", "cdn.myhuaweicloud.eu"]
    given, http = make_client(handler, domain_id="f" * 32)
    with http:
        given.call("cdn", "global", "GET", "/v1.0/cdn/domains", global_service=True)
    assert seen[-1] == "cdn.myhuaweicloud.com" and len(seen) == 3  # a configured id: IAM is not asked


def test_the_region_table_and_the_simulator_agree_on_where_waf_updates_by_name_only() -> None:
    """Two readings of the same API pages (eu-west-0, my-kualalumpur-1 UpdateCertificate: name only)."""
    from certpush.providers.huaweicloud.regions import WAF_UPDATE_NAME_ONLY, waf_updates_content
    from certpush_emulators.huaweicloud.waf import NAME_ONLY_UPDATE_REGIONS

    assert WAF_UPDATE_NAME_ONLY == NAME_ONLY_UPDATE_REGIONS
    assert not waf_updates_content("eu-west-0") and waf_updates_content("eu-west-101")
    assert offered_regions("waf") >= WAF_UPDATE_NAME_ONLY


@pytest.mark.parametrize("site", ["com", "eu"])
def test_the_site_setting_picks_the_cdn_endpoint(site: str) -> None:
    assert endpoint_for("cdn", "global", site=site) == f"https://cdn.myhuaweicloud.{site}"
    assert HuaweiCloudSettings.model_validate({"site": site}).site == site
    with pytest.raises(ValidationError):
        HuaweiCloudSettings.model_validate({"site": "cn"})
