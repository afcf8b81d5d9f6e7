"""What the simulated services share: the account's state (regions, their resources, CDN domains), the
shapes of requests and answers, errors, and certificate parsing.

The services (``iam``, ``waf``, ``elb``, ``cdn``) read and change a ``SimState`` while the server holds
its lock; the server (``server``) routes requests to them."""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

from certpush.clock import SystemClock
from certpush.ports import Clock

DOMAIN_ID = "0" * 31 + "1"
DOMAIN_NAME = "certpush-simulated"
DEFAULT_ENTERPRISE_PROJECT = "0"
IAM_URL = "https://iam.myhuaweicloud.com"

DOMAIN_RE = re.compile(
    r"^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
MAX_CHAIN = 11
# The certificate manager's push page: WAF, ELB and CDN take PKCS#1 or SEC1 private keys, i.e. RSA or
# EC (https://support.huaweicloud.com/intl/en-us/usermanual-ccm/ccm_01_0141.html); an Ed25519, Ed448
# or DSA key has neither form.
KEY_TYPES = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)

# API gateway codes (API Gateway "Error Codes", https://support.huaweicloud.com/en-us/devg-apisign/api-sign-errorcode.html):
# 0301 incorrect IAM authentication information (a wrong signature or key; "If an AK/SK pair fails to be
# authenticated more than five times in a row, the AK/SK pair is locked for 5 minutes",
# https://support.huaweicloud.com/intl/en-us/ocr_faq/ocr_01_0063.html), 0303 X-Sdk-Date more than 15
# minutes off the gateway's clock, 0101 no such API, 0308 flow control.
APIGW_AUTH = "APIGW.0301"
APIGW_NOT_FOUND = "APIGW.0101"
APIGW_THROTTLED = "APIGW.0308"
# A parameter or field the API documents but the simulator does not implement: refused, never ignored.
# One the API does not document is refused with the service's own error for an invalid request.
NOT_SIMULATED = "SIM.NOT_SIMULATED"


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
    headers: dict[str, str] = field(default_factory=dict)


class SimError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class DropConnection(Exception):
    """The request is (or will be) carried out, but its connection closes unanswered."""


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> SimError:
    return SimError(status, code, message, headers)


def not_found() -> SimError:
    return error(404, APIGW_NOT_FOUND, "The API does not exist or has not been published")


def new_id() -> str:
    return uuid.uuid4().hex


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def covers(name: str, domain: str) -> bool:
    name, domain = name.lower(), domain.lower()
    if name.startswith("*."):
        return domain.count(".") == name.count(".") and domain.endswith(name[1:])
    return name == domain


def refuse_unknown_query(
    query: Iterable[tuple[str, str]],
    documented: Iterable[str],
    *,
    code: str,
    simulated: Iterable[str] | None = None,
) -> None:
    """A query parameter the API does not document is refused with the service's ``code``; one it
    documents but the simulator does not implement (not in ``simulated``, default: all) with
    ``SIM.NOT_SIMULATED``. Never ignored."""
    names = {key for key, _ in query}
    unknown = sorted(names - set(documented))
    if unknown:
        raise error(400, code, f"unknown query parameters {unknown}")
    if simulated is not None:
        skipped = sorted(names - set(simulated))
        if skipped:
            raise error(400, NOT_SIMULATED, f"query parameters {skipped} are not simulated")


def refuse_unknown_fields(
    body: dict[str, Any],
    documented: Iterable[str],
    *,
    code: str,
    simulated: Iterable[str] | None = None,
    where: str = "body",
) -> None:
    """The same for the fields of a request body (or of an object in it)."""
    names = set(body)
    unknown = sorted(names - set(documented))
    if unknown:
        raise error(400, code, f"unknown {where} fields {unknown}")
    if simulated is not None:
        skipped = sorted(names - set(simulated))
        if skipped:
            raise error(400, NOT_SIMULATED, f"{where} fields {skipped} are not simulated")


@dataclass
class Material:
    content: str
    key: str
    common_name: str
    sans: list[str]
    not_after: datetime
    fingerprint: str
    key_format: str = ""  # the PEM form the key came in (PKCS#1, SEC1, PKCS#8): the state shows it


# the PEM label of each form (built from parts: no committed file carries a key header line)
_KEY_FORMATS = {
    f"-----BEGIN {label}PRIVATE KEY": form for label, form in (("RSA ", "PKCS#1"), ("EC ", "SEC1"), ("", "PKCS#8"))
}


def key_format(key_pem: str) -> str:
    return next((form for header, form in _KEY_FORMATS.items() if header in key_pem), "")


def parse_material(
    content: Any,
    key: Any,
    *,
    now: datetime,
    illegal: str,
    expired: str | None,
    key_required: bool = True,
    max_certificate_chars: int | None = None,
    max_key_chars: int | None = None,
) -> Material:
    """``expired`` None: an expired certificate is accepted; ``key_required`` False: a CA certificate
    (a key, when given anyway, must still be PEM)."""
    if not isinstance(content, str) or not content.strip():
        raise error(400, illegal, "certificate content is required")
    if key is None and not key_required:
        key = ""
    if not isinstance(key, str) or (key_required and not key.strip()):
        raise error(400, illegal, "private key is required")
    if (max_certificate_chars is not None and len(content) > max_certificate_chars) or (
        max_key_chars is not None and len(key) > max_key_chars
    ):
        raise error(400, illegal, "certificate or key is too long")
    try:
        chain = x509.load_pem_x509_certificates(content.encode("ascii"))
    except ValueError as exc:
        raise error(400, illegal, "certificate is not valid PEM") from exc
    if len(chain) > MAX_CHAIN:
        raise error(400, illegal, "certificate chain is longer than 11")
    leaf = chain[0]
    if key.strip():
        try:
            private_key = load_pem_private_key(key.encode("ascii"), password=None)
        except (ValueError, TypeError) as exc:
            raise error(400, illegal, "private key is not valid unencrypted PEM") from exc
        if key_required and not isinstance(private_key, KEY_TYPES):
            raise error(400, illegal, "the private key is not an RSA or EC key")
        spki = Encoding.DER, PublicFormat.SubjectPublicKeyInfo
        if key_required and leaf.public_key().public_bytes(*spki) != private_key.public_key().public_bytes(*spki):
            raise error(400, illegal, "the private key does not match the certificate")
    if expired is not None and leaf.not_valid_after_utc <= now:
        raise error(400, expired, "the certificate has expired")
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = [str(name) for name in san.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        sans = []
    cn_attributes = leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    common_name = str(cn_attributes[0].value) if cn_attributes else ""
    sha1 = hashlib.sha1(leaf.public_bytes(Encoding.DER), usedforsecurity=False).hexdigest().upper()
    fingerprint = "SHA1 Fingerprint=" + ":".join(sha1[i : i + 2] for i in range(0, len(sha1), 2))
    return Material(content, key, common_name, sans, leaf.not_valid_after_utc, fingerprint, key_format(key))


@dataclass
class WafCertificate:
    id: str
    name: str
    material: Material
    timestamp: int
    enterprise_project_id: str = DEFAULT_ENTERPRISE_PROJECT


@dataclass
class WafHost:
    id: str
    hostname: str
    mode: str = "cloud"
    certificate_id: str | None = None


@dataclass
class ElbCertificate:
    id: str
    name: str
    description: str
    type: str
    domain: str
    material: Material | None
    created_at: str
    updated_at: str
    enterprise_project_id: str = DEFAULT_ENTERPRISE_PROJECT
    protection_status: str = "nonProtection"
    protection_reason: str | None = None


@dataclass
class Listener:
    id: str
    protocol: str = "HTTPS"
    name: str = ""
    default_tls_container_ref: str | None = None
    client_ca_tls_container_ref: str | None = None
    sni_container_refs: list[str] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""
    # what UpdateListener may change besides certificates (kept and answered, never ignored)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class CdnDomain:
    id: str
    domain_name: str
    created: int
    business_type: str = "web"
    service_area: str = "mainland_china"
    domain_status: str = "online"
    enterprise_project_id: str = DEFAULT_ENTERPRISE_PROJECT
    https: dict[str, Any] | None = None  # the HTTPS configuration, private key included
    force_redirect: dict[str, Any] = field(
        default_factory=lambda: {"status": "off", "type": None, "redirect_code": None}
    )


@dataclass
class RegionState:
    waf_certificates: dict[str, WafCertificate] = field(default_factory=dict)
    waf_hosts: dict[str, WafHost] = field(default_factory=dict)
    elb_certificates: dict[str, ElbCertificate] = field(default_factory=dict)
    listeners: dict[str, Listener] = field(default_factory=dict)


def project_id(region: str) -> str:
    """The account's project of a region (IAM "Querying Project Information":
    https://support.huaweicloud.com/api-iam/iam_06_0001.html): every region has its own."""
    return hashlib.sha256(f"project:{region}".encode()).hexdigest()[:32]


@dataclass
class LateCreates:
    """The next ``count`` creates of ``services`` are carried out ``delay_seconds`` after their request,
    whose connection closes unanswered at once: the client sees a timeout while its create is still
    on its way (a fault the cloud has: API Gateway answers or times out before the service finishes)."""

    count: int = 0
    delay_seconds: float = 0.0
    services: frozenset[str] = frozenset({"waf", "elb"})


class SimState:
    """The simulated account. Every method expects the caller to hold ``lock``."""

    def __init__(self, clock: Clock | None, regions: Iterable[str]) -> None:
        self.clock: Clock = clock or SystemClock()
        self.lock = threading.RLock()
        self.project_regions = {project_id(region): region for region in sorted(set(regions))}
        self.regions: dict[str, RegionState] = {}
        self.cdn_domains: dict[str, CdnDomain] = {}
        self.stats: Counter[str] = Counter()
        self.enterprise_projects: set[str] = {DEFAULT_ENTERPRISE_PROJECT}
        # WAF documents no refusal of a certificate name that is taken (CreateCertificate): two
        # certificates may share one. The switch makes it refuse with WAF.00011016 name.duplicate.
        self.waf_refuses_duplicate_names = False
        self.late_creates = LateCreates()
        self._timers: list[threading.Timer] = []

    def now(self) -> datetime:
        return self.clock.now()

    def now_ms(self) -> int:
        return int(self.now().timestamp() * 1000)

    def region(self, region: str) -> RegionState:
        return self.regions.setdefault(region, RegionState())

    def count(self, name: str) -> None:
        self.stats[name] += 1

    def later(self, delay_seconds: float, action: Callable[[], object]) -> None:
        """Runs ``action`` (holding the lock) ``delay_seconds`` from now, unless ``clear`` comes first."""

        def run() -> None:
            with self.lock:
                if timer in self._timers:
                    self._timers.remove(timer)
                    action()

        timer = threading.Timer(delay_seconds, run)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def take_late_create(self, service: str) -> float | None:
        """The delay of this create when it is to land late, else None."""
        late = self.late_creates
        if late.count <= 0 or service not in late.services:
            return None
        late.count -= 1
        return late.delay_seconds

    def pending_late_creates(self) -> int:
        return len(self._timers)

    def check_enterprise_project(self, value: Any, code: str, *, all_values: Iterable[str] = ()) -> str:
        """A known enterprise project id (or one of ``all_values``, e.g. WAF's ``all_granted_eps``)."""
        if not isinstance(value, str) or (value not in self.enterprise_projects and value not in set(all_values)):
            raise error(400, code, f"enterprise project {value!r} does not exist")
        return value

    def cancel_later(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    def clear(self) -> None:
        self.cancel_later()
        self.regions.clear()
        self.cdn_domains.clear()
        self.stats.clear()
        self.enterprise_projects = {DEFAULT_ENTERPRISE_PROJECT}
        self.waf_refuses_duplicate_names = False
        self.late_creates = LateCreates()
