"""CDN (a global service, https://support.huaweicloud.com/api-cdn/) as the simulator serves it:
ListDomains, ShowDomainFullConfig and UpdateDomainFullConfig's ``https`` and ``force_redirect``
configurations. Errors come as ``{"error": {error_code, error_msg}}``.

With AK/SK a global service needs the account's id in ``X-Domain-Id`` (the SDK's GlobalCredentials
send it, looked up at IAM ``/v3/auth/domains`` when not given): the server refuses a CDN request
without it, or with another account's.

UpdateDomainFullConfig replaces each configuration it is given as a whole: an ``https`` object that
leaves out ``http2_status``, ``tls_version`` or ``ocsp_stapling_status`` sets them to their defaults
(HTTP/2 off, TLS 1.1-1.3, OCSP stapling off; HttpPutBody in the API reference:
https://support.huaweicloud.com/api-cdn/UpdateDomainFullConfig.html). A configuration it is not given
(``force_redirect``) stays as it was. Turning HTTPS off turns HTTP/2 and OCSP stapling off too
("开启HTTP/2后，如果您关闭了HTTPS证书，HTTP/2功能也会自动关闭", user guide, Configuring HTTP/2)."""

from __future__ import annotations

import re
from typing import Any

from certpush_emulators.huaweicloud.state import (
    DOMAIN_ID,
    NOT_SIMULATED,
    CdnDomain,
    SimError,
    SimResponse,
    SimState,
    covers,
    error,
    new_id,
    not_found,
    parse_material,
    refuse_unknown_fields,
    refuse_unknown_query,
)

CDN_BAD_PARAMETER = "CDN.0001"
CDN_NO_DOMAIN = "CDN.0105"
CDN_EMPTY_CERTIFICATE = "CDN.0402"
CDN_NOT_PEM = "CDN.0403"
CDN_KEY_NOT_PEM = "CDN.0404"
CDN_KEY_MISMATCH = "CDN.0405"
CDN_DOMAIN_MISMATCH = "CDN.0406"
CDN_EXPIRED = "CDN.0408"
ALL_ENTERPRISE_PROJECTS = "all"

# What UpdateDomainFullConfig documents (Configs, HttpPutBody, ForceRedirectConfig in huaweicloudsdkcdn
# 3.1.219, mirroring the reference) and what the simulator implements of it: another field is CDN.0001,
# a documented one it does not implement SIM.NOT_SIMULATED.
CONFIGS = frozenset(
    {"business_type", "service_area", "remark", "origin_request_header", "http_response_header", "url_auth",
     "https", "sources", "origin_protocol", "origin_follow302_status", "cache_rules", "ip_filter", "referer",
     "force_redirect", "compress", "cache_url_parameter_filter", "ipv6_accelerate", "error_code_cache",
     "origin_range_status", "user_agent_filter", "origin_request_url_rewrite", "flexible_origin",
     "slice_etag_status", "origin_receive_timeout", "remote_auth", "websocket", "video_seek",
     "request_limit_rules", "ip_frequency_limit", "hsts", "quic", "error_code_redirect_rules", "sni",
     "request_url_rewrite", "browser_cache_rules", "access_area_filter", "client_cert", "https_tls_version",
     "flow_limit_strategy"}
)  # fmt: skip
SIMULATED_CONFIGS = frozenset({"https", "force_redirect"})
HTTPS_FIELDS = frozenset(
    {"https_status", "certificate_type", "certificate_source", "scm_certificate_id", "certificate_name",
     "certificate_value", "private_key", "enc_certificate_value", "enc_private_key", "certificates",
     "http2_status", "tls_version", "ocsp_stapling_status"}
)  # fmt: skip
SIMULATED_HTTPS_FIELDS = HTTPS_FIELDS - {
    "scm_certificate_id",
    "enc_certificate_value",
    "enc_private_key",
    "certificates",
}
TLS_VERSIONS = ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
DEFAULT_TLS_VERSION = "TLSv1.1,TLSv1.2,TLSv1.3"  # "CDN默认开启TLS1.1/1.2/1.3" (HttpPutBody.tls_version)

# ShowDomainFullConfig answers every configuration ConfigsGetBody declares; those the simulator does not
# model are answered as a domain without them would be (null, empty, or the documented default).
_UNMODELLED_CONFIGS: dict[str, Any] = {
    "remark": "", "origin_request_header": [], "http_response_header": [], "url_auth": None, "sources": [],
    "origin_protocol": "http", "origin_follow302_status": "off", "cache_rules": [], "ip_filter": None,
    "referer": None, "compress": None, "cache_url_parameter_filter": None, "ipv6_accelerate": 0,
    "error_code_cache": [], "origin_range_status": "off", "user_agent_filter": None,
    "origin_request_url_rewrite": [], "flexible_origin": [], "slice_etag_status": "on",
    "origin_receive_timeout": 30, "remote_auth": None, "websocket": None, "video_seek": None,
    "request_limit_rules": [], "ip_frequency_limit": None, "hsts": None, "quic": None,
    "error_code_redirect_rules": [], "sni": None, "request_url_rewrite": [], "browser_cache_rules": [],
    "access_area_filter": [], "client_cert": None, "flow_limit_strategy": [],
}  # fmt: skip


def _tls_version(value: Any) -> str:
    """Contiguous versions among TLSv1.0-1.3, at least one ("不可仅开启TLS1.0/1.2而关闭TLS1.1", "不可全部关闭")."""
    versions = value.split(",") if isinstance(value, str) else []
    if not versions or any(v not in TLS_VERSIONS for v in versions) or len(set(versions)) != len(versions):
        raise error(400, CDN_BAD_PARAMETER, "tls_version must list TLSv1.0-TLSv1.3, comma-separated")
    indexes = sorted(TLS_VERSIONS.index(v) for v in versions)
    if indexes != list(range(indexes[0], indexes[-1] + 1)):
        raise error(400, CDN_BAD_PARAMETER, "tls_version must be contiguous versions")
    return ",".join(TLS_VERSIONS[i] for i in indexes)


def _on_off(https: dict[str, Any], key: str) -> str:
    value = https.get(key, "off")
    if value not in ("on", "off"):
        raise error(400, CDN_BAD_PARAMETER, f"{key} must be on or off")
    return str(value)


class CdnService:
    # ShowDomainFullConfig / UpdateDomainFullConfig (https://support.huaweicloud.com/api-cdn/ShowDomainFullConfig.html,
    # https://support.huaweicloud.com/api-cdn/UpdateDomainFullConfig.html); ListDomains
    # (https://support.huaweicloud.com/api-cdn/ListDomains.html): page_size 1-10000, fuzzy domain_name
    # unless exact_match, enterprise_project_id "all" for every project.
    CONFIGS_PATH = re.compile(r"^/v1\.1/cdn/configuration/domains/(?P<domain>[^/]+)/configs/?$")
    LIST_FILTERS = frozenset(
        {"domain_name", "business_type", "domain_status", "service_area", "page_size", "page_number",
         "exact_match", "enterprise_project_id", "show_tags"}
    )  # fmt: skip

    def __init__(self, state: SimState) -> None:
        self._state = state

    def add_domain(self, domain_name: str, enterprise_project_id: str = "0") -> str:
        """An accelerated domain (AddDomain is not simulated)."""
        self._state.check_enterprise_project(enterprise_project_id, CDN_BAD_PARAMETER)
        domain = CdnDomain(
            new_id(), domain_name.lower(), self._state.now_ms(), enterprise_project_id=enterprise_project_id
        )
        self._state.cdn_domains[domain.domain_name] = domain
        return domain.id

    @staticmethod
    def check_domain_id(headers: list[tuple[str, str]]) -> None:
        """X-Domain-Id: the account of the AK/SK (signature guide, "global services")."""
        domain_id = next((value for key, value in headers if key.lower() == "x-domain-id"), None)
        if domain_id != DOMAIN_ID:
            what = "missing" if domain_id is None else "not the account of this access key"
            raise error(401, "APIGW.0301", f"Incorrect IAM authentication information: X-Domain-Id is {what}")

    def handle(self, method: str, path: str, query: list[tuple[str, str]], payload: Any) -> SimResponse:
        if path.rstrip("/") == "/v1.0/cdn/domains" and method == "GET":
            return self._list(query)
        match = self.CONFIGS_PATH.match(path)
        if match is None:
            raise not_found()
        documented = {"enterprise_project_id", "show_special_configs"} if method == "GET" else {"enterprise_project_id"}
        refuse_unknown_query(query, documented, code=CDN_BAD_PARAMETER, simulated={"enterprise_project_id"})
        project = self._project(dict(query))
        domain = self._state.cdn_domains.get(match["domain"].lower())
        if domain is None or project not in (ALL_ENTERPRISE_PROJECTS, domain.enterprise_project_id):
            raise error(400, CDN_NO_DOMAIN, "The acceleration domain name does not exist.")
        if method == "GET":
            return SimResponse(200, {"configs": self._configs_view(domain)})
        if method == "PUT":
            return self._update(domain, payload)
        raise error(405, CDN_BAD_PARAMETER, f"{method} is not allowed here")

    def _project(self, params: dict[str, str]) -> str:
        # enterprise_project_id: "all" for every project; a project that does not exist is refused.
        # (Mandatory for an IAM user; the simulator's keys are the account's own.)
        project = params.get("enterprise_project_id", ALL_ENTERPRISE_PROJECTS)
        return self._state.check_enterprise_project(project, CDN_BAD_PARAMETER, all_values=[ALL_ENTERPRISE_PROJECTS])

    # -- views (each carries every field the SDK's response model declares) ---------------------
    def domain_view(self, domain: CdnDomain) -> dict[str, Any]:
        https_on = bool(domain.https and domain.https.get("https_status") == "on")
        return {
            "id": domain.id,
            "domain_name": domain.domain_name,
            "business_type": domain.business_type,
            "domain_status": domain.domain_status,
            "cname": f"{domain.domain_name}.c.cdnhwc1.com",
            "sources": [],
            "domain_origin_host": None,
            "https_status": 2 if https_on else 0,
            "create_time": domain.created,
            "modify_time": domain.created,
            "disabled": 0,
            "locked": 0,
            "auto_refresh_preheat": 0,
            "service_area": domain.service_area,
            "range_status": "off",
            "follow_status": "off",
            "origin_status": "on",
            "banned_reason": None,
            "locked_reason": None,
            "enterprise_project_id": domain.enterprise_project_id,
            "tags": [],
        }

    def state_view(self) -> dict[str, Any]:
        return {
            "domains": [
                {**self.domain_view(d), "https": self._https_view(d), "force_redirect": dict(d.force_redirect)}
                for d in self._state.cdn_domains.values()
            ],
            # one entry per domain that serves a certificate: the CDN target's ids are domain names
            "certificates": [
                {"id": d.domain_name, "name": d.https["certificate_name"], "key_format": d.https["key_format"]}
                for d in self._state.cdn_domains.values()
                if d.https and d.https.get("https_status") == "on"
            ],
        }

    @staticmethod
    def _https_view(domain: CdnDomain) -> dict[str, Any]:
        """HttpGetBody: the private key is never answered ("接口返回私钥为空")."""
        https = domain.https or {}
        on = https.get("https_status") == "on"
        return {
            "https_status": "on" if on else "off",
            "certificate_type": "server" if on else None,
            "certificate_source": 0 if on else None,
            "scm_certificate_id": None,
            "certificate_name": https.get("certificate_name") if on else None,
            "certificate_value": https.get("certificate_value") if on else None,
            "expire_time": https.get("not_after") if on else None,
            "enc_certificate_value": None,
            "certificates": None,
            "http2_status": https.get("http2_status", "off"),
            "tls_version": https.get("tls_version", DEFAULT_TLS_VERSION),
            "ocsp_stapling_status": https.get("ocsp_stapling_status", "off"),
        }

    def _configs_view(self, domain: CdnDomain) -> dict[str, Any]:
        https = self._https_view(domain)
        return {
            **_UNMODELLED_CONFIGS,
            "business_type": domain.business_type,
            "service_area": domain.service_area,
            "https": https,
            "force_redirect": dict(domain.force_redirect),
            "https_tls_version": (
                {"tls_version": https["tls_version"], "cipher_suite_group": "default", "cipher_suite": None}
                if https["https_status"] == "on"
                else None
            ),
        }

    # -- operations ------------------------------------------------------------------------------
    def _list(self, query: list[tuple[str, str]]) -> SimResponse:
        refuse_unknown_query(
            query, self.LIST_FILTERS, code=CDN_BAD_PARAMETER, simulated=self.LIST_FILTERS - {"show_tags"}
        )
        params = dict(query)
        project = self._project(params)
        try:
            page_size, page_number = int(params.get("page_size", "30")), int(params.get("page_number", "1"))
        except ValueError as exc:
            raise error(400, CDN_BAD_PARAMETER, "page_size and page_number must be integers") from exc
        if not 1 <= page_size <= 10_000 or page_number < 1:
            raise error(400, CDN_BAD_PARAMETER, "page_size must be within 1-10000, page_number >= 1")
        views = [
            self.domain_view(d)
            for d in self._state.cdn_domains.values()
            if project in (ALL_ENTERPRISE_PROJECTS, d.enterprise_project_id)
        ]
        name = params.get("domain_name")
        if name:  # fuzzy unless exact_match=true
            exact = params.get("exact_match") == "true"
            views = [v for v in views if (v["domain_name"] == name if exact else name in v["domain_name"])]
        for key in ("business_type", "domain_status", "service_area"):
            if key in params:
                views = [v for v in views if v[key] == params[key]]
        chosen = views[(page_number - 1) * page_size : page_number * page_size]
        return SimResponse(200, {"total": len(views), "domains": chosen})

    def _update(self, domain: CdnDomain, payload: Any) -> SimResponse:
        configs = payload.get("configs") if isinstance(payload, dict) else None
        if not isinstance(configs, dict) or set(payload) != {"configs"}:
            raise error(400, CDN_BAD_PARAMETER, 'body must be {"configs": {...}}')
        refuse_unknown_fields(configs, CONFIGS, code=CDN_BAD_PARAMETER, simulated=SIMULATED_CONFIGS, where="configs")
        force_redirect = self._force_redirect(configs["force_redirect"]) if "force_redirect" in configs else None
        https = self._https(domain, configs["https"]) if "https" in configs else None
        # each configuration given replaces the one the domain had, together or not at all
        if https is not None:
            domain.https = https
            self._state.count("cdn.https")
        if force_redirect is not None:
            domain.force_redirect = force_redirect
        return SimResponse(200, {})

    @staticmethod
    def _force_redirect(value: Any) -> dict[str, Any]:
        # ForceRedirectConfig: status on|off, type http|https, redirect_code 301|302
        if not isinstance(value, dict):
            raise error(400, CDN_BAD_PARAMETER, "force_redirect must be an object")
        refuse_unknown_fields(
            value, {"status", "type", "redirect_code"}, code=CDN_BAD_PARAMETER, where="force_redirect"
        )
        status = value.get("status")
        if status not in ("on", "off"):
            raise error(400, CDN_BAD_PARAMETER, "force_redirect.status must be on or off")
        if status == "off":
            return {"status": "off", "type": None, "redirect_code": None}
        if value.get("type") not in ("http", "https") or value.get("redirect_code", 301) not in (301, 302):
            raise error(400, CDN_BAD_PARAMETER, "force_redirect needs type http|https and redirect_code 301|302")
        return {"status": "on", "type": value["type"], "redirect_code": value.get("redirect_code", 301)}

    def _https(self, domain: CdnDomain, https: Any) -> dict[str, Any]:
        if not isinstance(https, dict):
            raise error(400, CDN_BAD_PARAMETER, "https must be an object")
        refuse_unknown_fields(
            https, HTTPS_FIELDS, code=CDN_BAD_PARAMETER, simulated=SIMULATED_HTTPS_FIELDS, where="https"
        )
        # HttpPutBody: https_status on|off; when on, certificate_source (0 own, 2 CCM), certificate_name
        # (3-64 characters), certificate_value and private_key (PEM) are required; the certificate must
        # match the key (CDN.0405), the domain (CDN.0406) and be valid (CDN.0408).
        status = https.get("https_status")
        if status not in ("on", "off"):
            raise error(400, CDN_BAD_PARAMETER, "https_status must be on or off")
        http2, ocsp = _on_off(https, "http2_status"), _on_off(https, "ocsp_stapling_status")
        tls_version = _tls_version(https.get("tls_version", DEFAULT_TLS_VERSION))
        if status == "off":  # HTTP/2 and OCSP stapling go off with HTTPS
            return {"https_status": "off"}
        if https.get("certificate_type", "server") != "server" or https.get("certificate_source") == 2:
            raise error(400, NOT_SIMULATED, "SM and CCM certificates are not simulated")
        if https.get("certificate_source") != 0:
            raise error(400, CDN_BAD_PARAMETER, "certificate_source is required: 0 (own) or 2 (CCM)")
        name = https.get("certificate_name")
        if not isinstance(name, str) or not 3 <= len(name) <= 64:
            raise error(400, CDN_BAD_PARAMETER, "certificate_name must have 3-64 characters")
        if not https.get("certificate_value") or not https.get("private_key"):
            raise error(400, CDN_EMPTY_CERTIFICATE, "The certificate or private key cannot be empty.")
        try:
            material = parse_material(
                https["certificate_value"],
                https["private_key"],
                now=self._state.now(),
                illegal=CDN_KEY_MISMATCH,
                expired=CDN_EXPIRED,
            )
        except SimError as exc:
            code = {
                "certificate is not valid PEM": CDN_NOT_PEM,
                "private key is not valid unencrypted PEM": CDN_KEY_NOT_PEM,
                "the private key is not an RSA or EC key": CDN_KEY_NOT_PEM,
            }.get(exc.message, exc.code)
            raise error(400, code, exc.message) from exc
        names = material.sans or [material.common_name]
        if not any(covers(n, domain.domain_name) for n in names):
            raise error(400, CDN_DOMAIN_MISMATCH, "The certificate and domain name do not match.")
        return {
            "https_status": "on",
            "certificate_type": "server",
            "certificate_source": 0,
            "certificate_name": name,
            "certificate_value": material.content,
            "private_key": material.key,
            "http2_status": http2,
            "tls_version": tls_version,
            "ocsp_stapling_status": ocsp,
            "not_after": int(material.not_after.timestamp() * 1000),
            "key_format": material.key_format,
        }
