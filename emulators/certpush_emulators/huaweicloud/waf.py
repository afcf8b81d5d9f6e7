"""WAF v1 as the simulator serves it: the certificate store of a region (ListCertificates,
CreateCertificate, ShowCertificate, UpdateCertificate, DeleteCertificate) and ApplyCertificateToHost.
https://support.huaweicloud.com/api-waf/ (error codes: https://support.huaweicloud.com/en-us/api-waf/ErrorCode.html)."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from certpush_emulators.huaweicloud.state import (
    DEFAULT_ENTERPRISE_PROJECT,
    DropConnection,
    Material,
    RegionState,
    SimResponse,
    SimState,
    WafCertificate,
    WafHost,
    error,
    new_id,
    not_found,
    parse_material,
    refuse_unknown_fields,
    refuse_unknown_query,
)

WAF_BAD_REQUEST = "WAF.00011001"  # bad.request
WAF_BAD_QUERY = "WAF.00011002"  # url.param.illegal
WAF_BAD_BODY = "WAF.00011003"  # request.body.illegal: a parameter missing, unknown or with an illegal value
WAF_BAD_ID = "WAF.00011004"
WAF_BAD_NAME = "WAF.00011005"
WAF_BAD_PAGE = "WAF.00011011"
WAF_DUPLICATE_NAME = "WAF.00011016"
WAF_ILLEGAL_CERTIFICATE = "WAF.00011019"
WAF_EXPIRED_CERTIFICATE = "WAF.00011021"
WAF_PROJECT_MISMATCH = "WAF.00012002"
WAF_NOT_SUBSCRIBED = "WAF.00012005"
WAF_NOT_FOUND = "WAF.00014002"
# A certificate applied to a protected domain can be neither changed nor deleted: WAF answers
# WAF.00022003 "Resource is in use" (seen on UpdateCertificate with new content, sa-brazil-1, 2025; the
# WAF API reference of the same service operated by T-Systems says "The certificate in use cannot be
# updated" / "cannot be deleted": https://docs.otc.t-systems.com/web-application-firewall-dedicated/api-ref/apis/certificate_management/modifying_a_certificate.html).
# Renewing one means a new certificate, applied to its domains in its place.
WAF_IN_USE = "WAF.00022003"
WAF_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
ALL_ENTERPRISE_PROJECTS = "all_granted_eps"
# Regions whose UpdateCertificate takes a name only (at most 64 characters), no content or key:
# https://support.huaweicloud.com/intl/en-us/eu-west-0-api-waf/UpdateCertificate.html and
# https://support.huaweicloud.com/intl/en-us/my-kualalumpur-1-api-waf/UpdateCertificate.html (request body: name).
NAME_ONLY_UPDATE_REGIONS = frozenset({"eu-west-0", "my-kualalumpur-1"})
NAME_ONLY_MAX = 64

_EP = frozenset({"enterprise_project_id"})
_CERTIFICATE_FIELDS = frozenset({"name", "content", "key"})


class WafService:
    ROUTE = re.compile(r"^/v1/(?P<project>[^/]+)/waf/certificate(?:/(?P<id>[^/]+)(?P<apply>/apply-to-hosts)?)?/?$")
    # ListCertificates (https://support.huaweicloud.com/api-waf/ListCertificates.html): page, pagesize
    # 1-100, fuzzy name, host ("default false": true lists only certificates applied to a domain, false
    # or absent only those that are not), exp_status (0 valid, 1 expired, 2 expires within a month).
    # query_scm asks for certificates that come from CCM as well: the simulator holds none.
    LIST_FILTERS = frozenset({"page", "pagesize", "name", "host", "exp_status", "query_scm", "enterprise_project_id"})

    def __init__(self, state: SimState) -> None:
        self._state = state

    # -- console actions (admin) -----------------------------------------------------------------
    def add_host(self, region: str, hostname: str, host_id: str | None = None, mode: str = "cloud") -> str:
        host = WafHost(id=host_id or new_id(), hostname=hostname, mode=mode)
        self._state.region(region).waf_hosts[host.id] = host
        return host.id

    def state_view(self, region: str, st: RegionState) -> dict[str, Any]:
        return {
            "certificates": [
                {
                    **self._body(region, c),
                    "enterprise_project_id": c.enterprise_project_id,
                    "key_format": c.material.key_format,
                }
                for c in st.waf_certificates.values()
            ],
            "hosts": [asdict(h) for h in st.waf_hosts.values()],
        }

    # -- requests --------------------------------------------------------------------------------
    def handle(self, method: str, region: str, path: str, query: list[tuple[str, str]], payload: Any) -> SimResponse:
        match = self.ROUTE.match(path)
        if match is None:
            raise not_found()
        st = self._state.region(region)
        certificate_id = match["id"]
        if certificate_id is None and method == "GET":
            refuse_unknown_query(query, self.LIST_FILTERS, code=WAF_BAD_QUERY)
            return self._list(region, st, query)
        refuse_unknown_query(query, _EP, code=WAF_BAD_QUERY)
        project = dict(query).get("enterprise_project_id", DEFAULT_ENTERPRISE_PROJECT)
        if certificate_id is None:
            if method == "POST":
                project = self._state.check_enterprise_project(project, WAF_BAD_REQUEST)
                return self._create(region, st, project, payload)
        elif match["apply"]:
            if method == "POST":
                return self._apply(region, st, self._certificate(st, certificate_id, project), payload)
        else:
            certificate = self._certificate(st, certificate_id, project)
            if method == "GET":
                return SimResponse(200, self._full(region, certificate))
            if method == "PUT":
                return self._update(region, st, certificate, payload)
            if method == "DELETE":
                return self._delete(region, st, certificate)
        raise error(405, WAF_BAD_REQUEST, f"{method} is not allowed here")

    def _certificate(self, st: RegionState, certificate_id: str, project: str) -> WafCertificate:
        """The certificate, when the enterprise project of the request holds it (else 404, as for one
        that does not exist: a project scopes what a caller sees)."""
        project = self._state.check_enterprise_project(project, WAF_BAD_REQUEST, all_values=[ALL_ENTERPRISE_PROJECTS])
        certificate = st.waf_certificates.get(certificate_id)
        if certificate is None or project not in (ALL_ENTERPRISE_PROJECTS, certificate.enterprise_project_id):
            raise error(404, WAF_NOT_FOUND, "certificate not found")
        return certificate

    # -- views (each carries every field the SDK's response model declares) ---------------------
    def _bind_host(self, region: str, certificate: WafCertificate, *, with_mode: bool = True) -> list[dict[str, Any]]:
        return [
            {"id": h.id, "hostname": h.hostname, "waf_type": h.mode, **({"mode": None} if with_mode else {})}
            for h in self._state.region(region).waf_hosts.values()
            if h.certificate_id == certificate.id
        ]

    def _body(self, region: str, certificate: WafCertificate) -> dict[str, Any]:
        """CertificateBody: a listed certificate."""
        now = self._state.now()
        not_after = certificate.material.not_after
        exp_status = 1 if not_after <= now else (2 if not_after - now < timedelta(days=30) else 0)
        return {
            "id": certificate.id,
            "name": certificate.name,
            "expire_time": int(not_after.timestamp() * 1000),
            "exp_status": exp_status,
            "timestamp": certificate.timestamp,
            "bind_host": self._bind_host(region, certificate),
        }

    def _full(self, region: str, certificate: WafCertificate) -> dict[str, Any]:
        """ShowCertificate / CreateCertificate: with the PEM content and, as WAF documents, the key."""
        return {
            **self._body(region, certificate),
            "content": certificate.material.content,
            "key": certificate.material.key,
        }

    @staticmethod
    def _brief(certificate: WafCertificate) -> dict[str, Any]:
        """UpdateCertificate's answer."""
        return {
            "id": certificate.id,
            "name": certificate.name,
            "expire_time": int(certificate.material.not_after.timestamp() * 1000),
            "timestamp": certificate.timestamp,
        }

    # -- operations ------------------------------------------------------------------------------
    def _list(self, region: str, st: RegionState, query: list[tuple[str, str]]) -> SimResponse:
        params = dict(query)
        project = self._state.check_enterprise_project(
            params.get("enterprise_project_id", DEFAULT_ENTERPRISE_PROJECT),
            WAF_BAD_REQUEST,
            all_values=[ALL_ENTERPRISE_PROJECTS],
        )
        try:
            page = int(params.get("page", "1"))
            pagesize = int(params.get("pagesize", "10"))
        except ValueError as exc:
            raise error(400, WAF_BAD_PAGE, "pageOrPageSize.illegal") from exc
        if page < 1 or not 1 <= pagesize <= 100:
            raise error(400, WAF_BAD_PAGE, "pageOrPageSize.illegal")
        name = params.get("name")
        views = [
            self._body(region, c)
            for c in st.waf_certificates.values()
            if (not name or name in c.name) and project in (ALL_ENTERPRISE_PROJECTS, c.enterprise_project_id)
        ]
        host = params.get("host", "false")
        if host not in ("true", "false"):
            raise error(400, WAF_BAD_QUERY, "host must be true or false")
        views = [v for v in views if bool(v["bind_host"]) == (host == "true")]
        if "exp_status" in params:
            if params["exp_status"] not in ("0", "1", "2"):
                raise error(400, WAF_BAD_QUERY, "exp_status must be 0, 1 or 2")
            views = [v for v in views if str(v["exp_status"]) == params["exp_status"]]
        views.sort(key=lambda v: (-v["timestamp"], v["id"]))
        chosen = views[(page - 1) * pagesize : page * pagesize]
        return SimResponse(200, {"total": len(views), "items": chosen})

    def _fields(self, payload: Any, documented: frozenset[str] = _CERTIFICATE_FIELDS) -> tuple[str, Material]:
        if not isinstance(payload, dict):
            raise error(400, WAF_BAD_BODY, "request.body.illegal")
        refuse_unknown_fields(payload, documented, code=WAF_BAD_BODY)
        name = payload.get("name")
        # CreateCertificate / UpdateCertificate: "digits, letters, -, _ and ., at most 256 characters"
        # (https://support.huaweicloud.com/api-waf/CreateCertificate.html).
        if not isinstance(name, str) or not WAF_NAME_RE.match(name):
            raise error(400, WAF_BAD_NAME, "name.illegal")
        material = parse_material(
            payload.get("content"),
            payload.get("key"),
            now=self._state.now(),
            illegal=WAF_ILLEGAL_CERTIFICATE,
            expired=WAF_EXPIRED_CERTIFICATE,
        )
        return name, material

    def _check_name_free(self, st: RegionState, name: str, certificate_id: str | None = None) -> None:
        if self._state.waf_refuses_duplicate_names and any(
            c.name == name and c.id != certificate_id for c in st.waf_certificates.values()
        ):
            raise error(400, WAF_DUPLICATE_NAME, "name.duplicate")

    def _create(self, region: str, st: RegionState, project: str, payload: Any) -> SimResponse:
        name, material = self._fields(payload)
        self._check_name_free(st, name)

        def store() -> WafCertificate:
            certificate = WafCertificate(new_id(), name, material, self._state.now_ms(), project)
            st.waf_certificates[certificate.id] = certificate
            self._state.count("waf.create")
            return certificate

        delay = self._state.take_late_create("waf")
        if delay is not None:
            self._state.later(delay, store)
            self._state.count("faults.late_create")
            raise DropConnection
        return SimResponse(200, self._full(region, store()))

    def _update(self, region: str, st: RegionState, certificate: WafCertificate, payload: Any) -> SimResponse:
        # UpdateCertificate (https://support.huaweicloud.com/api-waf/UpdateCertificate.html): name is
        # required; content and key replace the certificate. Where the region's API takes a name only
        # (NAME_ONLY_UPDATE_REGIONS), content and key are unknown fields.
        name_only = region in NAME_ONLY_UPDATE_REGIONS
        documented = frozenset({"name"}) if name_only else _CERTIFICATE_FIELDS
        if isinstance(payload, dict):
            refuse_unknown_fields(payload, documented, code=WAF_BAD_BODY)
        if name_only and isinstance(payload, dict) and len(str(payload.get("name", ""))) > NAME_ONLY_MAX:
            raise error(400, WAF_BAD_NAME, "name.illegal")
        changes_content = isinstance(payload, dict) and ("content" in payload or "key" in payload)
        if not changes_content and isinstance(payload, dict):
            payload = {**payload, "content": certificate.material.content, "key": certificate.material.key}
        name, material = self._fields(payload)
        if changes_content and self._bind_host(region, certificate):
            raise error(400, WAF_IN_USE, "Resource is in use")
        self._check_name_free(st, name, certificate.id)
        certificate.name, certificate.material = name, material
        self._state.count("waf.update")
        return SimResponse(200, self._brief(certificate))

    def _delete(self, region: str, st: RegionState, certificate: WafCertificate) -> SimResponse:
        if self._bind_host(region, certificate):
            raise error(400, WAF_IN_USE, "Resource is in use")
        del st.waf_certificates[certificate.id]
        self._state.count("waf.delete")
        return SimResponse(200, {**self._brief(certificate), "cert_type": None})

    def _apply(self, region: str, st: RegionState, certificate: WafCertificate, payload: Any) -> SimResponse:
        if not isinstance(payload, dict):
            raise error(400, WAF_BAD_BODY, "request.body.illegal")
        refuse_unknown_fields(payload, {"cloud_host_ids", "premium_host_ids"}, code=WAF_BAD_BODY)
        cloud = payload.get("cloud_host_ids") or []
        premium = payload.get("premium_host_ids") or []
        if not isinstance(cloud, list) or not isinstance(premium, list) or not (cloud or premium):
            raise error(400, WAF_BAD_BODY, "cloud_host_ids or premium_host_ids is required")
        # ApplyCertificateToHost (https://support.huaweicloud.com/api-waf/ApplyCertificateToHost.html):
        # cloud_host_ids are cloud-mode protected domains, premium_host_ids dedicated-mode ones; a domain
        # takes one certificate, so applying another one replaces it there.
        for host_ids, mode in ((cloud, "cloud"), (premium, "premium")):
            for host_id in host_ids:
                host = st.waf_hosts.get(host_id) if isinstance(host_id, str) else None
                if host is None or host.mode != mode:
                    raise error(400, WAF_BAD_ID, f"id.illegal: no {mode} protected domain {host_id}")
        for host_id in [*cloud, *premium]:
            st.waf_hosts[host_id].certificate_id = certificate.id
        self._state.count("waf.apply")
        return SimResponse(
            200, {**self._brief(certificate), "bind_host": self._bind_host(region, certificate, with_mode=False)}
        )
