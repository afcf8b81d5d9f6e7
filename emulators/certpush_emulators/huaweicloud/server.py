"""The simulator's HTTP side: the server, routing to the services, the signature check, injected faults
and the admin calls (``/_sim/*``). ``HuaweiCloudSimulator`` is the public API (see ``simulator``)."""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from certpush.ports import Clock
from certpush.providers.huaweicloud.regions import ENDPOINTS
from certpush.providers.huaweicloud.signer import MAX_CLOCK_SKEW, SignatureVerificationError, verify
from certpush_emulators.huaweicloud.cdn import CdnService
from certpush_emulators.huaweicloud.elb import ELB_INVALID, ElbService
from certpush_emulators.huaweicloud.iam import IamService
from certpush_emulators.huaweicloud.state import (
    APIGW_AUTH,
    APIGW_THROTTLED,
    DOMAIN_RE,
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
    ) -> None:
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

    def add_cdn_domain(self, domain_name: str) -> str:
        """An accelerated domain (AddDomain is not simulated)."""
        with self._lock:
            return self._cdn.add_domain(domain_name)

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

    @staticmethod
    def project_id(region: str) -> str:
        return project_id(region)

    def reset(self) -> None:
        with self._lock:
            self._state.clear()
            self._requests.clear()
            self._not_purchased.clear()
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
        except SimError as exc:
            body_fields = {"error_code": exc.code, "error_msg": exc.message}
            # CDN nests its errors (https://support.huaweicloud.com/api-cdn/ErrorCode.html)
            if exc.code.startswith("CDN."):
                return SimResponse(exc.status, {"error": body_fields})
            return SimResponse(exc.status, {**body_fields, "request_id": new_id()})

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
        try:
            verify(
                secret_for=self._credentials,
                method=method,
                target=target,
                headers=headers,
                body=body,
                now=self._state.now(),
                max_skew=self._max_skew,
            )
        except SignatureVerificationError as exc:
            self._count("signature_failures")
            raise error(401, APIGW_AUTH, f"Incorrect IAM authentication information: {exc.message}") from exc
        service, region = self._locate(path, headers)
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
            return SimResponse(201, {"id": self.add_cdn_domain(name)})
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
        if data:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return
