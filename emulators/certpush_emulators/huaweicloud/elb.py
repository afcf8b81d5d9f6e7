"""ELB v3 (dedicated) as the simulator serves it: the certificate store of a region (ListCertificates,
CreateCertificate, ShowCertificate, UpdateCertificate, DeleteCertificate) and listeners (ListListeners,
ShowListener, UpdateListener). https://support.huaweicloud.com/api-elb/"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from certpush_emulators.huaweicloud.state import (
    APIGW_NOT_FOUND,
    DEFAULT_ENTERPRISE_PROJECT,
    DOMAIN_RE,
    NOT_SIMULATED,
    DropConnection,
    ElbCertificate,
    Listener,
    Material,
    RegionState,
    SimResponse,
    SimState,
    error,
    iso,
    new_id,
    not_found,
    parse_material,
    project_id,
    refuse_unknown_fields,
    refuse_unknown_query,
)

# ELB v3 CreateCertificate (https://support.huaweicloud.com/intl/en-us/api-elb/CreateCertificate.html):
# "certificate" (with its chain) at most 65,536 characters, "private_key" at most 8,192 (the SDK's
# docstring says 20,000 for the certificate: the live reference wins). WAF and CDN document no limit.
ELB_MAX_CERTIFICATE_CHARS = 65_536
ELB_MAX_KEY_CHARS = 8_192
MAX_SNI_CERTIFICATES = 50
MAX_SNI_DOMAINS = 200
ELB_INVALID = "ELB.8902"
ELB_NOT_FOUND = "ELB.8904"
ELB_IN_USE = "ELB.8905"

# What each request documents (the SDK's request models, huaweicloudsdkelb 3.1.219, mirror the API
# reference) and what the simulator implements of it; a field outside the first is ELB.8902, one outside
# the second SIM.NOT_SIMULATED. SM dual certificates (enc_*) and CCM certificates (scm_certificate_id,
# source) are not simulated.
CREATE_FIELDS = frozenset(
    {"admin_state_up", "certificate", "description", "domain", "name", "private_key", "project_id", "type",
     "enterprise_project_id", "enc_certificate", "enc_private_key", "scm_certificate_id", "source",
     "protection_status", "protection_reason"}
)  # fmt: skip
UPDATE_FIELDS = frozenset(
    {"certificate", "description", "name", "private_key", "domain", "enc_certificate", "enc_private_key",
     "scm_certificate_id", "source", "protection_status", "protection_reason"}
)  # fmt: skip
NOT_SIMULATED_FIELDS = frozenset({"enc_certificate", "enc_private_key", "scm_certificate_id", "source"})
# UpdateListener (https://support.huaweicloud.com/api-elb/UpdateListener.html): the listener's settings
# other than its certificates are kept and answered as given, with the type the reference names.
LISTENER_SETTINGS: dict[str, type | tuple[type, ...]] = {
    "admin_state_up": bool, "default_pool_id": (str, type(None)), "description": str, "http2_enable": bool,
    "name": str, "sni_match_algo": str, "tls_ciphers_policy": (str, type(None)),
    "security_policy_id": (str, type(None)),
    "enable_member_retry": bool, "member_timeout": int, "client_timeout": int, "keepalive_timeout": int,
    "transparent_client_ip_enable": bool, "proxy_protocol_enable": bool, "enhance_l7policy_enable": bool,
    "protection_status": str, "protection_reason": (str, type(None)), "gzip_enable": bool,
    "ssl_early_data_enable": bool,
    "cps": int, "connection": int, "nat64_enable": bool,
}  # fmt: skip
LISTENER_CERTIFICATE_FIELDS = frozenset(
    {"default_tls_container_ref", "client_ca_tls_container_ref", "sni_container_refs"}
)
LISTENER_NOT_SIMULATED = frozenset({"insert_headers", "ipgroup", "quic_config"})
LISTENER_DEFAULTS: dict[str, Any] = {
    "admin_state_up": True, "default_pool_id": None, "description": "", "http2_enable": False,
    "sni_match_algo": "wildcard", "tls_ciphers_policy": "tls-1-2", "security_policy_id": None,
    "enable_member_retry": True, "member_timeout": 60, "client_timeout": 60, "keepalive_timeout": 60,
    "transparent_client_ip_enable": True, "proxy_protocol_enable": False, "enhance_l7policy_enable": False,
    "protection_status": "nonProtection", "protection_reason": None, "gzip_enable": False,
    "ssl_early_data_enable": False, "cps": 0, "connection": 0, "nat64_enable": False,
}  # fmt: skip


class ElbService:
    ROUTE = re.compile(r"^/v3/(?P<project>[^/]+)/elb/(?P<kind>certificates|listeners)(?:/(?P<id>[^/]+))?/?$")
    # ListCertificates (https://support.huaweicloud.com/api-elb/ListCertificates.html): every filter
    # takes several values (name=a&name=b); limit 0-2000 (default 2000), marker; without
    # enterprise_project_id, every enterprise project's certificates.
    LIST_FILTERS = frozenset(
        {"id", "name", "description", "domain", "type", "common_name", "fingerprint", "admin_state_up",
         "enterprise_project_id", "scm_certificate_id", "source", "protection_status", "protection_reason"}
    )  # fmt: skip
    LIST_DOCUMENTED = LIST_FILTERS | {"limit", "marker", "page_reverse"}
    # ListListeners (https://support.huaweicloud.com/api-elb/ListListeners.html): limit 0-2000, marker,
    # multi-valued filters; there is no filter on sni_container_refs.
    LISTENER_FILTERS = frozenset(
        {"id", "protocol", "default_tls_container_ref", "client_ca_tls_container_ref", "name", "enterprise_project_id"}
    )
    LISTENER_DOCUMENTED = LISTENER_FILTERS | {
        "limit", "marker", "page_reverse", "protocol_port", "description", "admin_state_up", "include_recycle_bin",
        "connection_limit", "default_pool_id", "http2_enable", "loadbalancer_id", "tls_ciphers_policy",
        "member_address", "member_device_id", "enable_member_retry", "member_timeout", "client_timeout",
        "keepalive_timeout", "transparent_client_ip_enable", "proxy_protocol_enable", "enhance_l7policy_enable",
        "member_instance_id", "protection_status", "ssl_early_data_enable", "nat64_enable",
    }  # fmt: skip

    def __init__(self, state: SimState) -> None:
        self._state = state

    # -- console actions (admin) -----------------------------------------------------------------
    def add_listener(self, region: str, protocol: str = "HTTPS", listener_id: str | None = None, name: str = "") -> str:
        now = iso(self._state.now())
        listener = Listener(
            id=listener_id or new_id(), protocol=protocol.upper(), name=name, created_at=now, updated_at=now
        )
        self._state.region(region).listeners[listener.id] = listener
        return listener.id

    def state_view(self, region: str, st: RegionState) -> dict[str, Any]:
        return {
            "certificates": [self.view(region, c, with_pem=False) for c in st.elb_certificates.values()],
            "listeners": [self.listener_view(region, listener) for listener in st.listeners.values()],
        }

    # -- requests --------------------------------------------------------------------------------
    def handle(self, method: str, region: str, path: str, query: list[tuple[str, str]], payload: Any) -> SimResponse:
        match = self.ROUTE.match(path)
        if match is None:
            raise not_found()
        st = self._state.region(region)
        item_id = match["id"]
        if not (item_id is None and method == "GET"):
            refuse_unknown_query(query, (), code=ELB_INVALID)
        if match["kind"] == "listeners":
            if item_id is None:
                if method == "GET":
                    return self._list_listeners(region, st, query)
                raise error(404, APIGW_NOT_FOUND, "creating listeners is not simulated (POST /_sim/elb/...)")
            listener = st.listeners.get(item_id)
            if listener is None:
                raise error(404, ELB_NOT_FOUND, f"listener {item_id} not found")
            if method == "GET":
                return SimResponse(200, {"listener": self.listener_view(region, listener), "request_id": new_id()})
            if method == "PUT":
                return self._update_listener(region, st, listener, payload)
        elif item_id is None:
            if method == "GET":
                return self._list(region, st, query)
            if method == "POST":
                return self._create(region, st, payload)
        else:
            certificate = st.elb_certificates.get(item_id)
            if certificate is None:
                raise error(404, ELB_NOT_FOUND, f"certificate {item_id} not found")
            if method == "GET":
                return SimResponse(200, {"certificate": self.view(region, certificate), "request_id": new_id()})
            if method == "PUT":
                return self._update(region, st, certificate, payload)
            if method == "DELETE":
                in_use = [
                    lst.id
                    for lst in st.listeners.values()
                    if item_id in (lst.default_tls_container_ref, lst.client_ca_tls_container_ref)
                    or item_id in lst.sni_container_refs
                ]
                if in_use:
                    raise error(409, ELB_IN_USE, f"certificate is used by listeners {in_use}")
                del st.elb_certificates[item_id]
                self._state.count("elb.delete")
                return SimResponse(204, None)
        raise error(405, ELB_INVALID, f"{method} is not allowed here")

    # -- views -----------------------------------------------------------------------------------
    @staticmethod
    def view(region: str, certificate: ElbCertificate, *, with_pem: bool = True) -> dict[str, Any]:
        """CertificateInfo, every field it declares; ``with_pem`` False: no certificate nor key (the
        simulator's state, never an API answer)."""
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
            "expire_time": iso(material.not_after) if material else None,
            "project_id": project_id(region),
            "enterprise_project_id": certificate.enterprise_project_id,
            "fingerprint": material.fingerprint if material else "",
            "common_name": material.common_name if material else "",
            "subject_alternative_names": material.sans if material else [],
            "source": "",
            "scm_certificate_id": "",
            "protection_status": certificate.protection_status,
            "protection_reason": certificate.protection_reason,
            "enc_certificate": None,
            "enc_private_key": None,
        }
        if not with_pem:
            view["key_format"] = material.key_format if material else ""
        else:
            # the reference documents the key in every answer (CertificateInfo.private_key)
            view["certificate"] = material.content if material else None
            view["private_key"] = material.key if material and material.key else None
        return view

    @staticmethod
    def listener_view(region: str, listener: Listener) -> dict[str, Any]:
        """Listener, every field it declares (nested settings the simulator does not model are null)."""
        return {
            **LISTENER_DEFAULTS,
            **listener.settings,
            "id": listener.id,
            "name": listener.name,
            "protocol": listener.protocol,
            "protocol_port": 443 if listener.protocol in ("HTTPS", "QUIC", "TLS") else 80,
            "project_id": project_id(region),
            "enterprise_project_id": DEFAULT_ENTERPRISE_PROJECT,
            "default_tls_container_ref": listener.default_tls_container_ref,
            "client_ca_tls_container_ref": listener.client_ca_tls_container_ref,
            "sni_container_refs": list(listener.sni_container_refs),
            "connection_limit": -1,
            "created_at": listener.created_at,
            "updated_at": listener.updated_at,
            "loadbalancers": [{"id": project_id(f"loadbalancer:{listener.id}")}],
            "port_ranges": [],
            "tags": [],
            "insert_headers": None,
            "ipgroup": None,
            "quic_config": None,
        }

    # -- lists -----------------------------------------------------------------------------------
    @staticmethod
    def _list_query(
        query: list[tuple[str, str]], filter_names: frozenset[str], documented: frozenset[str]
    ) -> tuple[dict[str, set[str]], dict[str, str], int]:
        """An ELB v3 list request's query: its multi-valued filters, its parameters and its limit
        (0-2000, default 2000); a parameter the simulator does not implement is refused."""
        refuse_unknown_query(query, documented, code=ELB_INVALID, simulated=filter_names | {"limit", "marker"})
        filters: dict[str, set[str]] = {}
        for key, value in query:
            if key in filter_names:
                filters.setdefault(key, set()).add(value)
        params = dict(query)
        try:
            limit = int(params.get("limit", "2000"))
        except ValueError as exc:
            raise error(400, ELB_INVALID, "limit must be an integer") from exc
        if not 0 <= limit <= 2000:
            raise error(400, ELB_INVALID, "limit must be within 0-2000")
        return filters, params, limit

    def _list(self, region: str, st: RegionState, query: list[tuple[str, str]]) -> SimResponse:
        filters, params, limit = self._list_query(query, self.LIST_FILTERS, self.LIST_DOCUMENTED)

        def matches(view: dict[str, Any]) -> bool:
            return all(
                (str(view.get(key)).lower() if key == "admin_state_up" else str(view.get(key))) in wanted
                for key, wanted in filters.items()
            )

        items = [c for c in st.elb_certificates.values() if matches(self.view(region, c, with_pem=False))]
        marker = params.get("marker")
        if marker:
            ids = [c.id for c in items]
            if marker not in st.elb_certificates:
                raise error(400, ELB_INVALID, "marker is not a certificate id")
            items = items[ids.index(marker) + 1 :] if marker in ids else []
        page = items[:limit]
        more = len(items) > len(page)
        page_info = {
            "previous_marker": page[0].id if page else None,
            "next_marker": page[-1].id if page and more else None,
            "current_count": len(page),
        }
        certificates = [self.view(region, c) for c in page]
        return SimResponse(200, {"certificates": certificates, "page_info": page_info, "request_id": new_id()})

    def _list_listeners(self, region: str, st: RegionState, query: list[tuple[str, str]]) -> SimResponse:
        filters, params, limit = self._list_query(query, self.LISTENER_FILTERS, self.LISTENER_DOCUMENTED)
        views = [self.listener_view(region, listener) for listener in st.listeners.values()]
        views = [v for v in views if all(str(v.get(key)) in wanted for key, wanted in filters.items())]
        marker = params.get("marker")
        if marker:
            ids = [v["id"] for v in views]
            if marker not in ids:
                raise error(400, ELB_INVALID, "marker is not a listener id")
            views = views[ids.index(marker) + 1 :]
        page = views[:limit]
        page_info = {
            "previous_marker": page[0]["id"] if page else None,
            "next_marker": page[-1]["id"] if page and len(views) > len(page) else None,
            "current_count": len(page),
        }
        return SimResponse(200, {"listeners": page, "page_info": page_info, "request_id": new_id()})

    # -- certificates ----------------------------------------------------------------------------
    @staticmethod
    def _option(payload: Any, documented: frozenset[str]) -> dict[str, Any]:
        option = payload.get("certificate") if isinstance(payload, dict) else None
        if not isinstance(option, dict) or set(payload) != {"certificate"}:
            raise error(400, ELB_INVALID, 'body must be {"certificate": {...}}')
        refuse_unknown_fields(
            option, documented, code=ELB_INVALID, simulated=documented - NOT_SIMULATED_FIELDS, where="certificate"
        )
        for attribute in ("protection_status",):
            if attribute in option and option[attribute] not in ("nonProtection", "consoleProtection"):
                raise error(400, ELB_INVALID, "protection_status must be nonProtection or consoleProtection")
        return option

    @staticmethod
    def _check_name_domain(option: dict[str, Any]) -> None:
        # CreateCertificate / UpdateCertificate (https://support.huaweicloud.com/api-elb/CreateCertificate.html):
        # name and description 0-255 characters, no character set; domain at most 10,000 characters,
        # at most 100 comma-separated names, each label 1-63 of letters, digits and -, a leading *. allowed.
        for attribute in ("name", "description"):
            value = option.get(attribute, "")
            if not isinstance(value, str) or len(value) > 255:
                raise error(400, ELB_INVALID, f"{attribute} must be a string of at most 255 characters")
        domain = option.get("domain", "")
        if not isinstance(domain, str) or len(domain) > 10_000:
            raise error(400, ELB_INVALID, "invalid domain")
        names = [d for d in domain.split(",") if d] if domain else []
        if len(names) > 100 or any(not DOMAIN_RE.match(d) for d in names):
            raise error(400, ELB_INVALID, "invalid domain")

    def _material(self, option: dict[str, Any], cert_type: str, current: Material | None = None) -> Material:
        # certificate: PEM, chain of at most 11, at most 65,536 characters; private_key required for
        # server certificates, unused for client (CA) ones. The reference documents no refusal of an
        # expired certificate, so none is made here.
        return parse_material(
            option.get("certificate", current.content if current else None),
            option.get("private_key", current.key if current else None),
            now=self._state.now(),
            illegal=ELB_INVALID,
            expired=None,
            key_required=cert_type == "server",
            max_certificate_chars=ELB_MAX_CERTIFICATE_CHARS,
            max_key_chars=ELB_MAX_KEY_CHARS,
        )

    def _create(self, region: str, st: RegionState, payload: Any) -> SimResponse:
        option = self._option(payload, CREATE_FIELDS)
        self._check_name_domain(option)
        if option.get("project_id", project_id(region)) != project_id(region):
            raise error(400, ELB_INVALID, "project_id is not the project of the request")
        if option.get("admin_state_up", True) is not True:
            raise error(400, ELB_INVALID, "admin_state_up can only be true")
        # "enterprise_project_id": the default project "0" when not given; "" or a project that does not
        # exist is refused (CreateCertificate)
        enterprise_project = self._state.check_enterprise_project(
            option.get("enterprise_project_id", DEFAULT_ENTERPRISE_PROJECT), ELB_INVALID
        )
        cert_type = option.get("type", "server")
        if cert_type == "server_sm":
            raise error(400, NOT_SIMULATED, "SM dual certificates are not simulated")
        if cert_type not in ("server", "client"):
            raise error(400, ELB_INVALID, "type must be server or client")
        material = self._material(option, cert_type)

        def store() -> ElbCertificate:
            now = iso(self._state.now())
            certificate = ElbCertificate(
                id=new_id(),
                name=option.get("name", ""),
                description=option.get("description", ""),
                type=cert_type,
                domain=option.get("domain", "") if cert_type == "server" else "",
                material=material,
                created_at=now,
                updated_at=now,
                enterprise_project_id=enterprise_project,
                protection_status=option.get("protection_status", "nonProtection"),
                protection_reason=option.get("protection_reason"),
            )
            st.elb_certificates[certificate.id] = certificate
            self._state.count("elb.create")
            return certificate

        delay = self._state.take_late_create("elb")
        if delay is not None:
            self._state.later(delay, store)
            self._state.count("faults.late_create")
            raise DropConnection
        return SimResponse(201, {"certificate": self.view(region, store()), "request_id": new_id()})

    def _update(self, region: str, st: RegionState, certificate: ElbCertificate, payload: Any) -> SimResponse:
        # UpdateCertificate (https://support.huaweicloud.com/api-elb/UpdateCertificate.html): the new
        # content applies at once to every listener that uses the certificate.
        option = self._option(payload, UPDATE_FIELDS)
        self._check_name_domain(option)
        if "certificate" in option or "private_key" in option:
            certificate.material = self._material(option, certificate.type, certificate.material)
        if "domain" in option and certificate.type == "server":
            self._check_sni_domains_after(st, certificate, option["domain"])
            certificate.domain = option["domain"]
        for attribute in ("name", "description", "protection_status", "protection_reason"):
            if attribute in option:
                setattr(certificate, attribute, option[attribute])
        certificate.updated_at = iso(self._state.now())
        self._state.count("elb.update")
        return SimResponse(200, {"certificate": self.view(region, certificate), "request_id": new_id()})

    # -- listeners -------------------------------------------------------------------------------
    def _check_sni_domains_after(self, st: RegionState, certificate: ElbCertificate, domain: str) -> None:
        for listener in st.listeners.values():
            if certificate.id in listener.sni_container_refs:
                others = [st.elb_certificates[ref] for ref in listener.sni_container_refs if ref != certificate.id]
                self._check_sni([*others, replace(certificate, domain=domain)])

    @staticmethod
    def _check_sni(certificates: list[ElbCertificate]) -> None:
        # CreateListener / UpdateListener sni_container_refs (https://support.huaweicloud.com/api-elb/UpdateListener.html):
        # 0-50 server certificates that carry a domain; no domain may repeat across them; at most 200
        # domains in all.
        if len(certificates) > MAX_SNI_CERTIFICATES:
            raise error(400, ELB_INVALID, f"at most {MAX_SNI_CERTIFICATES} SNI certificates")
        seen: dict[str, str] = {}
        for certificate in certificates:
            if certificate.type != "server":
                raise error(400, ELB_INVALID, f"SNI certificate {certificate.id} is not a server certificate")
            domains = [d.lower() for d in certificate.domain.split(",") if d]
            if not domains:
                raise error(400, ELB_INVALID, f"SNI certificate {certificate.id} has no domain")
            for domain in domains:
                if domain in seen:
                    raise error(
                        400, ELB_INVALID, f"domain {domain} is in SNI certificates {seen[domain]} and {certificate.id}"
                    )
                seen[domain] = certificate.id
        if len(seen) > MAX_SNI_DOMAINS:
            raise error(400, ELB_INVALID, f"SNI certificates hold more than {MAX_SNI_DOMAINS} domains")

    def _update_listener(self, region: str, st: RegionState, listener: Listener, payload: Any) -> SimResponse:
        option = payload.get("listener") if isinstance(payload, dict) else None
        if not isinstance(option, dict) or set(payload) != {"listener"}:
            raise error(400, ELB_INVALID, 'body must be {"listener": {...}}')
        documented = LISTENER_CERTIFICATE_FIELDS | set(LISTENER_SETTINGS) | LISTENER_NOT_SIMULATED
        refuse_unknown_fields(
            option, documented, code=ELB_INVALID, simulated=documented - LISTENER_NOT_SIMULATED, where="listener"
        )
        settings = {key: value for key, value in option.items() if key in LISTENER_SETTINGS}
        for key, value in settings.items():
            wanted = LISTENER_SETTINGS[key]
            if not isinstance(value, wanted) or (isinstance(value, bool) and wanted is int):
                raise error(400, ELB_INVALID, f"invalid {key}")
        if settings.get("sni_match_algo", "wildcard") not in ("wildcard", "longest_suffix"):
            raise error(400, ELB_INVALID, "sni_match_algo must be wildcard or longest_suffix")
        default = option.get("default_tls_container_ref", listener.default_tls_container_ref)
        sni = option.get("sni_container_refs", listener.sni_container_refs)
        client_ca = option.get("client_ca_tls_container_ref", listener.client_ca_tls_container_ref)
        if not isinstance(sni, list) or not all(isinstance(ref, str) for ref in sni):
            raise error(400, ELB_INVALID, "sni_container_refs must be a list of certificate ids")
        refs = [ref for ref in [default, client_ca, *sni] if ref]
        if refs and listener.protocol not in ("HTTPS", "TLS", "QUIC"):
            raise error(400, ELB_INVALID, f"a {listener.protocol} listener takes no certificate")

        def certificate_of(ref: Any, wanted: str) -> ElbCertificate:
            certificate = st.elb_certificates.get(ref) if isinstance(ref, str) else None
            if certificate is None or certificate.type != wanted:
                raise error(400, ELB_INVALID, f"{wanted} certificate {ref} not found")
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
        name = settings.pop("name", None)
        if name is not None:
            listener.name = name
        listener.settings.update(settings)
        listener.updated_at = iso(self._state.now())
        self._state.count("elb.listener_update")
        return SimResponse(200, {"listener": self.listener_view(region, listener), "request_id": new_id()})
