"""The simulator's HTTP side: the server, routing to the services, the signature check, injected faults
and the admin calls (``/_sim/*``). ``HuaweiCloudSimulator`` is the public API (see ``simulator``)."""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from certpush.ports import Clock
from certpush.providers.huaweicloud.quotas import QUOTAS
from certpush.providers.huaweicloud.regions import ENDPOINTS
from certpush_emulators.huaweicloud.cdn import CdnService
from certpush_emulators.huaweicloud.elb import ELB_INVALID, ElbService
from certpush_emulators.huaweicloud.iam import IamService
from certpush_emulators.huaweicloud.signature import MAX_CLOCK_SKEW, SignatureVerificationError, verify
from certpush_emulators.huaweicloud.state import (
    APIGW_AUTH,
    APIGW_THROTTLED,
    DEFAULT_ENTERPRISE_PROJECT,
    DOMAIN_RE,
    DropConnection,
    LateCreates,
    RecordedRequest,
    SimError,
    SimResponse,
    SimState,
    error,
    new_id,
    not_found,
    project_id,
)
from certpush_emulators.huaweicloud.waf import WAF_BAD_BODY, WAF_NOT_SUBSCRIBED, WAF_PROJECT_MISMATCH, WafService

DEFAULT_CREDENTIALS: Mapping[str, str] = {"certpush-local-ak": "certpush-local-sk"}
FAULT_KINDS = frozenset({"5xx", "5xx_after", "throttle", "timeout"})
# "If an AK/SK pair fails to be authenticated more than five times in a row, [it] is locked for 5 minutes.
# All AK/SK-based authentication requests will be rejected until the 5 minutes is up"
# (https://support.huaweicloud.com/intl/en-us/ocr_faq/ocr_01_0063.html, API Gateway's rule for every service).
LOCK_AFTER_FAILURES = 5
LOCK_DURATION = timedelta(minutes=5)
# Documented flow control, per account: calls per window (seconds). CDN: 200 calls a minute (CDN API
# reference, constraints: recorded in the team's reference page). WAF, ELB and IAM document none for
# these APIs, so none is imposed by default; ``DECLARED_FLOW_LIMITS`` (``flow_limits=``) enforces the
# figures certpush declares for them (certpush/providers/huaweicloud/quotas.py): a test of the pacing
# turns them on. Calls are counted per service and region (the gateway of each region), CDN's globally.
FLOW_LIMITS: Mapping[str, tuple[int, float]] = {"cdn": (200, 60.0)}
DECLARED_FLOW_LIMITS: Mapping[str, tuple[int, float]] = {
    service: (quota.calls, quota.per_seconds)
    for quotas in QUOTAS.values()
    for group, quota in quotas.items()
    for service in [group.split(":", 1)[1]]
}
_ACCESS_KEY_RE = re.compile(r"Access=(?P<access>[^,\s]+)")


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
        flow_control: bool = True,
        flow_limits: Mapping[str, tuple[int, float]] | None = None,
    ) -> None:
        """``flow_control`` False: the documented per-service limits (``FLOW_LIMITS``) are not enforced,
        for tests that make many calls and do not test throttling. ``flow_limits``: other limits (calls,
        window seconds) by service instead, e.g. ``DECLARED_FLOW_LIMITS``."""
        self._host = host
        known = regions if regions is not None else set().union(*map(set, ENDPOINTS.values()))
        self._state = SimState(clock, known)
        self._lock = self._state.lock
        self._requests: list[RecordedRequest] = []
        self._port = port
        self._credentials = dict(credentials if credentials is not None else DEFAULT_CREDENTIALS)
        self._max_skew = max_clock_skew
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._faults = faults or FaultConfig()
        self._rng = random.Random(self._faults.seed)  # noqa: S311 - fault injection, not security
        self._not_purchased: set[tuple[str, str]] = set()
        self._flow_control = flow_control
        self._flow_limits: dict[str, tuple[int, float]] = dict(FLOW_LIMITS if flow_limits is None else flow_limits)
        self._calls: dict[tuple[str, str | None], deque[datetime]] = {}
        self.busiest_window: dict[tuple[str, str | None], int] = {}
        """The most calls each (service, region) took within one of its windows (throttled ones excluded)."""
        self._auth_failures: dict[str, int] = {}
        self._locked_until: dict[str, datetime] = {}
        self._iam = IamService(self._state)
        self._waf = WafService(self._state)
        self._elb = ElbService(self._state)
        self._cdn = CdnService(self._state)

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
        with self._lock:
            self._state.cancel_later()
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
        return sorted(self._state.project_regions.values())

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
            return self._waf.add_host(region, hostname, host_id, mode)

    def add_elb_listener(
        self, region: str, protocol: str = "HTTPS", listener_id: str | None = None, name: str = ""
    ) -> str:
        with self._lock:
            return self._elb.add_listener(region, protocol, listener_id, name)

    def add_cdn_domain(self, domain_name: str, enterprise_project_id: str = DEFAULT_ENTERPRISE_PROJECT) -> str:
        """An accelerated domain (AddDomain is not simulated)."""
        with self._lock:
            return self._cdn.add_domain(domain_name, enterprise_project_id)

    def add_enterprise_project(self, enterprise_project_id: str) -> None:
        """An enterprise project of the account (EPS): resources may be created in it and listed by it."""
        with self._lock:
            self._state.enterprise_projects.add(enterprise_project_id)

    def set_flow_control(self, enabled: bool) -> None:
        with self._lock:
            self._flow_control = enabled
            self._calls.clear()

    def set_flow_limits(self, limits: Mapping[str, tuple[int, float]]) -> None:
        """Limits (calls, window seconds) by service, in place of the documented ones; enforced."""
        with self._lock:
            self._flow_limits = {service: (int(calls), float(window)) for service, (calls, window) in limits.items()}
            self._flow_control = True
            self._calls.clear()
            self.busiest_window.clear()

    def set_waf_refuses_duplicate_names(self, refuses: bool) -> None:
        """WAF documents no refusal of a taken certificate name; True makes it answer WAF.00011016."""
        with self._lock:
            self._state.waf_refuses_duplicate_names = refuses

    def set_late_creates(self, count: int, delay_seconds: float, services: Iterable[str] = ("waf", "elb")) -> None:
        """The next ``count`` certificate creates of ``services`` land ``delay_seconds`` after their request,
        whose connection closes unanswered at once (the client times out; the create still happens).
        ``pending_late_creates`` says how many have not landed yet."""
        if count < 0 or delay_seconds < 0 or not set(services) <= {"waf", "elb"}:
            raise ValueError("count and delay_seconds must be >= 0, services within waf and elb")
        with self._lock:
            self._state.late_creates = LateCreates(count, delay_seconds, frozenset(services))

    def pending_late_creates(self) -> int:
        with self._lock:
            return self._state.pending_late_creates()

    # What a person does in the console, behind certpush's back (tests and demos).
    def detach_everywhere(self, region: str, certificate_id: str) -> None:
        """No protected domain or listener of the region uses the certificate any more."""
        with self._lock:
            st = self._state.region(region)
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
            st = self._state.region(region)
            (st.waf_certificates if service == "waf" else st.elb_certificates).pop(certificate_id, None)

    def remove_waf_host(self, region: str, host_id: str) -> None:
        """The protected domain is deleted (WAF DeleteHost): applying a certificate to it is refused
        from now on, as for any id WAF does not know (``WAF.00011004``)."""
        with self._lock:
            self._state.region(region).waf_hosts.pop(host_id, None)

    def remove_elb_listener(self, region: str, listener_id: str) -> None:
        """The listener is deleted (ELB DeleteListener): reading or updating it answers 404 ``ELB.8904``."""
        with self._lock:
            self._state.region(region).listeners.pop(listener_id, None)

    def set_credentials(self, credentials: Mapping[str, str]) -> None:
        """The AK/SK pairs IAM accepts from now on (a rotation: the new pair in, the old one deleted).
        A request signed with a pair not listed answers 401 ``APIGW.0301``."""
        with self._lock:
            self._credentials = dict(credentials)

    @staticmethod
    def project_id(region: str) -> str:
        return project_id(region)

    def reset(self) -> None:
        with self._lock:
            self._state.clear()
            self._requests.clear()
            self._not_purchased.clear()
            self._calls.clear()
            self.busiest_window.clear()
            self._auth_failures.clear()
            self._locked_until.clear()
            self._faults = FaultConfig()
            self._rng = random.Random()  # noqa: S311 - fault injection, not security

    def state(self) -> dict[str, Any]:
        """Everything but private keys and certificate bodies."""
        with self._lock:
            regions = sorted(self._state.regions.items())
            return {
                "waf": {region: self._waf.state_view(region, st) for region, st in regions},
                "elb": {region: self._elb.state_view(region, st) for region, st in regions},
                "cdn": {"global": self._cdn.state_view()},
                "not_purchased": sorted(f"{s}:{r}" for s, r in self._not_purchased),
                "faults": asdict(self._faults),
                "stats": dict(self._state.stats),
                "flow_control": {
                    "enforced": self._flow_control,
                    "limits": {s: list(limit) for s, limit in self._flow_limits.items()},
                    "busiest_window": {f"{s}@{r or 'global'}": n for (s, r), n in self.busiest_window.items()},
                },
                "pending_late_creates": self._state.pending_late_creates(),
                "enterprise_projects": sorted(self._state.enterprise_projects),
            }

    def certificate_fields(self) -> list[tuple[str, str]]:
        """Every stored certificate field anyone can read back (name, description, domain, the PEM
        content or certificate): ``(where, value)``. The private key, which the APIs never return,
        is left out. For scans that must find no key material where a certificate goes."""
        fields: list[tuple[str, str]] = []
        with self._lock:
            for region, st in sorted(self._state.regions.items()):
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
            st = self._state.regions.get(region)
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
        except DropConnection:
            return SimResponse(0, None, drop=True)
        except SimError as exc:
            body_fields = {"error_code": exc.code, "error_msg": exc.message}
            # CDN nests its errors (https://support.huaweicloud.com/api-cdn/ErrorCode.html)
            if exc.code.startswith("CDN."):
                return SimResponse(exc.status, {"error": body_fields}, headers=exc.headers)
            return SimResponse(exc.status, {**body_fields, "request_id": new_id()}, headers=exc.headers)

    # The cloud tells services apart by host name (waf.{region}.myhuaweicloud.com, iam.myhuaweicloud.com)
    # and regions by host name or by the project id in the path: every region has its own project
    # (IAM "Querying Project Information": https://support.huaweicloud.com/api-iam/iam_06_0001.html).
    # Behind one local address the path says the service; the Host header wins when it names one.
    _HOST_RE = re.compile(r"^(?P<service>[a-z]+)\.(?:(?P<region>[a-z0-9-]+)\.)?myhuaweicloud\.(?:com|cn|eu)(?::\d+)?$")
    _PATH_SERVICES = (
        ("iam", re.compile(r"^/v3/(?:projects|auth/domains)/?$")),
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
            raise not_found()
        if service in ("iam", "cdn"):
            return service, None
        match = next(pattern for name, pattern in self._PATH_SERVICES if name == service).match(path)
        project = match["project"] if match else ""
        region = self._state.project_regions.get(project)
        if region is None or (named is not None and named["region"] not in (None, region)):
            code = WAF_PROJECT_MISMATCH if service == "waf" else ELB_INVALID
            raise error(400 if service == "waf" else 403, code, "project id does not belong to this region")
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
        self._authenticate(method, target, path, headers, body)
        service, region = self._locate(path, headers)
        self._flow_control_check(service, region)
        self._count(f"calls.{service}@{region or 'global'}")  # past flow control: what the service took
        after = self._inject_fault(service)
        payload = self._parse_json(service, body) if body else None
        with self._lock:
            signed = re.search(r"SignedHeaders=([^,\s]+)", dict((k.lower(), v) for k, v in headers)["authorization"])
            signed_headers = tuple(signed[1].split(";")) if signed else ()
            self._requests.append(RecordedRequest(method, path, tuple(query), payload, service, region, signed_headers))
            if region is not None and (service, region) in self._not_purchased:
                if service == "waf":
                    raise error(400, WAF_NOT_SUBSCRIBED, "not.subscribe")
                raise not_found()
            if service == "iam":
                result = self._iam.handle(method, path, query, payload)
            elif service == "cdn":
                result = self._cdn.handle(method, path, query, payload)
            elif service == "waf":
                result = self._waf.handle(method, str(region), path, query, payload)
            else:
                result = self._elb.handle(method, str(region), path, query, payload)
        if after == "timeout":
            self._count("faults.timeout")
            return SimResponse(0, None, drop=True)
        if after == "5xx_after":
            self._count("faults.5xx_after")
            raise error(500, f"{service.upper()}.00010001", "internal error")
        return result

    def _authenticate(self, method: str, target: str, path: str, headers: list[tuple[str, str]], body: bytes) -> None:
        """The API gateway's check: an AK locked after 5 failures in a row is refused for 5 minutes,
        whatever it signs; a failure counts towards the lock, a success clears the count. A global
        service (CDN) also needs the account's id in X-Domain-Id."""
        authorization = next((value for key, value in headers if key.lower() == "authorization"), "")
        found = _ACCESS_KEY_RE.search(authorization)
        access_key = found["access"] if found else ""
        now = self._state.now()
        with self._lock:
            locked_until = self._locked_until.get(access_key)
            if locked_until is not None and now < locked_until:
                self._state.count("auth.locked")
                raise error(401, APIGW_AUTH, "Incorrect IAM authentication information: the AK/SK pair is locked")
        try:
            verify(
                secret_for=self._credentials,
                method=method,
                target=target,
                headers=headers,
                body=body,
                now=now,
                max_skew=self._max_skew,
            )
            if path.startswith("/v1.0/cdn/") or path.startswith("/v1.1/cdn/"):
                CdnService.check_domain_id(headers)
        except (SignatureVerificationError, SimError) as exc:
            with self._lock:
                self._state.count("signature_failures")
                failures = self._auth_failures.get(access_key, 0) + 1
                self._auth_failures[access_key] = failures
                if failures >= LOCK_AFTER_FAILURES:
                    self._locked_until[access_key] = now + LOCK_DURATION
                    self._auth_failures.pop(access_key, None)
            if isinstance(exc, SimError):
                raise
            raise error(401, exc.code, f"Incorrect IAM authentication information: {exc.message}") from exc
        with self._lock:
            self._auth_failures.pop(access_key, None)
            self._locked_until.pop(access_key, None)

    def _flow_control_check(self, service: str, region: str | None) -> None:
        """429 APIGW.0308 with Retry-After (seconds until a call leaves the window) over a limit."""
        now = self._state.now()
        with self._lock:
            limit = self._flow_limits.get(service)
            if limit is None or not self._flow_control:
                return
            calls, window = limit
            key = (service, region)
            recent = self._calls.setdefault(key, deque())
            while recent and (now - recent[0]).total_seconds() >= window:
                recent.popleft()
            if len(recent) >= calls:
                wait = max(1, math.ceil(window - (now - recent[0]).total_seconds()))
                self._state.count("flow_control.throttled")
                raise error(
                    429, APIGW_THROTTLED, "The throttling threshold has been reached", {"Retry-After": str(wait)}
                )
            recent.append(now)
            self.busiest_window[key] = max(self.busiest_window.get(key, 0), len(recent))

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
            raise error(429, APIGW_THROTTLED, "The throttling threshold has been reached")
        if kind == "5xx":
            self._count("faults.5xx")
            raise error(503, f"{service.upper()}.00010002", "service busy")
        return kind

    def _count(self, name: str) -> None:
        with self._lock:
            self._state.count(name)

    @staticmethod
    def _parse_json(service: str, body: bytes) -> Any:
        try:
            return json.loads(body)
        except ValueError as exc:
            code = WAF_BAD_BODY if service == "waf" else ELB_INVALID
            raise error(400, code, "request body is not JSON") from exc

    # -- admin -----------------------------------------------------------------------------------
    _ADMIN_RESOURCE = re.compile(r"^/_sim/(?P<service>waf|elb)/(?P<region>[a-z0-9-]+)/(?P<kind>hosts|listeners)$")
    _ADMIN_CDN = "/_sim/cdn/domains"

    def _admin(self, method: str, path: str, body: bytes) -> SimResponse:
        try:
            payload = json.loads(body) if body else {}
        except ValueError as exc:
            raise error(400, "SIM.BAD_JSON", "body is not JSON") from exc
        if not isinstance(payload, dict):
            raise error(400, "SIM.BAD_JSON", "body must be a JSON object")
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
                raise error(400, "SIM.BAD_FAULTS", str(exc)) from exc
            return SimResponse(200, {"faults": asdict(config)})
        if path == "/_sim/services" and method == "POST":
            service, region = payload.get("service"), payload.get("region")
            if service not in ("waf", "elb") or not isinstance(region, str):
                raise error(400, "SIM.BAD_SERVICE", "service (waf|elb) and region are required")
            self.set_service_purchased(service, region, bool(payload.get("purchased", True)))
            return SimResponse(200, {"not_purchased": self.state()["not_purchased"]})
        if path == self._ADMIN_CDN and method == "POST":
            name = payload.get("domain_name")
            if not isinstance(name, str) or not DOMAIN_RE.match(name):
                raise error(400, "SIM.BAD_DOMAIN", "domain_name is required")
            project = payload.get("enterprise_project_id", DEFAULT_ENTERPRISE_PROJECT)
            return SimResponse(201, {"id": self.add_cdn_domain(name, project)})
        if path == "/_sim/enterprise-projects" and method == "POST":
            project = payload.get("id")
            if not isinstance(project, str) or not project:
                raise error(400, "SIM.BAD_PROJECT", "id is required")
            self.add_enterprise_project(project)
            return SimResponse(201, {"id": project})
        if path == "/_sim/late-creates" and method == "POST":
            try:
                self.set_late_creates(
                    int(payload.get("count", 1)),
                    float(payload.get("delay_seconds", 0)),
                    tuple(payload.get("services", ("waf", "elb"))),
                )
            except (TypeError, ValueError) as exc:
                raise error(400, "SIM.BAD_FAULTS", str(exc)) from exc
            return SimResponse(200, {"pending_late_creates": self.pending_late_creates()})
        if path == "/_sim/settings" and method == "POST":
            if "flow_control" in payload:
                self.set_flow_control(bool(payload["flow_control"]))
            if "flow_limits" in payload:
                try:
                    self.set_flow_limits(payload["flow_limits"])
                except (TypeError, ValueError) as exc:
                    raise error(400, "SIM.BAD_SETTINGS", f"flow_limits: {{service: [calls, seconds]}}: {exc}") from exc
            if "waf_refuses_duplicate_names" in payload:
                self.set_waf_refuses_duplicate_names(bool(payload["waf_refuses_duplicate_names"]))
            return SimResponse(200, {"settings": {"flow_control": self._flow_control}})
        match = self._ADMIN_RESOURCE.match(path)
        if match and method == "POST":
            region = match["region"]
            if match["service"] == "waf" and match["kind"] == "hosts":
                hostname = payload.get("hostname")
                if not isinstance(hostname, str) or not hostname:
                    raise error(400, "SIM.BAD_HOST", "hostname is required")
                mode = "premium" if payload.get("premium") else "cloud"
                return SimResponse(201, {"id": self.add_waf_host(region, hostname, payload.get("id"), mode)})
            if match["service"] == "elb" and match["kind"] == "listeners":
                protocol = str(payload.get("protocol", "HTTPS"))
                return SimResponse(201, {"id": self.add_elb_listener(region, protocol, payload.get("id"))})
        raise error(404, "SIM.NOT_FOUND", f"no admin route {method} {path}")


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
        self.send_header("X-Request-Id", new_id())
        for name, value in response.headers.items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return
