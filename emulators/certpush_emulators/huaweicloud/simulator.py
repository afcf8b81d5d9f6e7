"""A local, in-process imitation of the Huawei Cloud APIs certpush uses, for tests and demos.

The real paths, at the root of one address (``endpoint_template`` is just ``url``). The service is told
by the ``Host`` header when it names one (``waf.cn-north-4.myhuaweicloud.com``), otherwise by the path;
the region by the project id in the path (each region has its own project, as IAM lists them):

* WAF v1: ``/v1/{project_id}/waf/certificate`` list (``name``, ``host``, ``exp_status``, ``page``/``pagesize``)
  and create; ``/{certificate_id}`` show, update, delete; ``/{certificate_id}/apply-to-hosts``.
* ELB v3: ``/v3/{project_id}/elb/certificates`` list (``id``, ``name``, ``domain``, ``common_name``,
  ``fingerprint``, ``type``... ``limit``/``marker``) and create; ``/{certificate_id}`` show, update, delete;
  ``/v3/{project_id}/elb/listeners`` list, ``/{listener_id}`` show, update (SNI rules).
* IAM v3: ``/v3/projects`` (all projects, or filtered by ``name``...).
* CDN (global): ``/v1.0/cdn/domains`` list; ``/v1.1/cdn/configuration/domains/{domain_name}/configs``
  show and update (the ``https`` configuration).

A query parameter or body field the simulator does not implement is refused (400 ``SIM.NOT_SIMULATED``),
never ignored. Every API request must carry a valid SDK-HMAC-SHA256 signature whose X-Sdk-Date is within
15 minutes (else 401 ``APIGW.0301``). Certificates are parsed with ``cryptography``: expired ones and keys
that do not match are refused like WAF does (``WAF.00011021`` / ``WAF.00011019``) and CDN does
(``CDN.0408`` / ``CDN.0405``); ELB's refusals use ``ELB.8902`` (invalid parameter) - real ELB documents no
specific codes for these, and refuses no expired certificate. Each service refuses a private key that is
not RSA or EC (Ed25519, DSA...), and ELB a certificate over 65,536 or a key over 8,192 characters, as
documented (``KEY_TYPES``, ``ELB_MAX_*``): the same rules as ``certpush/providers/huaweicloud/rules.py``.

Admin calls (no signature), also available as methods:

* ``POST /_sim/faults`` ``{"failure_rate": 0.3, "kinds": ["5xx", "5xx_after", "throttle", "timeout"],
  "latency_ms": 0, "seed": 1}``. ``5xx`` and ``throttle`` answer before doing anything; ``5xx_after``
  does the work then answers 500; ``timeout`` does the work then closes the connection unanswered, so a
  retry has to find what the lost request made.
* ``POST /_sim/services`` ``{"service": "waf", "region": "...", "purchased": false}``
* ``POST /_sim/waf/{region}/hosts`` ``{"hostname": "www.example.com"}`` -> ``{"id": ...}``
* ``POST /_sim/elb/{region}/listeners`` ``{"protocol": "HTTPS"}`` -> ``{"id": ...}``
* ``POST /_sim/cdn/domains`` ``{"domain_name": "www.example.com"}`` -> ``{"id": ...}``
* ``GET /_sim/state`` (no private keys), ``POST /_sim/reset``.

Nothing here is needed in Lambda; it only uses the standard library and ``cryptography``.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

from certpush.ports import Clock
from certpush.providers.huaweicloud.regions import ENDPOINTS
from certpush.providers.huaweicloud.signer import MAX_CLOCK_SKEW, SignatureVerificationError, verify

DEFAULT_CREDENTIALS: Mapping[str, str] = {"certpush-local-ak": "certpush-local-sk"}
FAULT_KINDS = frozenset({"5xx", "5xx_after", "throttle", "timeout"})
SERVICES = ("waf", "elb", "iam")

WAF_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
DOMAIN_RE = re.compile(
    r"^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
MAX_CHAIN = 11
# ELB v3 CreateCertificate (https://support.huaweicloud.com/intl/en-us/api-elb/CreateCertificate.html):
# "certificate" (with its chain) at most 65,536 characters, "private_key" at most 8,192 (the SDK's
# docstring says 20,000 for the certificate: the live reference wins). WAF and CDN document no limit.
ELB_MAX_CERTIFICATE_CHARS = 65_536
ELB_MAX_KEY_CHARS = 8_192
# The certificate manager's push page: WAF, ELB and CDN take PKCS#1 or SEC1 private keys, i.e. RSA or
# EC (https://support.huaweicloud.com/intl/en-us/usermanual-ccm/ccm_01_0141.html); an Ed25519, Ed448
# or DSA key has neither form.
KEY_TYPES = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)
MAX_SNI_CERTIFICATES = 50
MAX_SNI_DOMAINS = 200

WAF_BAD_BODY = "WAF.00011003"
WAF_BAD_ID = "WAF.00011004"
WAF_BAD_NAME = "WAF.00011005"
WAF_BAD_PAGE = "WAF.00011011"
WAF_DUPLICATE_NAME = "WAF.00011016"
WAF_ILLEGAL_CERTIFICATE = "WAF.00011019"
WAF_EXPIRED_CERTIFICATE = "WAF.00011021"
WAF_PROJECT_MISMATCH = "WAF.00012002"
WAF_NOT_SUBSCRIBED = "WAF.00012005"
WAF_NOT_FOUND = "WAF.00014002"
ELB_INVALID = "ELB.8902"
ELB_NOT_FOUND = "ELB.8904"
ELB_IN_USE = "ELB.8905"
APIGW_AUTH = "APIGW.0301"
IAM_BAD_REQUEST = "1100"
# A query parameter the API documents but the simulator does not implement: refused, never ignored.
NOT_SIMULATED = "SIM.NOT_SIMULATED"
DOMAIN_ID = "0" * 31 + "1"
IAM_URL = "https://iam.myhuaweicloud.com"
APIGW_NOT_FOUND = "APIGW.0101"
APIGW_THROTTLED = "APIGW.0308"
CDN_BAD_PARAMETER = "CDN.0001"
CDN_NO_DOMAIN = "CDN.0105"
CDN_EMPTY_CERTIFICATE = "CDN.0402"
CDN_NOT_PEM = "CDN.0403"
CDN_KEY_NOT_PEM = "CDN.0404"
CDN_KEY_MISMATCH = "CDN.0405"
CDN_DOMAIN_MISMATCH = "CDN.0406"
CDN_EXPIRED = "CDN.0408"
_CDN_HTTPS_FIELDS = frozenset(
    {"https_status", "certificate_type", "certificate_source", "certificate_name", "certificate_value",
     "private_key", "http2_status"}
)  # fmt: skip


class _SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FaultConfig:
    failure_rate: float = 0.0
    kinds: tuple[str, ...] = ("5xx", "throttle", "timeout")
    latency_ms: int = 0
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError("failure_rate must be within [0, 1]")
        self.kinds = tuple(self.kinds)
        unknown = set(self.kinds) - FAULT_KINDS
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds must be a non-empty subset of {sorted(FAULT_KINDS)}")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")


@dataclass(frozen=True)
class RecordedRequest:
    """An API request as the simulator received it (for the request-contract tests)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: Any
    service: str
    region: str | None
    signed_headers: tuple[str, ...] = ()


@dataclass
class SimResponse:
    status: int
    body: Any = None
    drop: bool = False


class SimError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass
class _Material:
    content: str
    key: str
    common_name: str
    sans: list[str]
    not_after: datetime
    fingerprint: str


@dataclass
class _WafCertificate:
    id: str
    name: str
    material: _Material
    timestamp: int


@dataclass
class _WafHost:
    id: str
    hostname: str
    mode: str = "cloud"
    certificate_id: str | None = None


@dataclass
class _ElbCertificate:
    id: str
    name: str
    description: str
    type: str
    domain: str
    material: _Material | None
    created_at: str
    updated_at: str


@dataclass
class _Listener:
    id: str
    protocol: str = "HTTPS"
    name: str = ""
    default_tls_container_ref: str | None = None
    client_ca_tls_container_ref: str | None = None
    sni_container_refs: list[str] = field(default_factory=list)


@dataclass
class _CdnDomain:
    id: str
    domain_name: str
    created: int
    business_type: str = "web"
    service_area: str = "mainland_china"
    domain_status: str = "online"
    https: dict[str, Any] | None = None  # the HTTPS configuration, private key included


@dataclass
class _RegionState:
    waf_certificates: dict[str, _WafCertificate] = field(default_factory=dict)
    waf_hosts: dict[str, _WafHost] = field(default_factory=dict)
    elb_certificates: dict[str, _ElbCertificate] = field(default_factory=dict)
    listeners: dict[str, _Listener] = field(default_factory=dict)


def _covers(name: str, domain: str) -> bool:
    name, domain = name.lower(), domain.lower()
    if name.startswith("*."):
        return domain.count(".") == name.count(".") and domain.endswith(name[1:])
    return name == domain


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, code: str, message: str) -> SimError:
    return SimError(status, code, message)


def _new_id() -> str:
    return uuid.uuid4().hex


class HuaweiCloudSimulator:
    """Start with ``start()`` (or as a context manager); ``url`` and ``endpoint_template`` then work."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        max_clock_skew: timedelta = MAX_CLOCK_SKEW,
        faults: FaultConfig | None = None,
        regions: Iterable[str] | None = None,
    ) -> None:
        self._host = host
        known = sorted(set(regions) if regions is not None else set().union(*map(set, ENDPOINTS.values())))
        self._project_regions = {self.project_id(region): region for region in known}
        self._requests: list[RecordedRequest] = []
        self._port = port
        self._credentials = dict(credentials if credentials is not None else DEFAULT_CREDENTIALS)
        self._clock: Clock = clock or _SystemClock()
        self._max_skew = max_clock_skew
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._faults = faults or FaultConfig()
        self._rng = random.Random(self._faults.seed)  # noqa: S311 - fault injection, not security
        self._regions: dict[str, _RegionState] = {}
        self._cdn_domains: dict[str, _CdnDomain] = {}
        self._not_purchased: set[tuple[str, str]] = set()
        self._stats: Counter[str] = Counter()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Self:
        if self._server is not None:
            return self
        server = _SimulatorHTTPServer((self._host, self._port), _Handler)
        server.simulator = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="huawei-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        host, port = self._server.server_address[:2]
        host_text = host.decode("ascii") if isinstance(host, bytes) else host
        return f"http://{host_text}:{port}"

    @property
    def endpoint_template(self) -> str:
        """What replaces every service's address: the real paths are served at the root."""
        return self.url

    @property
    def regions(self) -> list[str]:
        """Regions that have a project (what IAM lists)."""
        return sorted(self._project_regions.values())

    def requests(self) -> list[RecordedRequest]:
        """Every API request received since the last reset, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def credentials(self) -> dict[str, str]:
        return dict(self._credentials)

    # -- admin -----------------------------------------------------------------------------------
    def set_faults(
        self,
        failure_rate: float = 0.0,
        kinds: tuple[str, ...] | list[str] = ("5xx", "throttle", "timeout"),
        latency_ms: int = 0,
        seed: int | None = None,
    ) -> FaultConfig:
        config = FaultConfig(failure_rate=failure_rate, kinds=tuple(kinds), latency_ms=latency_ms, seed=seed)
        with self._lock:
            self._faults = config
            self._rng = random.Random(seed)  # noqa: S311 - fault injection, not security
        return config

    def clear_faults(self) -> None:
        self.set_faults()

    def set_service_purchased(self, service: str, region: str, purchased: bool) -> None:
        with self._lock:
            if purchased:
                self._not_purchased.discard((service, region))
            else:
                self._not_purchased.add((service, region))

    def add_waf_host(self, region: str, hostname: str, host_id: str | None = None, mode: str = "cloud") -> str:
        with self._lock:
            host = _WafHost(id=host_id or _new_id(), hostname=hostname, mode=mode)
            self._region(region).waf_hosts[host.id] = host
            return host.id

    def add_elb_listener(
        self, region: str, protocol: str = "HTTPS", listener_id: str | None = None, name: str = ""
    ) -> str:
        with self._lock:
            listener = _Listener(id=listener_id or _new_id(), protocol=protocol.upper(), name=name)
            self._region(region).listeners[listener.id] = listener
            return listener.id

    def add_cdn_domain(self, domain_name: str) -> str:
        """An accelerated domain (AddDomain is not simulated)."""
        with self._lock:
            domain = _CdnDomain(_new_id(), domain_name.lower(), int(self._clock.now().timestamp() * 1000))
            self._cdn_domains[domain.domain_name] = domain
            return domain.id

    # What a person does in the console, behind certpush's back (tests and demos).
    def detach_everywhere(self, region: str, certificate_id: str) -> None:
        """No protected domain or listener of the region uses the certificate any more."""
        with self._lock:
            st = self._region(region)
            for host in st.waf_hosts.values():
                if host.certificate_id == certificate_id:
                    host.certificate_id = None
            for listener in st.listeners.values():
                listener.sni_container_refs = [ref for ref in listener.sni_container_refs if ref != certificate_id]
                if listener.default_tls_container_ref == certificate_id:
                    listener.default_tls_container_ref = None
                if listener.client_ca_tls_container_ref == certificate_id:
                    listener.client_ca_tls_container_ref = None

    def delete_certificate(self, service: str, region: str, certificate_id: str) -> None:
        with self._lock:
            st = self._region(region)
            (st.waf_certificates if service == "waf" else st.elb_certificates).pop(certificate_id, None)

    @staticmethod
    def project_id(region: str) -> str:
        return hashlib.sha256(f"project:{region}".encode()).hexdigest()[:32]

    def reset(self) -> None:
        with self._lock:
            self._regions.clear()
            self._cdn_domains.clear()
            self._requests.clear()
            self._not_purchased.clear()
            self._stats.clear()
            self._faults = FaultConfig()
            self._rng = random.Random()  # noqa: S311 - fault injection, not security

    def state(self) -> dict[str, Any]:
        """Everything but private keys and certificate bodies."""
        with self._lock:
            waf: dict[str, Any] = {}
            elb: dict[str, Any] = {}
            for region, st in sorted(self._regions.items()):
                waf[region] = {
                    "certificates": [self._waf_view(region, c) for c in st.waf_certificates.values()],
                    "hosts": [asdict(h) for h in st.waf_hosts.values()],
                }
                elb[region] = {
                    "certificates": [self._elb_view(c, with_pem=False) for c in st.elb_certificates.values()],
                    "listeners": [self._listener_view(region, listener) for listener in st.listeners.values()],
                }
            cdn = {
                "global": {
                    "domains": [self._cdn_domain_view(d) for d in self._cdn_domains.values()],
                    # one entry per domain that serves a certificate: the CDN target's ids are domain names
                    "certificates": [
                        {"id": d.domain_name, "name": d.https["certificate_name"]}
                        for d in self._cdn_domains.values()
                        if d.https and d.https.get("https_status") == "on"
                    ],
                }
            }
            return {
                "waf": waf,
                "elb": elb,
                "cdn": cdn,
                "not_purchased": sorted(f"{s}:{r}" for s, r in self._not_purchased),
                "faults": asdict(self._faults),
                "stats": dict(self._stats),
            }

    def certificate_fields(self) -> list[tuple[str, str]]:
        """Every stored certificate field anyone can read back (name, description, domain, the PEM
        content or certificate): ``(where, value)``. The private key, which the APIs never return,
        is left out. For scans that must find no key material where a certificate goes."""
        fields: list[tuple[str, str]] = []
        with self._lock:
            for region, st in sorted(self._regions.items()):
                for waf in st.waf_certificates.values():
                    where = f"waf:{region}:{waf.id}"
                    fields += [(f"{where}:name", waf.name), (f"{where}:content", waf.material.content)]
                for elb in st.elb_certificates.values():
                    where = f"elb:{region}:{elb.id}"
                    fields += [(f"{where}:name", elb.name), (f"{where}:description", elb.description),
                               (f"{where}:domain", elb.domain)]  # fmt: skip
                    if elb.material is not None:
                        fields.append((f"{where}:certificate", elb.material.content))
        return fields

    def certificate_count(self, service: str, region: str) -> int:
        with self._lock:
            st = self._regions.get(region)
            if st is None:
                return 0
            return len(st.waf_certificates if service == "waf" else st.elb_certificates)

    # -- request handling ------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> SimResponse:
        """One HTTP request, as received. Thread-safe."""
        split = urlsplit(target)
        path = unquote(split.path)
        query = parse_qsl(split.query, keep_blank_values=True)
        try:
            if path.startswith("/_sim/"):
                return self._admin(method, path, body)
            return self._api(method, target, path, query, headers, body)
        except SimError as exc:
            error = {"error_code": exc.code, "error_msg": exc.message}
            if exc.code.startswith(
                "CDN."
            ):  # CDN nests its errors (https://support.huaweicloud.com/api-cdn/ErrorCode.html)
                return SimResponse(exc.status, {"error": error})
            return SimResponse(exc.status, {**error, "request_id": _new_id()})

    # The cloud tells services apart by host name (waf.{region}.myhuaweicloud.com, iam.myhuaweicloud.com)
    # and regions by host name or by the project id in the path: every region has its own project
    # (IAM "Querying Project Information": https://support.huaweicloud.com/api-iam/iam_06_0001.html).
    # Behind one local address the path says the service; the Host header wins when it names one.
    _HOST_RE = re.compile(r"^(?P<service>[a-z]+)\.(?:(?P<region>[a-z0-9-]+)\.)?myhuaweicloud\.(?:com|cn|eu)(?::\d+)?$")
    _PATH_SERVICES = (
        ("iam", re.compile(r"^/v3/projects/?$")),
        ("waf", re.compile(r"^/v1/(?P<project>[^/]+)/waf/")),
        ("elb", re.compile(r"^/v3/(?P<project>[^/]+)/elb/")),
        ("cdn", re.compile(r"^/v1\.[01]/cdn/")),
    )

    def _locate(self, path: str, headers: list[tuple[str, str]]) -> tuple[str, str | None]:
        """(service, region) of an API request; region None for IAM and global services."""
        service = next((name for name, pattern in self._PATH_SERVICES if pattern.match(path)), None)
        host = next((value for key, value in headers if key.lower() == "host"), "")
        named = self._HOST_RE.match(host.lower())
        if service is None or (named is not None and named["service"] != service):
            raise _error(404, APIGW_NOT_FOUND, "The API does not exist or has not been published")
        if service in ("iam", "cdn"):
            return service, None
        match = next(pattern for name, pattern in self._PATH_SERVICES if name == service).match(path)
        project = match["project"] if match else ""
        region = self._project_regions.get(project)
        if region is None or (named is not None and named["region"] not in (None, region)):
            code = WAF_PROJECT_MISMATCH if service == "waf" else ELB_INVALID
            raise _error(400 if service == "waf" else 403, code, "project id does not belong to this region")
        return service, region

    def _api(
        self,
        method: str,
        target: str,
        path: str,
        query: list[tuple[str, str]],
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> SimResponse:
        try:
            verify(
                secret_for=self._credentials,
                method=method,
                target=target,
                headers=headers,
                body=body,
                now=self._clock.now(),
                max_skew=self._max_skew,
            )
        except SignatureVerificationError as exc:
            self._count("signature_failures")
            raise _error(401, APIGW_AUTH, f"Incorrect IAM authentication information: {exc.message}") from exc
        service, region = self._locate(path, headers)
        after = self._inject_fault(service)
        payload = self._parse_json(service, body) if body else None
        with self._lock:
            signed = re.search(r"SignedHeaders=([^,\s]+)", dict((k.lower(), v) for k, v in headers)["authorization"])
            signed_headers = tuple(signed[1].split(";")) if signed else ()
            self._requests.append(RecordedRequest(method, path, tuple(query), payload, service, region, signed_headers))
            if region is not None and (service, region) in self._not_purchased:
                if service == "waf":
                    raise _error(400, WAF_NOT_SUBSCRIBED, "not.subscribe")
                raise _error(404, APIGW_NOT_FOUND, "The API does not exist or has not been published")
            if service == "iam":
                result = self._iam(method, path, query)
            elif service == "cdn":
                result = self._cdn(method, path, query, payload)
            elif service == "waf":
                result = self._waf(method, str(region), path, query, payload)
            else:
                result = self._elb(method, str(region), path, query, payload)
        if after == "timeout":
            self._count("faults.timeout")
            return SimResponse(0, None, drop=True)
        if after == "5xx_after":
            self._count("faults.5xx_after")
            raise _error(500, f"{service.upper()}.00010001", "internal error")
        return result

    def _inject_fault(self, service: str) -> str | None:
        with self._lock:
            config = self._faults
            roll = self._rng.random()
            kind = self._rng.choice(config.kinds)
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000)
        if roll >= config.failure_rate:
            return None
        if kind == "throttle":
            self._count("faults.throttle")
            raise _error(429, APIGW_THROTTLED, "The throttling threshold has been reached")
        if kind == "5xx":
            self._count("faults.5xx")
            raise _error(503, f"{service.upper()}.00010002", "service busy")
        return kind

    def _count(self, name: str) -> None:
        with self._lock:
            self._stats[name] += 1

    @staticmethod
    def _parse_json(service: str, body: bytes) -> Any:
        try:
            return json.loads(body)
        except ValueError as exc:
            code = WAF_BAD_BODY if service == "waf" else ELB_INVALID
            raise _error(400, code, "request body is not JSON") from exc

    def _region(self, region: str) -> _RegionState:
        return self._regions.setdefault(region, _RegionState())

    # -- material --------------------------------------------------------------------------------
    def _material(
        self,
        content: Any,
        key: Any,
        *,
        illegal: str,
        expired: str | None,
        key_required: bool = True,
        max_certificate_chars: int | None = None,
        max_key_chars: int | None = None,
    ) -> _Material:
        """``expired`` None: an expired certificate is accepted; ``key_required`` False: a CA certificate
        (a key, when given anyway, must still be PEM)."""
        if not isinstance(content, str) or not content.strip():
            raise _error(400, illegal, "certificate content is required")
        if key is None and not key_required:
            key = ""
        if not isinstance(key, str) or (key_required and not key.strip()):
            raise _error(400, illegal, "private key is required")
        if (max_certificate_chars is not None and len(content) > max_certificate_chars) or (
            max_key_chars is not None and len(key) > max_key_chars
        ):
            raise _error(400, illegal, "certificate or key is too long")
        try:
            chain = x509.load_pem_x509_certificates(content.encode("ascii"))
        except ValueError as exc:
            raise _error(400, illegal, "certificate is not valid PEM") from exc
        if len(chain) > MAX_CHAIN:
            raise _error(400, illegal, "certificate chain is longer than 11")
        leaf = chain[0]
        if key.strip():
            try:
                private_key = load_pem_private_key(key.encode("ascii"), password=None)
            except (ValueError, TypeError) as exc:
                raise _error(400, illegal, "private key is not valid unencrypted PEM") from exc
            if key_required and not isinstance(private_key, KEY_TYPES):
                raise _error(400, illegal, "the private key is not an RSA or EC key")
            spki = Encoding.DER, PublicFormat.SubjectPublicKeyInfo
            if key_required and leaf.public_key().public_bytes(*spki) != private_key.public_key().public_bytes(*spki):
                raise _error(400, illegal, "the private key does not match the certificate")
        if expired is not None and leaf.not_valid_after_utc <= self._clock.now():
            raise _error(400, expired, "the certificate has expired")
        try:
            san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            sans = [str(name) for name in san.get_values_for_type(x509.DNSName)]
        except x509.ExtensionNotFound:
            sans = []
        cn_attributes = leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        common_name = str(cn_attributes[0].value) if cn_attributes else ""
        sha1 = hashlib.sha1(leaf.public_bytes(Encoding.DER), usedforsecurity=False).hexdigest().upper()
        fingerprint = "SHA1 Fingerprint=" + ":".join(sha1[i : i + 2] for i in range(0, len(sha1), 2))
        return _Material(content, key, common_name, sans, leaf.not_valid_after_utc, fingerprint)

    # -- IAM -------------------------------------------------------------------------------------
    # KeystoneListProjects, GET /v3/projects (https://support.huaweicloud.com/api-iam/iam_06_0001.html):
    # every project of the account, or those matching the filters; a region without a project is absent.
    _IAM_FILTERS = frozenset({"name", "domain_id", "enabled", "is_domain", "parent_id", "page", "per_page"})

    def _iam(self, method: str, path: str, query: list[tuple[str, str]]) -> SimResponse:
        if method != "GET":
            raise _error(404, APIGW_NOT_FOUND, "The API does not exist or has not been published")
        unknown = sorted({key for key, _ in query} - self._IAM_FILTERS)
        if unknown:
            raise _error(400, NOT_SIMULATED, f"query parameters {unknown} are not simulated")
        params = dict(query)
        projects = [
            {
                "id": project_id,
                "name": region,
                "description": "",
                "domain_id": DOMAIN_ID,
                "parent_id": DOMAIN_ID,
                "enabled": True,
                "is_domain": False,
                "links": {"self": f"{IAM_URL}/v3/projects/{project_id}"},
            }
            for project_id, region in sorted(self._project_regions.items(), key=lambda item: item[1])
        ]
        for key in ("name", "domain_id", "parent_id"):
            if key in params:
                projects = [p for p in projects if p[key] == params[key]]
        for key in ("enabled", "is_domain"):
            if key in params:
                projects = [p for p in projects if str(p[key]).lower() == params[key].lower()]
        try:
            page, per_page = int(params.get("page", "1")), int(params.get("per_page", "5000"))
        except ValueError as exc:
            raise _error(400, IAM_BAD_REQUEST, "page and per_page must be integers") from exc
        if page < 1 or not 1 <= per_page <= 5000:
            raise _error(400, IAM_BAD_REQUEST, "page >= 1 and per_page within 1-5000")
        chosen = projects[(page - 1) * per_page : page * per_page]
        return SimResponse(
            200,
            {
                "projects": chosen,
                "links": {"self": "https://iam.myhuaweicloud.com/v3/projects", "next": None, "previous": None},
            },
        )

    # -- CDN -------------------------------------------------------------------------------------
    # A global service (https://support.huaweicloud.com/api-cdn/): ListDomains, ShowDomainFullConfig and
    # UpdateDomainFullConfig's "https" configuration. Errors come as {"error": {error_code, error_msg}}.
    _CDN_CONFIGS = re.compile(r"^/v1\.1/cdn/configuration/domains/(?P<domain>[^/]+)/configs/?$")
    _CDN_LIST_FILTERS = frozenset(
        {"domain_name", "business_type", "domain_status", "service_area", "page_size", "page_number",
         "exact_match", "enterprise_project_id"}
    )  # fmt: skip

    def _cdn(self, method: str, path: str, query: list[tuple[str, str]], payload: Any) -> SimResponse:
        if path.rstrip("/") == "/v1.0/cdn/domains" and method == "GET":
            return self._cdn_list(query)
        match = self._CDN_CONFIGS.match(path)
        if match is None:
            raise _error(404, APIGW_NOT_FOUND, "The API does not exist or has not been published")
        unknown = sorted({key for key, _ in query} - {"enterprise_project_id"})
        if unknown:
            raise _error(400, NOT_SIMULATED, f"query parameters {unknown} are not simulated")
        domain = self._cdn_domains.get(match["domain"].lower())
        if domain is None:
            raise _error(400, CDN_NO_DOMAIN, "The acceleration domain name does not exist.")
        if method == "GET":
            return SimResponse(200, {"configs": self._cdn_configs_view(domain)})
        if method == "PUT":
            return self._cdn_update(domain, payload)
        raise _error(405, CDN_BAD_PARAMETER, f"{method} is not allowed here")

    def _cdn_domain_view(self, domain: _CdnDomain) -> dict[str, Any]:
        https_on = bool(domain.https and domain.https.get("https_status") == "on")
        return {
            "id": domain.id,
            "domain_name": domain.domain_name,
            "business_type": domain.business_type,
            "domain_status": domain.domain_status,
            "cname": f"{domain.domain_name}.c.cdnhwc1.com",
            "sources": [],
            "https_status": 2 if https_on else 0,
            "create_time": domain.created,
            "modify_time": domain.created,
            "disabled": 0,
            "locked": 0,
            "service_area": domain.service_area,
        }

    def _cdn_configs_view(self, domain: _CdnDomain) -> dict[str, Any]:
        https: dict[str, Any] = {"https_status": "off"}
        if domain.https:
            https = {k: v for k, v in domain.https.items() if k not in ("private_key", "not_after")}
            if "not_after" in domain.https:
                https["expire_time"] = domain.https["not_after"]
        return {"business_type": domain.business_type, "service_area": domain.service_area, "https": https}

    def _cdn_list(self, query: list[tuple[str, str]]) -> SimResponse:
        unknown = sorted({key for key, _ in query} - self._CDN_LIST_FILTERS)
        if unknown:
            raise _error(400, NOT_SIMULATED, f"query parameters {unknown} are not simulated")
        params = dict(query)
        try:
            page_size, page_number = int(params.get("page_size", "30")), int(params.get("page_number", "1"))
        except ValueError as exc:
            raise _error(400, CDN_BAD_PARAMETER, "page_size and page_number must be integers") from exc
        if not 1 <= page_size <= 10_000 or page_number < 1:
            raise _error(400, CDN_BAD_PARAMETER, "page_size must be within 1-10000, page_number >= 1")
        views = [self._cdn_domain_view(d) for d in self._cdn_domains.values()]
        name = params.get("domain_name")
        if name:  # fuzzy unless exact_match=true
            exact = params.get("exact_match") == "true"
            views = [v for v in views if (v["domain_name"] == name if exact else name in v["domain_name"])]
        for key in ("business_type", "domain_status", "service_area"):
            if key in params:
                views = [v for v in views if v[key] == params[key]]
        chosen = views[(page_number - 1) * page_size : page_number * page_size]
        return SimResponse(200, {"total": len(views), "domains": chosen})

    def _cdn_update(self, domain: _CdnDomain, payload: Any) -> SimResponse:
        configs = payload.get("configs") if isinstance(payload, dict) else None
        if not isinstance(configs, dict):
            raise _error(400, CDN_BAD_PARAMETER, 'body must be {"configs": {...}}')
        unknown = sorted(set(configs) - {"https"})
        if unknown:
            raise _error(400, NOT_SIMULATED, f"configs {unknown} are not simulated")
        https = configs.get("https")
        if not isinstance(https, dict):
            raise _error(400, CDN_BAD_PARAMETER, "https must be an object")
        # HttpPutBody: https_status on|off; when on, certificate_source (0 own, 2 CCM), certificate_name
        # (3-64 characters), certificate_value and private_key (PEM) are required; the certificate must
        # match the key (CDN.0405), the domain (CDN.0406) and be valid (CDN.0408).
        status = https.get("https_status")
        if status not in ("on", "off"):
            raise _error(400, CDN_BAD_PARAMETER, "https_status must be on or off")
        if status == "off":
            domain.https = {"https_status": "off"}
            return SimResponse(200, {})
        if https.get("certificate_type", "server") != "server" or https.get("certificate_source") == 2:
            raise _error(400, NOT_SIMULATED, "SM and CCM certificates are not simulated")
        if https.get("certificate_source") != 0:
            raise _error(400, CDN_BAD_PARAMETER, "certificate_source is required: 0 (own) or 2 (CCM)")
        name = https.get("certificate_name")
        if not isinstance(name, str) or not 3 <= len(name) <= 64:
            raise _error(400, CDN_BAD_PARAMETER, "certificate_name must have 3-64 characters")
        if not https.get("certificate_value") or not https.get("private_key"):
            raise _error(400, CDN_EMPTY_CERTIFICATE, "The certificate or private key cannot be empty.")
        try:
            material = self._material(
                https["certificate_value"], https["private_key"], illegal=CDN_KEY_MISMATCH, expired=CDN_EXPIRED
            )
        except SimError as exc:
            code = {
                "certificate is not valid PEM": CDN_NOT_PEM,
                "private key is not valid unencrypted PEM": CDN_KEY_NOT_PEM,
                "the private key is not an RSA or EC key": CDN_KEY_NOT_PEM,
            }.get(exc.message, exc.code)
            raise _error(400, code, exc.message) from exc
        names = material.sans or [material.common_name]
        if not any(_covers(n, domain.domain_name) for n in names):
            raise _error(400, CDN_DOMAIN_MISMATCH, "The certificate and domain name do not match.")
        extra = sorted(set(https) - _CDN_HTTPS_FIELDS)
        if extra:
            raise _error(400, NOT_SIMULATED, f"https fields {extra} are not simulated")
        domain.https = {
            "https_status": "on",
            "certificate_type": "server",
            "certificate_source": 0,
            "certificate_name": name,
            "certificate_value": material.content,
            "private_key": material.key,
            "http2_status": https.get("http2_status", "off"),
            "not_after": int(material.not_after.timestamp() * 1000),
        }
        self._stats["cdn.https"] += 1
        return SimResponse(200, {})

    # -- WAF -------------------------------------------------------------------------------------
    _WAF_ROUTE = re.compile(r"^/v1/(?P<project>[^/]+)/waf/certificate(?:/(?P<id>[^/]+)(?P<apply>/apply-to-hosts)?)?/?$")

    def _waf(self, method: str, region: str, rest: str, query: list[tuple[str, str]], payload: Any) -> SimResponse:
        match = self._WAF_ROUTE.match(rest)
        if match is None:
            raise _error(404, APIGW_NOT_FOUND, "The API does not exist or has not been published")
        st = self._region(region)
        certificate_id = match["id"]
        if certificate_id is None:
            if method == "GET":
                return self._waf_list(region, st, query)
            if method == "POST":
                return self._waf_create(region, st, payload)
        elif match["apply"]:
            if method == "POST":
                return self._waf_apply(region, st, certificate_id, payload)
        else:
            certificate = st.waf_certificates.get(certificate_id)
            if certificate is None:
                raise _error(404, WAF_NOT_FOUND, "certificate not found")
            if method == "GET":
                return SimResponse(200, self._waf_view(region, certificate, with_content=True))
            if method == "PUT":
                return self._waf_update(region, st, certificate, payload)
            if method == "DELETE":
                for host in st.waf_hosts.values():
                    if host.certificate_id == certificate_id:
                        host.certificate_id = None
                del st.waf_certificates[certificate_id]
                self._stats["waf.delete"] += 1
                return SimResponse(200, {"id": certificate_id, "name": certificate.name})
        raise _error(405, WAF_BAD_BODY, f"{method} is not allowed here")

    def _waf_view(self, region: str, certificate: _WafCertificate, *, with_content: bool = False) -> dict[str, Any]:
        now = self._clock.now()
        not_after = certificate.material.not_after
        exp_status = 1 if not_after <= now else (2 if not_after - now < timedelta(days=30) else 0)
        view: dict[str, Any] = {
            "id": certificate.id,
            "name": certificate.name,
            "expire_time": int(not_after.timestamp() * 1000),
            "exp_status": exp_status,
            "timestamp": certificate.timestamp,
            "bind_host": [
                {"id": h.id, "hostname": h.hostname, "waf_type": h.mode}
                for h in self._region(region).waf_hosts.values()
                if h.certificate_id == certificate.id
            ],
        }
        if with_content:
            view["content"] = certificate.material.content
        return view

    # ListCertificates (https://support.huaweicloud.com/api-waf/ListCertificates.html): page, pagesize
    # 1-100, fuzzy name, host (true: only certificates applied to a domain, false: only those that are
    # not; absent: all), exp_status (0 valid, 1 expired, 2 expires within a month). query_scm asks for
    # certificates that come from CCM as well: the simulator holds none, so it changes nothing.
    _WAF_LIST_FILTERS = frozenset(
        {"page", "pagesize", "name", "host", "exp_status", "query_scm", "enterprise_project_id"}
    )

    def _waf_list(self, region: str, st: _RegionState, query: list[tuple[str, str]]) -> SimResponse:
        unknown = sorted({key for key, _ in query} - self._WAF_LIST_FILTERS)
        if unknown:
            raise _error(400, NOT_SIMULATED, f"query parameters {unknown} are not simulated")
        params = dict(query)
        try:
            page = int(params.get("page", "1"))
            pagesize = int(params.get("pagesize", "10"))
        except ValueError as exc:
            raise _error(400, WAF_BAD_PAGE, "pageOrPageSize.illegal") from exc
        if page < 1 or not 1 <= pagesize <= 100:
            raise _error(400, WAF_BAD_PAGE, "pageOrPageSize.illegal")
        name = params.get("name")
        views = [self._waf_view(region, c) for c in st.waf_certificates.values() if not name or name in c.name]
        if "host" in params:
            if params["host"] not in ("true", "false"):
                raise _error(400, WAF_BAD_BODY, "host must be true or false")
            views = [v for v in views if bool(v["bind_host"]) == (params["host"] == "true")]
        if "exp_status" in params:
            if params["exp_status"] not in ("0", "1", "2"):
                raise _error(400, WAF_BAD_BODY, "exp_status must be 0, 1 or 2")
            views = [v for v in views if str(v["exp_status"]) == params["exp_status"]]
        views.sort(key=lambda v: (-v["timestamp"], v["id"]))
        chosen = views[(page - 1) * pagesize : page * pagesize]
        return SimResponse(200, {"total": len(views), "items": chosen})

    def _waf_fields(self, payload: Any) -> tuple[str, _Material]:
        if not isinstance(payload, dict):
            raise _error(400, WAF_BAD_BODY, "request.body.illegal")
        name = payload.get("name")
        # CreateCertificate / UpdateCertificate: "digits, letters, -, _ and ., at most 256 characters"
        # (https://support.huaweicloud.com/api-waf/CreateCertificate.html).
        if not isinstance(name, str) or not WAF_NAME_RE.match(name):
            raise _error(400, WAF_BAD_NAME, "name.illegal")
        material = self._material(
            payload.get("content"), payload.get("key"), illegal=WAF_ILLEGAL_CERTIFICATE, expired=WAF_EXPIRED_CERTIFICATE
        )
        return name, material

    def _waf_create(self, region: str, st: _RegionState, payload: Any) -> SimResponse:
        name, material = self._waf_fields(payload)
        if any(c.name == name for c in st.waf_certificates.values()):
            raise _error(400, WAF_DUPLICATE_NAME, "name.duplicate")
        certificate = _WafCertificate(_new_id(), name, material, int(self._clock.now().timestamp() * 1000))
        st.waf_certificates[certificate.id] = certificate
        self._stats["waf.create"] += 1
        return SimResponse(200, self._waf_view(region, certificate))

    def _waf_update(self, region: str, st: _RegionState, certificate: _WafCertificate, payload: Any) -> SimResponse:
        # UpdateCertificate (https://support.huaweicloud.com/api-waf/UpdateCertificate.html): name is
        # required; content and key replace the certificate in place, for every domain it is applied to.
        if isinstance(payload, dict) and "content" not in payload and "key" not in payload:
            payload = {**payload, "content": certificate.material.content, "key": certificate.material.key}
        name, material = self._waf_fields(payload)
        if any(c.name == name and c.id != certificate.id for c in st.waf_certificates.values()):
            raise _error(400, WAF_DUPLICATE_NAME, "name.duplicate")
        certificate.name, certificate.material = name, material
        self._stats["waf.update"] += 1
        return SimResponse(200, self._waf_view(region, certificate))

    def _waf_apply(self, region: str, st: _RegionState, certificate_id: str, payload: Any) -> SimResponse:
        certificate = st.waf_certificates.get(certificate_id)
        if certificate is None:
            raise _error(404, WAF_NOT_FOUND, "certificate not found")
        if not isinstance(payload, dict):
            raise _error(400, WAF_BAD_BODY, "request.body.illegal")
        cloud = payload.get("cloud_host_ids") or []
        premium = payload.get("premium_host_ids") or []
        if not isinstance(cloud, list) or not isinstance(premium, list) or not (cloud or premium):
            raise _error(400, WAF_BAD_BODY, "cloud_host_ids or premium_host_ids is required")
        # ApplyCertificateToHost (https://support.huaweicloud.com/api-waf/ApplyCertificateToHost.html):
        # cloud_host_ids are cloud-mode protected domains, premium_host_ids dedicated-mode ones.
        for host_ids, mode in ((cloud, "cloud"), (premium, "premium")):
            for host_id in host_ids:
                host = st.waf_hosts.get(host_id) if isinstance(host_id, str) else None
                if host is None or host.mode != mode:
                    raise _error(400, WAF_BAD_ID, f"id.illegal: no {mode} protected domain {host_id}")
        for host_id in [*cloud, *premium]:
            st.waf_hosts[host_id].certificate_id = certificate_id
        self._stats["waf.apply"] += 1
        view = self._waf_view(region, certificate)
        return SimResponse(200, {k: view[k] for k in ("id", "name", "timestamp", "expire_time", "bind_host")})

    # -- ELB -------------------------------------------------------------------------------------
    _ELB_ROUTE = re.compile(r"^/v3/(?P<project>[^/]+)/elb/(?P<kind>certificates|listeners)(?:/(?P<id>[^/]+))?/?$")

    def _elb(self, method: str, region: str, rest: str, query: list[tuple[str, str]], payload: Any) -> SimResponse:
        match = self._ELB_ROUTE.match(rest)
        if match is None:
            raise _error(404, APIGW_NOT_FOUND, "The API does not exist or has not been published")
        st = self._region(region)
        item_id = match["id"]
        if match["kind"] == "listeners":
            if item_id is None:
                if method == "GET":
                    return self._elb_list_listeners(region, st, query)
                raise _error(404, APIGW_NOT_FOUND, "creating listeners is not simulated (POST /_sim/elb/...)")
            listener = st.listeners.get(item_id)
            if listener is None:
                raise _error(404, ELB_NOT_FOUND, f"listener {item_id} not found")
            if method == "GET":
                return SimResponse(200, {"listener": self._listener_view(region, listener), "request_id": _new_id()})
            if method == "PUT":
                return self._elb_update_listener(region, st, listener, payload)
        elif item_id is None:
            if method == "GET":
                return self._elb_list(st, query)
            if method == "POST":
                return self._elb_create(st, payload)
        else:
            certificate = st.elb_certificates.get(item_id)
            if certificate is None:
                raise _error(404, ELB_NOT_FOUND, f"certificate {item_id} not found")
            if method == "GET":
                return SimResponse(200, {"certificate": self._elb_view(certificate), "request_id": _new_id()})
            if method == "PUT":
                return self._elb_update(st, certificate, payload)
            if method == "DELETE":
                in_use = [
                    lst.id
                    for lst in st.listeners.values()
                    if item_id in (lst.default_tls_container_ref, lst.client_ca_tls_container_ref)
                    or item_id in lst.sni_container_refs
                ]
                if in_use:
                    raise _error(409, ELB_IN_USE, f"certificate is used by listeners {in_use}")
                del st.elb_certificates[item_id]
                self._stats["elb.delete"] += 1
                return SimResponse(204, None)
        raise _error(405, ELB_INVALID, f"{method} is not allowed here")

    def _elb_view(self, certificate: _ElbCertificate, *, with_pem: bool = True) -> dict[str, Any]:
        material = certificate.material
        view: dict[str, Any] = {
            "id": certificate.id,
            "name": certificate.name,
            "description": certificate.description,
            "type": certificate.type,
            "domain": certificate.domain,
            "admin_state_up": True,
            "created_at": certificate.created_at,
            "updated_at": certificate.updated_at,
            "expire_time": _iso(material.not_after) if material else None,
            "fingerprint": material.fingerprint if material else "",
            "common_name": material.common_name if material else "",
            "subject_alternative_names": material.sans if material else [],
            "source": "",
        }
        if with_pem and material is not None:
            view["certificate"] = material.content
        return view

    def _listener_view(self, region: str, listener: _Listener) -> dict[str, Any]:
        return {
            "id": listener.id,
            "name": listener.name,
            "protocol": listener.protocol,
            "project_id": self.project_id(region),
            "default_tls_container_ref": listener.default_tls_container_ref,
            "client_ca_tls_container_ref": listener.client_ca_tls_container_ref,
            "sni_container_refs": list(listener.sni_container_refs),
        }

    @staticmethod
    def _elb_list_query(
        query: list[tuple[str, str]], filter_names: frozenset[str]
    ) -> tuple[dict[str, set[str]], dict[str, str], int]:
        """An ELB v3 list request's query: its multi-valued filters, its parameters and its limit
        (0-2000, default 2000); a parameter the simulator does not implement is refused."""
        unknown = sorted({key for key, _ in query} - filter_names - {"limit", "marker"})
        if unknown:
            raise _error(400, NOT_SIMULATED, f"query parameters {unknown} are not simulated")
        filters: dict[str, set[str]] = {}
        for key, value in query:
            if key in filter_names:
                filters.setdefault(key, set()).add(value)
        params = dict(query)
        try:
            limit = int(params.get("limit", "2000"))
        except ValueError as exc:
            raise _error(400, ELB_INVALID, "limit must be an integer") from exc
        if not 0 <= limit <= 2000:
            raise _error(400, ELB_INVALID, "limit must be within 0-2000")
        return filters, params, limit

    # ListCertificates (https://support.huaweicloud.com/api-elb/ListCertificates.html): every filter
    # takes several values (name=a&name=b); limit 0-2000 (default 2000), marker.
    _ELB_LIST_FILTERS = frozenset(
        {"id", "name", "description", "domain", "type", "common_name", "fingerprint", "admin_state_up",
         "enterprise_project_id"}
    )  # fmt: skip

    def _elb_list(self, st: _RegionState, query: list[tuple[str, str]]) -> SimResponse:
        filters, params, limit = self._elb_list_query(query, self._ELB_LIST_FILTERS)

        def matches(view: dict[str, Any]) -> bool:
            return all(
                (str(view.get(key)).lower() if key == "admin_state_up" else str(view.get(key))) in wanted
                for key, wanted in filters.items()
            )

        items = [c for c in st.elb_certificates.values() if matches(self._elb_view(c, with_pem=False))]
        marker = params.get("marker")
        if marker:
            ids = [c.id for c in items]
            if marker not in st.elb_certificates:
                raise _error(400, ELB_INVALID, "marker is not a certificate id")
            items = items[ids.index(marker) + 1 :] if marker in ids else []
        page = items[:limit]
        more = len(items) > len(page)
        page_info = {
            "previous_marker": page[0].id if page else None,
            "next_marker": page[-1].id if page and more else None,
            "current_count": len(page),
        }
        certificates = [self._elb_view(c) for c in page]
        return SimResponse(200, {"certificates": certificates, "page_info": page_info, "request_id": _new_id()})

    # ListListeners (https://support.huaweicloud.com/api-elb/ListListeners.html): limit 0-2000, marker,
    # multi-valued filters; there is no filter on sni_container_refs.
    _LISTENER_FILTERS = frozenset({"id", "protocol", "default_tls_container_ref", "client_ca_tls_container_ref"})

    def _elb_list_listeners(self, region: str, st: _RegionState, query: list[tuple[str, str]]) -> SimResponse:
        filters, params, limit = self._elb_list_query(query, self._LISTENER_FILTERS)
        views = [self._listener_view(region, listener) for listener in st.listeners.values()]
        views = [v for v in views if all(str(v.get(key)) in wanted for key, wanted in filters.items())]
        marker = params.get("marker")
        if marker:
            ids = [v["id"] for v in views]
            if marker not in ids:
                raise _error(400, ELB_INVALID, "marker is not a listener id")
            views = views[ids.index(marker) + 1 :]
        page = views[:limit]
        page_info = {
            "previous_marker": page[0]["id"] if page else None,
            "next_marker": page[-1]["id"] if page and len(views) > len(page) else None,
            "current_count": len(page),
        }
        return SimResponse(200, {"listeners": page, "page_info": page_info, "request_id": _new_id()})

    def _elb_option(self, payload: Any) -> dict[str, Any]:
        option = payload.get("certificate") if isinstance(payload, dict) else None
        if not isinstance(option, dict):
            raise _error(400, ELB_INVALID, 'body must be {"certificate": {...}}')
        return option

    @staticmethod
    def _elb_check_name_domain(option: dict[str, Any]) -> None:
        # CreateCertificate / UpdateCertificate (https://support.huaweicloud.com/api-elb/CreateCertificate.html):
        # name and description 0-255 characters, no character set; domain at most 10,000 characters,
        # at most 100 comma-separated names, each label 1-63 of letters, digits and -, a leading *. allowed.
        for attribute in ("name", "description"):
            value = option.get(attribute, "")
            if not isinstance(value, str) or len(value) > 255:
                raise _error(400, ELB_INVALID, f"{attribute} must be a string of at most 255 characters")
        domain = option.get("domain", "")
        if not isinstance(domain, str) or len(domain) > 10_000:
            raise _error(400, ELB_INVALID, "invalid domain")
        names = [d for d in domain.split(",") if d] if domain else []
        if len(names) > 100 or any(not DOMAIN_RE.match(d) for d in names):
            raise _error(400, ELB_INVALID, "invalid domain")

    def _elb_material(self, option: dict[str, Any], cert_type: str, current: _Material | None = None) -> _Material:
        # certificate: PEM, chain of at most 11, at most 65,536 characters; private_key required for
        # server certificates, unused for client (CA) ones. The reference documents no refusal of an
        # expired certificate, so none is made here.
        return self._material(
            option.get("certificate", current.content if current else None),
            option.get("private_key", current.key if current else None),
            illegal=ELB_INVALID,
            expired=None,
            key_required=cert_type == "server",
            max_certificate_chars=ELB_MAX_CERTIFICATE_CHARS,
            max_key_chars=ELB_MAX_KEY_CHARS,
        )

    def _elb_create(self, st: _RegionState, payload: Any) -> SimResponse:
        option = self._elb_option(payload)
        self._elb_check_name_domain(option)
        cert_type = option.get("type", "server")
        if cert_type == "server_sm":
            raise _error(400, NOT_SIMULATED, "SM dual certificates are not simulated")
        if cert_type not in ("server", "client"):
            raise _error(400, ELB_INVALID, "type must be server or client")
        material = self._elb_material(option, cert_type)
        now = _iso(self._clock.now())
        certificate = _ElbCertificate(
            id=_new_id(),
            name=option.get("name", ""),
            description=option.get("description", ""),
            type=cert_type,
            domain=option.get("domain", "") if cert_type == "server" else "",
            material=material,
            created_at=now,
            updated_at=now,
        )
        st.elb_certificates[certificate.id] = certificate
        self._stats["elb.create"] += 1
        return SimResponse(201, {"certificate": self._elb_view(certificate), "request_id": _new_id()})

    def _elb_update(self, st: _RegionState, certificate: _ElbCertificate, payload: Any) -> SimResponse:
        # UpdateCertificate (https://support.huaweicloud.com/api-elb/UpdateCertificate.html): the new
        # content applies at once to every listener that uses the certificate.
        option = self._elb_option(payload)
        self._elb_check_name_domain(option)
        if "certificate" in option or "private_key" in option:
            certificate.material = self._elb_material(option, certificate.type, certificate.material)
        if "domain" in option and certificate.type == "server":
            self._check_sni_domains_after(st, certificate, option["domain"])
            certificate.domain = option["domain"]
        for attribute in ("name", "description"):
            if attribute in option:
                setattr(certificate, attribute, option[attribute])
        certificate.updated_at = _iso(self._clock.now())
        self._stats["elb.update"] += 1
        return SimResponse(200, {"certificate": self._elb_view(certificate), "request_id": _new_id()})

    def _check_sni_domains_after(self, st: _RegionState, certificate: _ElbCertificate, domain: str) -> None:
        for listener in st.listeners.values():
            if certificate.id in listener.sni_container_refs:
                others = [st.elb_certificates[ref] for ref in listener.sni_container_refs if ref != certificate.id]
                self._check_sni([*others, replace(certificate, domain=domain)])

    @staticmethod
    def _check_sni(certificates: list[_ElbCertificate]) -> None:
        # CreateListener / UpdateListener sni_container_refs (https://support.huaweicloud.com/api-elb/UpdateListener.html):
        # 0-50 server certificates that carry a domain; no domain may repeat across them; at most 200
        # domains in all.
        if len(certificates) > MAX_SNI_CERTIFICATES:
            raise _error(400, ELB_INVALID, f"at most {MAX_SNI_CERTIFICATES} SNI certificates")
        seen: dict[str, str] = {}
        for certificate in certificates:
            if certificate.type != "server":
                raise _error(400, ELB_INVALID, f"SNI certificate {certificate.id} is not a server certificate")
            domains = [d.lower() for d in certificate.domain.split(",") if d]
            if not domains:
                raise _error(400, ELB_INVALID, f"SNI certificate {certificate.id} has no domain")
            for domain in domains:
                if domain in seen:
                    raise _error(
                        400, ELB_INVALID, f"domain {domain} is in SNI certificates {seen[domain]} and {certificate.id}"
                    )
                seen[domain] = certificate.id
        if len(seen) > MAX_SNI_DOMAINS:
            raise _error(400, ELB_INVALID, f"SNI certificates hold more than {MAX_SNI_DOMAINS} domains")

    def _elb_update_listener(self, region: str, st: _RegionState, listener: _Listener, payload: Any) -> SimResponse:
        option = payload.get("listener") if isinstance(payload, dict) else None
        if not isinstance(option, dict):
            raise _error(400, ELB_INVALID, 'body must be {"listener": {...}}')
        default = option.get("default_tls_container_ref", listener.default_tls_container_ref)
        sni = option.get("sni_container_refs", listener.sni_container_refs)
        client_ca = option.get("client_ca_tls_container_ref", listener.client_ca_tls_container_ref)
        if not isinstance(sni, list) or not all(isinstance(ref, str) for ref in sni):
            raise _error(400, ELB_INVALID, "sni_container_refs must be a list of certificate ids")
        refs = [ref for ref in [default, client_ca, *sni] if ref]
        if refs and listener.protocol not in ("HTTPS", "TLS", "QUIC"):
            raise _error(400, ELB_INVALID, f"a {listener.protocol} listener takes no certificate")

        def certificate_of(ref: Any, wanted: str) -> _ElbCertificate:
            certificate = st.elb_certificates.get(ref) if isinstance(ref, str) else None
            if certificate is None or certificate.type != wanted:
                raise _error(400, ELB_INVALID, f"{wanted} certificate {ref} not found")
            return certificate

        # default_tls_container_ref: a server certificate; client_ca_tls_container_ref: a client (CA) one.
        if default:
            certificate_of(default, "server")
        if client_ca:
            certificate_of(client_ca, "client")
        unique = list(dict.fromkeys(sni))
        self._check_sni([certificate_of(ref, "server") for ref in unique])
        listener.default_tls_container_ref = default
        listener.client_ca_tls_container_ref = client_ca
        listener.sni_container_refs = unique
        self._stats["elb.listener_update"] += 1
        return SimResponse(200, {"listener": self._listener_view(region, listener), "request_id": _new_id()})

    # -- admin -----------------------------------------------------------------------------------
    _ADMIN_RESOURCE = re.compile(r"^/_sim/(?P<service>waf|elb)/(?P<region>[a-z0-9-]+)/(?P<kind>hosts|listeners)$")
    _ADMIN_CDN = "/_sim/cdn/domains"

    def _admin(self, method: str, path: str, body: bytes) -> SimResponse:
        try:
            payload = json.loads(body) if body else {}
        except ValueError as exc:
            raise _error(400, "SIM.BAD_JSON", "body is not JSON") from exc
        if not isinstance(payload, dict):
            raise _error(400, "SIM.BAD_JSON", "body must be a JSON object")
        if path == "/_sim/state" and method == "GET":
            return SimResponse(200, self.state())
        if path == "/_sim/reset" and method == "POST":
            self.reset()
            return SimResponse(200, {"reset": True})
        if path == "/_sim/faults" and method == "POST":
            try:
                config = self.set_faults(
                    failure_rate=float(payload.get("failure_rate", 0.0)),
                    kinds=tuple(payload.get("kinds", ("5xx", "throttle", "timeout"))),
                    latency_ms=int(payload.get("latency_ms", 0)),
                    seed=payload.get("seed"),
                )
            except (TypeError, ValueError) as exc:
                raise _error(400, "SIM.BAD_FAULTS", str(exc)) from exc
            return SimResponse(200, {"faults": asdict(config)})
        if path == "/_sim/services" and method == "POST":
            service, region = payload.get("service"), payload.get("region")
            if service not in ("waf", "elb") or not isinstance(region, str):
                raise _error(400, "SIM.BAD_SERVICE", "service (waf|elb) and region are required")
            self.set_service_purchased(service, region, bool(payload.get("purchased", True)))
            return SimResponse(200, {"not_purchased": self.state()["not_purchased"]})
        if path == self._ADMIN_CDN and method == "POST":
            name = payload.get("domain_name")
            if not isinstance(name, str) or not DOMAIN_RE.match(name):
                raise _error(400, "SIM.BAD_DOMAIN", "domain_name is required")
            return SimResponse(201, {"id": self.add_cdn_domain(name)})
        match = self._ADMIN_RESOURCE.match(path)
        if match and method == "POST":
            region = match["region"]
            if match["service"] == "waf" and match["kind"] == "hosts":
                hostname = payload.get("hostname")
                if not isinstance(hostname, str) or not hostname:
                    raise _error(400, "SIM.BAD_HOST", "hostname is required")
                mode = "premium" if payload.get("premium") else "cloud"
                return SimResponse(201, {"id": self.add_waf_host(region, hostname, payload.get("id"), mode)})
            if match["service"] == "elb" and match["kind"] == "listeners":
                protocol = str(payload.get("protocol", "HTTPS"))
                return SimResponse(201, {"id": self.add_elb_listener(region, protocol, payload.get("id"))})
        raise _error(404, "SIM.NOT_FOUND", f"no admin route {method} {path}")


class _SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    simulator: HuaweiCloudSimulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # an idle keep-alive connection ends after this many seconds
    wbufsize = 1 << 16  # status, headers and body leave in one write (no delayed-ACK stalls)
    disable_nagle_algorithm = True
    server: _SimulatorHTTPServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        response = self.server.simulator.handle(self.command, self.path, list(self.headers.items()), body)
        if response.drop:
            self.close_connection = True
            return
        data = b"" if response.body is None else json.dumps(response.body).encode("utf-8")
        self.send_response(response.status)
        self.send_header("X-Request-Id", _new_id())
        if data:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return
