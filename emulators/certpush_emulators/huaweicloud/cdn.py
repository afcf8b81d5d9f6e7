"""CDN (a global service, https://support.huaweicloud.com/api-cdn/) as the simulator serves it:
ListDomains, ShowDomainFullConfig and UpdateDomainFullConfig's ``https`` configuration. Errors come
as ``{"error": {error_code, error_msg}}``."""

from __future__ import annotations

import re
from typing import Any

from certpush_emulators.huaweicloud.state import (
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
_HTTPS_FIELDS = frozenset(
    {"https_status", "certificate_type", "certificate_source", "certificate_name", "certificate_value",
     "private_key", "http2_status"}
)  # fmt: skip


class CdnService:
    CONFIGS = re.compile(r"^/v1\.1/cdn/configuration/domains/(?P<domain>[^/]+)/configs/?$")
    LIST_FILTERS = frozenset(
        {"domain_name", "business_type", "domain_status", "service_area", "page_size", "page_number",
         "exact_match", "enterprise_project_id"}
    )  # fmt: skip

    def __init__(self, state: SimState) -> None:
        self._state = state

    def add_domain(self, domain_name: str) -> str:
        """An accelerated domain (AddDomain is not simulated)."""
        domain = CdnDomain(new_id(), domain_name.lower(), self._state.now_ms())
        self._state.cdn_domains[domain.domain_name] = domain
        return domain.id

    def handle(self, method: str, path: str, query: list[tuple[str, str]], payload: Any) -> SimResponse:
        if path.rstrip("/") == "/v1.0/cdn/domains" and method == "GET":
            return self._list(query)
        match = self.CONFIGS.match(path)
        if match is None:
            raise not_found()
        refuse_unknown_query(query, {"enterprise_project_id"})
        domain = self._state.cdn_domains.get(match["domain"].lower())
        if domain is None:
            raise error(400, CDN_NO_DOMAIN, "The acceleration domain name does not exist.")
        if method == "GET":
            return SimResponse(200, {"configs": self._configs_view(domain)})
        if method == "PUT":
            return self._update(domain, payload)
        raise error(405, CDN_BAD_PARAMETER, f"{method} is not allowed here")

    # -- views -----------------------------------------------------------------------------------
    def domain_view(self, domain: CdnDomain) -> dict[str, Any]:
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

    def state_view(self) -> dict[str, Any]:
        return {
            "domains": [self.domain_view(d) for d in self._state.cdn_domains.values()],
            # one entry per domain that serves a certificate: the CDN target's ids are domain names
            "certificates": [
                {"id": d.domain_name, "name": d.https["certificate_name"]}
                for d in self._state.cdn_domains.values()
                if d.https and d.https.get("https_status") == "on"
            ],
        }

    @staticmethod
    def _configs_view(domain: CdnDomain) -> dict[str, Any]:
        https: dict[str, Any] = {"https_status": "off"}
        if domain.https:
            https = {k: v for k, v in domain.https.items() if k not in ("private_key", "not_after")}
            if "not_after" in domain.https:
                https["expire_time"] = domain.https["not_after"]
        return {"business_type": domain.business_type, "service_area": domain.service_area, "https": https}

    # -- operations ------------------------------------------------------------------------------
    def _list(self, query: list[tuple[str, str]]) -> SimResponse:
        refuse_unknown_query(query, self.LIST_FILTERS)
        params = dict(query)
        try:
            page_size, page_number = int(params.get("page_size", "30")), int(params.get("page_number", "1"))
        except ValueError as exc:
            raise error(400, CDN_BAD_PARAMETER, "page_size and page_number must be integers") from exc
        if not 1 <= page_size <= 10_000 or page_number < 1:
            raise error(400, CDN_BAD_PARAMETER, "page_size must be within 1-10000, page_number >= 1")
        views = [self.domain_view(d) for d in self._state.cdn_domains.values()]
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
        if not isinstance(configs, dict):
            raise error(400, CDN_BAD_PARAMETER, 'body must be {"configs": {...}}')
        unknown = sorted(set(configs) - {"https"})
        if unknown:
            raise error(400, NOT_SIMULATED, f"configs {unknown} are not simulated")
        https = configs.get("https")
        if not isinstance(https, dict):
            raise error(400, CDN_BAD_PARAMETER, "https must be an object")
        # HttpPutBody: https_status on|off; when on, certificate_source (0 own, 2 CCM), certificate_name
        # (3-64 characters), certificate_value and private_key (PEM) are required; the certificate must
        # match the key (CDN.0405), the domain (CDN.0406) and be valid (CDN.0408).
        status = https.get("https_status")
        if status not in ("on", "off"):
            raise error(400, CDN_BAD_PARAMETER, "https_status must be on or off")
        if status == "off":
            domain.https = {"https_status": "off"}
            return SimResponse(200, {})
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
        extra = sorted(set(https) - _HTTPS_FIELDS)
        if extra:
            raise error(400, NOT_SIMULATED, f"https fields {extra} are not simulated")
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
        self._state.count("cdn.https")
        return SimResponse(200, {})
