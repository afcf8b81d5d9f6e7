"""A small signed JSON client for Huawei Cloud APIs on one shared ``httpx.Client``.

Errors become our exceptions by HTTP status and error code, never by message text:

* 429 and the API gateway's flow-control code -> TransientPushError(throttled, retry_after from the
  answer's ``Retry-After``); 5xx, timeouts and connection errors -> TransientPushError
* 401 (the API gateway refused the credentials: a wrong key, a locked one, a clock more than 15 minutes
  off) -> AuthenticationFailedError (``AUTH_FAILED``), after the credentials were read again once:
  retrying a refused key would lock it (5 failures in a row lock an AK for 5 minutes)
* 403, WAF token / project / permission / frozen / not-subscribed codes, the gateway's "API not found"
  code (the service is not offered there) -> ServiceUnavailableInRegionError
* everything else (400 validation, WAF.00011019 illegal certificate, WAF.00011021 expired...)
  -> PermanentPushError, whose ``code`` is the service's error code for callers that branch on it.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from certpush.errors import (
    AuthenticationFailedError,
    CertpushError,
    ConfigurationError,
    PermanentPushError,
    PushError,
    ServiceUnavailableInRegionError,
    TransientPushError,
)
from certpush.logic.redaction import scrub_target_text
from certpush.ports import Clock, RateLimiter
from certpush.providers.huaweicloud.regions import IAM, SITE_IAM_ENDPOINTS, Site, endpoint_for
from certpush.providers.huaweicloud.settings import DEFAULT_TIMEOUT_SECONDS
from certpush.providers.huaweicloud.signer import HuaweiSigner

# API gateway (APIGW.*) codes: https://support.huaweicloud.com/en-us/devg-apisign/api-sign-errorcode.html
THROTTLING_CODES = frozenset({"APIGW.0308"})
PROVIDER = "huaweicloud"
CLOCK_SKEW_CODE = "APIGW.0303"  # X-Sdk-Date more than 15 minutes off the gateway's clock
MAX_RETRY_AFTER_SECONDS = 12 * 3600
# How long refused credentials are not sent again unless they change (the gateway's lock lasts 5 minutes)
REFUSAL_MEMORY_SECONDS = 300.0  # SQS's longest visibility timeout: a longer wait cannot be scheduled
# WAF.00012001 invalid token, .002 project mismatch, .003 permission denied, .004 account frozen,
# .005 not subscribed; APIGW.0101: the API does not exist (the service is not offered in that region);
# APIGW.0302: the IAM user may not call the API.
SERVICE_UNAVAILABLE_CODES = frozenset(
    {
        "WAF.00012001",
        "WAF.00012002",
        "WAF.00012003",
        "WAF.00012004",
        "WAF.00012005",
        "APIGW.0101",
        "APIGW.0302",
    }
)
WAF_DUPLICATE_NAME_CODES = frozenset({"WAF.00011016", "WAF.00022002"})
WAF_ILLEGAL_CERTIFICATE = "WAF.00011019"
WAF_EXPIRED_CERTIFICATE = "WAF.00011021"


class HuaweiCloudCredentials(BaseModel):
    """An AK/SK pair, with a security token for temporary credentials. Secrets never print."""

    model_config = ConfigDict(frozen=True)

    access_key: str
    secret_key: SecretStr
    security_token: SecretStr | None = None


_ACCESS_KEY_NAMES = ("access_key", "ak", "access_key_id", "AccessKey")
_SECRET_KEY_NAMES = ("secret_key", "sk", "secret_access_key", "SecretKey")
_SECURITY_TOKEN_NAMES = ("security_token", "securitytoken", "SecurityToken")


def load_credentials(secret_id: str, fetch: Callable[[str], Mapping[str, Any] | str]) -> HuaweiCloudCredentials:
    """Reads an AK/SK secret. ``fetch(secret_id)`` returns the secret as a dict (or its JSON text),
    e.g. Powertools ``parameters.get_secret(secret_id, transform="json")``.
    Accepted keys: access_key / ak, secret_key / sk, and security_token for temporary credentials."""
    raw = fetch(secret_id)
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ConfigurationError(f"secret {secret_id} is not JSON") from exc
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"secret {secret_id} is not a JSON object")
    access_key = next((raw[k] for k in _ACCESS_KEY_NAMES if raw.get(k)), None)
    secret_key = next((raw[k] for k in _SECRET_KEY_NAMES if raw.get(k)), None)
    if not isinstance(access_key, str) or not isinstance(secret_key, str):
        raise ConfigurationError(f"secret {secret_id} needs string fields access_key and secret_key")
    token = next((raw[k] for k in _SECURITY_TOKEN_NAMES if raw.get(k)), None)
    if token is not None and not isinstance(token, str):
        raise ConfigurationError(f"secret {secret_id}: security_token must be a string")
    return HuaweiCloudCredentials(
        access_key=access_key,
        secret_key=SecretStr(secret_key),
        security_token=SecretStr(token) if token else None,
    )


def default_timeout(seconds: float = DEFAULT_TIMEOUT_SECONDS) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(seconds, 5.0))


def new_http_client(timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> httpx.Client:
    """A pooled client without transport retries: the push pipeline decides on retries."""
    return httpx.Client(
        timeout=default_timeout(timeout_seconds),
        transport=httpx.HTTPTransport(retries=0),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=30.0),
        headers={"User-Agent": "certpush-huaweicloud"},
        follow_redirects=False,
    )


def _error_fields(body: Any) -> tuple[str | None, str | None]:
    """(code, message) from the shapes Huawei Cloud services use."""
    if not isinstance(body, Mapping):
        return None, None
    if body.get("error_code"):
        return str(body["error_code"]), str(body.get("error_msg") or body.get("message") or "")
    nested = body.get("error") or body.get("NeutronError")
    if isinstance(nested, Mapping):
        code = nested.get("code") or nested.get("error_code") or nested.get("type")
        message = nested.get("message") or nested.get("error_msg") or nested.get("detail")
        return (str(code) if code else None), (str(message) if message else None)
    return None, None


def retry_after_seconds(response: httpx.Response) -> int | None:
    """The answer's ``Retry-After`` (RFC 9110 10.2.3: delay-seconds or an HTTP-date) in whole seconds."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(int(value), MAX_RETRY_AFTER_SECONDS)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return min(max(0, math.ceil((moment - datetime.now(UTC)).total_seconds())), MAX_RETRY_AFTER_SECONDS)


def error_for_response(response: httpx.Response) -> PushError:
    """Our exception for a non-2xx answer, chosen by status and error code."""
    try:
        body = response.json()
    except ValueError:
        body = None
    code, message = _error_fields(body)
    status = response.status_code
    code = code or f"HTTP_{status}"
    request_id = response.headers.get("X-Request-Id", "")
    text = f"HTTP {status}: {scrub_target_text(message or response.reason_phrase)}"
    if request_id:
        text += f" (request id {request_id})"
    retry_after = retry_after_seconds(response)
    if status == 429 or code in THROTTLING_CODES:
        return TransientPushError(code, text, retry_after=retry_after, throttled=True)
    if status == 401:
        what = (
            "the request's time is more than 15 minutes off the cloud's (clock skew): check this machine's clock"
            if code == CLOCK_SKEW_CODE
            else "the access key was refused (wrong, deleted, disabled or locked after failed attempts)"
        )
        return AuthenticationFailedError(code, f"{code}: {what}; {text}")
    if code in SERVICE_UNAVAILABLE_CODES or status == 403:
        return ServiceUnavailableInRegionError(code, text)
    if status >= 500 or status == 408:
        # a 5xx other than 503 may come after the work was done (APIG answers 504 when the service is slow)
        return TransientPushError(code, text, ambiguous=status >= 500 and status != 503, retry_after=retry_after)
    return PermanentPushError(code, text)


def error_for_transport(exc: httpx.HTTPError) -> PushError:
    """Timeouts, refused or dropped connections can succeed later; a malformed URL never will."""
    text = f"{type(exc).__name__}: {exc}"
    # a request that never left (no connection, no pool slot) did nothing; one that was sent may have
    # been carried out although no answer came: the retry settles, then looks for what it made
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout | httpx.ConnectError | httpx.ProxyError):
        return TransientPushError("CONNECTION_ERROR" if isinstance(exc, httpx.ConnectError) else "TIMEOUT", text)
    if isinstance(exc, httpx.TimeoutException):
        return TransientPushError("TIMEOUT", text, ambiguous=True)
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        return TransientPushError("CONNECTION_ERROR", text, ambiguous=True)
    return PermanentPushError("HTTP_CLIENT_ERROR", f"{type(exc).__name__}: {exc}")


class HuaweiCloudClient:
    """Signed JSON calls to a service in a region, with project ids per region.

    ``credentials_loader`` is called once, on the first request (not at construction). A 401 calls
    ``reload_credentials`` (past any cache: the keys may have been rotated) and sends the request
    once more before it counts as an error (AUTH_FAILED: never a third time). Project ids come
    from ``project_ids`` or are discovered with IAM ``GET /v3/projects?name={region}`` and cached; the
    account's id (a global service's ``X-Domain-Id``) from ``domain_id`` or IAM ``GET /v3/auth/domains``,
    cached. ``site``: the account's site (``com``, or ``eu`` for huaweicloud.eu): where global services
    and IAM answer. ``http_client``, when given, is used as is (its owner closes it); otherwise one is
    made here.
    """

    def __init__(
        self,
        credentials_loader: Callable[[], HuaweiCloudCredentials],
        *,
        reload_credentials: Callable[[], HuaweiCloudCredentials] | None = None,
        http_client: httpx.Client | None = None,
        endpoint_template: str | None = None,
        project_ids: Mapping[str, str] | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        clock: Clock | None = None,
        domain_id: str | None = None,
        site: Site = "com",
        monotonic: Callable[[], float] = time.monotonic,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self._credentials_loader = credentials_loader
        self._reload_credentials = reload_credentials
        self._owns_http_client = http_client is None
        self._http = http_client if http_client is not None else new_http_client(timeout_seconds)
        self._timeout = default_timeout(timeout_seconds)
        self._endpoint_template = endpoint_template
        self._project_ids: dict[str, str] = dict(project_ids or {})
        self._domain_id = domain_id
        self._site: Site = site
        self._clock = clock
        self._signer: HuaweiSigner | None = None
        self._signed_with: dict[int, str] = {}
        self._refused: dict[str, float] = {}
        self._monotonic = monotonic
        self._rate_limiter = rate_limiter
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        if self._owns_http_client:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- credentials and projects ----------------------------------------------------------------
    def _auth(self, refused: HuaweiSigner | None = None) -> HuaweiSigner:
        """The signer; with ``refused`` (a signer the API answered 401 to), one from credentials read
        again (past any cache: the keys may have been rotated). Credentials the API refused within
        ``REFUSAL_MEMORY_SECONDS`` are not sent again: AuthenticationFailedError at once."""
        with self._lock:
            if refused is not None and self._signer is refused:
                self._signer = None
            if self._signer is None:
                reload = (refused is not None or self._refusals_now()) and self._reload_credentials is not None
                loader = self._reload_credentials if reload and self._reload_credentials else self._credentials_loader
                try:
                    credentials = loader()
                except CertpushError:
                    raise
                except Exception as exc:  # a secrets store outage must not look like a refusal
                    raise TransientPushError("CREDENTIALS_UNAVAILABLE", f"{type(exc).__name__}: {exc}") from exc
                if _fingerprint(credentials) in self._refusals_now():
                    raise AuthenticationFailedError(
                        "REFUSED_BEFORE",
                        "the cloud refused these credentials moments ago and they have not changed: not sent "
                        "again (5 refusals in a row lock an access key for 5 minutes); rotate them in the secret",
                    )
                self._signer = HuaweiSigner(
                    credentials.access_key,
                    credentials.secret_key,
                    clock=self._clock,
                    security_token=credentials.security_token,
                )
                self._signed_with[id(self._signer)] = _fingerprint(credentials)
            return self._signer

    def _refusals_now(self) -> dict[str, float]:
        """Credentials refused lately (fingerprint -> when), the expired ones forgotten. Holds the lock."""
        now = self._monotonic()
        for stale in [key for key, when in self._refused.items() if now - when > REFUSAL_MEMORY_SECONDS]:
            del self._refused[stale]
        return self._refused

    def _refuse(self, signer: HuaweiSigner) -> None:
        """The API refused ``signer``'s credentials after they were read again: remember them."""
        with self._lock:
            fingerprint = self._signed_with.get(id(signer))
            if fingerprint is not None:
                self._refused[fingerprint] = self._monotonic()
            if self._signer is signer:
                self._signer = None

    def endpoint(self, service: str, region: str) -> str:
        return endpoint_for(service, region, self._endpoint_template, site=self._site)

    def domain_id(self) -> str:
        """The account's id: a global service (CDN) called with AK/SK needs it in ``X-Domain-Id``
        (KeystoneListAuthDomains, https://support.huaweicloud.com/api-iam/iam_07_0001.html, as the
        official SDK's GlobalCredentials look it up)."""
        with self._lock:
            if self._domain_id is not None:
                return self._domain_id
        if self._endpoint_template is not None:
            base = endpoint_for(IAM, "global", self._endpoint_template)
        else:
            base = SITE_IAM_ENDPOINTS[self._site]
        body = self._send("GET", f"{base}/v3/auth/domains", api=(IAM, "global"))
        domains = body.get("domains") if isinstance(body, Mapping) else None
        found = next((d.get("id") for d in domains or [] if isinstance(d, Mapping) and d.get("id")), None)
        if not found:
            raise ServiceUnavailableInRegionError("DOMAIN_NOT_FOUND", "IAM names no account for these credentials")
        with self._lock:
            self._domain_id = self._domain_id or str(found)
            return self._domain_id

    def project_id(self, region: str) -> str:
        with self._lock:
            known = self._project_ids.get(region)
        if known is not None:
            return known
        body = self._send(
            "GET", f"{self.endpoint(IAM, region)}/v3/projects", params={"name": region}, api=(IAM, region)
        )
        projects = body.get("projects") if isinstance(body, Mapping) else None
        match = next(
            (p for p in projects or [] if isinstance(p, Mapping) and p.get("name") == region and p.get("id")),
            None,
        )
        if match is None:
            raise ServiceUnavailableInRegionError("PROJECT_NOT_FOUND", f"no IAM project named {region!r}")
        project_id = str(match["id"])
        with self._lock:
            self._project_ids.setdefault(region, project_id)
            return self._project_ids[region]

    # -- requests --------------------------------------------------------------------------------
    def call(
        self,
        service: str,
        region: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json_body: Mapping[str, Any] | None = None,
        global_service: bool = False,
    ) -> dict[str, Any]:
        """``path`` may hold ``{project_id}``, replaced by the region's project id; ``global_service``:
        the request names the account (``X-Domain-Id``) instead. Returns the JSON object answered
        (``{}`` for an empty body)."""
        base = self.endpoint(service, region)
        headers: dict[str, str] = {}
        if global_service:
            headers["X-Domain-Id"] = self.domain_id()
        if "{project_id}" in path:
            project_id = self.project_id(region)
            path = path.replace("{project_id}", quote(project_id, safe=""))
            headers["X-Project-Id"] = project_id
        return self._send(
            method, f"{base}{path}", params=params, json_body=json_body, headers=headers, api=(service, region)
        )

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json_body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        api: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """``api``: the (service, region) whose flow control the request counts against: the rate limiter
        paces each request sent under it, and a 429 holds every caller of that budget off for its
        ``Retry-After``."""
        send_headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        content = json.dumps(json_body, separators=(",", ":")).encode("utf-8") if json_body is not None else None
        auth = self._auth()
        response = self._paced(api, lambda: self._request(method, url, params, content, send_headers, auth))
        if response.status_code == 401 and _code_of(response) != CLOCK_SKEW_CODE:
            # rotated keys: the cached pair is refused; read the secret again, once, and send again only
            # with credentials that changed. Refused twice, the push fails: a third try brings the
            # gateway's lock (5 failures in a row) closer and cannot succeed.
            try:
                fresh = self._auth(refused=auth)
            except AuthenticationFailedError:
                self._refuse(auth)
                raise error_for_response(response) from None
            if self._signed_with.get(id(fresh)) == self._signed_with.get(id(auth)):  # the same pair again
                self._refuse(fresh)
                raise error_for_response(response)
            response = self._paced(api, lambda: self._request(method, url, params, content, send_headers, fresh))
            if response.status_code == 401 and _code_of(response) != CLOCK_SKEW_CODE:
                self._refuse(fresh)
        if not response.is_success:
            raise error_for_response(response)
        if not response.content:
            return {}
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientPushError("INVALID_RESPONSE", f"HTTP {response.status_code}: answer is not JSON") from exc
        if not isinstance(body, dict):
            raise TransientPushError("INVALID_RESPONSE", f"HTTP {response.status_code}: answer is not a JSON object")
        nested = body.get("error")
        if isinstance(nested, Mapping) and nested.get("error_code"):
            # CDN's error code table lists its errors with status 200
            # (https://support.huaweicloud.com/api-cdn/ErrorCode.html): an error body is an error
            code, message = _error_fields(body)
            raise PermanentPushError(code or "UNKNOWN_ERROR", f"HTTP {response.status_code}: {message}")
        return body

    def _paced(self, api: tuple[str, str] | None, send: Callable[[], httpx.Response]) -> httpx.Response:
        if self._rate_limiter is None or api is None:
            return send()
        service, region = api
        self._rate_limiter.acquire(PROVIDER, service, None, region)
        response = send()
        if response.status_code == 429 or _code_of(response) in THROTTLING_CODES:
            wait = retry_after_seconds(response)
            self._rate_limiter.hold_off(PROVIDER, service, None, region, float(wait if wait is not None else 1))
        return response

    def _request(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        content: bytes | None,
        headers: Mapping[str, str],
        auth: HuaweiSigner,
    ) -> httpx.Response:
        try:
            return self._http.request(
                method,
                url,
                params=_clean_params(params),
                content=content,
                headers=headers,
                auth=auth,
                timeout=self._timeout if self._owns_http_client else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            raise error_for_transport(exc) from exc


def _fingerprint(credentials: HuaweiCloudCredentials) -> str:
    secret = credentials.secret_key.get_secret_value().encode()
    return f"{credentials.access_key}:{hashlib.sha256(secret).hexdigest()}"


def _code_of(response: httpx.Response) -> str | None:
    try:
        return _error_fields(response.json())[0]
    except ValueError:
        return None


def _clean_params(params: Mapping[str, Any] | list[tuple[str, Any]] | None) -> httpx.QueryParams | None:
    if params is None:
        return None
    items = params.items() if isinstance(params, Mapping) else params
    cleaned: list[tuple[str, str]] = []
    for key, value in items:
        if value is None:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            cleaned.append((key, str(item).lower() if isinstance(item, bool) else str(item)))
    return httpx.QueryParams(tuple(cleaned))
