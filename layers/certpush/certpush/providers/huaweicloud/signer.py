"""Huawei Cloud AK/SK request signing ("SDK-HMAC-SHA256"), written against the documented algorithm
(support.huaweicloud.com devg-apisign) and checked byte for byte against huaweicloudsdkcore in the tests.

1. Headers ``X-Sdk-Date`` (UTC, ``YYYYMMDDTHHMMSSZ``) and ``Host`` are part of every signed request.
2. CanonicalRequest = METHOD, canonical URI, canonical query, canonical headers, signed header names,
   hex(sha256(body)), joined by newlines.
3. StringToSign = ``SDK-HMAC-SHA256\\n{X-Sdk-Date}\\n{hex(sha256(CanonicalRequest))}``.
4. Signature = hex(HMAC-SHA256(SK, StringToSign)); no key derivation.

``authorization_header`` is the pure function; ``HuaweiSigner`` applies it to httpx requests. What a
server runs to check a request is the simulator's (``certpush_emulators.huaweicloud.signature``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

import httpx
from pydantic import SecretStr

from certpush.clock import SystemClock
from certpush.ports import Clock

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
HEADER_DATE = "X-Sdk-Date"
HEADER_CONTENT_SHA256 = "X-Sdk-Content-Sha256"
HEADER_AUTHORIZATION = "Authorization"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
HEADER_SECURITY_TOKEN = "X-Security-Token"  # noqa: S105 - a header name
# The headers huaweicloudsdkcore's client signs (everything in its header_params: Content-Type,
# User-Agent, X-Project-Id or X-Domain-Id, X-Sdk-Date, Host, and X-Security-Token with temporary
# credentials). HuaweiSigner signs these, when sent, and nothing else: Accept, Accept-Encoding,
# Content-Length and hop-by-hop headers stay unsigned, so a proxy that rewrites them breaks nothing.
SDK_SIGNED_HEADERS = frozenset(
    {"content-type", "host", "user-agent", "x-domain-id", "x-project-id", "x-sdk-date", "x-security-token"}
)

HeaderInput = Mapping[str, str] | Iterable[tuple[str, str]]


def _encode(value: str) -> str:
    return quote(value, safe="~")


def format_sdk_date(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(DATE_FORMAT)


def canonical_uri(path: str) -> str:
    """Decoded path, each segment percent-encoded (only ``~`` left alone), with a trailing ``/``."""
    encoded = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def canonical_query_string(pairs: Iterable[tuple[str, str]]) -> str:
    """Decoded (key, value) pairs sorted, both percent-encoded, joined with ``&``."""
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in sorted(pairs))


def signed_header_names(names: Iterable[str]) -> list[str]:
    """Every header sent, lowercased and sorted, except names with an underscore."""
    return sorted({name.lower() for name in names if "_" not in name})


def lowered_headers(headers: HeaderInput) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    lowered: dict[str, str] = {}
    for name, value in items:
        lowered[name.lower()] = str(value).strip()
    return lowered


def payload_hash(body: bytes, headers: Mapping[str, str]) -> str:
    """``headers`` lowercased. An empty body always hashes as empty; a non-empty body may be declared
    unsigned through ``X-Sdk-Content-Sha256`` (the SDK does that for non-JSON content types)."""
    if not body:
        return EMPTY_BODY_SHA256
    declared = headers.get(HEADER_CONTENT_SHA256.lower())
    if declared:
        return declared
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str,
    path: str,
    query_pairs: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    signed_headers: list[str],
    body: bytes,
) -> str:
    """``headers`` lowercased with stripped values; every name in ``signed_headers`` must be in it."""
    canonical_headers = "".join(f"{name}:{headers[name]}\n" for name in signed_headers)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query_string(query_pairs),
            canonical_headers,
            ";".join(signed_headers),
            payload_hash(body, headers),
        ]
    )


def string_to_sign(sdk_date: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def compute_signature(secret_key: str, to_sign: str) -> str:
    return hmac.new(secret_key.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedRequest:
    canonical_request: str
    string_to_sign: str
    signed_headers: list[str]
    signature: str
    authorization: str


def _split_url(url: str | httpx.URL) -> tuple[str, list[tuple[str, str]], str]:
    parsed = httpx.URL(str(url))
    host = parsed.host
    if parsed.port is not None:
        host = f"{host}:{parsed.port}"
    # the path as sent (still percent-encoded): canonical_uri decodes it exactly once
    raw_path = parsed.raw_path.decode("ascii").split("?", 1)[0]
    return raw_path, list(parsed.params.multi_items()), host


def sign(
    *,
    access_key: str,
    secret_key: str,
    method: str,
    url: str | httpx.URL,
    headers: HeaderInput,
    body: bytes | str = b"",
    sdk_date: str | datetime | None = None,
) -> SignedRequest:
    """Signs a request described by its parts. ``Host`` defaults to the URL's host[:port]; ``X-Sdk-Date``
    to ``sdk_date`` (one of the two must give a date). Pure: no clock, no I/O."""
    path, query_pairs, host = _split_url(url)
    lowered = lowered_headers(headers)
    lowered.setdefault("host", host)
    if sdk_date is not None:
        date_value = sdk_date if isinstance(sdk_date, str) else format_sdk_date(sdk_date)
        lowered.setdefault(HEADER_DATE.lower(), date_value)
    date_header = lowered.get(HEADER_DATE.lower())
    if not date_header:
        raise ValueError("an X-Sdk-Date header or sdk_date is required")
    lowered.pop(HEADER_AUTHORIZATION.lower(), None)
    payload = body.encode("utf-8") if isinstance(body, str) else body
    names = signed_header_names(lowered)
    canonical = canonical_request(method, path, query_pairs, lowered, names, payload)
    to_sign = string_to_sign(date_header, canonical)
    signature = compute_signature(secret_key, to_sign)
    authorization = f"{ALGORITHM} Access={access_key}, SignedHeaders={';'.join(names)}, Signature={signature}"
    return SignedRequest(canonical, to_sign, names, signature, authorization)


def authorization_header(
    *,
    access_key: str,
    secret_key: str,
    method: str,
    url: str | httpx.URL,
    headers: HeaderInput,
    body: bytes | str = b"",
    sdk_date: str | datetime | None = None,
) -> str:
    """The ``Authorization`` header value for a request (see ``sign``)."""
    return sign(
        access_key=access_key,
        secret_key=secret_key,
        method=method,
        url=url,
        headers=headers,
        body=body,
        sdk_date=sdk_date,
    ).authorization


class HuaweiSigner(httpx.Auth):
    """httpx authentication that signs each request with an AK/SK pair.

    The query on the wire is rewritten to its canonical encoding (as the SDK does), so that what the
    gateway decodes is exactly what was signed. The headers in ``SDK_SIGNED_HEADERS`` are signed, as the
    SDK signs them. ``security_token`` (temporary credentials) is sent as ``X-Security-Token``.
    """

    requires_request_body = True

    def __init__(
        self, ak: str, sk: str | SecretStr, clock: Clock | None = None, security_token: SecretStr | None = None
    ) -> None:
        if not ak:
            raise ValueError("access key is required")
        self._ak = ak
        self._security_token = security_token
        self._sk = sk if isinstance(sk, SecretStr) else SecretStr(sk)
        if not self._sk.get_secret_value():
            raise ValueError("secret key is required")
        self._clock: Clock = clock or SystemClock()

    def __repr__(self) -> str:
        return f"HuaweiSigner(ak={self._ak!r}, sk=**********)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        pairs = list(request.url.params.multi_items())
        request.url = request.url.copy_with(query=canonical_query_string(pairs).encode("ascii") or None)
        request.headers[HEADER_DATE] = format_sdk_date(self._clock.now())
        if self._security_token is not None:
            request.headers[HEADER_SECURITY_TOKEN] = self._security_token.get_secret_value()
        request.headers.pop(HEADER_AUTHORIZATION, None)
        request.headers[HEADER_AUTHORIZATION] = authorization_header(
            access_key=self._ak,
            secret_key=self._sk.get_secret_value(),
            method=request.method,
            url=request.url,
            headers=[(k, v) for k, v in request.headers.multi_items() if k.lower() in SDK_SIGNED_HEADERS],
            body=request.content,
        )
        yield request
