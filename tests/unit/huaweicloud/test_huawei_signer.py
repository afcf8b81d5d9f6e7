"""SDK-HMAC-SHA256 signing: public test vectors, byte-identical headers against huaweicloudsdkcore's own
signer (the test oracle), and the server-side ``verify``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import quote

import httpx
import pytest
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer as SdkSigner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from certpush.providers.huaweicloud.signer import (
    SDK_SIGNED_HEADERS,
    HuaweiSigner,
    authorization_header,
    canonical_query_string,
    canonical_uri,
    format_sdk_date,
    sign,
)
from certpush_emulators.huaweicloud.signature import SignatureVerificationError, verify

pytestmark = pytest.mark.unit

VECTOR_HOST = "service.endpoint.myhuaweicloud.com"
VECTOR_DATE = "20200608T023900Z"


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


@pytest.mark.parametrize(
    ("method", "body", "expected"),
    [
        ("GET", b"", "cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842"),
        ("POST", b'{"name":"test","id":1}', "436b1ac0a1ae03705934bb70ef2f2e09f7bfed2117d731a38235053199323a1f"),
    ],
)
def test_public_vectors(method: str, body: bytes, expected: str) -> None:
    header = authorization_header(
        access_key="AccessKey",
        secret_key="SecretKey",
        method=method,
        url=f"https://{VECTOR_HOST}/resources?size=1",
        headers={"TEST_UNDERSCORE": "TEST_VALUE"},
        body=body,
        sdk_date=VECTOR_DATE,
    )
    assert header == f"SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, Signature={expected}"


def test_canonical_parts() -> None:
    assert canonical_uri("/v1/a b/~x/") == "/v1/a%20b/~x/"
    assert canonical_uri("/v1/p%2Fq") == "/v1/p/q/"
    assert canonical_query_string([("b", "2"), ("a", "x y"), ("a", "+")]) == "a=%2B&a=x%20y&b=2"


def sdk_authorization(
    method: str, host: str, resource_path: str, query: list[tuple[str, str]], headers: dict[str, str], body: bytes
) -> str:
    request = SdkRequest(
        method=method,
        schema="https",
        host=host,
        resource_path=resource_path,
        query_params=list(query),
        header_params=dict(headers),
        body=body,
    )
    signed = SdkSigner(SimpleNamespace(ak="AK-oracle", sk="SK-oracle")).sign(request)
    return signed.header_params["Authorization"]


segment = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))
query_text = st.text(st.characters(codec="utf-8"), max_size=12)
header_name = st.from_regex(r"\A[A-Za-z][A-Za-z0-9_-]{0,15}\Z").filter(
    lambda n: n.lower() not in ("host", "x-sdk-date", "authorization", "x-sdk-content-sha256", "content-length")
)
header_value = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
json_body = st.one_of(
    st.just(None),
    st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=10), st.booleans()), max_size=4),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]),
    segments=st.lists(segment, min_size=0, max_size=4),
    trailing_slash=st.booleans(),
    query=st.lists(st.tuples(query_text.filter(bool), query_text), max_size=5),
    extra_headers=st.dictionaries(header_name, header_value, max_size=4),
    body=json_body,
    moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
)
def test_matches_sdk_signer(
    method: str,
    segments: list[str],
    trailing_slash: bool,
    query: list[tuple[str, str]],
    extra_headers: dict[str, str],
    body: dict[str, object] | None,
    moment: datetime,
) -> None:
    lowered = {name.lower() for name in extra_headers}
    if len(lowered) != len(extra_headers):  # the SDK keeps case-variants apart, HTTP does not
        return
    resource_path = "/" + "/".join(quote(s, safe="") for s in segments) + ("/" if trailing_slash and segments else "")
    payload = json.dumps(body).encode() if body is not None else b""
    headers = {**extra_headers, "X-Sdk-Date": format_sdk_date(moment), "Content-Type": "application/json"}
    url = httpx.URL(f"https://waf.cn-north-4.myhuaweicloud.com{resource_path}", params=query)
    ours = authorization_header(
        access_key="AK-oracle", secret_key="SK-oracle", method=method, url=url, headers=headers, body=payload
    )
    theirs = sdk_authorization(method, url.host, resource_path, query, headers, payload)
    assert ours == theirs


@settings(max_examples=100, deadline=None)
@given(
    query=st.lists(st.tuples(query_text.filter(bool), query_text), max_size=5),
    name=st.text(st.characters(codec="utf-8"), min_size=1, max_size=10),
    body=json_body,
    token=st.one_of(st.none(), st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30)),
)
def test_httpx_requests_match_sdk_signer(
    query: list[tuple[str, str]], name: str, body: dict[str, object] | None, token: str | None
) -> None:
    """What HuaweiSigner puts on the wire signs exactly as the SDK's client would sign it: the headers
    the SDK sends (Content-Type, User-Agent, X-Project-Id, X-Sdk-Date, Host, X-Security-Token), no other."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    clock = FixedClock(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    signer = HuaweiSigner("AK-oracle", "SK-oracle", clock=clock, security_token=SecretStr(token) if token else None)
    with httpx.Client(transport=httpx.MockTransport(handler), headers={"User-Agent": "certpush-huaweicloud"}) as client:
        client.request(
            "POST" if body is not None else "GET",
            f"https://elb.eu-west-101.myhuaweicloud.com/v3/{quote(name, safe='')}/elb/certificates",
            params=tuple(query),
            content=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", "X-Project-Id": "p" * 32, "Accept": "application/json"},
            auth=signer,
        )
    request = seen[0]
    sdk_headers = {k: v for k, v in request.headers.items() if k.lower() in SDK_SIGNED_HEADERS and k.lower() != "host"}
    raw_path = request.url.raw_path.decode("ascii").split("?", 1)[0]
    expected = sdk_authorization(
        request.method,
        request.url.host,
        raw_path,
        list(request.url.params.multi_items()),
        sdk_headers,
        request.content,
    )
    assert request.headers["Authorization"] == expected
    assert request.headers["X-Sdk-Date"] == "20260102T030405Z"
    signed = "content-type;host;user-agent;x-project-id;x-sdk-date" + (";x-security-token" if token else "")
    assert f"SignedHeaders={signed}," in request.headers["Authorization"]
    assert request.headers.get("X-Security-Token") == token
    assert request.url.query.decode("ascii") == canonical_query_string(request.url.params.multi_items())


def test_a_proxy_may_rewrite_unsigned_headers() -> None:
    """Accept-Encoding, Accept, Content-Length are not signed: changing them keeps the signature valid."""
    target, headers, body = _signed_request(NOW)
    rewritten = [(k, "identity" if k.lower() == "accept-encoding" else v) for k, v in headers]
    rewritten.append(("Via", "1.1 proxy"))
    assert verify(secret_for={"ak": "secret"}, method="POST", target=target, headers=rewritten, body=body, now=NOW)


def _signed_request(
    clock_moment: datetime, *, sk: str = "secret", body: bytes = b'{"a":1}'
) -> tuple[str, list[tuple[str, str]], bytes]:
    captured: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        client.post(
            "http://127.0.0.1:9/waf/cn-north-4/v1/p/waf/certificate",
            params={"page": 1, "name": "a b"},
            content=body,
            headers={"Content-Type": "application/json"},
            auth=HuaweiSigner("ak", sk, clock=FixedClock(clock_moment)),
        )
    request = captured[0]
    return request.url.raw_path.decode("ascii"), list(request.headers.multi_items()), request.content


NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def test_verify_accepts_a_signed_request() -> None:
    target, headers, body = _signed_request(NOW)
    assert (
        verify(secret_for={"ak": "secret"}, method="POST", target=target, headers=headers, body=body, now=NOW) == "ak"
    )


@pytest.mark.parametrize("offset_minutes", [-14, 14])
def test_verify_accepts_dates_inside_the_window(offset_minutes: int) -> None:
    target, headers, body = _signed_request(NOW + timedelta(minutes=offset_minutes))
    verify(secret_for={"ak": "secret"}, method="POST", target=target, headers=headers, body=body, now=NOW)


@pytest.mark.parametrize("offset_minutes", [-16, 16])
def test_verify_refuses_dates_outside_the_window(offset_minutes: int) -> None:
    target, headers, body = _signed_request(NOW + timedelta(minutes=offset_minutes))
    with pytest.raises(SignatureVerificationError, match="window"):
        verify(secret_for={"ak": "secret"}, method="POST", target=target, headers=headers, body=body, now=NOW)


def test_verify_refuses_tampering() -> None:
    target, headers, body = _signed_request(NOW)
    secrets = {"ak": "secret"}
    with pytest.raises(SignatureVerificationError):
        verify(secret_for=secrets, method="POST", target=target, headers=headers, body=b'{"a":2}', now=NOW)
    with pytest.raises(SignatureVerificationError):
        verify(secret_for=secrets, method="PUT", target=target, headers=headers, body=body, now=NOW)
    with pytest.raises(SignatureVerificationError):
        verify(secret_for=secrets, method="POST", target=target + "&page=2", headers=headers, body=body, now=NOW)
    with pytest.raises(SignatureVerificationError, match="unknown access key"):
        verify(secret_for={}, method="POST", target=target, headers=headers, body=body, now=NOW)
    wrong_secret = _signed_request(NOW, sk="other")
    with pytest.raises(SignatureVerificationError, match="does not match"):
        verify(secret_for=secrets, method="POST", target=wrong_secret[0], headers=wrong_secret[1], body=body, now=NOW)
    without_auth = [(k, v) for k, v in headers if k.lower() != "authorization"]
    with pytest.raises(SignatureVerificationError, match="Authorization"):
        verify(secret_for=secrets, method="POST", target=target, headers=without_auth, body=body, now=NOW)


def test_verify_requires_host_and_date_signed() -> None:
    moment = format_sdk_date(NOW)
    signed = sign(
        access_key="ak",
        secret_key="secret",
        method="GET",
        url="http://h/x",
        headers={"X-Sdk-Date": moment},
        sdk_date=moment,
    )
    forged = signed.authorization.replace("SignedHeaders=host;x-sdk-date", "SignedHeaders=x-sdk-date")
    headers = [("Host", "h"), ("X-Sdk-Date", moment), ("Authorization", forged)]
    with pytest.raises(SignatureVerificationError, match="host"):
        verify(secret_for={"ak": "secret"}, method="GET", target="/x", headers=headers, body=b"", now=NOW)


def test_signer_hides_the_secret() -> None:
    assert "secret" not in repr(HuaweiSigner("ak", "secret"))
    with pytest.raises(ValueError):
        HuaweiSigner("ak", "")
